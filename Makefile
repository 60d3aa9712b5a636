# Quick start: `make demo` and `make test` each set up .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test bench check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/ipl check programs stdlib

test: $(VENV)/.installed
	$(BIN)/python -m pytest

bench: $(VENV)/.installed
	$(BIN)/python -m pytest benchmarks --benchmark-enable --benchmark-only

check: $(VENV)/.installed
	$(BIN)/ipl check programs stdlib

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
