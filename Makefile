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

.PHONY: demo
demo: install ## Run the daily DAG through Airflow over the last 30 demo days, then print a summary
	$(PY) -m sandbox.demo

.PHONY: test
test: install ## Run the test suite
	$(PY) -m pytest -q

.PHONY: lint
lint: install ## ruff (with Airflow AIR3 rules)
	.venv/bin/ruff check .

.PHONY: clean
clean: ## Remove the demo's data (.costbridge/)
	rm -rf .costbridge
