"""A solution notebook run top to bottom at full size, for the tests that hold a notebook's text to
what its seeded run measures (tests/test_*_quality.py)."""
import json
import os

import nbformat
from nbclient import NotebookClient

from tests.conftest import solution_path


def run(notebook, report):
    """(the executed notebook, the results): `report` is a cell appended at the end that prints
    "RESULTS " and a JSON object of what the run measured."""
    path = solution_path(notebook)
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(report))
    NotebookClient(nb, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": os.path.dirname(path)}}).execute(
        env={**os.environ, "RNNKIT_FAST": "0"})
    printed = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    return nb, json.loads(printed.split("RESULTS ", 1)[1])


def assert_clean(nb):
    """No cell raised or wrote to stderr, and the setup cell reported the full mode."""
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out.output_type != "error", f"{out.get('ename')}: {out.get('evalue')}"
            assert not (out.output_type == "stream" and out.name == "stderr"), out.text
    assert "mode full" in "".join(o.get("text", "") for o in nb.cells[1].outputs)
