# Two commands matter: `make run` (the system on embedded defaults) and `make test` (everything).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PACKAGES := -e events -e sqlstore -e 'servicekit[test]' -e 'services/appstore[test]' -e 'services/dashboard[test]'
STAMP := $(VENV)/.installed
# The page's libraries (Chart.js) come from the npm registry, pinned by the lock file.
ASSETS := services/dashboard/node_modules/.package-lock.json

.PHONY: venv test lint format run bench clean

venv: $(STAMP)

$(STAMP): events/pyproject.toml sqlstore/pyproject.toml servicekit/pyproject.toml services/appstore/pyproject.toml services/dashboard/pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet tox ruff $(PACKAGES)
	touch $@

$(ASSETS): services/dashboard/package.json services/dashboard/package-lock.json
	cd services/dashboard && npm ci --no-audit --no-fund

test: $(STAMP) $(ASSETS)
	$(BIN)/tox run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

run: $(STAMP) $(ASSETS)
	$(BIN)/python scripts/run.py

bench: $(STAMP)
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python bench/purchases.py
	$(BIN)/python bench/relay.py
	$(BIN)/python bench/relay_publish.py
	$(BIN)/python bench/pipeline.py
	$(BIN)/python bench/rebuild.py
	$(BIN)/python bench/dashboard_reads.py
	$(BIN)/python bench/freshness.py

clean:
	rm -rf $(VENV) .tox
