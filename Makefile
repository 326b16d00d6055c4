# Two commands matter: `make run` (the system on embedded defaults) and `make test` (everything).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PACKAGES := -e events -e sqlstore -e 'servicekit[test]' -e 'services/appstore[test]' -e 'services/dashboard[test]'
STAMP := $(VENV)/.installed
# Browser libraries come from the npm registry, pinned by lock files: the Dashboard page's
# (Chart.js) and the API docs pages' of both services (Swagger UI, ReDoc, in servicekit).
# Swagger UI and ReDoc ship built bundles; their packages' install scripts (a usage ping, a
# banner) are not run.
PAGE_ASSETS := services/dashboard/node_modules/.package-lock.json
DOCS_ASSETS := servicekit/node_modules/.package-lock.json
ASSETS := $(PAGE_ASSETS) $(DOCS_ASSETS)
# The revision `make bench` serves purchases beside (empty: none, the floors instead).
PURCHASES_AGAINST ?= 7e28ae9

.PHONY: venv test lint format run bench clean

venv: $(STAMP)

$(STAMP): events/pyproject.toml sqlstore/pyproject.toml servicekit/pyproject.toml services/appstore/pyproject.toml services/dashboard/pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet tox ruff $(PACKAGES)
	touch $@

$(PAGE_ASSETS): services/dashboard/package.json services/dashboard/package-lock.json
	cd services/dashboard && npm ci --no-audit --no-fund

$(DOCS_ASSETS): servicekit/package.json servicekit/package-lock.json
	cd servicekit && npm ci --ignore-scripts --no-audit --no-fund

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
	$(BIN)/python bench/purchases.py $(if $(PURCHASES_AGAINST),--against $(PURCHASES_AGAINST))
	$(BIN)/python bench/relay.py
	$(BIN)/python bench/relay_publish.py
	$(BIN)/python bench/pipeline.py
	$(BIN)/python bench/rebuild.py
	$(BIN)/python bench/catalogue.py
	$(BIN)/python bench/dashboard_reads.py
	$(BIN)/python bench/freshness.py

clean:
	rm -rf $(VENV) .tox
