.PHONY: help setup test lint format typecheck ci bench
help:            ## list the commands
	@grep -E '^[a-z]+:.*##' Makefile | sed 's/:.*##/\t/'
setup:           ## install system packages and scipix with all extras
	./scripts/setup.sh
test:            ## run the tests
	python3 -m pytest
lint:            ## ruff lint and format check
	python3 -m ruff check . && python3 -m ruff format --check .
format:          ## format the code
	python3 -m ruff format . && python3 -m ruff check --fix .
typecheck:       ## mypy on src/
	python3 -m mypy src/
ci:              ## what CI runs
	./.ci/run
