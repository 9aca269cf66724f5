# Two commands on a fresh machine: `make report` and `make test`.
# Everything below is set up from scratch: a virtual environment in .venv, the locked
# dependencies from requirements.lock, the package itself (editable), the embedded synthetic
# register, the pipeline, the documents.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAR := $(VENV)/bin/star
UV_VERSION := 0.13.9
STAMP := $(VENV)/.installed
SIZE ?= default
SEED ?= 1
CONFIG ?= pipelines/config/default.yaml

.PHONY: all setup test report bench synth lint lock clean distclean

all: report

setup: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 is required, found " + sys.version' 
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet "uv==$(UV_VERSION)" || true
	if [ -x $(VENV)/bin/uv ]; then \
	  $(VENV)/bin/uv pip install --quiet --python $(PY) -r requirements.lock && \
	  $(VENV)/bin/uv pip install --quiet --python $(PY) --no-deps -e . ; \
	else \
	  $(PY) -m pip install --quiet -r requirements.lock && \
	  $(PY) -m pip install --quiet --no-deps -e . ; \
	fi
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q -n 2 --dist loadgroup

report: $(STAMP)
	$(STAR) run --config $(CONFIG) --synthetic $(SIZE) --seed $(SEED)
	$(STAR) report --config $(CONFIG)

synth: $(STAMP)
	$(STAR) synth --size $(SIZE) --seed $(SEED) --out data/synthetic/$(SIZE)

bench: $(STAMP)
	$(PY) -m benchmarks.run --out benchmarks/results.json

lint: $(STAMP)
	$(VENV)/bin/ruff check analysis pipelines data_schema tests benchmarks
	$(VENV)/bin/ruff format --check analysis pipelines data_schema tests benchmarks

# Re-resolve the lock file (only when dependencies in pyproject.toml change).
lock: $(STAMP)
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

clean:
	rm -rf data results reports/_output .pytest_cache

distclean: clean
	rm -rf $(VENV)
