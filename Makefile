# Two commands for a new user: `make run` and `make test`. Everything else is for developers.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VAR := $(CURDIR)/var

export LANDING_DIR ?= $(VAR)/landing
export WAREHOUSE_PATH ?= $(VAR)/warehouse.duckdb
export EXPORT_DIR ?= $(VAR)/exports
export REPORT_DIR ?= $(VAR)/reports
export DAGSTER_HOME ?= $(VAR)/dagster
# pyc files halve dagster's start-up time; this machine disables them by default.
export PYTHONDONTWRITEBYTECODE :=
UI_PORT ?= 3000
SCALE ?= 1

.PHONY: setup run test ui bench sample clean browser-deps

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.9 2>/dev/null
	$(BIN)/uv pip sync --quiet --python $(BIN)/python --compile-bytecode requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

setup: $(STAMP) dagster-home

.PHONY: dagster-home
dagster-home:
	@$(BIN)/python -m workflows.instance "$(DAGSTER_HOME)"

sample: setup
	@$(BIN)/python -m sample.generate --out "$(LANDING_DIR)" --if-empty

run: sample
	@$(BIN)/python -m workflows.cli run

test: setup browser-deps
	$(BIN)/python -m pytest -n 2 --dist loadfile

ui: setup
	@echo "Dagster UI on http://127.0.0.1:$(UI_PORT) (Ctrl-C stops it and its daemon)"
	@$(BIN)/python -m workflows.ui_server --host 127.0.0.1 --port $(UI_PORT)

bench: setup
	@$(BIN)/python -m bench.run --scale $(SCALE)

# The browser test drives Debian's Chromium (no browser download: the network only reaches registries).
browser-deps:
	@command -v chromium >/dev/null || { \
	  echo "installing Debian's chromium for the browser test"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "warning: could not install chromium; browser tests will be skipped"; }

clean:
	rm -rf var
