"""The student bundle: what a student needs to work anywhere, and nothing an instructor keeps.

    rnn-course/
        README.md        how to start, in three lines
        course/          the release notebooks (each starts with the install cell)
        wheels/          the rnnkit wheel: the student package, without rnnkit/grading
        data/            the data recipes (MANIFEST.json, build.py) and the built, verified files

Built by `make student-bundle` (`rnnkit bundle`) into dist/rnn-course-student.zip. Before the zip
is written, every file, the wheel's members included, is searched for nbgrader's solution and
hidden-test markers and for the lines of every solution, and the wheel for any module of the
instructor's side (rnnkit/grading: the answer keys and the grader): a match stops the build.
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

from rnnkit import data
from rnnkit.grading import workspace

NAME = "rnn-course"
DEFAULT_ZIP = os.path.join(workspace.PROJECT, "dist", "rnn-course-student.zip")
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")

README = """\
# RNN course: student bundle

1. Install the kit (Python 3.11 or 3.12; TensorFlow and the other dependencies come from PyPI):
   `python -m pip install wheels/rnnkit-*.whl`
2. Open the notebooks: `jupyter lab course/`
3. In each notebook, run the first two cells: they install what is missing and print the device.

The data is in data/ (built and verified); no notebook downloads anything.
"""


class Leak(RuntimeError):
    """The bundle would contain a solution or a hidden test; the message says where."""


def _code(text):
    """Text reduced to its code lines, stripped: blank lines and comments dropped."""
    return "\n".join(s for s in (line.strip() for line in text.splitlines()) if s and not s.startswith("#"))


def solution_bodies(solutions=workspace.SOLUTIONS):
    """{(notebook, n): (body, is_hidden_test)} for every solution region, written answer and hidden
    test of solutions/. Each body is reduced by _code, so a copy is found however it is indented
    or commented.
    """
    import nbformat
    bodies = {}
    for path in sorted(glob.glob(os.path.join(solutions, "*", "*.ipynb"))):
        name = os.path.basename(path)
        for cell in nbformat.read(path, as_version=4).cells:
            text = cell.source
            if cell.cell_type == "markdown" and cell.metadata.get("nbgrader", {}).get("solution"):
                found = [text]           # a written answer: nbgrader replaces the whole cell
            else:
                found = re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", text, re.S)
                found += re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", text, re.S)
            hidden = re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", text, re.S)
            for body in found:
                if _code(body):
                    bodies[(name, len(bodies))] = (_code(body), body in hidden)
    return bodies


def _texts(root):
    """(name, text) of every file under `root`, and of every member of the wheels in it."""
    for folder, _, files in os.walk(root):
        for f in sorted(files):
            path = os.path.join(folder, f)
            name = os.path.relpath(path, root)
            if f.endswith(".whl"):
                with zipfile.ZipFile(path) as z:
                    for member in z.namelist():
                        yield f"{name}!{member}", z.read(member).decode("utf-8", "replace")
            else:
                with open(path, "rb") as fh:
                    yield name, fh.read().decode("utf-8", "replace")


INSTRUCTOR_PREFIX = "rnnkit/grading/"     # where the instructor's package lives in a wheel


def _instructor_members(root):
    """["file: what"] for each member of a wheel under `root` that belongs to the instructor."""
    found = []
    for wheel in glob.glob(os.path.join(root, "**", "*.whl"), recursive=True):
        with zipfile.ZipFile(wheel) as z:
            found += [f"{os.path.relpath(wheel, root)}!{m}: the instructor's package rnnkit/grading"
                      for m in z.namelist() if m.startswith(INSTRUCTOR_PREFIX)]
    return found


def find_leaks(root, bodies=None):
    """["file: what"] for each nbgrader marker or copy of a solution body found under `root`.

    Solution bodies are looked for in every file, the wheel's members included. Markers and hidden
    tests (one generic `check(..., hidden=True)` line each, which the kit's own docs quote) are
    looked for outside the wheel: in the notebooks, the data and the README. Notebook JSON is read
    cell by cell, so quoting hides nothing.
    """
    bodies = solution_bodies() if bodies is None else bodies
    found = []
    for name, text in _texts(root):
        in_wheel = "!" in name
        if name.endswith(".ipynb"):
            try:
                text = "\n".join("".join(c.get("source", "")) for c in json.loads(text).get("cells", []))
            except ValueError:
                pass
        if not in_wheel:
            found += [f"{name}: nbgrader marker {m!r}" for m in MARKERS if m in text]
        code = _code(text)
        found += [f"{name}: {'the hidden test' if hidden else 'the solution'} {n} of {nb}"
                  for (nb, n), (body, hidden) in bodies.items() if body in code and not (hidden and in_wheel)]
    return found + _instructor_members(root)


def build_wheel(dest):
    """Build the student package's wheel (rnnkit, without rnnkit/grading) into `dest`; return its
    path. It is built from a fresh copy of what it is made of, so that neither the instructor's
    side nor a stale build folder of the checkout can slip into it."""
    with tempfile.TemporaryDirectory(prefix="rnnkit-wheel-") as source:
        for f in ("pyproject.toml", "README.md"):
            shutil.copy(os.path.join(workspace.PROJECT, f), source)
        shutil.copytree(os.path.join(workspace.PROJECT, "rnnkit"), os.path.join(source, "rnnkit"),
                        ignore=shutil.ignore_patterns("grading", "__pycache__", "*.pyc", "*.egg-info"))
        proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir",
                               dest, source], capture_output=True, text=True)
    wheels = glob.glob(os.path.join(dest, "rnnkit-*.whl"))
    if proc.returncode != 0 or not wheels:
        raise RuntimeError(f"building the rnnkit wheel failed:\n{proc.stderr or proc.stdout}")
    return wheels[0]


def _copy_data(dest):
    """The recipes and every built dataset, verified by sha256 on the way (no downloaded wheels)."""
    os.makedirs(os.path.join(dest, "cache"))
    for f in ("MANIFEST.json", "build.py"):
        shutil.copy(os.path.join(data.data_dir(), f), dest)
    for name, entry in data.manifest().items():
        if not data.is_cached(name):
            raise data.DataMissing(f"dataset {name!r} is not built: run `make data` first.")
        shutil.copy(os.path.join(data.cache_dir(), entry["file"]), os.path.join(dest, "cache"))


def build(out=None, course=workspace.COURSE):
    """Write the student bundle zip to `out` (dist/ by default); return its path.

    Raises Leak, before anything is written, when a solution or hidden test would be in it.
    """
    out = os.path.abspath(out or DEFAULT_ZIP)
    with tempfile.TemporaryDirectory(prefix="rnnkit-bundle-") as scratch:
        top = os.path.join(scratch, NAME)
        shutil.copytree(course, os.path.join(top, "course"),
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        build_wheel(os.path.join(top, "wheels"))
        _copy_data(os.path.join(top, "data"))
        with open(os.path.join(top, "README.md"), "w", encoding="utf-8") as f:
            f.write(README)
        leaks = find_leaks(top)
        if leaks:
            raise Leak("the student bundle would leak solutions:\n  " + "\n  ".join(leaks[:20]))
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        partial = out + ".partial"
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as z:
            for folder, _, files in os.walk(top):
                for f in sorted(files):
                    path = os.path.join(folder, f)
                    z.write(path, os.path.relpath(path, scratch))
        os.replace(partial, out)
    return out
