# Targets a newcomer needs. `make help` lists them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi.py
# Tests run in parallel on both cores.
PYTEST_ARGS ?= -n 2

.PHONY: help run install install-dev frontend db demo test lint test-postgres bench bench-scale serve clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python frontend ## Install the application's Python, front-end and system (PDF) dependencies
	bash scripts/system-deps.sh
	$(BIN)/pip install --quiet -r requirements.txt

install-dev: $(BIN)/python frontend ## Install everything the tests need too
	bash scripts/system-deps.sh
	$(BIN)/pip install --quiet -r requirements-dev.txt

frontend: ## Build GOV.UK Frontend styles and scripts into grants/static
	cd frontend && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build

db: ## Create or upgrade the database to the newest migration
	$(BIN)/flask db upgrade

demo: db ## Add the demo organisations, funds, users and bids (idempotent)
	$(BIN)/flask seed-demo

run: install demo ## Install, migrate, seed demo data and serve on http://127.0.0.1:5000
	$(BIN)/flask run --host 127.0.0.1 --port 5000

serve: ## Serve with gunicorn (production style; set SECRET_KEY, DATABASE_URL, APP_ENV=production)
	$(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

lint: ## ruff (style, bugs, complexity) and mypy (type hints)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: install-dev lint ## Install everything and run the whole test suite (SQLite, with browser tests)
	bash scripts/system-deps.sh --browser
	$(BIN)/pytest $(PYTEST_ARGS)

test-postgres: install-dev ## Run the whole test suite on a throwaway PostgreSQL server
	bash scripts/with-postgres.sh $(BIN)/pytest $(PYTEST_ARGS)

bench: install-dev ## Run the benchmarks
	$(BIN)/python -m bench

bench-scale: install-dev ## National-scale pages and exports on SQLite and PostgreSQL (BENCH_BIDS=50000)
	$(BIN)/python -m bench.scale

clean: ## Remove the virtualenv, node_modules and built assets
	rm -rf $(VENV) frontend/node_modules grants/static
