# The two set-up commands for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# Reinstall when the dependency declarations change.
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml setup.cfg | sha256sum | cut -c1-12)

.PHONY: demo docs test test-async test-postgresql test-mariadb test-scaled test-no-orjson lint typecheck unit bench clean

$(STAMP):
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test,dev,docs]" --config-settings editable_mode=compat
	rm -f $(VENV)/.installed-*
	touch $@

## Start a local Directus, seed `articles`, run the README's examples and print what they return.
demo: $(STAMP)
	$(PY) -m pydirectus.testing.demo

## Build the documentation site into site/, strictly: a warning or a broken link fails it.
## (Its examples run in make test: tests/integration/test_docs.py.)
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict --site-dir site

# The scaled-out pair (two Directus, PostgreSQL, Redis) has its own target: make test-scaled.
SCALED := tests/integration/test_scaled_pair.py

# Two pytest workers (pytest-xdist), each with its own local Directus: one worker leaves a
# core idle while its Directus works, two keep both busy. A test file stays on one worker
# (some files' tests build on each other). `make test JOBS=` runs in one process.
JOBS ?= -n 2 --dist loadfile

## Lint, type-check and run the whole test suite (unit and integration, real Directus).
test: lint typecheck
	$(PY) -m pytest $(JOBS) --ignore=$(SCALED)

# The scenarios that take a client, run again on the async face: pydirectus.testing.bridge
# drives AsyncDirectusClient from the same test code (the async-only tests are in make test).
ASYNC_SCENARIOS := $(wildcard tests/integration/test_collection*.py \
	tests/integration/test_handle_methods*.py tests/integration/test_query_differential.py \
	tests/integration/test_seed_*.py tests/integration/test_database_matrix.py \
	tests/integration/test_prefetch.py tests/integration/test_auth.py \
	tests/integration/test_auth_strategies.py tests/integration/test_sdk_commands.py \
	tests/integration/test_access.py tests/integration/test_system_*.py \
	tests/integration/test_files*.py tests/integration/test_token_relations.py \
	tests/integration/test_type_matrix.py tests/integration/test_batch_reports.py \
	tests/integration/test_django_vocabulary.py tests/integration/test_secrets.py \
	tests/integration/test_wrong_shapes.py tests/integration/test_resilience.py \
	tests/integration/test_graphql.py tests/integration/test_dataframes.py \
	tests/integration/test_realtime.py)

## The collection, query, auth, system and files scenarios on the async face (SQLite).
test-async: $(STAMP)
	$(PY) -m pytest $(JOBS) $(ASYNC_SCENARIOS) --directus-face=async

# Each database runs the whole integration suite, each face on two of the three: SQLite
# both (make test, make test-async), PostgreSQL the sync face, MariaDB the async face.
# (The tests that take no client, the CLI's and the server's, run on each database once.)

## The integration tests again on a local Directus on PostgreSQL (needs PostgreSQL), sync face.
test-postgresql: $(STAMP)
	$(PY) -m pytest $(JOBS) tests/integration --directus-db=postgresql --ignore=$(SCALED)

## The integration tests again on a local Directus on MariaDB (needs mariadb-server), async face.
test-mariadb: $(STAMP)
	$(PY) -m pytest $(JOBS) tests/integration --directus-db=mariadb --directus-face=async \
		--ignore=$(SCALED)

## The scaled-out pair: two Directus on one PostgreSQL and one Redis behind a proxy.
test-scaled: $(STAMP)
	$(PY) -m pytest $(SCALED)

# The test extra installs orjson (pydirectus[fast]); this runs as if it were not: the unit
# tests that encode or decode JSON and the integration tests that read and write every
# field type.
NO_ORJSON_SLICE := tests/unit/test_codec.py tests/unit/test_encoding.py \
	tests/unit/test_transport.py tests/unit/test_aio_transport.py tests/unit/test_reads.py \
	tests/unit/test_values.py tests/unit/test_files_bodies.py tests/unit/test_shapes.py \
	tests/unit/test_secrets.py tests/integration/test_collection.py \
	tests/integration/test_database_matrix.py tests/integration/test_type_matrix.py \
	tests/integration/test_seed_methods.py tests/integration/test_files.py \
	tests/integration/test_cli.py tests/integration/test_big_integers.py
## The JSON unit tests and a read/write integration slice (SQLite) with orjson off: the json codec.
test-no-orjson: $(STAMP)
	PYDIRECTUS_NO_ORJSON=1 $(PY) -m pytest $(JOBS) $(NO_ORJSON_SLICE)

lint: $(STAMP)
	$(PY) -m ruff check pydirectus tests benchmarks

typecheck: $(STAMP)
	$(PY) -m mypy

unit: $(STAMP)
	$(PY) -m pytest tests/unit

bench: $(STAMP)
	$(PY) -m pip install --quiet -e ".[bench]" --config-settings editable_mode=compat
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .pytest_cache .ruff_cache .hypothesis
