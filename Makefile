# The few commands a newcomer needs; `make` or `make help` lists them.
PYTHON ?= python3
NICE ?= nice

.DEFAULT_GOAL := help
.PHONY: help setup test test-fast lint format typecheck check ci doctor bench

help:            ## list the commands
	@awk -F ':.*## ' '/^[a-z-]+:.*## /{printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

setup:           ## install system packages and scipix with all extras (README's first command)
	./scripts/setup.sh

test:            ## run all the tests (README's second command), niced
	$(NICE) $(PYTHON) -m pytest

test-fast:       ## the tests without the `slow` tier, stopping at the first failure
	$(NICE) $(PYTHON) -m pytest -x -m 'not slow'

lint:            ## ruff lint and format check
	$(PYTHON) -m ruff check . && $(PYTHON) -m ruff format --check .

format:          ## format the code and apply safe lint fixes
	$(PYTHON) -m ruff format . && $(PYTHON) -m ruff check --fix .

typecheck:       ## mypy (strict) on src/
	$(NICE) $(PYTHON) -m mypy src/

check: lint typecheck test  ## lint, type check and test: what to run before a push

ci:              ## exactly what CI runs (.ci/run: set-up, tests, ruff, mypy)
	./.ci/run

doctor:          ## is everything scipix needs here and working?
	$(PYTHON) -m scipix doctor

bench:           ## run every benchmark (one command each: python3 benchmarks/NAME.py)
	@set -e; for f in benchmarks/*.py; do [ -e "$$f" ] || continue; echo "::: $$f"; $(NICE) $(PYTHON) "$$f"; done
