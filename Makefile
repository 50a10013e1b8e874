# SkinVault: the two commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
comma := ,
.DEFAULT_GOAL := help

.PHONY: help setup run test lint bench clean webapps backup restore backup-keys restore-keys smoke manage

help:
	@echo "make run    - set everything up and run the local stack (host :7071, Azurite, SQLite, web app, demo data)"
	@echo "make test   - set everything up and run lint, infra checks and the whole test suite"
	@echo "make bench  - print benchmark figures"
	@echo "make webapps OUTPUTS=outputs.json PARAMS=webapps.json - deployable folders of both web apps in .local/deploy (infra/README.md)"
	@echo "make backup / make restore BACKUP=dir - local data (SQLite + Azurite), never the keys; make backup-keys KEYS_TO=dir / restore-keys KEYS_FROM=dir"
	@echo "make smoke URL=https://<function app> WEB=https://<web app>,https://<patient app> - check a deployment from outside (LOCAL=1 for make run)"
	@echo "make manage ARGS='stuck' - ops commands: stuck, redrive uploads|exports|poison, rotate-kek, kek-rate (--dry-run; README.md)"

setup:
	@bash scripts/setup.sh

run: setup
	@bash scripts/run_local.sh

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy

test: setup lint
	@bash scripts/check_infra.sh
	@bash scripts/run_tests.sh

bench: setup
	@bash scripts/run_bench.sh

webapps: setup
	@python3 scripts/build_webapps.py $(if $(OUTPUTS),--outputs $(OUTPUTS)) $(if $(PARAMS),--parameters $(PARAMS)) $(if $(OUT),--out $(OUT))

backup:
	@.venv/bin/python scripts/local_backup.py backup $(if $(OUT),--out $(OUT))

restore:
	@test -n "$(BACKUP)" || { echo "usage: make restore BACKUP=.local/backups/<stamp>"; exit 2; }
	@.venv/bin/python scripts/local_backup.py restore $(BACKUP)

backup-keys:
	@test -n "$(KEYS_TO)" || { echo "usage: make backup-keys KEYS_TO=<folder outside .local>"; exit 2; }
	@.venv/bin/python scripts/local_backup.py backup-keys --out $(KEYS_TO)

restore-keys:
	@test -n "$(KEYS_FROM)" || { echo "usage: make restore-keys KEYS_FROM=<keys backup folder>"; exit 2; }
	@.venv/bin/python scripts/local_backup.py restore-keys $(KEYS_FROM)

smoke:
	@test -n "$(URL)" || { echo "usage: make smoke URL=https://<function app> [WEB=https://<web app>,https://<patient app>] [LOCAL=1]"; exit 2; }
	@.venv/bin/python scripts/smoke.py $(URL) $(foreach w,$(subst $(comma), ,$(WEB)),--web $(w)) $(if $(LOCAL),--local)

manage:
	@.venv/bin/python -m scripts.manage $(ARGS)

clean:
	rm -rf .local .pytest_cache
