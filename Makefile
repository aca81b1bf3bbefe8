# The README's commands. `make run` serves the demo on 127.0.0.1:8000; `make test` is what CI runs.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

PYTHON := .venv/bin/python
RUFF := .venv/bin/ruff

# PostgreSQL and Redis as scripts/services leaves them.
TEST_DATABASE_URL ?= postgres://postgres:postgres@127.0.0.1:5432/tracker
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
PYTEST_ARGS ?=

.PHONY: run test lint fmt bench bootstrap services

bootstrap:
	bash scripts/bootstrap

services:
	bash scripts/services

run: bootstrap
	$(PYTHON) manage.py migrate --noinput
	$(PYTHON) manage.py load_demo
	@echo
	@echo "Admin:          http://127.0.0.1:8000/admin/"
	@echo "Proposer pages: http://127.0.0.1:8000/my/"
	@echo "API docs:       http://127.0.0.1:8000/api/docs/"
	@echo
	DEBUG="$${DEBUG:-true}" exec $(PYTHON) manage.py runserver 127.0.0.1:8000

test: bootstrap services
	$(MAKE) --no-print-directory lint
	DATABASE_URL="$(TEST_DATABASE_URL)" REDIS_URL="$(TEST_REDIS_URL)" \
		$(PYTHON) -m pytest -n 2 -p no:cacheprovider $(PYTEST_ARGS)

lint:
	$(RUFF) check .
	$(RUFF) format --check .
	$(PYTHON) manage.py makemigrations --check --dry-run
	$(PYTHON) manage.py check
	$(PYTHON) manage.py spectacular --validate --fail-on-warn --file /dev/null

fmt:
	$(RUFF) format .
	$(RUFF) check --fix .

# Each measure in its own process; prints a table, writes bench/results.json and docs/benchmarks.md.
bench: bootstrap
	$(PYTHON) bench/run.py
