# The Batch job's image: main.py and the runtime dependencies only (no Dagster webserver, no
# orchestration extra). Step Functions passes main.py's arguments as the container's command.
#
# Two stages: the first installs the project into a virtualenv and trims it, the second copies
# only that virtualenv and main.py onto a clean base, so no build tool, project source, pip or
# install leftover reaches the image. The trimming changes nothing main.py runs: pyarrow's tests
# and C++ headers go, and its shared libraries lose their symbol tables (strip --strip-unneeded
# keeps the dynamic symbols they link by). The bytecode pip compiles stays: without it every
# container start compiles pyarrow, boto3 and the rest again (about 4 s more per job, measured).
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN apt-get update \
 && apt-get install -y --no-install-recommends binutils \
 && rm -rf /var/lib/apt/lists/*
# a virtualenv without pip of its own: the base's pip installs into it
RUN python -m venv --without-pip /opt/platform
ENV PATH=/opt/platform/bin:$PATH

WORKDIR /src
# the dependencies (pyproject's) in a layer of their own, so that a change to the code or the
# README reinstalls the project alone
COPY pyproject.toml ./
RUN python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'], sep='\n')" > requirements.txt \
 && pip --python /opt/platform/bin/python install -r requirements.txt \
 && cd /opt/platform/lib/python3.11/site-packages \
 && rm -rf pyarrow/tests pyarrow/include pyarrow/src \
 && find pyarrow -name '*.so*' -type f -exec strip --strip-unneeded {} +
COPY README.md ./
COPY platform_assets ./platform_assets
RUN pip --python /opt/platform/bin/python install --no-deps .

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/platform/bin:$PATH

COPY --from=build /opt/platform /opt/platform
WORKDIR /app
COPY main.py ./

RUN useradd --create-home --uid 10001 platform
USER platform

ENTRYPOINT ["python", "main.py"]
