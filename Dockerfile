# The Batch job's image: main.py and the runtime dependencies only (no Dagster webserver, no
# orchestration extra). Step Functions passes main.py's arguments as the container's command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY platform_assets ./platform_assets
COPY main.py ./
RUN pip install .

RUN useradd --create-home --uid 10001 platform
USER platform

ENTRYPOINT ["python", "main.py"]
