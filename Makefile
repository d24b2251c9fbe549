# The two commands of the README, and the pieces they are made of.
#   make demo   set up, then run the main job on the embedded default (no servers)
#   make test   set up, start Kafka and Elasticsearch on loopback, run every test, stop them
#               (PYTEST_ARGS="-k kafka" passes arguments to pytest)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)

.PHONY: install demo test services-start services-stop services-status clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "yuqing needs Python 3.11 or newer (found $$($(PYTHON) --version)); set PYTHON=..."; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(STAMP)

demo: install
	$(BIN)/yuqing demo

test: install
	bash deploy/run-tests $(PYTEST_ARGS)

services-start:
	deploy/services/start

services-stop:
	deploy/services/stop

services-status:
	deploy/services/status

clean:
	rm -rf $(VENV) data *.egg-info
