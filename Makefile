# The two commands of the README: `make demo` and `make test`. Both build .venv from
# nothing (Python 3.11 + PyPI) the first time, then reuse it until pyproject.toml or
# requirements.lock change.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SEED   ?= 20261124
N_BOOT ?= 2000
DATA_ROOT ?=

JOBS   ?= 2

.PHONY: venv demo report test test-all bench bench-mentalalign lab lock sync clean figures

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] >= (3, 11), "Python 3.11+ is required, found " + sys.version'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[all]'
	touch $(STAMP)

venv: $(STAMP)

# The main job on the built-in demo data: a printed summary, then every notebook x
# evaluator rendered into reports/demo/ and figures/demo/ (index: reports/index.html).
demo: $(STAMP)
	$(PY) -m analysis summary --dataset demo --seed $(SEED) --n-boot $(N_BOOT)
	$(PY) -m analysis render --dataset demo --seed $(SEED) --n-boot $(N_BOOT) --jobs $(JOBS)

# The same on the real data: make report DATA_ROOT=../shared/data [DATASET=bhh]
DATASET ?= bhh
report: $(STAMP)
	@test -n "$(DATA_ROOT)" || { echo "usage: make report DATA_ROOT=path/to/data-root [DATASET=bhh|mentalalign|dialoguesafety|all]"; exit 2; }
	$(PY) -m analysis render --dataset $(DATASET) --data-root $(DATA_ROOT) --seed $(SEED) --n-boot $(N_BOOT) --jobs $(JOBS)

# The paper set (figures at 3.5 and 7 in, LaTeX tables) without Jupyter:
# make figures [STUDY=demo|bhh|mentalalign|dialoguesafety|all] [DATA_ROOT=../shared/data]
STUDY ?= demo
figures: $(STAMP)
	$(PY) -m analysis figures --study $(STUDY) $(if $(DATA_ROOT),--data-root $(DATA_ROOT),) --seed $(SEED) --n-boot $(N_BOOT)

# The linter first (ruff, configured in pyproject.toml: it checks, never reformats), then
# the tests. Locally the tests marked slow (renders, simulations, long real-data checks)
# are left out so that the suite stays under 10 minutes; CI (CI=true) runs them all, and
# so does `make test-all`.
test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest $(if $(filter true,$(CI)),,-m "not slow")

test-all: $(STAMP)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) -m analysis bench

# The whole MentalAlign-70k analysis, timed: make bench-mentalalign DATA_ROOT=../shared/data
bench-mentalalign: $(STAMP)
	$(PY) -m analysis bench mentalalign $(if $(DATA_ROOT),--data-root $(DATA_ROOT),)

# JupyterLab with the project's settings: a double-click on a .py notebook opens it as a
# notebook (jupytext's viewer), not as text (jupyter/overrides.json).
lab: $(STAMP)
	mkdir -p $(VENV)/share/jupyter/lab/settings
	cp jupyter/overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root,)

# Regenerate the paired .ipynb files after editing the .py notebooks.
sync: $(STAMP)
	$(VENV)/bin/jupytext --sync notebooks/*.py

lock: $(STAMP)
	{ echo "# Exact versions the test suite was last run with; 'make' installs with these as constraints"; \
	  echo "# so that tables are byte-identical across machines. Regenerate: make lock"; \
	  $(PY) -m pip freeze --exclude-editable --disable-pip-version-check; } > requirements.lock

clean:
	rm -rf $(VENV) reports .pytest_cache .hypothesis
