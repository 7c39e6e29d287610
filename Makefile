# The two commands of the README. Both create the virtual environment on first
# use (and refresh it when setup.cfg or pyproject.toml change), then reuse it.
PYTHON ?= python3
VENV ?= .venv
STAMP := $(VENV)/.installed
ARGS ?=
PYTEST_ARGS ?=
# The core tests run again on the JAX backend (layers, builders, saving, fit,
# pruning, missing labels, SafeSharing).
JAX_TESTS ?= tests/layers tests/models tests/training/test_safe_sharing.py

.PHONY: train test venv

train: $(STAMP)
	$(VENV)/bin/smtl-train --export $(ARGS)

test: $(STAMP)
	$(VENV)/bin/python -m pytest -n 2 $(PYTEST_ARGS)
	KERAS_BACKEND=jax $(VENV)/bin/python -m pytest -n 2 $(JAX_TESTS) $(PYTEST_ARGS)

venv: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)
