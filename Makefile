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
# A second environment with the lowest versions pyproject.toml allows (requirements-lowest.lock,
# uv --resolution lowest-direct): CI runs the same tests on it, so the ranges are tested promises.
VENV_LOWEST := .venv-lowest
STAMP_LOWEST := $(VENV_LOWEST)/.installed
PYTEST_ARGS := -q -n 2 --dist loadgroup
SIZE ?= default
SEED ?= 1
CONFIG ?= pipelines/config/default.yaml

.PHONY: all setup test test-lowest report bench synth lint typecheck lock clean distclean

all: report

# Bytecode is compiled once at set-up (uv --compile-bytecode; compileall when pip installs
# instead): with PYTHONDONTWRITEBYTECODE=1, as on the CI machine, Python otherwise recompiles
# pandas/scipy/statsmodels on every start (about 4 CPU s per process: every `star` command, every
# pool worker's report kernel, every test subprocess).
setup: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 is required, found " + sys.version' 
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet "uv==$(UV_VERSION)" || true
	if [ -x $(VENV)/bin/uv ]; then \
	  $(VENV)/bin/uv pip install --quiet --compile-bytecode --python $(PY) -r requirements.lock && \
	  $(VENV)/bin/uv pip install --quiet --python $(PY) --no-deps -e . ; \
	else \
	  $(PY) -m pip install --quiet -r requirements.lock && \
	  $(PY) -m pip install --quiet --no-deps -e . && \
	  { $(PY) -m compileall -q -j 0 $(VENV)/lib > /dev/null || true; } ; \
	fi
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

$(STAMP_LOWEST): pyproject.toml requirements-lowest.lock $(STAMP)
	test -x $(VENV_LOWEST)/bin/python || $(PYTHON) -m venv $(VENV_LOWEST)
	if [ -x $(VENV)/bin/uv ]; then \
	  $(VENV)/bin/uv pip sync --quiet --compile-bytecode --python $(VENV_LOWEST)/bin/python requirements-lowest.lock && \
	  $(VENV)/bin/uv pip install --quiet --python $(VENV_LOWEST)/bin/python --no-deps -e . ; \
	else \
	  $(VENV_LOWEST)/bin/python -m pip install --quiet -r requirements-lowest.lock && \
	  $(VENV_LOWEST)/bin/python -m pip install --quiet --no-deps -e . && \
	  { $(VENV_LOWEST)/bin/python -m compileall -q -j 0 $(VENV_LOWEST)/lib > /dev/null || true; } ; \
	fi
	touch $(STAMP_LOWEST)

# The test suite on the lowest direct versions the ranges in pyproject.toml allow.
test-lowest: $(STAMP_LOWEST)
	$(VENV_LOWEST)/bin/python -m pytest $(PYTEST_ARGS)

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

# Type check ([tool.mypy] in pyproject.toml): mypy --strict on data_schema/ and analysis/, except
# the analysis modules listed in MYPY_PENDING (strict errors left, issue 24; a new module is strict
# from the start). --follow-imports=silent: a pending module imported by a checked one is read for
# its types but its own errors are not reported. Runs on the main environment (.venv) only: the
# lowest lock's older mypy and numpy stubs report differently.
MYPY_PENDING := analysis/cox.py analysis/_coxengine.py analysis/_concordance.py \
	analysis/survival.py analysis/multistate.py analysis/disclosure.py \
	analysis/effects/study.py analysis/effects/weights.py analysis/effects/gformula.py \
	analysis/star2022/table.py analysis/star2022/trends.py analysis/star2022/municipal.py \
	analysis/subgroups/lca.py analysis/subgroups/distal.py analysis/subgroups/recovery.py \
	analysis/subgroups/plots.py analysis/subgroups/indicators.py analysis/subgroups/selection.py \
	analysis/subgroups/pathways.py analysis/transitions/model.py analysis/transitions/sequences.py \
	analysis/transitions/register_design.py analysis/transitions/pathways.py \
	analysis/transitions/recovery.py analysis/transitions/profiles.py \
	analysis/transitions/frames.py analysis/transitions/_mnlogit.py
MYPY_STRICT := data_schema $(filter-out $(MYPY_PENDING),$(sort $(wildcard analysis/*.py analysis/*/*.py)))

typecheck: $(STAMP)
	$(VENV)/bin/mypy --strict --follow-imports=silent $(MYPY_STRICT)

# Re-resolve the lock files (only when dependencies in pyproject.toml change); uv keeps the
# versions already in requirements.lock where the ranges still allow them.
lock: $(STAMP)
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --resolution lowest-direct \
	  --python-version 3.11 -o requirements-lowest.lock

clean:
	rm -rf data results reports/_output .pytest_cache

distclean: clean
	rm -rf $(VENV) $(VENV_LOWEST)
