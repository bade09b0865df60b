"""Students outside the kit: the student bundle, the install cell and the Colab links.

The bundle (course/, the rnnkit wheel, the data) must hold nothing of solutions/ or the hidden
tests, and its wheel nothing of the instructor's side: no module of rnnkit/grading, and nothing a
student could import to pass a check (the leak scan tries every function the wheel holds against
every exercise). A fresh virtual environment with only the bundle (its dependencies are borrowed
from the kit's environment, read-only, and pip may not download) runs a release notebook top to
bottom.
"""
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import types
import zipfile

import nbformat
import pytest

from rnnkit import data
from rnnkit.grading import workspace
from rnnkit.grading.release import bundle, student_setup
from tests.conftest import ROOT, solution_path

ASSIGNMENTS = workspace.assignments()
SETTINGS = student_setup.settings()


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory):
    """The bundle built by `rnnkit bundle`, unzipped: the rnn-course/ folder."""
    out = tmp_path_factory.mktemp("dist") / "student.zip"
    assert bundle.build(str(out)) == str(out)
    where = tmp_path_factory.mktemp("student")
    with zipfile.ZipFile(out) as z:
        z.extractall(where)
    return where / bundle.NAME


def test_bundle_holds_the_release_the_wheel_and_the_data(unpacked):
    """Every release notebook, one rnnkit wheel, every dataset of the manifest and a README."""
    for a in ASSIGNMENTS:
        with open(os.path.join(ROOT, "course", a, f"{a}.ipynb"), "rb") as f:
            assert (unpacked / "course" / a / f"{a}.ipynb").read_bytes() == f.read()
    assert [p.name for p in (unpacked / "wheels").iterdir()] == ["rnnkit-0.1.0-py3-none-any.whl"]
    for name, entry in data.manifest().items():
        assert data.sha256((unpacked / "data" / "cache" / entry["file"]).read_bytes()) == entry["sha256"], name
    assert (unpacked / "data" / "MANIFEST.json").exists() and (unpacked / "data" / "build.py").exists()
    assert "pip install wheels/rnnkit-" in (unpacked / "README.md").read_text()
    top = {p.name for p in unpacked.iterdir()}
    assert top == {"README.md", "course", "wheels", "data"}


def test_bundle_has_no_solution_marker_or_body(unpacked):
    """Searching every file and wheel member finds no nbgrader marker, solution or hidden test."""
    assert bundle.find_leaks(str(unpacked)) == []
    names = [n for n in zipfile.ZipFile(next((unpacked / "wheels").iterdir())).namelist()]
    assert not [n for n in names if n.startswith(("solutions/", "autograde/", "tests/"))]


def test_the_wheel_holds_the_student_package_only(unpacked):
    """The checks, the views and the inputs are there; the answer keys and the grader are not."""
    names = zipfile.ZipFile(next((unpacked / "wheels").iterdir())).namelist()
    assert not [n for n in names if n.startswith(bundle.INSTRUCTOR_PREFIX)]
    for needed in ("rnnkit/checks.py", "rnnkit/guard.py", "rnnkit/views.py", "rnnkit/exercises/bptt.py",
                   "rnnkit/diagnosis/__init__.py", "rnnkit/diagnosis/experiments.py",
                   *[f"rnnkit/exercises/views/{a}.{ext}" for a in ASSIGNMENTS for ext in ("json", "npz")]):
        assert needed in names, needed


