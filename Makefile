# One command to run the pipeline locally, one to run the tests. Both set themselves up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: run ui test test-fast distributed lint format setup spark-env system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade uv

# --compile-bytecode: every Airflow task and test is a fresh process; without .pyc files
# (e.g. PYTHONDONTWRITEBYTECODE=1) each one compiles Great Expectations anew (~2.6 s).
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

# Splink's Spark backend for the scale-out test, in an environment of its own: pyspark
# in the main one slows every Great Expectations import (GX imports it when present)
SPARK_VENV  := .venv-spark
SPARK_STAMP := $(SPARK_VENV)/.installed
$(SPARK_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/uv venv --quiet --allow-existing --python $(BIN)/python $(SPARK_VENV)
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(SPARK_VENV)/bin/python -e ".[spark,dev]"
	touch $(SPARK_STAMP)

spark-env: $(SPARK_STAMP)

## make run: synthetic sources -> the real DAG, night by night, through Airflow -> summary
run: setup
	$(BIN)/python scripts/run_local.py

## make ui: the Airflow UI on the embedded defaults, with a key, sources and a free port
ui: setup
	$(BIN)/python scripts/run_ui.py

## make test: every test, including PostgreSQL, the Airflow end to end and the heavier suites
test: setup system-deps spark-env
	@$(BIN)/python -m pytest -m "slow or not slow"; status=$$?; \
	  echo "browser screenshots and logs: $${CARE_TEST_ARTIFACTS:-$(CURDIR)/tests/artifacts}"; \
	  exit $$status

## make distributed: the Celery topology from real processes, one run through the REST API
distributed: setup
	$(BIN)/python scripts/run_distributed.py

## make test-fast: unit tests only (no Airflow end to end, no slow suites)
test-fast: setup
	$(BIN)/python -m pytest -m "not slow and not e2e"

## Debian packages the browser and Spark tests need (installed only when missing)
system-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium not installed; the browser test will be skipped (fails under CI)"; fi; }
	@command -v java >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null; \
	  else echo "java not installed; the Spark test will be skipped (fails under CI)"; fi; }

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf data .pytest_cache
