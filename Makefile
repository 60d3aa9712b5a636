# Quick start: `make demo` and `make test` each set up .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test bench check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# setuptools' editable install warns that `grammar/` and `stdlib/` (shipped as dsl.grammar and
# dsl.stdlib) could shadow imports: they cannot (they hold no Python), so the note is silenced.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	PYTHONWARNINGS="ignore::UserWarning" $(BIN)/python -m pip install --quiet -e '.[test]'
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
	@echo
	@echo "== ipl run programs/renewal_quality: a multi-period program (holds, clawbacks, a safety net) =="
	$(BIN)/ipl run programs/renewal_quality/renewal_quality.ipl --records programs/renewal_quality/records.csv \
		-o build/demo/renewal_quality_payouts.csv --rejects build/demo/renewal_quality_rejects.csv \
		--ledger build/demo/renewal_quality_ledger.csv
	@echo
	@echo "== ipl explain --period 2026-Q2: partner RQ-0051: statement, holds, releases, clawback, draw recovery =="
	$(BIN)/ipl explain programs/renewal_quality/renewal_quality.ipl \
		--records programs/renewal_quality/records.csv --id RQ-0051 --period 2026-Q2
	@echo "payouts, rejects, traces, ledgers and build/demo/P-00001.html (a statement to send) are in build/demo/"

test: $(VENV)/.installed
	$(BIN)/python -m pytest

bench: $(VENV)/.installed
	$(BIN)/python -m pytest benchmarks --benchmark-enable --benchmark-only

check: $(VENV)/.installed
	$(BIN)/ipl check programs stdlib

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