def _scan(student_dir, *options):
    """tests/leak_scan.py on an unpacked wheel, in an interpreter that sees nothing else of rnnkit.

    The scan calls every function it finds, with whatever arguments an exercise gives: it works
    on a copy (a writer would write into it) in a folder of its own.
    """
    scratch = tempfile.mkdtemp(prefix="rnnkit-leak-scan-")
    copy = os.path.join(scratch, "student")
    shutil.copytree(student_dir, copy)
    student_dir = copy
    env = dict(os.environ, PYTHONPATH=sysconfig.get_paths()["purelib"], MPLBACKEND="Agg")
    try:
        proc = subprocess.run([sys.executable, "-S", "-P", os.path.join(ROOT, "tests", "leak_scan.py"),
                               str(student_dir), ROOT, *options], capture_output=True, text=True,
                              env=env, timeout=1800, cwd=scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def student_package(unpacked, tmp_path_factory):
    """The bundle's wheel unpacked: the rnnkit a student imports."""
    where = tmp_path_factory.mktemp("wheel")
    with zipfile.ZipFile(next((unpacked / "wheels").iterdir())) as z:
        z.extractall(where)
    return where


@pytest.mark.slow
def test_nothing_in_the_wheel_passes_a_check(student_package):
    """Every function and class of every module of the wheel, and every callable a no-argument
    call of one returns, tried against every exercise whose arguments it accepts: none passes the
    visible and the hidden checks."""
    found = _scan(student_package)
    assert found["candidates"] > 100 and found["tried"] > 300, found       # not vacuous
    assert found["passing"] == [], found["passing"]


@pytest.mark.slow
def test_the_leak_scan_finds_a_planted_answer(student_package, tmp_path):
    """An answer slipped into the package, as a function or behind a factory, is found."""
    planted = tmp_path / "planted"
    shutil.copytree(student_package, planted)
    (planted / "rnnkit" / "helpers.py").write_text(
        "import numpy as np\n\n\ndef step(x_t, h_prev, Wx, Wh, b):\n"
        "    return np.tanh(x_t @ Wx + h_prev @ Wh + b)\n\n\ndef make(activation=np.tanh):\n"
        "    return lambda x_t, h_prev, Wx, Wh, b: activation(x_t @ Wx + h_prev @ Wh + b)\n")
    found = _scan(planted, "--only", "rnnkit.helpers")
    assert {(p["callable"], p["exercise"]) for p in found["passing"]} == {
        ("rnnkit.helpers.step", "rnn_cell_forward"), ("rnnkit.helpers.make()", "rnn_cell_forward")}


def test_leak_search_finds_a_planted_solution(unpacked, tmp_path):
    """The search is not vacuous: a solution notebook, or one solution body in a module, is found."""
    planted = tmp_path / "planted"
    shutil.copytree(unpacked, planted)
    shutil.copy(solution_path("02_bptt"), planted / "course" / "02_bptt")
    leaks = bundle.find_leaks(str(planted))
    assert any("nbgrader marker 'BEGIN SOLUTION'" in leak for leak in leaks)
    assert any("02_bptt.ipynb: the hidden test" in leak for leak in leaks)

    body = next(b for (nb, _), (b, hidden) in bundle.solution_bodies().items()
                if nb == "04_lstm_gru.ipynb" and not hidden and len(b.splitlines()) > 3)
    wheel = next((planted / "wheels").iterdir())
    with zipfile.ZipFile(wheel, "a") as z:
        z.writestr("rnnkit/helpers.py", "def f():\n" + "\n".join("        " + l for l in body.splitlines()))
    leaks = bundle.find_leaks(str(planted))
    assert any("rnnkit/helpers.py: the solution" in leak and "04_lstm_gru" in leak for leak in leaks)


def test_build_refuses_to_write_a_leaking_bundle(tmp_path):
    """A course folder holding a solution stops the build before any zip is written."""
    course = tmp_path / "course"
    shutil.copytree(os.path.join(ROOT, "course"), course)
    shutil.copy(solution_path("01_rnn_fundamentals"), course / "01_rnn_fundamentals")
    with pytest.raises(bundle.Leak, match="01_rnn_fundamentals"):
        bundle.build(str(tmp_path / "out.zip"), course=str(course))
    assert not list(tmp_path.glob("out.zip*"))


# ----------------------------------------------------------------------------- the install cell
def _install_cell(assignment):
    nb = nbformat.read(os.path.join(ROOT, "course", assignment, f"{assignment}.ipynb"), as_version=4)
    return next(c for c in nb.cells if c.cell_type == "code")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_first_code_cell_of_each_release_is_the_install_cell(assignment):
    """It comes from the configured repository, and students cannot delete it by accident."""
    cell = _install_cell(assignment)
    assert cell.source == student_setup.install_cell_source(SETTINGS["course-repository"],
                                                            SETTINGS["course-branch"])
    assert cell.metadata.get("deletable") is False and "nbgrader" not in cell.metadata


def _run_install_cell(tmp_path, monkeypatch, modules=(), wheel=False, checkout=False):
    """Run the install cell as if rnnkit were missing; return the commands it would have run."""
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: calls.append(list(cmd)))
    import importlib.util
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "rnnkit" else real(name, *a))
    for name in modules:
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setenv("HOME", str(tmp_path))
    notebook_dir = tmp_path / "kit" / "course" / "01"
    notebook_dir.mkdir(parents=True)
    if wheel:
        (tmp_path / "kit" / "wheels").mkdir()
        (tmp_path / "kit" / "wheels" / "rnnkit-0.1.0-py3-none-any.whl").write_bytes(b"")
    if checkout:
        (tmp_path / "kit" / "rnnkit").mkdir()
    monkeypatch.chdir(notebook_dir)
    path_before = list(sys.path)
    try:
        exec(_install_cell("01_rnn_fundamentals").source, {})
    finally:
        sys.path[:] = path_before
    return calls


def test_install_cell_in_the_bundle_installs_the_wheel_beside_it(tmp_path, monkeypatch):
    calls = _run_install_cell(tmp_path, monkeypatch, wheel=True)
    assert len(calls) == 1 and calls[0][1:5] == ["-m", "pip", "install", "--quiet"]
    assert calls[0][-1].endswith(os.path.join("wheels", "rnnkit-0.1.0-py3-none-any.whl"))


