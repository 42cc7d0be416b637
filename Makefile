# Two commands a fresh machine needs (see README):
#   make reproduce   set up .venv and run every claim + notebook into reports/  (FULL=1 for paper scale)
#   make test        set up .venv and run the test suite
# Both create or reuse the local virtual environment .venv and install what they need from pyproject.toml.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PYTEST_ARGS ?=
FULL   ?= 0

.PHONY: reproduce test bench claims lab clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

$(VENV)/.installed-notebooks: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[notebooks]'
	touch $@

reproduce: $(VENV)/.installed-notebooks
	NUMERICS_FULL=$(FULL) $(PY) -m numerics reproduce

test: $(VENV)/.installed-test
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.installed-test
	$(PY) -m numerics bench

claims: $(VENV)/.installed-test
	NUMERICS_FULL=$(FULL) $(PY) -m numerics claims

lab: $(VENV)/.installed-notebooks
	$(PY) -m jupyter lab notebooks/

clean:
	rm -rf reports .pytest_cache
