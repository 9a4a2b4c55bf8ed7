# Two entry points, both safe on a fresh machine: they create .venv, install
# archzoo into it, and then do their job.
#   make demo   set up and open the browser app on http://127.0.0.1:7860 (Train > Start trains
#               the embedded default, the MLP on scikit-learn's digits, in seconds)
#   make test   set up (with test extras and system data) and run the whole test suite

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test setup system-packages benchmarks clean

demo: $(VENV)/.installed
	$(BIN)/archzoo ui

# One intra-op thread: the suite runs many tiny models and subprocesses side by
# side, where a second thread per process only oversubscribes the two cores.
# Two pytest workers, one per core (pytest-xdist), each taking whole files so a
# module's shared fixture (a trained model, a server) is built once: 1.5x
# faster than one worker on two cores.
test: $(VENV)/.installed-dev system-packages
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -n 2 --dist loadfile

setup: $(VENV)/.installed-dev

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install -q -e '.[dev]'
	$(BIN)/python -m pip install -q -e tests/example_plugin --no-deps
	touch $@

# For the tests: real data (Debian ships Fashion-MNIST as a package) and a real
# browser for the UI tests (Debian's chromium, driven by playwright; playwright's
# own browser download is not used), and PostgreSQL for the shared study storage.
system-packages:
	@missing=""; \
	[ -d /usr/share/datasets/fashion-mnist ] || missing="$$missing dataset-fashion-mnist"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $$missing; \
	fi

benchmarks: $(VENV)/.installed-dev system-packages
	$(BIN)/python -m pip install -q -e '.[bench]'
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info