def test_install_cell_on_colab_clones_the_configured_repository(tmp_path, monkeypatch):
    calls = _run_install_cell(tmp_path, monkeypatch, modules=["google", "google.colab"])
    clone, kit, build = calls
    assert clone[:2] == ["git", "clone"] and SETTINGS["course-repository"] in clone
    assert clone[-1] == student_setup.COLAB_DIR and SETTINGS["course-branch"] in clone
    # The student package, not editable (the checkout stays off the path); Colab keeps its TensorFlow.
    assert kit[-2:] == [student_setup.COLAB_DIR, "--no-deps"] and "-e" not in kit
    assert build[-1] == os.path.join(student_setup.COLAB_DIR, "data", "build.py")


def test_install_cell_in_a_clone_installs_that_clone(tmp_path, monkeypatch):
    calls = _run_install_cell(tmp_path, monkeypatch, checkout=True)
    assert [c[0] for c in calls] == [sys.executable, sys.executable]
    assert calls[0][-1] == str(tmp_path / "kit") and "-e" not in calls[0]
    assert calls[1][-1] == str(tmp_path / "kit" / "data" / "build.py")


def test_readme_colab_links_come_from_the_configured_repository():
    """One link per notebook, each pointing into the configured repository and branch."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    block = student_setup.colab_links(SETTINGS["course-repository"], SETTINGS["course-branch"], ASSIGNMENTS)
    assert block in readme, "README's Colab table is stale: run `make release`"
    for a in ASSIGNMENTS:
        assert student_setup.colab_url(SETTINGS["course-repository"], SETTINGS["course-branch"], a) in block


def test_repository_setting_is_checked(tmp_path):
    bad = tmp_path / "pyproject.toml"
    bad.write_text('[tool.rnnkit]\ncourse-repository = "git@github.com:o/r.git"\n')
    with pytest.raises(ValueError, match="must be https://github.com/OWNER/REPO, got 'git@github.com:o/r.git'"):
        student_setup.settings(str(bad))


# ----------------------------------------------------------------------------- a fresh venv
def _solved(release_nb, assignment):
    """The release notebook with each solution cell replaced by the instructor's solution."""
    nb = nbformat.read(release_nb, as_version=4)
    source = {c.metadata["nbgrader"]["grade_id"]: c.source
              for c in nbformat.read(solution_path(assignment), as_version=4).cells
              if c.metadata.get("nbgrader", {}).get("solution")}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            cell.source = source[meta["grade_id"]]
    nb.cells.append(nbformat.v4.new_code_cell(
        "import sys, rnnkit\nfrom rnnkit import data\nprint(sys.prefix)\nprint(rnnkit.__file__)\nprint(data.data_dir())"))
    return nb


@pytest.mark.slow
def test_fresh_venv_with_only_the_bundle_runs_a_notebook_top_to_bottom(unpacked, tmp_path):
    """The install cell puts the bundle's wheel into a new venv offline, and the notebook passes."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    # The dependencies (TensorFlow, Jupyter...) come from the kit's environment, read-only; its
    # editable rnnkit does not (that needs the environment's own .pth files, which are not read).
    with open(os.path.join(purelib, "kit-dependencies.pth"), "w") as f:
        f.write(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RNNKIT", "NBGRADER", "PYTHON", "VIRTUAL_ENV"))}
    env.update(HOME=str(tmp_path), PIP_NO_INDEX="1", PIP_FIND_LINKS="", RNNKIT_FAST="1",
               PATH=str(venv / "bin") + os.pathsep + env.get("PATH", ""))
    missing = subprocess.run([python, "-c", "import importlib.util; print(importlib.util.find_spec('rnnkit'))"],
                             capture_output=True, text=True, env=env, cwd=tmp_path, check=True).stdout.strip()
    assert missing == "None", "the fresh venv must not see the kit's rnnkit"

    assignment = "01_rnn_fundamentals"
    folder = unpacked / "course" / assignment
    nbformat.write(_solved(folder / f"{assignment}.ipynb", assignment), folder / "solved.ipynb")
    script = ("import sys, nbformat\nfrom nbclient import NotebookClient\n"
              "nb = nbformat.read('solved.ipynb', as_version=4)\n"
              "NotebookClient(nb, timeout=600, kernel_name='python3', resources={'metadata': {'path': '.'}}).execute()\n"
              "nbformat.write(nb, 'solved.ipynb')\n")
    proc = subprocess.run([python, "-c", script], cwd=folder, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    nb = nbformat.read(folder / "solved.ipynb", as_version=4)
    text = ["".join(o.get("text", "") for o in c.get("outputs", [])) for c in nb.cells if c.cell_type == "code"]
    assert "rnnkit installed" in text[0]
    prefix, module, data_dir = text[-1].split()
    assert prefix == str(venv) and module.startswith(str(venv))      # the wheel, not the kit's checkout
    assert data_dir == str(unpacked / "data")                         # the bundle's data
    checks = [t for c, t in zip([c for c in nb.cells if c.cell_type == "code"], text)
              if c.metadata.get("nbgrader", {}).get("grade")]
    assert checks and all("matches" in t or "meets" in t for t in checks), checks
