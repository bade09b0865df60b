"""The instructor's pipeline end to end: release, intake, nbgrader autograde, report, CSV, feedback.

The example submissions cover the three ways every exercise is graded, for every notebook: the
full solution earns every automatic point, the untouched release scores 0 without breaking the
grader, and the partial one loses exactly the points of its catalogued mistakes, which the report
names. Written answers are left for the instructor ("needs manual grading").
"""
import contextlib
import csv
import io
import os
import shutil

import pytest

from rnnkit.grading import cli, keys, workspace
from rnnkit.grading.pipeline import case_seeds
from rnnkit.grading.release import examples
from tests.conftest import solution_path

pytestmark = pytest.mark.slow
ASSIGNMENTS = workspace.assignments()
STUDENTS = ("full_marks", "partial", "untouched")


def auto_points(assignment):
    return sum(e.points for e in keys.for_notebook(assignment))


def manual_cells(assignment):
    """grade_id -> points of the graded cells that no check grades (written answers)."""
    import nbformat
    checked = {e.grade_id for e in keys.for_notebook(assignment)}
    nb = nbformat.read(solution_path(assignment), as_version=4)
    meta = [c.metadata.get("nbgrader", {}) for c in nb.cells]
    return {m["grade_id"]: m["points"] for m in meta if m.get("grade") and m["grade_id"] not in checked}


def manual_points(assignment):
    return sum(manual_cells(assignment).values())


SEED = 4242      # the batch's hidden cases are drawn from it


@pytest.fixture(scope="module")
def graded(tmp_path_factory, course_root):
    root = course_root("course_root")
    source = os.path.join(workspace.AUTOGRADE, "examples")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(["grade", "--root", str(root), "--from", source, "--seed", str(SEED)])
    return root, code, out.getvalue()


@pytest.fixture(scope="module")
def rows(graded):
    root = graded[0]
    with open(root / "grades.csv", newline="", encoding="utf-8") as f:
        return {(r["student"], r["assignment"]): r for r in csv.DictReader(f)}


def _notes(row):
    return dict(item.split(": ", 1) for item in row["mistakes"].split("; ")) if row["mistakes"] else {}


def _manual(row):
    return {name for name, note in _notes(row).items() if note.startswith("needs manual grading")}


def test_grade_exits_zero_with_an_invalid_file_in_the_batch(graded):
    assert graded[1] == 0


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_full_marks_example_earns_every_automatic_point(rows, assignment):
    row = rows[("full_marks", assignment)]
    assert float(row["total"]) == auto_points(assignment)
    assert float(row["max_score"]) == auto_points(assignment) + manual_points(assignment)
    # Only written answers are still open, and they wait for the instructor.
    assert set(_notes(row)) == _manual(row)
    assert len(_manual(row)) == len(manual_cells(assignment))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_untouched_release_scores_zero_and_every_exercise_says_not_implemented(rows, assignment):
    row = rows[("untouched", assignment)]
    assert float(row["total"]) == 0
    for e in keys.for_notebook(assignment):
        assert f"{e.name}: not implemented" in row["mistakes"]
    assert not _manual(row), "an unanswered written question needs no manual grading"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_partial_example_loses_exactly_its_named_mistakes(rows, assignment):
    row = rows[("partial", assignment)]
    expected = examples.expected_mistakes(assignment)
    assert expected, f"autograde/examples has no partial submission with a mistake for {assignment}"
    named = {k: v for k, v in _notes(row).items() if k not in _manual(row)}
    assert named == expected
    lost = sum(e.points for e in keys.for_notebook(assignment) if e.name in expected)
    assert float(row["total"]) == auto_points(assignment) - lost
    for e in keys.for_notebook(assignment):
        assert float(row[e.name]) == (0 if e.name in expected else e.points)


def test_invalid_file_is_reported_with_a_reason_and_scores_zero(rows):
    row = rows[("invalid", ASSIGNMENTS[0])]
    assert row["status"].startswith("invalid: not a valid notebook: invalid JSON")
    assert float(row["total"]) == 0


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_feedback_html_is_written_for_each_graded_submission(graded, assignment):
    root = graded[0]
    for student in STUDENTS:
        path = root / "feedback" / student / assignment / f"{assignment}.html"
        assert path.exists() and path.stat().st_size > 10_000


def test_feedback_html_is_byte_for_byte_what_nbgrader_writes(graded):
    """The kit's feedback exporter, which reuses templates and rendered cells, writes nbgrader's HTML."""
    root = graded[0]
    nbapi = workspace.api(str(root), CourseDirectory__feedback_directory="feedback_by_nbgrader")
    for assignment in ASSIGNMENTS:
        for student in STUDENTS:
            assert nbapi.generate_feedback(assignment, student, force=True)["success"]
            name = os.path.join(student, assignment, f"{assignment}.html")
            ours = (root / "feedback" / name).read_bytes()
            assert ours == (root / "feedback_by_nbgrader" / name).read_bytes(), name


