# Two entry points, both safe on a fresh machine: they create .venv, install
# archzoo into it, and then do their job.
#   make demo   set up and train the embedded default (the MLP on scikit-learn's digits)
#   make test   set up (with test extras and system data) and run the whole test suite

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test setup system-packages benchmarks clean

demo: $(VENV)/.installed
	$(BIN)/archzoo train --out demo-mlp-digits --overwrite

test: $(VENV)/.installed-dev system-packages
	$(BIN)/python -m pytest -q

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

# Real data for the tests: Debian ships Fashion-MNIST as a package.
system-packages:
	@if [ ! -d /usr/share/datasets/fashion-mnist ]; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq dataset-fashion-mnist; \
	fi

benchmarks: $(VENV)/.installed-dev system-packages
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info
