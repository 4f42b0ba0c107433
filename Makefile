# `make run` and `make test` do all the set-up on a fresh clone: the virtualenv, the install, the data.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CHECKOV_VENV ?= .venv-checkov
SERVE ?= 1
PORT ?= 3000
SOURCE ?= flights
FIRST ?= 2013-01-01
LAST ?= 2013-01-31
PLATFORM_HOME ?= .platform

.PHONY: install sample-data run test lint format clean

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

sample-data: export PLATFORM_HOME := $(PLATFORM_HOME)
sample-data: install
	$(BIN)/python -m platform_assets.samples

# Materialize $(FIRST)..$(LAST) through Dagster as one run, print rows per day, then serve the UI.
run: export PLATFORM_HOME := $(PLATFORM_HOME)
run: export DAGSTER_HOME := $(abspath $(PLATFORM_HOME))/dagster
run: sample-data
	mkdir -p "$$DAGSTER_HOME"
	test -f "$$DAGSTER_HOME/dagster.yaml" || printf 'telemetry:\n  enabled: false\n' > "$$DAGSTER_HOME/dagster.yaml"
	$(BIN)/dagster asset materialize -m platform_assets.definitions \
	    --select 'raw/$(SOURCE),warehouse/$(SOURCE)' --partition-range '$(FIRST)...$(LAST)'
	$(BIN)/python main.py status --source $(SOURCE) --partition $(FIRST) --to $(LAST)
	if [ "$(SERVE)" != 0 ]; then $(BIN)/dagster dev -w workspace.yaml -p $(PORT); fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint $(CHECKOV_VENV)/.installed
	PLATFORM_CHECKOV=$(CHECKOV_VENV)/bin/checkov $(BIN)/pytest

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) $(PLATFORM_HOME) .pytest_cache .ruff_cache
