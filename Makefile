# The two set-up commands for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# Reinstall when the dependency declarations change.
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml setup.cfg | sha256sum | cut -c1-12)

.PHONY: demo test test-postgresql test-scaled test-no-orjson lint typecheck unit bench clean

$(STAMP):
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test,dev]" --config-settings editable_mode=compat
	rm -f $(VENV)/.installed-*
	touch $@

## Start a local Directus, seed `articles`, run the README's examples and print what they return.
demo: $(STAMP)
	$(PY) -m pydirectus.testing.demo

# The scaled-out pair (two Directus, PostgreSQL, Redis) has its own target: make test-scaled.
SCALED := tests/integration/test_scaled_pair.py

# --directus-face=both: every scenario that takes a client runs on the sync face and on the
# async one (pydirectus.testing.bridge drives AsyncDirectusClient from the same test code).
## Lint, type-check and run the whole test suite (unit and integration, real Directus), both faces.
test: lint typecheck
	$(PY) -m pytest --ignore=$(SCALED) --directus-face=both

## The integration tests again, both faces, on a local Directus on PostgreSQL (needs PostgreSQL).
test-postgresql: $(STAMP)
	$(PY) -m pytest tests/integration --directus-db=postgresql --directus-face=both \
		--ignore=$(SCALED)

## The scaled-out pair: two Directus on one PostgreSQL and one Redis behind a proxy.
test-scaled: $(STAMP)
	$(PY) -m pytest $(SCALED)

# The test extra installs orjson (pydirectus[fast]); this runs the suite as if it were not.
## The whole suite (unit and integration, SQLite) with orjson turned off: the json codec.
test-no-orjson: $(STAMP)
	PYDIRECTUS_NO_ORJSON=1 $(PY) -m pytest --ignore=$(SCALED)

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
