# The two commands of the README, and the pieces they are made of.
#   make demo   set up, run the main job on the embedded default (no servers), then serve the
#               web console on its data
#   make test   set up, check the architecture's import contract (make lint), start Kafka,
#               Elasticsearch and PostgreSQL on loopback, run every test, stop them; then the
#               same for the cluster (make test-single, then make test-cluster; PYTEST_ARGS="-x"
#               passes arguments to pytest in both)
#   make test-single  the first half: every test on single nodes (PYTEST_ARGS="-k kafka")
#   make test-cluster  a 3-broker Kafka and a 2-node Elasticsearch cluster on loopback
#               (deploy/services/cluster): the bus and index contract suites on it, then the
#               failover test (a broker and a data node stopped mid-stream, every worker
#               restarted: nothing lost, nothing twice); stops and deletes the cluster after
# Setting up is the Debian packages first (deploy/setup-system: CJK font, Pango, Chromium,
# poppler; installs as root, says what is missing otherwise), then the virtualenv.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)

.PHONY: install system lint demo test test-single test-cluster services-start services-stop services-status clean

# Quick when everything is there; order-only, so it runs first without forcing a reinstall.
system:
	bash deploy/setup-system

$(STAMP): pyproject.toml | system
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "yuqing needs Python 3.11 or newer (found $$($(PYTHON) --version)); set PYTHON=..."; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(STAMP)
	@bash yuqing/web/fetch-assets

# the demo, then the console on its data (Ctrl-C stops it); it prints the address and the logins
demo: install
	$(BIN)/yuqing demo
	$(BIN)/yuqing console --demo

# the floors (yuqing > alerting > crawlers | classifiers > pipeline) and no circles: an upward
# import fails the build here, before any test runs (pyproject.toml, docs/architecture.md)
lint: install
	$(BIN)/lint-imports --no-cache

# the whole suite: every test on single nodes, then the cluster's (the README's second command)
test: test-single
	bash deploy/run-cluster-tests $(PYTEST_ARGS)

test-single: install lint
	bash deploy/run-tests $(PYTEST_ARGS)

test-cluster: install lint
	bash deploy/run-cluster-tests $(PYTEST_ARGS)

services-start:
	deploy/services/start

services-stop:
	deploy/services/stop

services-status:
	deploy/services/status

clean:
	rm -rf $(VENV) data *.egg-info
