# Two commands do everything from a fresh clone: `make demo` and `make test`. Both set up first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.setup-done

.PHONY: setup demo demo-secure test test-docker bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e '.[test]'
	$(PY) -m sim setup
	@touch $@

demo: setup
	$(PY) scripts/demo.py

# The same demo with users, the per-device ACL and TLS (docs/security.md), set up in a temporary folder.
demo-secure: setup
	$(PY) scripts/demo.py --secure

test: setup
	$(PY) -m pytest

# The compose stack (Mosquitto, the node, the monitor) and tests/compose against it, in Docker; removes
# the containers, network and volumes afterwards, whatever happened. Needs Docker, not `make setup`.
test-docker:
	bash docker/test-stack.sh

# Benchmarks, each beside its baseline measured in the same run; results go to docs/benchmarks.md.
bench: setup
	$(PY) bench/node_bench.py
	$(PY) bench/monitor_ingest.py
	$(PY) bench/monitor_check.py
	$(PY) bench/monitor_plot.py
	$(PY) bench/monitor_memory.py
	$(PY) bench/node_memory.py
	$(PY) bench/node_tls.py
	$(PY) bench/ha_discovery.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis *.egg-info
