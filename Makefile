# Two commands for a fresh machine: `make run` (the demo) and `make test` (the suite).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test install bench bench-full lint clean train

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/sentinel demo

# Two workers over the tests that measure no time, each file whole on one worker (the
# scheduler in tests/conftest.py), then those that do, alone (the `serial` files there).
# Both parts always run; either failing fails.
WORKERS ?= 2

test: $(STAMP)
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -q -n $(WORKERS) -m "not serial"; a=$$?; \
	$(BIN)/python -m pytest -q -m serial; b=$$?; \
	test $$a -eq 0 && test $$b -eq 0

bench: $(STAMP)
	$(BIN)/python -m bench

# The daemon benchmarks with the RSS run's whole ten minutes (make bench runs 90 s of it).
bench-full: $(STAMP)
	$(BIN)/python -m bench.bench_daemon --full

# Rebuild the polarity model (alerting/sentiment/model.npz) and print its evaluation.
train: $(STAMP)
	$(BIN)/python -m alerting.sentiment.train

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

clean:
	rm -rf $(VENV) var/demo .pytest_cache
