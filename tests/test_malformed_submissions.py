"""Bad input breaks nothing: every malformed submission gets a one-line reason, the rest of the batch
is graded, and the gradebook keeps exactly one row per gradable submission.

One batch of 02_bptt holds a correct notebook and every kind of broken file we have seen or can
think of; it is graded once, then again after a good submission is replaced by a broken one.
"""
import contextlib
import csv
import io
import json
import os
import shutil

import nbformat
import pytest

from rnnkit.grading import cli, keys, workspace
from rnnkit.grading.intake import staging

pytestmark = pytest.mark.slow
A = "02_bptt"
FULL = os.path.join(workspace.AUTOGRADE, "examples", "full_marks", A, f"{A}.ipynb")
OTHER = os.path.join(workspace.AUTOGRADE, "examples", "full_marks", "01_rnn_fundamentals",
                     "01_rnn_fundamentals.ipynb")


def _full():
    return nbformat.read(FULL, as_version=4)


def _without(grade_id):
    nb = _full()
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != grade_id]
    return nbformat.writes(nb).encode()


def _twice(grade_id):
    nb = _full()
    i = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    copy = nbformat.from_dict(json.loads(json.dumps(nb.cells[i])))
    copy.source = "pass  # my own version of the test"
    copy.pop("id", None)
    nb.cells.insert(i + 1, copy)
    return nbformat.writes(nb).encode()


PARTIAL = os.path.join(workspace.AUTOGRADE, "examples", "partial", A, f"{A}.ipynb")


def _tampered(how):
    """The partial example (it fails two checks) with every test cell edited or made Markdown."""
    nb = nbformat.read(PARTIAL, as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            if how == "edited":
                cell.source = "assert True  # all good"
            else:
                cell.cell_type, cell.outputs, cell.execution_count = "markdown", None, None
                del cell["outputs"], cell["execution_count"]
    return nbformat.writes(nb).encode()


def _huge():
    nb = _full()
    nb.cells[0].setdefault("outputs", [])
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="x" * (50 * 1024 * 1024))]
    return nbformat.writes(nb).encode()


def _nbformat3():
    return json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {},
                       "worksheets": [{"cells": [{"cell_type": "code", "input": "1", "outputs": []}]}]}).encode()


# student -> (file name in the submission folder, bytes, expected status start)
BROKEN = {
    "bad_json": (f"{A}.ipynb", b'{"cells": [', "invalid: not a valid notebook: invalid JSON"),
    "empty": (f"{A}.ipynb", b"", "invalid: empty file"),
    "nbformat3": (f"{A}.ipynb", _nbformat3(), "invalid: nbformat 3 notebook"),
    "binary": (f"{A}.ipynb", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8,
               "invalid: a binary file, not a notebook"),
    "latin1": (f"{A}.ipynb", '{"cells": [], "metadata": {"author": "Jos\u00e9"}}'.encode("latin-1"),
               "invalid: not UTF-8 text"),
    "other_assignment": (f"{A}.ipynb", open(OTHER, "rb").read(), f"invalid: not a notebook of {A}"),
    "renamed": ("my_homework.ipynb", open(FULL, "rb").read(), f"invalid: expected {A}.ipynb, found my_homework.ipynb"),
    "huge": (f"{A}.ipynb", _huge(), "invalid: too large: 50.0 MB"),
    "no_notebook": ("notes.txt", b"I will submit tomorrow", "invalid: no notebook submitted"),
    "json_list": (f"{A}.ipynb", b"[1, 2, 3]", "invalid: not a notebook: JSON without cells"),
    "bad_schema": (f"{A}.ipynb", json.dumps({"cells": [{"cell_type": "code"}], "metadata": {},
                                              "nbformat": 4, "nbformat_minor": 5}).encode(),
                   "invalid: not a valid notebook"),
}
# Gradable, graded as nbgrader grades them, and flagged for the instructor.
FLAGGED = {
    "deleted_test": (_without("rnn_backward_matches_keras"), "1 graded cell missing (rnn_backward_matches_keras)"),
    "pasted_test": (_twice("numerical_gradient_matches_keras"),
                    "graded cell numerical_gradient_matches_keras pasted more than once"),
}


# Graded exactly as the untampered notebook: the test cells come back from the gradebook.
TAMPERED = {"edited_tests": _tampered("edited"), "retyped_tests": _tampered("markdown")}


