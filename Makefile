# Probation Evidence Pipeline. The two commands a newcomer needs: `make demo` and `make test`.
# Each installs what it needs first (uv, then .venv from uv.lock); nothing else must be pre-installed.

SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .state/tools
UV := $(shell command -v uv 2>/dev/null || echo $(TOOLS)/bin/uv)
VENV := .venv
BIN := $(VENV)/bin
export DO_NOT_TRACK := 1
export UV_PROJECT_ENVIRONMENT := $(VENV)
# uv trusts the platform's certificate store, not only its bundled Mozilla roots: on a network whose TLS is
# intercepted (normal in government) the interception CA is in the system store and nowhere else.
# UV_SYSTEM_CERTS is uv's name for it (0.13.9, pinned above); UV_NATIVE_TLS, the older one, serves an older
# uv found on PATH.
export UV_SYSTEM_CERTS := 1
export UV_NATIVE_TLS := 1

.PHONY: help install browser-deps demo demo-national up test stop lint typecheck sql-lint format test-only seeds docs docs-site freshness bench bench-load bench-incremental bench-queries bench-scheduler bench-scale bench-dbt clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

# pip before 24.2 trusts only its bundled Mozilla roots (its `--use-feature=truststore` needs a package that
# a fresh venv lacks), so unless PIP_CERT is set it is pointed at the platform's CA bundle, the one Python's
# OpenSSL uses, when that file exists.
SYSTEM_CA_BUNDLE_PY := import os, ssl; p = ssl.get_default_verify_paths(); \
	print(next((f for f in (p.cafile, p.openssl_cafile) if f and os.path.isfile(f)), ""))
$(TOOLS)/bin/uv:
	@echo "==> uv not found: installing uv $(UV_VERSION) into $(TOOLS) (local to this checkout)"
	$(PYTHON) -m venv $(TOOLS)
	cafile="$${PIP_CERT:-$$($(TOOLS)/bin/python -c '$(SYSTEM_CA_BUNDLE_PY)')}"; \
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check $${cafile:+--cert "$$cafile"} "uv==$(UV_VERSION)"

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	@touch $@

dbt_project/target/manifest.json: $(VENV)/.installed $(shell find dbt_project -name '*.sql' -o -name '*.yml' -o -name '*.csv' 2>/dev/null | grep -v '/target/')
	$(BIN)/python -m probation_evidence.local.dbt_runner parse

install: $(VENV)/.installed dbt_project/target/manifest.json  ## create .venv from uv.lock and parse the dbt project

# Pack PDFs and the browser tests drive Debian's chromium; poppler-utils checks the PDFs. As root they are
# installed from Debian's packages when missing (about 20 s); otherwise the command to run is printed.
BROWSER_PACKAGES := chromium poppler-utils
browser-deps:  ## chromium and poppler-utils (Debian packages) for pack PDFs and browser tests
	@if { [ -x "$${CHROMIUM_PATH:-/usr/bin/chromium}" ] || command -v chromium >/dev/null; } \
		&& command -v pdfinfo >/dev/null && command -v pdftotext >/dev/null; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "==> installing $(BROWSER_PACKAGES) from Debian's packages"; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(BROWSER_PACKAGES) >/dev/null \
		|| { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(BROWSER_PACKAGES) >/dev/null; }; \
	else \
		echo "chromium and poppler-utils are missing: run  sudo apt-get install -y $(BROWSER_PACKAGES)" \
			"(or set CHROMIUM_PATH to a Chromium binary)" >&2; exit 1; \
	fi

demo: install browser-deps  ## run the whole pipeline through Airflow and say where the packs are
	$(BIN)/probation-evidence demo

demo-national: install browser-deps  ## the same on the national simulation: 12 regions, ~20k staff, a year of history
	$(BIN)/probation-evidence demo --size national

up: install browser-deps  ## Airflow under its real scheduler, in the background: UI on AIRFLOW_PORT (default 8080)
	$(BIN)/probation-evidence airflow up

# The real-scheduler suite (tests/scheduler) runs beside the other tests (it mostly waits on Airflow), then
# the transform's fault runs (tests/faults), which balances the two sessions.
test: install browser-deps  ## ruff, mypy and vulture, then every test incl. sqlfluff and import contracts (starts its own PostgreSQL unless WAREHOUSE_URL is set)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/vulture
	$(BIN)/python tests/run_suites.py

test-only: install browser-deps  ## the tests without lint
	$(BIN)/python tests/run_suites.py

lint: install  ## ruff, mypy, vulture, import contracts and sqlfluff (the dbt templater needs a database: the warehouse is started)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/vulture
	$(BIN)/lint-imports
	$(BIN)/python -m probation_evidence.local.sql_lint lint

typecheck: install  ## mypy over the package and the DAG files ([tool.mypy] in pyproject.toml)
	$(BIN)/mypy

sql-lint: install  ## sqlfluff over every SQL file: dbt models, macros and tests, sql/bootstrap, sql/queries, the package's sql/
	$(BIN)/python -m probation_evidence.local.sql_lint lint

format: install  ## fix what ruff and sqlfluff can fix
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/python -m probation_evidence.local.sql_lint fix

bench: bench-load bench-incremental bench-queries  ## every benchmark (WAREHOUSE_URL honoured); results in benchmarks/results/

bench-load: install  ## loader against ADBC, COPY and insert_rows at national size: benchmarks/results/load.json
	$(BIN)/python benchmarks/load_benchmark.py

bench-incremental: install  ## full build against one-week build of the weekly history: results/incremental.json
	$(BIN)/python benchmarks/incremental_benchmark.py

bench-scheduler: install browser-deps  ## trigger to packs under the real scheduler against make demo's path: results/scheduler.json
	$(BIN)/python benchmarks/scheduler_benchmark.py

bench-scale: install browser-deps  ## the pipeline at 1, 2, 4 and 8 years of national history: results/scale.json
	$(BIN)/python benchmarks/scale_benchmark.py

bench-dbt: install browser-deps  ## dbt run three ways (Cosmos per-node, watcher, plain dbt build), alternating: results/dbt_execution.json
	$(BIN)/python benchmarks/dbt_execution_benchmark.py

bench-queries: install  ## planner queries at national size, without and with the marts' index: results/planner_queries.json
	$(BIN)/python benchmarks/planner_queries_benchmark.py

docs: install  ## regenerate docs/sources.md from the source contracts
	$(BIN)/python -m probation_evidence.sources.source_docs

freshness: install  ## dbt source freshness: is every source (raw, audit, published packs) recent enough?
	$(BIN)/python -m probation_evidence.local.dbt_runner source freshness

docs-site: install  ## the dbt docs site, catalog read from the warehouse (run make demo first for the data)
	DBT_TARGET_PATH=$(CURDIR)/output/dbt-docs DBT_LOG_PATH=$(CURDIR)/output/dbt-docs/logs \
		$(BIN)/python -m probation_evidence.local.dbt_runner docs generate --static
	@echo "==> dbt docs: output/dbt-docs/static_index.html (one self-contained file: open it in a browser)"

seeds: install  ## regenerate the framework and reference seeds from their source text
	$(BIN)/probation-evidence seeds

stop:  ## stop the Airflow stack (make up) and the simulator, then the embedded warehouse
	@if [ -x $(BIN)/probation-evidence ]; then \
		$(BIN)/probation-evidence airflow down && $(BIN)/probation-evidence warehouse stop; \
	else echo "nothing to stop"; fi

clean: stop  ## remove everything generated (the embedded warehouse's data included)
	rm -rf .state data output dbt_project/target dbt_project/logs $(VENV)
