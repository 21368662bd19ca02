# Every target does its own set-up: a virtualenv in .venv, the project installed
# in it, the database migrated. `make run` and `make test` work on a fresh clone.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-postgres lint format screenshots install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Run the app on http://127.0.0.1:5000 (with the Kit sandbox on :5001 when no KIT_CLIENT_ID is set).
run: $(STAMP)
	$(BIN)/flask --app app db upgrade
	$(BIN)/flask --app app kit dev

## Run the test suite (SQLite; the browser test runs where /usr/bin/chromium exists).
test: $(STAMP)
	$(BIN)/pytest

## The same suite against PostgreSQL: set TEST_DATABASE_URL (see .ci/run).
test-postgres: $(STAMP)
	@test -n "$(TEST_DATABASE_URL)" || (echo "Set TEST_DATABASE_URL=postgresql+psycopg://..." && exit 2)
	$(BIN)/pytest

## Refresh the README's screenshots from the browser journey test.
screenshots: $(STAMP)
	SCREENSHOT_DIR=docs/screenshots $(BIN)/pytest tests/test_browser.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts
