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
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $@

# promtool and amtool, Prometheus's and Alertmanager's own checkers, for the tests: the
# binaries of Debian's prometheus and prometheus-alertmanager packages, unpacked into
# ./tools/bin (nothing installed system-wide, no service started; a few seconds).
TOOLS := tools
.PHONY: tools
tools: $(TOOLS)/.installed
$(TOOLS)/.installed:
	rm -rf $(TOOLS) && mkdir -p $(TOOLS)/debs $(TOOLS)/bin
	cd $(TOOLS)/debs && apt-get download prometheus prometheus-alertmanager || \
		{ echo "apt-get download failed: run 'sudo apt-get update' first, or put promtool and amtool in $(TOOLS)/bin" >&2; exit 1; }
	for deb in $(TOOLS)/debs/*.deb; do dpkg-deb -x $$deb $(TOOLS)/root || exit 1; done
	cp $(TOOLS)/root/usr/bin/promtool $(TOOLS)/root/usr/bin/amtool $(TOOLS)/bin/
	rm -rf $(TOOLS)/debs $(TOOLS)/root
	touch $@

plan: $(VENV)/.installed
	$(PY) -m ops plan --stack $(STACK) $(ARGS)

lint: $(VENV)/.installed
	$(PY) -m ruff check .

typecheck: $(VENV)/.installed
	$(PY) -m mypy

unit: $(VENV)/.installed $(CHECKOV_VENV)/.installed $(TOOLS)/.installed
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
	$(PY) -m ops dev up $(ARGS)

dev-down: $(VENV)/.installed
	$(PY) -m ops dev down $(ARGS)

dev-list: $(VENV)/.installed
	$(PY) -m ops dev list $(ARGS)
