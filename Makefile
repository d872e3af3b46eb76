# Developer and operator entry points. Every target installs what it needs first.
#   make plan            render the dev stack offline (STACK=prod for prod)
#   make check           every check CI runs: lint, type check, tests
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STACK ?= dev
UV_VERSION := 0.13.8
INSTALLED := $(VENV)/.installed

.PHONY: help install plan check lint format typecheck test snapshots docs policy-venv bench lock preview up destroy clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(INSTALLED): requirements-dev.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is required (found " + sys.version.split()[0] + ")") if sys.version_info < (3, 11) else None'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip sync --quiet --python $(BIN)/python --require-hashes --compile-bytecode requirements-dev.txt
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps --editable .
	@touch $@

install: $(INSTALLED) ## create .venv from the hash-pinned lock files

plan: $(INSTALLED) ## render STACK (default dev) offline: resources, counts, outputs
	$(BIN)/infractl plan $(STACK)

check: lint typecheck test ## lint, type check and test (what CI runs)

lint: $(INSTALLED) ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(INSTALLED) ## apply ruff fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(INSTALLED) ## pyright (strict) over the program, components, CLI and tests
	$(BIN)/pyright

test: $(INSTALLED) ## the test suite (each stack's program runs once)
	$(BIN)/pytest

snapshots: $(INSTALLED) ## re-record the committed plan snapshots after an intended change
	$(BIN)/pytest tests/test_snapshots.py --snapshot-update --numprocesses=0

docs: $(INSTALLED) ## regenerate docs/configuration.md, docs/outputs.md, the estimates in docs/cost.md and docs/policies.md's rules
	$(BIN)/infractl config-reference --output docs/configuration.md
	$(BIN)/infractl cost figures --write docs/cost.md
	$(BIN)/infractl policy-reference --output docs/policies.md
	$(BIN)/infractl outputs-reference --output docs/outputs.md

policy-venv: ## create policy/venv, the environment `pulumi preview --policy-pack policy` runs in
	$(PYTHON) -m venv policy/venv
	policy/venv/bin/pip install --quiet --disable-pip-version-check -r policy/requirements.txt

bench: $(INSTALLED) ## time the offline plan per stack, with 10/100/500 tenants, and the tests
	$(BIN)/python benchmarks/bench.py
	$(BIN)/python benchmarks/tenants.py

lock: $(INSTALLED) ## re-resolve requirements*.txt from pyproject.toml
	$(BIN)/uv pip compile pyproject.toml --generate-hashes --universal --python-version 3.11 --no-header --quiet -o requirements.txt
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --universal --python-version 3.11 --no-header --quiet -c requirements.txt -o requirements-dev.txt

# Real deployments: need the pulumi CLI, AWS credentials and a logged-in state backend (see README).
preview: $(INSTALLED) ## pulumi preview of STACK against AWS
	pulumi preview --stack $(STACK) --diff

up: $(INSTALLED) ## pulumi up of STACK against AWS
	pulumi up --stack $(STACK)

clean: ## remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .ruff_cache
