"""No Docker engine runs here: the Dockerfile's steps are replayed in a fresh virtualenv instead.

COPY steps copy from the repository into a build folder (the image's WORKDIR), RUN steps that
install run with the virtualenv's pip, ENV steps set the environment; then the image's
ENTRYPOINT answers `--help`, and the lean image holds the runtime but not Dagster.
"""

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from platform_assets.settings import PROJECT_DIRECTORY


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    lines, pending = [], ""
    for raw in dockerfile.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        pending += line.removesuffix("\\").strip() + " "
        if not line.endswith("\\"):
            keyword, _, rest = pending.strip().partition(" ")
            lines.append((keyword.upper(), rest.strip()))
            pending = ""
    return lines


def test_the_images_install_steps_give_a_working_main_without_dagster(tmp_path: Path):
    steps = instructions(PROJECT_DIRECTORY / "Dockerfile")
    assert steps[0] == ("FROM", "python:3.11-slim")
    build, venv = tmp_path / "app", tmp_path / "venv"
    build.mkdir()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    environment = {"PATH": f"{venv / 'bin'}:{os.environ['PATH']}", "HOME": str(tmp_path)}
    entrypoint: list[str] = []
    for keyword, rest in steps:
        if keyword == "ENV":
            for assignment in shlex.split(rest):
                name, _, value = assignment.partition("=")
                environment[name] = value
        elif keyword == "COPY":
            *sources, destination = rest.split()
            for source in sources:
                origin = PROJECT_DIRECTORY / source
                target = build / destination / (origin.name if destination.endswith("/") else "")
                if origin.is_dir():
                    shutil.copytree(origin, target, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    shutil.copy(origin, build / destination if destination != "./" else build)
        elif keyword == "RUN" and rest.startswith("pip install"):
            command = [str(venv / "bin" / "python"), "-m", *shlex.split(rest)]
            subprocess.run(command, cwd=build, env=environment, check=True, timeout=900)
        elif keyword == "ENTRYPOINT":
            entrypoint = json.loads(rest)
    assert entrypoint == ["python", "main.py"]

    python = str(venv / "bin" / "python")
    help_text = subprocess.run(
        [python, *entrypoint[1:], "--help"],
        cwd=build,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert help_text.returncode == 0, help_text.stderr
    assert "push" in help_text.stdout and "pull" in help_text.stdout
    lean = subprocess.run(
        [python, "-c", "import dagster"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert lean.returncode != 0  # no Dagster, no webserver in the image
    no_samples = subprocess.run(
        [python, "-c", "import samples"],
        cwd=build,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert no_samples.returncode != 0  # the sample upstreams are not the platform's
    assert not (build / "platform_assets" / "samples").exists()
    runtime = subprocess.run(
        [python, "-c", "import dagster_pipes, pyarrow, duckdb, boto3, redshift_connector"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert runtime.returncode == 0, runtime.stderr
    listing = subprocess.run(
        [python, "main.py", "list"],
        cwd=build,
        env={**environment, "PLATFORM_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert listing.returncode == 0, listing.stderr
    assert "flights" in listing.stdout
