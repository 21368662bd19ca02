# Every target does its own set-up: a virtualenv in .venv, the project installed
# in it, the database migrated. `make run` and `make test` work on a fresh clone.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run serve test test-postgres lint typecheck format screenshots install clean bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Run the app on http://127.0.0.1:5000 (with the Kit sandbox on :5001 when no KIT_CLIENT_ID is set).
## Reloads on code changes; the sandbox keeps its state in instance/ (RUN_ARGS=--reset-sandbox
## starts it over, RUN_ARGS=--no-reload turns the reloader off).
run: $(STAMP)
	$(BIN)/flask --app app db upgrade
	$(BIN)/flask --app app kit dev $(RUN_ARGS)

## Serve like production on port $PORT (8000): migrate, then gunicorn with
## gunicorn.conf.py (the Procfile's and Dockerfile's steps). APP_ENV and every other
## setting come from the environment or .env, unchanged. In sandbox mode (no
## KIT_CLIENT_ID) run `python -m kit_sandbox --app-url http://127.0.0.1:8000`
## beside it: `make run` starts the sandbox, this does not (see docs/deploying.md).
serve: $(STAMP)
	$(BIN)/flask --app app db upgrade
	$(BIN)/gunicorn -c gunicorn.conf.py 'app:create_app()'

## Run the test suite (SQLite; the browser test runs where /usr/bin/chromium exists),
## in parallel with pytest-xdist: two workers per core, since the tests mostly wait
## (on the sandbox over loopback, on the servers they start). PYTEST_ARGS=-n0 runs
## it in one process; `.venv/bin/pytest tests/test_x.py` runs one file serially.
PYTEST_ARGS ?= -n $(shell $(PYTHON) -c 'import os; print(2 * (os.cpu_count() or 1))') --dist worksteal
test: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

## The same suite against PostgreSQL: set TEST_DATABASE_URL (see .ci/run). Each
## xdist worker creates and migrates a database of its own on that server
## (the URL's name + _gw0, _gw1, ...).
test-postgres: $(STAMP)
	@test -n "$(TEST_DATABASE_URL)" || (echo "Set TEST_DATABASE_URL=postgresql+psycopg://..." && exit 2)
	$(BIN)/pytest $(PYTEST_ARGS)

## Refresh the README's screenshots from the browser test: every page at 1280 and
## 390 px in docs/screenshots/<width>/, axe-core's results in
## docs/screenshots/axe-results.json (written even when the test fails); the help
## page's copies in static/help/ (tests/test_help_pages.py compares them).
screenshots: $(STAMP)
	rm -rf docs/screenshots/1280 docs/screenshots/390 docs/screenshots/dark
	SCREENSHOT_DIR=docs/screenshots $(BIN)/pytest -q tests/test_browser.py
	cp docs/screenshots/[1-4]-kit-*.png docs/screenshots/2-sign-up.png static/help/
	cp docs/screenshots/1280/07-overview.png static/help/5-overview.png
	cp docs/screenshots/1280/21-accounts.png static/help/6-accounts.png

## ruff (lint and format check) on the whole tree, then mypy.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## mypy, strict, on app/kit (the settings are in pyproject.toml).
typecheck: $(STAMP)
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache test-artifacts

## Every benchmark in bench/ but faults against the sandbox, each printing its
## table (about 10 minutes on 2 busy cores; figures only, never a pass or fail on
## speed). Each time is printed against a baseline measured in the same run
## (/healthz, one Kit call, one warm view, one process), never alone. Shorter
## than the modules' defaults where a default takes minutes (--seconds,
## --connections, --sizes below). refresh_due_celery and install_chart start
## their own redis-server and Celery worker (Debian's redis-server);
## refresh_due_celery runs on a throwaway PostgreSQL from pg_virtualenv where
## it is installed, as .ci/run tests, else on SQLite. Run one alone with
## `.venv/bin/python -m bench.NAME --help`.
bench: $(STAMP)
	uptime
	$(BIN)/python -m bench.burst
	$(BIN)/python -m bench.refresh_storm --rounds 2
	$(BIN)/python -m bench.slow_kit
	$(BIN)/python -m bench.crafted_input
	$(BIN)/python -m bench.webhooks --clients 1 --seconds 5
	$(BIN)/python -m bench.webhooks --clients 4 --seconds 5
	$(BIN)/python -m bench.dashboard
	$(BIN)/python -m bench.blocks
	$(BIN)/python -m bench.install_chart --installs 3
	$(BIN)/python -m bench.load --paths /dashboard --seconds 10
	$(BIN)/python -m bench.refresh_due_scale --sizes 10000,50000
	$(BIN)/python -m bench.token_paths --refresh-rounds 100
	@if command -v pg_virtualenv >/dev/null; then \
	  pg_virtualenv -t bash -c '$(BIN)/python -m bench.refresh_due_celery --connections 200 \
	    --database-url "postgresql+psycopg://$${PGUSER}:$${PGPASSWORD}@$${PGHOST}:$${PGPORT}/$${PGDATABASE}"'; \
	else \
	  echo "No pg_virtualenv: refresh_due_celery on SQLite"; \
	  $(BIN)/python -m bench.refresh_due_celery --connections 200; \
	fi
	uptime
