# The two commands of the README: `make plan STACK=<stack>` and `make test`.
# Each one creates ./venv (the virtualenv Pulumi.yaml names) from the hash-pinned lock files
# when it is missing or older than them. `make lock` writes the locks from requirements*.txt.
PYTHON ?= python3
VENV := venv
PY := $(VENV)/bin/python
# checkov pins packaging<24, pulumi needs >=26: it gets a virtualenv of its own.
CHECKOV_VENV := venv-checkov
# uv installs a lock in seconds where pip takes minutes; it is itself installed by pip, by
# hash, beside the project. Where it cannot be installed, pip installs the same locks.
TOOLS := .tools
UV := $(TOOLS)/uv/bin/uv
# The locks are for the Python the machines and CI run (3.11), on any platform.
LOCK := --generate-hashes --universal --python-version 3.11 --quiet
STACK ?= dev
ARGS ?=

.PHONY: plan test lint typecheck unit bench clean lock venvs

# $(call install,<virtualenv>,<lock>): the virtualenv holds exactly what the lock lists, each
# file checked against its hash, byte-compiled as pip does (where PYTHONDONTWRITEBYTECODE is
# set, nothing else would, and every process would compile the SDKs anew); .installed marks it done.
define install
	@if [ -x $(UV) ]; then \
		echo "uv: $(1) from $(2)" >&2; \
		$(UV) venv --quiet --allow-existing --python $(PYTHON) $(1) && \
		$(UV) pip sync --quiet --require-hashes --link-mode copy --compile-bytecode --python $(1)/bin/python $(2); \
	else \
		echo "pip: $(1) from $(2) (uv could not be installed)" >&2; \
		(test -x $(1)/bin/python || $(PYTHON) -m venv $(1)) && \
		$(1)/bin/python -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --require-hashes --no-deps -r $(2); \
	fi
	@touch $(1)/.installed
endef

# Failure is allowed: the virtualenvs are then made with pip.
$(UV): requirements-uv.lock
	-@$(PYTHON) -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --require-hashes --no-deps \
		--upgrade --target $(TOOLS)/uv -r requirements-uv.lock 2>&1 | grep -v "^WARNING: Location" >&2 || true
	@test -x $(UV) && touch $(UV) || true

$(VENV)/.installed: requirements-dev.lock | $(UV)
	$(call install,$(VENV),requirements-dev.lock)

$(CHECKOV_VENV)/.installed: requirements-checkov.lock | $(UV)
	$(call install,$(CHECKOV_VENV),requirements-checkov.lock)

# Both virtualenvs at once: an install waits on the network and the disk more than the CPU.
venvs:
	@$(MAKE) --no-print-directory -j2 $(VENV)/.installed $(CHECKOV_VENV)/.installed

# requirements*.txt say what the project asks for; the locks pin everything they pull in,
# with hashes (plain `pip install --require-hashes -r requirements.lock` takes them too).
lock: $(UV)
	$(UV) pip compile $(LOCK) requirements-dev.txt -o requirements-dev.lock
	@# The program's lock within the development one: deploys run what the tests ran.
	$(UV) pip compile $(LOCK) requirements.txt --constraint requirements-dev.lock -o requirements.lock
	$(UV) pip compile $(LOCK) requirements-checkov.txt -o requirements-checkov.lock
	$(UV) pip compile $(LOCK) requirements-uv.txt -o requirements-uv.lock
	@# The policy pack's own virtualenv (policy/PulumiPolicy.yaml), for the CLI's --policy-pack.
	$(UV) pip compile $(LOCK) policy/requirements.txt --constraint requirements-dev.lock -o policy/requirements.lock

# promtool and amtool, Prometheus's and Alertmanager's own checkers, for the tests: the
# binaries of Debian's prometheus and prometheus-alertmanager packages, unpacked into
# .tools/prometheus/bin (nothing installed system-wide, no service started; a few seconds).
PROMETHEUS_TOOLS := $(TOOLS)/prometheus
.PHONY: tools
tools: $(PROMETHEUS_TOOLS)/.installed
$(PROMETHEUS_TOOLS)/.installed:
	rm -rf $(PROMETHEUS_TOOLS) && mkdir -p $(PROMETHEUS_TOOLS)/debs $(PROMETHEUS_TOOLS)/bin
	cd $(PROMETHEUS_TOOLS)/debs && apt-get download prometheus prometheus-alertmanager || \
		{ echo "apt-get download failed: run 'sudo apt-get update' first, or put promtool and amtool in $(PROMETHEUS_TOOLS)/bin" >&2; exit 1; }
	for deb in $(PROMETHEUS_TOOLS)/debs/*.deb; do dpkg-deb -x $$deb $(PROMETHEUS_TOOLS)/root || exit 1; done
	cp $(PROMETHEUS_TOOLS)/root/usr/bin/promtool $(PROMETHEUS_TOOLS)/root/usr/bin/amtool $(PROMETHEUS_TOOLS)/bin/
	rm -rf $(PROMETHEUS_TOOLS)/debs $(PROMETHEUS_TOOLS)/root
	touch $@

# `@` here and above: nothing but the command's own output reaches stdout, so
# `make plan ARGS=--json | jq` reads JSON only (the installation talks on stderr).
plan: $(VENV)/.installed
	@$(PY) -m ops plan --stack $(STACK) $(ARGS)

lint: $(VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check --quiet .

typecheck: $(VENV)/.installed
	$(PY) -m mypy

unit: venvs $(PROMETHEUS_TOOLS)/.installed
	$(PY) -m pytest -q -n 2 $(ARGS)

test: venvs lint typecheck unit

bench: $(VENV)/.installed
	$(PY) bench/plan_bench.py $(ARGS)

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) $(TOOLS) .plan-cache .pytest_cache .mypy_cache .ruff_cache

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
