# Two commands matter: `make run` (the system on embedded defaults) and `make test` (everything).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PACKAGES := -e events -e sqlstore -e 'servicekit[test]' -e 'services/appstore[test]' -e 'services/dashboard[test]'
STAMP := $(VENV)/.installed

.PHONY: venv test lint format run bench clean

venv: $(STAMP)

$(STAMP): events/pyproject.toml sqlstore/pyproject.toml servicekit/pyproject.toml services/appstore/pyproject.toml services/dashboard/pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet tox ruff $(PACKAGES)
	touch $@

test: $(STAMP)
	$(BIN)/tox run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

run: $(STAMP)
	$(BIN)/python scripts/run.py

bench: $(STAMP)
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python bench/purchases.py
	$(BIN)/python bench/relay.py
	$(BIN)/python bench/relay_publish.py

clean:
	rm -rf $(VENV) .tox
