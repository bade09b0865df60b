"""Shared fixtures: the repository layout and the solution code of each notebook."""
import ast
import json
import os
import shutil
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_BIN = os.path.dirname(sys.executable)
# nbgrader runs `alembic` by name: the environment's bin/ must be on PATH.
os.environ["PATH"] = VENV_BIN + os.pathsep + os.environ.get("PATH", "")


def solution_path(notebook):
    return os.path.join(ROOT, "solutions", notebook, f"{notebook}.ipynb")


def solution_namespace(notebook):
    """Execute the setup-free solution cells of a source notebook and return their namespace.

    Only cells marked as nbgrader solution cells run (the graded functions); the markers are
    plain comments, so the code runs as the instructor wrote it. Of the setup cell, only the
    imports from rnnkit.exercises run (constants such as notebook 09's token ids).
    """
    import numpy as np
    with open(solution_path(notebook), encoding="utf-8") as f:
        nb = json.load(f)
    namespace = {"np": np, "__name__": f"solution_{notebook}"}
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade_id") == "setup":
            tree = ast.parse("".join(cell["source"]))
            tree.body = [node for node in tree.body if isinstance(node, ast.ImportFrom)
                         and (node.module or "").startswith("rnnkit.exercises")]
            exec(compile(tree, f"<{notebook}:setup>", "exec"), namespace)
        if cell["cell_type"] == "code" and meta.get("solution"):
            exec(compile("".join(cell["source"]), f"<{notebook}:{meta['grade_id']}>", "exec"), namespace)
    return namespace


@pytest.fixture(scope="session")
def solution_result():
    """evaluate() of a notebook's solution, run once per (exercise, visibility) in a session (a
    runner's solution trains a model)."""
    from rnnkit.checks import evaluate
    from rnnkit.grading import keys
    from tests import mutants
    namespaces, results = {}, {}

    def get(name, hidden):
        notebook = keys.get(name).notebook
        if notebook not in namespaces:
            namespaces[notebook] = mutants.namespace(notebook)
        if (name, hidden) not in results:
            results[name, hidden] = evaluate(name, namespaces[notebook][name], hidden=hidden)
        return results[name, hidden]
    return get


@pytest.fixture(scope="session")
def nb01():
    """Namespace holding the reference solutions of 01_rnn_fundamentals."""
    return solution_namespace("01_rnn_fundamentals")


@pytest.fixture(scope="session")
def released_root(tmp_path_factory):
    """An nbgrader course root with every assignment released and recorded in its gradebook.

    Made once per test session: releasing costs seconds per assignment. Use `course_root` to get
    a private copy to grade into.
    """
    from rnnkit.grading import workspace
    from rnnkit.grading.release import course
    root = tmp_path_factory.mktemp("released_root")
    shutil.copy(os.path.join(workspace.AUTOGRADE, "nbgrader_config.py"), root)
    course.release(dest=str(root / "release"), root=str(root))
    return root


@pytest.fixture(scope="session")
def course_root(released_root, tmp_path_factory):
    """course_root(name) -> a fresh copy of the released course root (gradebook included)."""
    def make(name="root"):
        dest = tmp_path_factory.mktemp(name) / "course"
        shutil.copytree(released_root, dest)
        return dest
    return make
