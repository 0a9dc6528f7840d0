# The two commands of the README: `make plan STACK=<stack>` and `make test`.
# Each one creates ./venv (the virtualenv Pulumi.yaml names) from the pinned
# requirements when it is missing or older than them.
PYTHON ?= python3
VENV := venv
PY := $(VENV)/bin/python
# checkov pins packaging<24, pulumi needs >=26: it gets a virtualenv of its own.
CHECKOV_VENV := venv-checkov
STACK ?= dev
ARGS ?=

.PHONY: plan test lint typecheck unit bench clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@echo "make: installing requirements-dev.txt into ./$(VENV)" >&2
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt >&2
	@touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $@

# `@` here and above: nothing but the command's own output reaches stdout, so
# `make plan ARGS=--json | jq` reads JSON only (the installation talks on stderr).
plan: $(VENV)/.installed
	@$(PY) -m ops plan --stack $(STACK) $(ARGS)

lint: $(VENV)/.installed
	$(PY) -m ruff check .

typecheck: $(VENV)/.installed
	$(PY) -m mypy

unit: $(VENV)/.installed $(CHECKOV_VENV)/.installed
	$(PY) -m pytest -q -n 2 $(ARGS)

test: lint typecheck unit

bench: $(VENV)/.installed
	$(PY) bench/plan_bench.py $(ARGS)

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) .pytest_cache .mypy_cache .ruff_cache

# Delivery (docs/delivery.md). `deps` is the program's ./venv alone, for CI jobs that run
# pulumi; the dev-* targets drive personal dev-<owner> stacks (ARGS="--owner NAME" etc.).
.PHONY: deps dev-up dev-down dev-list
deps: $(VENV)/.installed

dev-up: $(VENV)/.installed
	@$(PY) -m ops dev up $(ARGS)

dev-down: $(VENV)/.installed
	@$(PY) -m ops dev down $(ARGS)

dev-list: $(VENV)/.installed
	@$(PY) -m ops dev list $(ARGS)
