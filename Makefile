# The README's commands. `make run` serves the demo on 127.0.0.1:8000; `make test` is what CI runs.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

PYTHON := .venv/bin/python
RUFF := .venv/bin/ruff

# PostgreSQL and Redis as scripts/services leaves them.
TEST_DATABASE_URL ?= postgres://postgres:postgres@127.0.0.1:5432/tracker
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
PYTEST_ARGS ?=

.PHONY: run test lint fmt bench bootstrap services lock screenshots

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
	$(PYTHON) -m mypy proposals replies

fmt:
	$(RUFF) format .
	$(RUFF) check --fix .

# Each measure in its own process; prints a table, writes bench/results.json and docs/benchmarks.md.
bench: bootstrap
	$(PYTHON) bench/run.py

# The lock: requirements/dev.txt (everything, for .venv) and requirements/prod.txt (the image's
# runtime subset, constrained to the same versions), with every file's hash, from pyproject.toml.
# Resolved against PyPI alone (this machine's pip configuration is ignored), then .venv is synced.
# Pins already in the lock are kept; `make lock UPGRADE=1` takes the newest allowed versions, and
# `make lock UPGRADE=kombu` upgrades one package.
PIP_COMPILE := CUSTOM_COMPILE_COMMAND="make lock" PIP_CONFIG_FILE=/dev/null PIP_FIND_LINKS= \
	.venv/bin/pip-compile -q --strip-extras --allow-unsafe --generate-hashes \
	--no-emit-index-url --no-emit-find-links
UPGRADE ?=
UPGRADE_ARGS := $(if $(filter 1,$(UPGRADE)),--upgrade,$(if $(UPGRADE),--upgrade-package $(UPGRADE)))

lock: bootstrap
	$(PIP_COMPILE) $(UPGRADE_ARGS) --extra dev -o requirements/dev.txt pyproject.toml
	$(PIP_COMPILE) -c requirements/dev.txt -o requirements/prod.txt pyproject.toml
	bash scripts/bootstrap

# Refreshes docs/screenshots/ from the browser tests (they write to a temporary folder otherwise).
screenshots: bootstrap services
	SCREENSHOTS_DIR="$(CURDIR)/docs/screenshots" DATABASE_URL="$(TEST_DATABASE_URL)" \
		REDIS_URL="$(TEST_REDIS_URL)" $(PYTHON) -m pytest -p no:cacheprovider \
		tracker/tests/test_admin_browser.py tracker/tests/test_my_browser.py \
		tracker/tests/test_preview_browser.py
