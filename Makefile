# Two commands: `make run` (set up everything, then serve) and `make test` (set up, then the
# whole suite). Every step is idempotent. With DATABASE_URL (and DATABASE_ADMIN_URL) set, the
# external server is used and no local cluster is started.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PY := .venv/bin/python
STAMP := .venv/.installed-$(shell cksum requirements.txt | cut -d' ' -f1)
PYTEST_ARGS ?=

.PHONY: help run test setup venv db migrate demo demo-if-empty db-start db-stop db-url bench lint system-deps serve

help:
	@echo "make run     set up (venv, PostGIS, migrations, demo data) and serve the dashboard"
	@echo "make test    set up, then run the whole test suite (unit, PostGIS, pages, browser)"
	@echo "make db-start | db-stop | db-url | demo | bench | lint"

$(STAMP): requirements.txt
	@test -x $(PY) || python3 -m venv .venv
	@$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -m pip install --quiet -r requirements.txt
	@rm -f .venv/.installed-*; touch $(STAMP)

venv: $(STAMP)

db: venv
ifndef DATABASE_URL
	@bash scripts/pgcluster.sh ensure
else
	@echo "[db] using DATABASE_URL (no local cluster)"
endif

migrate: db
	@$(PY) -m db upgrade

# Demo data goes into the managed cluster when it is empty; never into a DATABASE_URL server
# unless asked with `make demo`.
demo-if-empty: migrate
ifndef DATABASE_URL
	@$(PY) -m loaders demo --if-empty
endif

demo: migrate
	@$(PY) -m loaders demo --if-empty

setup: demo-if-empty

serve:
	@$(PY) -m dashboard.serve $(SERVE_ARGS)

run: setup serve

system-deps:
	@bash scripts/system_deps.sh

test: setup system-deps
	@$(PY) -m pytest $(PYTEST_ARGS)

db-start: venv
	@bash scripts/pgcluster.sh ensure

db-stop:
	@bash scripts/pgcluster.sh stop

db-url:
	@bash scripts/pgcluster.sh url

bench: setup
	@for b in bench/bench_*.py; do [ -e "$$b" ] || continue; echo "== $$b"; $(PY) "$$b" || exit 1; done

lint: venv
	@$(PY) -m ruff check .
	@$(PY) -m ruff format --check .
