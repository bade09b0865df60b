"""Solution notebooks execute top to bottom in fast mode, with no error and nothing on stderr."""
import os

import nbformat
import pytest
from nbclient import NotebookClient

from rnnkit.grading import workspace
from tests.conftest import solution_path

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("assignment", workspace.assignments())
def test_solution_notebook_runs_clean_in_fast_mode(assignment, monkeypatch):
    monkeypatch.setenv("RNNKIT_FAST", "1")
    nb = nbformat.read(solution_path(assignment), as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": os.path.dirname(solution_path(assignment))}}).execute()
    graded = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for out in cell.outputs:
            assert out.output_type != "error", f"{out.get('ename')}: {out.get('evalue')}"
            assert not (out.output_type == "stream" and out.name == "stderr"), out.text
        if cell.metadata.get("nbgrader", {}).get("grade"):
            graded += 1
            text = "".join(o.get("text", "") for o in cell.outputs)
            # "matches <reference>", or "meets <contract>" for a model checked against a floor
            assert ("matches" in text or "meets" in text) and "hidden case" in text, text
    assert graded > 0
    assert "mode fast" in "".join(o.get("text", "") for o in nb.cells[1].outputs)
