# Two commands on a fresh machine: `make up` runs the platform, `make test` runs the tests.
# Each creates .venv and installs what it needs; a second run skips the install unless pyproject.toml changed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PLATFORM_EXTRAS := telemetry,vectors,s3,local,ingest,rag,monitor

.PHONY: up test bench schemas lint install clean

up: $(VENV)/.installed-platform
	$(BIN)/llmops up

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest tests/unit tests/integration tests/e2e

bench: $(VENV)/.installed-dev
	$(BIN)/python -m tests.bench.bench_bus
	$(BIN)/python -m tests.bench.bench_prompts
	$(BIN)/python -m tests.bench.bench_ingestion
	$(BIN)/python -m tests.bench.bench_vector_search
	$(BIN)/python -m tests.bench.bench_monitor_ingest
	$(BIN)/python -m tests.bench.bench_detectors

schemas: $(VENV)/.installed-dev
	$(BIN)/python -m llmops_common.contracts write
	$(BIN)/python -m llmops_common.kafka.topic_config

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check libs services tests
	$(BIN)/mypy

install: $(VENV)/.installed-dev

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The stamps record which extras were installed against which pyproject.toml.
$(VENV)/.installed-platform: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[$(PLATFORM_EXTRAS)]"
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

clean:
	rm -rf $(VENV) .llmops .pytest_cache .mypy_cache .ruff_cache
