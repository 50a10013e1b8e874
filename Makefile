# SkinVault: the two commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help setup run test lint bench clean

help:
	@echo "make run    - set everything up and run the local stack (host :7071, Azurite, SQLite, web app, demo data)"
	@echo "make test   - set everything up and run lint, infra checks and the whole test suite"
	@echo "make bench  - print benchmark figures"

setup:
	@bash scripts/setup.sh

run: setup
	@bash scripts/run_local.sh

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

test: setup lint
	@bash scripts/check_infra.sh
	@bash scripts/run_tests.sh

bench: setup
	@bash scripts/run_bench.sh

clean:
	rm -rf .local .pytest_cache