def _write(folder, name, data):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


@pytest.fixture(scope="module")
def batch(tmp_path_factory, course_root):
    src = tmp_path_factory.mktemp("malformed")
    shutil.copytree(os.path.dirname(FULL), src / "good" / A)
    shutil.copytree(os.path.dirname(FULL), src / "later_broken" / A)
    for student, (name, data, _) in BROKEN.items():
        _write(src / student / A, name, data)
    for student, (data, _) in FLAGGED.items():
        _write(src / student / A, f"{A}.ipynb", data)
    for student, data in TAMPERED.items():
        _write(src / student / A, f"{A}.ipynb", data)
    shutil.copytree(os.path.dirname(PARTIAL), src / "partial" / A)
    root = course_root("root")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(["grade", "--root", str(root), "--from", str(src), "--no-feedback"])
    return src, root, code, out.getvalue()


def _csv(root):
    with open(root / "grades.csv", newline="", encoding="utf-8") as f:
        return {r["student"]: r for r in csv.DictReader(f)}


def _gradebook(root):
    from nbgrader.api import Gradebook
    with Gradebook(workspace.db_url(str(root))) as gb:
        return {s.student.id: s.score for s in gb.assignment_submissions(A)}


FULL_POINTS = sum(e.points for e in keys.for_notebook(A))


def test_batch_finishes_with_exit_code_zero(batch):
    assert batch[2] == 0, batch[3]


@pytest.mark.parametrize("student", sorted(BROKEN))
def test_each_broken_file_gets_a_one_line_reason_and_no_score(batch, student):
    row = _csv(batch[1])[student]
    assert row["status"].startswith(BROKEN[student][2]), row["status"]
    assert "\n" not in row["status"] and len(row["status"]) < 240
    assert float(row["total"]) == 0
    assert f"cannot grade {student} / {A}: " in batch[3]


def test_good_submission_in_a_bad_batch_gets_full_marks(batch):
    assert float(_csv(batch[1])["good"]["total"]) == FULL_POINTS


def test_deleted_test_cell_is_put_back_and_graded(batch):
    row = _csv(batch[1])["deleted_test"]
    assert row["status"] == "graded"
    assert float(row["total"]) == FULL_POINTS        # the restored test ran against their code
    assert FLAGGED["deleted_test"][1] in row["flags"]
    assert "LOOK: " + FLAGGED["deleted_test"][1] in batch[3]


def test_pasted_test_cell_is_graded_once_from_the_gradebook(batch):
    row = _csv(batch[1])["pasted_test"]
    assert float(row["total"]) == FULL_POINTS
    assert FLAGGED["pasted_test"][1] in row["flags"]


@pytest.mark.parametrize("student", sorted(TAMPERED))
def test_edited_or_retyped_test_cells_are_restored_before_grading(batch, student):
    rows = _csv(batch[1])
    assert rows["partial"]["total"] == rows[student]["total"]
    assert 0 < float(rows[student]["total"]) < FULL_POINTS
    assert rows[student]["mistakes"] == rows["partial"]["mistakes"]


def test_gradebook_has_one_row_per_gradable_submission_and_none_for_broken_ones(batch):
    scores = _gradebook(batch[1])
    assert sorted(scores) == sorted(["good", "later_broken", "partial", *FLAGGED, *TAMPERED])
    assert all(scores[s] == FULL_POINTS for s in ["good", "later_broken", *FLAGGED])


def test_a_good_submission_replaced_by_a_broken_one_loses_its_old_score(batch):
    src, root = batch[0], batch[1]
    only = src.parent / "only_later"          # the student submits again: a broken file
    _write(only / "later_broken" / A, f"{A}.ipynb", b"oops")
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli.main(["grade", "--root", str(root), "--from", str(only), "--no-feedback"]) == 0
    scores = _gradebook(root)
    assert "later_broken" not in scores
    assert sorted(scores) == sorted(["good", "partial", *FLAGGED, *TAMPERED])
    assert _csv(root)["later_broken"]["status"].startswith("invalid: not a valid notebook: invalid JSON")


def test_size_limit_is_a_parameter(tmp_path):
    _write(tmp_path / "s" / A, f"{A}.ipynb", open(FULL, "rb").read())
    found = staging.discover(str(tmp_path), workspace.COURSE, max_bytes=1000)
    assert found[0].problem.startswith("too large: ") and "limit 0.0 MB" in found[0].problem
