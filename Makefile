# Lingxi: `make demo` and `make test` are the whole set-up on a fresh machine with Python 3.11+.
SHELL := /bin/bash
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' && echo $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip -q --disable-pip-version-check
DEMO_DIR ?= data/demo
PYTEST_WORKERS ?= 2

.PHONY: help install install-dev demo test test-fast test-spark snapshots lint typecheck bench clean

help:
	@echo "make demo   build the synthetic demo bank and serve the console on http://127.0.0.1:8000"
	@echo "make test   run the whole test suite (installs PostgreSQL and Java when missing)"
	@echo "make snapshots   refresh the golden SQL under tests/snapshots/ (review the diff)"
	@echo "make lint | typecheck | bench | clean"

$(BIN)/python:
	@if [ -z "$(PYTHON)" ]; then echo "error: Python 3.11 or newer is needed (python3.11 not found)"; \
		echo "  hint: install it (Debian/Ubuntu: apt-get install python3.11 python3.11-venv)"; exit 1; fi
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-base: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[postgres]'
	@touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed-base
	$(PIP) install -e '.[dev,spark,postgres]'
	@touch $@

install: $(VENV)/.installed-base
install-dev: $(VENV)/.installed-dev

demo: install
	bash scripts/demo.sh "$(DEMO_DIR)"

test: install-dev
	bash scripts/ensure-test-deps.sh
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/mypy src
	$(BIN)/pytest -n $(PYTEST_WORKERS) --durations=15
	$(BIN)/pytest -m spark --durations=10

test-fast: install-dev
	$(BIN)/pytest -n $(PYTEST_WORKERS) -m "not spark and not postgres and not slow"

test-spark: install-dev
	bash scripts/ensure-test-deps.sh
	$(BIN)/pytest -m spark

snapshots: install-dev
	$(BIN)/pytest -q --snapshot-update $$(grep -rl --include='test_*.py' golden_sql tests)
	git status --short tests/snapshots/

lint: install-dev
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts

typecheck: install-dev
	$(BIN)/mypy src

bench: install-dev
	$(BIN)/python benchmarks/load.py
	$(BIN)/python benchmarks/api.py

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache .mypy_cache
