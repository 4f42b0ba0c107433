# Dagster's image for the AWS deployment (infra/dagster.tf): the project with its orchestration
# extra (dagster, dagster-webserver, dagster-aws, dagster-postgres, pinned together in
# pyproject.toml), the instance (deploy/dagster.yaml: PostgreSQL storage from DAGSTER_PG_*) in
# $DAGSTER_HOME and the repository's workspace.yaml. The webserver's task runs the default
# command; the daemon's task overrides it with `dagster-daemon run -w workspace.yaml`.
# Build from the repository's root: docker build -f deploy/dagster.Dockerfile -t data-platform-dagster .
#
# As the job's Dockerfile: a virtualenv built in a first stage, only it copied onto a clean base.
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN python -m venv --without-pip /opt/dagster/venv
ENV PATH=/opt/dagster/venv/bin:$PATH

WORKDIR /src
# the dependencies and the orchestration extra (pyproject's) in a layer of their own, so that a
# change to the code or the README reinstalls the project alone
COPY pyproject.toml ./
RUN python -c "import tomllib; project = tomllib.load(open('pyproject.toml', 'rb'))['project']; print(*project['dependencies'], *project['optional-dependencies']['orchestration'], sep='\n')" > requirements.txt \
 && pip --python /opt/dagster/venv/bin/python install -r requirements.txt \
 && rm -rf /opt/dagster/venv/lib/python3.11/site-packages/pyarrow/tests
COPY README.md ./
COPY platform_assets ./platform_assets
RUN pip --python /opt/dagster/venv/bin/python install --no-deps .

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/dagster/venv/bin:$PATH \
    DAGSTER_HOME=/opt/dagster/home \
    DAGSTER_EVENT_BATCH_SIZE=1000

COPY --from=build /opt/dagster/venv /opt/dagster/venv
WORKDIR /opt/dagster/app
COPY workspace.yaml ./
COPY deploy/dagster.yaml $DAGSTER_HOME/dagster.yaml

# Dagster writes under $DAGSTER_HOME (compute logs, schedules' state): the user owns it, not the rest
RUN useradd --create-home --uid 10001 dagster \
 && chown dagster:dagster $DAGSTER_HOME
USER dagster

EXPOSE 3000
CMD ["dagster-webserver", "-h", "0.0.0.0", "-p", "3000", "-w", "workspace.yaml"]
