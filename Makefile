# costbridge: `make demo` sets up and runs the daily pipeline on the demo org; `make test` passes the tests.
SHELL := /bin/bash
PY := .venv/bin/python
UV_VERSION := 0.13.9
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}'

.venv/.installed: pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || python3 -m pip install -q "uv==$(UV_VERSION)"
	uv sync --frozen
	@touch $@

.PHONY: install
install: .venv/.installed ## Install the pinned stack into .venv (uv, from uv.lock)

# The real services the demo and tests start on loopback come from Debian packages.
# Their packaged daemons are stopped: costbridge starts private instances on free ports.
.PHONY: services
services: ## Install PostgreSQL 15, Prometheus, Chromium and poppler from Debian packages if missing (root)
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then \
		echo "installing postgresql and prometheus (Debian packages)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql prometheus; \
		service prometheus stop >/dev/null 2>&1 || true; \
		service postgresql stop >/dev/null 2>&1 || true; \
	fi
	@# The reports: WeasyPrint lays out PDFs with Pango; the tests read them with poppler
	@# (pdftotext, pdftoppm) and load the dashboard in headless Chromium.
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1 \
		|| ! command -v pdftotext >/dev/null 2>&1 || ! ldconfig -p | grep -q libpangoft2-1.0; then \
		echo "installing chromium, chromium-driver, poppler-utils and pango (Debian packages)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			chromium chromium-driver poppler-utils libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core; \
	fi

.PHONY: demo
demo: install services ## Run the daily DAG through Airflow over the last 30 demo days, then print a summary
	$(PY) -m sandbox.demo

.PHONY: test
test: install services tools ## Lint (ruff, sqlfluff) and run the test suite (installs what it needs first)
	.venv/bin/ruff check .
	$(MAKE) --no-print-directory lint-sql
	$(PY) -m pytest -q --durations=15

.PHONY: chaos
chaos: install services tools ## The attack suite at full strength; prints its table (also in .costbridge/chaos.md)
	@mkdir -p .costbridge
	COSTBRIDGE_CHAOS=full COSTBRIDGE_CHAOS_TABLE=.costbridge/chaos.md $(PY) -m pytest -q tests/reliability

BENCH_ROWS ?= 10000000

.PHONY: bench
bench: install ## LiteLLM extractor vs raw COPY on one day (BENCH_ROWS=10000000; ~16 GB in /tmp)
	$(PY) -m bench.litellm_extract --rows-per-day $(BENCH_ROWS)

.PHONY: lint
lint: install ## ruff check (with Airflow AIR3 rules), ruff format --check, mypy, sqlfluff
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
	$(MAKE) --no-print-directory lint-sql

# The dbt templater compiles the project, so sqlfluff needs the variables dbt
# needs: a scratch warehouse file and landing root (nothing is read from them).
SQL_LINT_DIR := $(abspath $(or $(COSTBRIDGE_HOME),.costbridge)/sqlfluff)

.PHONY: lint-sql
lint-sql: install ## sqlfluff on the dbt project's SQL (.sqlfluff: dialect duckdb, templater dbt)
	@mkdir -p $(SQL_LINT_DIR)/landing
	COSTBRIDGE_DBT_DUCKDB_PATH=$(SQL_LINT_DIR)/lint.duckdb COSTBRIDGE_LANDING_ROOT=$(SQL_LINT_DIR)/landing \
		.venv/bin/sqlfluff lint dbt_project/models dbt_project/tests dbt_project/macros

.PHONY: clean
clean: ## Remove the demo's data (.costbridge/)
	rm -rf .costbridge

# Tools that cannot share the project's Python 3.11 venv live in their own venvs under .tools/
# (which ignores itself). focus-validator 2.x needs Python >= 3.12 (pyenv's 3.12.1 here). It
# pins numpy<2, but the pyarrow it pulls needs numpy>=2 (polars' register fails under 1.x); pip
# refuses both in one resolve, so numpy is upgraded after: pip warns about the pin, it runs.
TOOLS_DIR := .tools
FOCUS_VALIDATOR_VENV := $(TOOLS_DIR)/focus-validator
FOCUS_VALIDATOR_VERSION := 2.2.1

$(FOCUS_VALIDATOR_VENV)/.installed:
	@mkdir -p $(TOOLS_DIR) && echo '*' > $(TOOLS_DIR)/.gitignore
	PYENV_VERSION=3.12.1 python3.12 -m venv $(FOCUS_VALIDATOR_VENV)
	$(FOCUS_VALIDATOR_VENV)/bin/python -m pip install -q --disable-pip-version-check \
		"focus-validator==$(FOCUS_VALIDATOR_VERSION)"
	$(FOCUS_VALIDATOR_VENV)/bin/python -m pip install -q --disable-pip-version-check "numpy>=2"
	@touch $@

.PHONY: tools
tools: $(FOCUS_VALIDATOR_VENV)/.installed ## Tool venvs under .tools/ (focus-validator on Python 3.12)

DOCS_DIR ?= $(or $(COSTBRIDGE_HOME),.costbridge)/dbt_docs

.PHONY: docs
docs: install ## dbt docs (into $COSTBRIDGE_HOME/dbt_docs) and the metrics glossary docs/metrics.md
	$(PY) -m warehouse.glossary docs --out docs/metrics.md --dbt-docs $(DOCS_DIR)
