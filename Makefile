# Rafiki Web. `make run` starts everything on this machine; `make test` runs the suite.
# Both create the virtual environment and install requirements.txt when needed.

PYTHON ?= python3
VENV ?= .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed
# The storage tests run a second time against this PostgreSQL (skipped when it is not
# reachable, unless REQUIRE_POSTGRES=1 as on CI).
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/test
PYTEST_ARGS ?=

.PHONY: run test lint test-sqlite test-postgres venv migrate bench

venv: $(STAMP)

$(VPY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt | $(VPY)
	$(VPY) -m pip install --disable-pip-version-check -q --upgrade pip
	$(VPY) -m pip install --disable-pip-version-check -q -r requirements.txt
	touch $(STAMP)

run: $(STAMP)
	$(VPY) scripts/run.py

migrate: $(STAMP)
	$(VPY) manage.py migrate

test: lint test-sqlite test-postgres

# ruff (settings in pyproject.toml), as STYLE.md asks: lint and format.
lint: $(STAMP)
	$(VPY) -m ruff check .
	$(VPY) -m ruff format --check .

test-sqlite: $(STAMP)
	env -u DATABASE_URL $(VPY) -m pytest $(PYTEST_ARGS)

test-postgres: $(STAMP)
	@if $(VPY) scripts/pg_ready.py "$(PG_TEST_URL)"; then \
		echo "== storage tests against PostgreSQL ($(PG_TEST_URL))"; \
		DATABASE_URL="$(PG_TEST_URL)" RAFIKI_TEST_DB_NAME="test_rafiki_web_$$$$" \
			$(VPY) -m pytest $(PYTEST_ARGS) tests/models tests/datasets tests/trials tests/pages; \
	elif [ "$${REQUIRE_POSTGRES:-0}" = "1" ]; then \
		echo "PostgreSQL at $(PG_TEST_URL) is required (REQUIRE_POSTGRES=1) but unreachable"; exit 1; \
	else \
		echo "== skipped the PostgreSQL run: nothing answers at $(PG_TEST_URL)"; \
	fi

bench: $(STAMP)
	$(VPY) bench/trial_overhead.py
