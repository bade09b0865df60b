"""The instructor's pipeline end to end: release, intake, nbgrader autograde, report, CSV, feedback.

The example submissions cover the three ways every exercise is graded: the full solution earns
the maximum, the untouched release scores 0 without breaking the grader, and the partial one
loses exactly the points of its two catalogued mistakes, which the report names.
"""
import contextlib
import csv
import io
import os
import shutil

import pytest

from rnnkit import registry
from rnnkit.grading import cli, examples, release, workspace

pytestmark = pytest.mark.slow
ASSIGNMENT = "01_rnn_fundamentals"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("course_root")
    shutil.copy(os.path.join(workspace.AUTOGRADE, "nbgrader_config.py"), root)
    release.release(dest=str(root / "release"), root=str(root))
    source = os.path.join(workspace.AUTOGRADE, "examples")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(["grade", "--root", str(root), "--from", source])
    return root, code, out.getvalue()


@pytest.fixture(scope="module")
def rows(graded):
    root = graded[0]
    with open(root / "grades.csv", newline="", encoding="utf-8") as f:
        return {r["student"]: r for r in csv.DictReader(f)}


def test_grade_exits_zero_with_an_invalid_file_in_the_batch(graded):
    assert graded[1] == 0


def test_full_marks_example_earns_the_maximum(rows):
    maximum = sum(e.points for e in registry.for_notebook(ASSIGNMENT))
    row = rows["full_marks"]
    assert float(row["total"]) == float(row["max_score"]) == maximum
    assert row["mistakes"] == ""


def test_untouched_release_scores_zero_and_every_exercise_says_not_implemented(rows):
    row = rows["untouched"]
    assert float(row["total"]) == 0
    for e in registry.for_notebook(ASSIGNMENT):
        assert f"{e.name}: not implemented" in row["mistakes"]


def test_partial_example_loses_exactly_its_two_named_mistakes(rows):
    row = rows["partial"]
    expected = examples.expected_mistakes(ASSIGNMENT)
    assert len(expected) == 2
    named = dict(item.split(": ", 1) for item in row["mistakes"].split("; "))
    assert named == expected
    lost = sum(e.points for e in registry.for_notebook(ASSIGNMENT) if e.name in expected)
    assert float(row["total"]) == float(row["max_score"]) - lost
    for e in registry.for_notebook(ASSIGNMENT):
        assert float(row[e.name]) == (0 if e.name in expected else e.points)


def test_invalid_file_is_reported_with_a_reason_and_scores_zero(rows):
    row = rows["invalid"]
    assert row["status"].startswith("invalid: not a valid notebook: invalid JSON")
    assert float(row["total"]) == 0


def test_feedback_html_is_written_for_each_graded_submission(graded):
    root = graded[0]
    for student in ("full_marks", "partial", "untouched"):
        path = root / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"
        assert path.exists() and path.stat().st_size > 10_000


def test_gradebook_stays_consistent_when_grading_again(graded):
    """A second run replaces scores: one submission per graded student, none for the invalid one."""
    from nbgrader.api import Gradebook
    root = graded[0]
    assert cli.main(["grade", "--root", str(root), "--from",
                     os.path.join(workspace.AUTOGRADE, "examples"), "--no-feedback"]) == 0
    with Gradebook(workspace.db_url(str(root))) as gb:
        subs = gb.assignment_submissions(ASSIGNMENT)
        assert sorted(s.student.id for s in subs) == ["full_marks", "partial", "untouched"]
        scores = {s.student.id: s.score for s in subs}
    assert scores["full_marks"] == sum(e.points for e in registry.for_notebook(ASSIGNMENT))
    assert scores["untouched"] == 0


def test_report_table_names_students_points_and_mistakes(graded):
    out = graded[2]
    assert "11/11" in out and "0/11" in out
    for mistake in examples.expected_mistakes(ASSIGNMENT).values():
        assert mistake in out
    assert "invalid JSON" in out


def test_failed_checks_show_the_message_without_checker_frames(graded):
    """Students see the check's message, never a traceback through rnnkit's code."""
    import nbformat
    root = graded[0]
    nb = nbformat.read(root / "autograded" / "partial" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert len(errors) == 2
    for err in errors:
        shown = "\n".join(err.traceback)
        assert err.ename == "CheckFailed" and "Recognised mistake" in shown
        assert "checks.py" not in shown and "Traceback" not in shown
