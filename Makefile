# RNN course kit. `make demo` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(CURDIR)/$(VENV)/bin
# nbgrader runs `alembic` by name; TensorFlow must stay quiet before it is imported.
export PATH := $(BIN):$(PATH)
export TF_CPP_MIN_LOG_LEVEL := 3
export TF_ENABLE_ONEDNN_OPTS := 0
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help install data release examples demo test test-fast lab bench clean

help:
	@echo "make demo      install, release the course, autograde the example submissions, print the report"
	@echo "make test      install and run the test suite"
	@echo "make release   regenerate course/ from solutions/"
	@echo "make examples  rebuild autograde/examples/ from the release"
	@echo "make lab       open the student release in JupyterLab"
	@echo "make bench     time the notebooks (full and fast mode), then grade a class with plain nbgrader and with rnnkit"

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

data/cache/.built: data/MANIFEST.json data/build.py | $(VENV)/.installed
	$(BIN)/python data/build.py
	touch $@

install: $(VENV)/.installed data/cache/.built

data: install

release: install
	$(BIN)/rnnkit release

examples: release
	$(BIN)/rnnkit examples

demo: release
	$(BIN)/rnnkit grade --from autograde/examples

test: install
	$(BIN)/python -m pytest -q

test-fast: install
	$(BIN)/python -m pytest -q -m "not slow"

lab: install
	$(BIN)/jupyter lab course/

bench: install
	$(BIN)/python -m rnnkit.bench

clean:
	rm -rf autograde/submitted autograde/autograded autograde/feedback autograde/gradebook.db autograde/grades.csv
