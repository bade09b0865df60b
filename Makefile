# RNN course kit. `make demo` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(CURDIR)/$(VENV)/bin
# nbgrader runs `alembic` by name; TensorFlow must stay quiet before it is imported.
export PATH := $(BIN):$(PATH)
export TF_CPP_MIN_LOG_LEVEL := 3
export TF_ENABLE_ONEDNN_OPTS := 0
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help install data release examples demo test test-fast test-jax test-browser browser student-bundle lab bench diagnose-report gpu-wheels gpu-check clean

help:
	@echo "make demo      install, release the course, autograde the example submissions, print the report"
	@echo "make test      install and run the test suite"
	@echo "make test-browser  only the JupyterLab test in headless Chromium"
	@echo "make release   regenerate course/ from solutions/"
	@echo "make examples  rebuild autograde/examples/ from the release"
	@echo "make student-bundle  dist/rnn-course-student.zip: course/, the rnnkit wheel and the data, for Colab or any Python"
	@echo "make lab       open the student release in JupyterLab"
	@echo "make bench     time the notebooks (full and fast mode), then grade a class with plain nbgrader and with rnnkit"
	@echo "make diagnose-report  how diagnosis by experiment fares on the corpus of uncatalogued mistakes"
	@echo "make test-jax  the checks and references on Keras's JAX backend (part of make test)"
	@echo "make gpu-wheels  dist/gpu-wheels/: what make gpu-check installs on a GPU machine without network"
	@echo "make gpu-check   on a machine with an NVIDIA GPU and JAX: references GPU vs CPU, solutions' checks, one table"

$(VENV)/.installed: pyproject.toml rnnkit/grading/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]' -e './rnnkit/grading[dask,postgres]'
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

# tests/test_browser.py drives Debian's chromium. As root (CI), `make test` installs it when it is
# missing, and the browser test then fails rather than skips if it cannot run; a developer who is
# not root without chromium sees it skipped. RNNKIT_SKIP_BROWSER=1 skips it either way.
CHROMIUM := /usr/bin/chromium
IS_ROOT  := $(shell [ "$$(id -u)" = 0 ] && echo 1)
RNNKIT_REQUIRE_BROWSER ?= $(if $(or $(IS_ROOT),$(CI)),1,0)

browser:
	@case "$$RNNKIT_SKIP_BROWSER" in 1|true|yes|on) exit 0;; esac; \
	if [ ! -x $(CHROMIUM) ] && [ "$(IS_ROOT)" = 1 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium for the browser test"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; } \
			|| echo "could not install chromium: the browser test will fail (RNNKIT_SKIP_BROWSER=1 skips it)"; \
	fi

test: install browser
	RNNKIT_REQUIRE_BROWSER=$(RNNKIT_REQUIRE_BROWSER) $(BIN)/python -m pytest -q
	$(MAKE) --no-print-directory test-jax

# The checks, the references and the GPU table's dry run again on Keras's JAX backend (on the CPU),
# so that a reference drifting between backends fails. The notebooks are TensorFlow's (their slow
# tests are left out here): runtime.setup returns tf, and some cells show TensorFlow's own APIs.
JAX_SUITE := tests/test_checks_*.py tests/test_reference.py tests/test_gpu_check.py
test-jax: install
	KERAS_BACKEND=jax $(BIN)/python -m pytest -q -m "not slow" -p no:cacheprovider $(JAX_SUITE)

test-browser: install browser
	RNNKIT_REQUIRE_BROWSER=1 $(BIN)/python -m pytest -q -m browser

test-fast: install
	$(BIN)/python -m pytest -q -m "not slow"

student-bundle: release
	$(BIN)/rnnkit bundle

lab: install
	$(BIN)/jupyter lab course/

bench: install
	$(BIN)/python -m rnnkit.grading.bench

diagnose-report: install
	$(BIN)/python -m tests.diagnosis_corpus

# The GPU check (rnnkit/grading/gpu_check.py) is written for a machine with an NVIDIA GPU and JAX
# but no TensorFlow and no network. `make gpu-wheels`, here, downloads what it installs there:
# Keras and the small packages it and the grader's references need, for CPython 3.12 on x86-64
# Linux (GPU_PYVER), and the kit's two wheels (about 25 MB in all). `make gpu-check`, there, installs them into a
# virtual environment that sees the machine's JAX (GPU_PYTHON's packages), and prints the table. Without a GPU it is a
# dry run: the CPU against itself.
GPU_WHEELS := dist/gpu-wheels
GPU_PYTHON ?= python3
GPU_PYVER  ?= 3.12
GPU_VENV   := .gpu-venv
GPU_PLATFORM := --only-binary=:all: --implementation cp --python-version $(GPU_PYVER) \
	--platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64

gpu-wheels: install
	rm -rf $(GPU_WHEELS)
	$(BIN)/python -m pip download --quiet $(GPU_PLATFORM) -d $(GPU_WHEELS) 'keras~=3.15.1' 'sacrebleu>=2.3,<3'
	rm -f $(GPU_WHEELS)/numpy-*.whl     # the GPU machine's own numpy stays, the one its JAX was built with
	$(BIN)/python -m pip wheel --quiet --no-deps -w $(GPU_WHEELS) . ./rnnkit/grading
	rm -rf build rnnkit/grading/build
	@du -sh $(GPU_WHEELS)

gpu-check:
	@test -d $(GPU_WHEELS) || { echo "no $(GPU_WHEELS)/: run make gpu-wheels where there is network"; exit 2; }
	$(GPU_PYTHON) -m venv --clear $(GPU_VENV)
	@# the venv sees the machine's packages (JAX, CUDA, numpy) after its own, even where GPU_PYTHON is itself a venv
	$(GPU_PYTHON) -c 'import site; print("\n".join(site.getsitepackages()))' \
		> "$$($(GPU_VENV)/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/gpu-machine.pth"
	$(GPU_VENV)/bin/python -m pip install --quiet --no-index --find-links $(GPU_WHEELS) 'keras~=3.15.1' 'sacrebleu>=2.3,<3'
	$(GPU_VENV)/bin/python -m pip install --quiet --no-index --no-deps --force-reinstall $(GPU_WHEELS)/rnnkit-*.whl $(GPU_WHEELS)/rnnkit_grading-*.whl
	KERAS_BACKEND=$${KERAS_BACKEND:-jax} $(GPU_VENV)/bin/python -m rnnkit.grading.gpu_check

clean:
	rm -rf autograde/submitted autograde/autograded autograde/feedback autograde/gradebook.db autograde/grades.csv