def test_the_batch_seed_is_printed_and_kept_in_the_gradebook_and_the_csv(graded, rows):
    """So that a grade can be reproduced: `rnnkit grade --seed` draws the same hidden cases."""
    root, _, out = graded
    assert f"hidden cases drawn with seed {SEED} (`rnnkit grade --seed {SEED}`" in out
    for (student, assignment), row in rows.items():
        graded_ok = row["status"] == "graded"
        assert row["hidden_seed"] == (str(SEED) if graded_ok else ""), (student, assignment)
        assert case_seeds.lookup(workspace.db_url(str(root)), student, assignment) == \
            (SEED if graded_ok else None)


@pytest.mark.parametrize("seed", ["-1", "x", str(2 ** 63)])
def test_a_bad_seed_is_refused_with_the_value(seed, capsys):
    with pytest.raises(SystemExit):
        cli.main(["grade", "--seed", seed])
    assert f"expected a non-negative integer seed, got {seed!r}" in capsys.readouterr().err


def test_gradebook_stays_consistent_when_grading_again(graded, tmp_path):
    """A second run replaces scores: one submission per graded student, none for an invalid one."""
    from nbgrader.api import Gradebook
    root = graded[0]
    again = tmp_path / "again"       # one notebook's submissions and the invalid file
    for student, assignment in [(s, "02_bptt") for s in STUDENTS] + [("invalid", ASSIGNMENTS[0])]:
        shutil.copytree(os.path.join(workspace.AUTOGRADE, "examples", student, assignment),
                        again / student / assignment)
    out = io.StringIO()                 # the second run's report: what a failure below shows
    with contextlib.redirect_stdout(out):
        assert cli.main(["grade", "--root", str(root), "--from", str(again), "--no-feedback"]) == 0
    report = out.getvalue()
    with Gradebook(workspace.db_url(str(root))) as gb:
        for assignment in ASSIGNMENTS:
            subs = gb.assignment_submissions(assignment)
            assert sorted(s.student.id for s in subs) == sorted(STUDENTS)
            scores = {s.student.id: s.score for s in subs}
            assert scores["full_marks"] == auto_points(assignment), report
            assert scores["untouched"] == 0, report
    seeds = {s: case_seeds.lookup(workspace.db_url(str(root)), s, "02_bptt") for s in STUDENTS}
    # graded again: a batch, a new seed (a submission that failed to grade keeps its old one)
    assert len(set(seeds.values())) == 1 and set(seeds.values()) != {SEED}, f"{seeds}\n{report}"
    assert case_seeds.lookup(workspace.db_url(str(root)), "invalid", ASSIGNMENTS[0]) is None


def test_report_table_names_students_points_and_mistakes(graded):
    out = graded[2]
    for assignment in ASSIGNMENTS:
        assert f"== {assignment} ==" in out
        total = auto_points(assignment) + manual_points(assignment)
        assert f"{auto_points(assignment)}/{total}" in out and f"0/{total}" in out
        for mistake in examples.expected_mistakes(assignment).values():
            assert mistake in out
    assert "invalid JSON" in out


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_failed_checks_show_the_message_without_checker_frames(graded, assignment):
    """Students see the check's message, never a traceback through rnnkit's code."""
    import nbformat
    root = graded[0]
    nb = nbformat.read(root / "autograded" / "partial" / assignment / f"{assignment}.ipynb", as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert len(errors) == len(examples.expected_mistakes(assignment))
    for err in errors:
        shown = "\n".join(err.traceback)
        assert err.ename == "CheckFailed" and ("Recognised mistake" in shown or "Diagnosis:" in shown)
        assert "checks.py" not in shown and "Traceback" not in shown


def test_a_mistake_no_catalogue_lists_is_diagnosed_in_the_feedback_and_counted_in_the_report(graded):
    """The partial 05 example updates the state at padded steps, which no catalogue lists: its
    feedback shows what the check found by experiment, and the class report counts that finding
    as it counts named mistakes."""
    root, _, out = graded
    html = (root / "feedback" / "partial" / "05_bidirectional_stacked" / "05_bidirectional_stacked.html").read_text()
    assert "Diagnosis: Changing x where mask is 0 changes your h_last" in html
    note = examples.expected_mistakes("05_bidirectional_stacked")["masked_rnn_forward"]
    assert note.startswith("found: ")
    assert f"masked_rnn_forward: 1 of 3: {note[len('found: '):]}" in out     # the class report's text
