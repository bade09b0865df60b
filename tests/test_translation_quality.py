"""Notebook 07 keeps its word on a seeded full run: the attention model translates at least 95 % of
the held-out-format test dates exactly, the same model without attention almost none, as the text
says; and the full run's notebook ends with no error and nothing on stderr."""
import json
import os

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import solution_path

pytestmark = pytest.mark.slow
NOTEBOOK = "07_seq2seq_attention"
REPORT = """
import json
print("RESULTS " + json.dumps({name: {"exact": float(right.mean()), "held_out": float(right[held_out].mean()),
                                       "test_dates": int(len(right))} for name, right in exact.items()}))
"""


@pytest.fixture(scope="module")
def full_run():
    """The solution notebook run top to bottom at full size (a few minutes), and what it measured."""
    path = solution_path(NOTEBOOK)
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(REPORT))
    NotebookClient(nb, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": os.path.dirname(path)}}).execute(
        env={**os.environ, "RNNKIT_FAST": "0"})
    printed = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    results = json.loads(printed.split("RESULTS ", 1)[1])
    return nb, results


def test_the_full_run_is_clean(full_run):
    nb, _ = full_run
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out.output_type != "error", f"{out.get('ename')}: {out.get('evalue')}"
            assert not (out.output_type == "stream" and out.name == "stderr"), out.text
    assert "mode full" in "".join(o.get("text", "") for o in nb.cells[1].outputs)


def test_attention_translates_the_held_out_formats(full_run):
    _, results = full_run
    attention = results["with attention"]
    assert attention["test_dates"] == 4000, "the full run scores the whole test split"
    assert attention["held_out"] >= 0.95, attention
    assert attention["exact"] >= 0.95, attention


def test_without_attention_almost_no_date_is_right(full_run):
    """'gets almost no date entirely right' at the same budget: the bottleneck, measured."""
    _, results = full_run
    assert results["without attention"]["exact"] <= 0.10, results
