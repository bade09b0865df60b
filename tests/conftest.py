"""Shared fixtures: the repository layout and the solution code of each notebook."""
import json
import os
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
    plain comments, so the code runs as the instructor wrote it.
    """
    import numpy as np
    with open(solution_path(notebook), encoding="utf-8") as f:
        nb = json.load(f)
    namespace = {"np": np, "__name__": f"solution_{notebook}"}
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell["cell_type"] == "code" and meta.get("solution"):
            exec(compile("".join(cell["source"]), f"<{notebook}:{meta['grade_id']}>", "exec"), namespace)
    return namespace


@pytest.fixture(scope="session")
def nb01():
    """Namespace holding the reference solutions of 01_rnn_fundamentals."""
    return solution_namespace("01_rnn_fundamentals")
