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
	@echo
	@echo "== ipl run programs/growth over its $$(($$(wc -l < programs/growth/records.csv) - 1)) partners =="
	@mkdir -p build/demo
	$(BIN)/ipl run programs/growth/growth.ipl --records programs/growth/records.csv \
		-o build/demo/payouts.csv --rejects build/demo/rejects.csv --trace build/demo/trace.jsonl
	@echo
	@echo "== ipl explain: the statement of partner P-00001 =="
	$(BIN)/ipl explain programs/growth/growth.ipl --records programs/growth/records.csv --id P-00001
	$(BIN)/ipl explain programs/growth/growth.ipl --records programs/growth/records.csv --id P-00001 \
		--format html -o build/demo/P-00001.html
	@echo "payouts, rejects, traces and build/demo/P-00001.html (a statement to send) are in build/demo/"

test: $(VENV)/.installed
	$(BIN)/python -m pytest

bench: $(VENV)/.installed
	$(BIN)/python -m pytest benchmarks --benchmark-enable --benchmark-only

check: $(VENV)/.installed
	$(BIN)/ipl check programs stdlib

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
