"""Cheating submissions (tests/cheats.py), graded in one batch by `rnnkit grade` with honest ones.

Each cheat scores 0 on the exercise it targets, in the gradebook and in the verification pass, and
its submission is flagged; its other exercises, and the honest submissions of the same batch,
grade as they would alone. The batch must also leave the installed rnnkit and the gradebook as
they were, and no process behind.
"""
import contextlib
import csv
import io
import os
import shutil
import sqlite3

import nbformat
import pytest

import rnnkit
from rnnkit.grading import cli, keys, workspace
from rnnkit.grading.release import examples
from rnnkit.grading.isolation import kernel_jail, linux
from tests.cheats import ASSIGNMENT as A, CHEATS, RNNKIT_EDIT

pytestmark = pytest.mark.slow
HONEST = {"honest": "full_marks", "honest_partial": "partial"}
GUARDED = os.path.join(os.path.dirname(rnnkit.__file__), "checks.py")   # what edits_rnnkit writes to
POINTS = {e.name: e.points for e in keys.for_notebook(A)}
KERNEL_MEMORY_MB = "2500"      # the memory bomb stops here instead of at the default limit
CELL_TIMEOUT = 30              # the infinite loop is interrupted here instead of at 300 s


def _cell(nb, grade_id):
    return next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def build(cheat, paths):
    """The full-marks notebook with the cheat's edits applied, placeholders filled in."""
    nb = nbformat.read(os.path.join(workspace.AUTOGRADE, "examples", "full_marks", A, f"{A}.ipynb"),
                       as_version=4)
    for grade_id, action, source in cheat.edits:
        for key, value in paths.items():
            source = source.replace("{" + key + "}", value) if source else source
        i = _cell(nb, grade_id)
        if action == "replace":
            nb.cells[i].source = source
        elif action == "delete":
            del nb.cells[i]
        elif action == "twice":
            copy = nbformat.from_dict(nb.cells[i])
            copy.source = source
            nb.cells.insert(i + 1, copy)
        elif action == "markdown":
            nb.cells[i] = nbformat.v4.new_markdown_cell(source, metadata=nb.cells[i].metadata)
        else:
            raise ValueError(f"cheat {cheat.name}: unknown action {action!r}")
    return nb


def confinement_line(as_root=None):
    """What `rnnkit grade` must say of the sandbox (run as root, or else by this process's user):
    as root everything applies; an ordinary user gets the namespaces in user namespaces, and no
    uid per kernel."""
    head = f"Sandbox: landlock (abi {linux.landlock_abi()}), seccomp, no_new_privs, rlimits, "
    if os.geteuid() == 0 if as_root is None else as_root:
        return head + ("a uid per kernel, pid namespaces, a network namespace for verification runs; "
                       "all protections apply")
    return head + ("pid namespaces, a network namespace for verification runs, both in user namespaces; "
                   "not applied: a uid per kernel (the grader is not root; Landlock keeps kernels out "
                   "of your files instead)")


def _leftovers():
    """Processes still running as a kernel's uid (a grader that is root), or the fork bomb's
    sleepers (found by their command line, whoever runs them)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
            uid = os.stat(f"/proc/{entry}").st_uid
        except OSError:
            continue
        if cmd == "sleep 313" or kernel_jail.UID_BASE <= uid < kernel_jail.UID_BASE + (1 << 24):
            found.append((int(entry), uid, cmd))
    return found


def _undo_rnnkit_edit():
    """True if edits_rnnkit's line reached the installed kit, after taking it out again (only it:
    the file may be edited meanwhile by someone else)."""
    with open(GUARDED, encoding="utf-8") as f:
        text = f.read()
    if RNNKIT_EDIT not in text:
        return False
    with open(GUARDED, "w", encoding="utf-8") as f:
        f.write(text.replace(RNNKIT_EDIT, ""))
    return True


@pytest.fixture(scope="module")
def batch(tmp_path_factory, course_root):
    src, root = tmp_path_factory.mktemp("cheats"), course_root("root")
    paths = {"solutions": os.path.join(workspace.SOLUTIONS, A, f"{A}.ipynb"),
             "gradebook": str(root / "gradebook.db"), "rnnkit": os.path.dirname(rnnkit.__file__)}
    for cheat in CHEATS:
        os.makedirs(src / cheat.name / A)
        nbformat.write(build(cheat, paths), str(src / cheat.name / A / f"{A}.ipynb"))
    for student, kind in HONEST.items():
        shutil.copytree(os.path.join(workspace.AUTOGRADE, "examples", kind, A), src / student / A)
    saved = os.environ.get("RNNKIT_KERNEL_MEMORY_MB")
    os.environ["RNNKIT_KERNEL_MEMORY_MB"] = KERNEL_MEMORY_MB
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            code = cli.main(["grade", "--root", str(root), "--from", str(src), "--no-feedback",
                             "--cell-timeout", str(CELL_TIMEOUT)])
    finally:
        if saved is None:
            os.environ.pop("RNNKIT_KERNEL_MEMORY_MB")
        else:
            os.environ["RNNKIT_KERNEL_MEMORY_MB"] = saved
        changed = _undo_rnnkit_edit()
    with open(root / "grades.csv", newline="", encoding="utf-8") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    return {"code": code, "out": out.getvalue(), "rows": rows, "root": root,
            "rnnkit_changed": changed, "leftovers": _leftovers()}


def _gradebook_scores(root, student):
    """{grade_id: score} of the student's graded cells, read from the gradebook itself."""
    from nbgrader.api import Gradebook
    with Gradebook(workspace.db_url(str(root))) as gb:
        nb = gb.find_submission_notebook(A, A, student)
        return {g.cell.name: g.score for g in nb.grades}


def test_the_batch_is_graded(batch):
    assert batch["code"] == 0, batch["out"][-3000:]
    assert sorted(batch["rows"]) == sorted([c.name for c in CHEATS] + list(HONEST))
    assert all(r["status"] == "graded" for r in batch["rows"].values()), \
        {s: r["status"] for s, r in batch["rows"].items() if r["status"] != "graded"}


@pytest.mark.parametrize("cheat", CHEATS, ids=lambda c: c.name)
def test_cheat_scores_zero_on_its_exercise_and_is_flagged(batch, cheat):
    row = batch["rows"][cheat.name]
    by_grade_id = _gradebook_scores(batch["root"], cheat.name)
    for e in keys.for_notebook(A):
        if e.name in cheat.zero:
            assert float(row[e.name]) == 0, (e.name, row["flags"])
            assert by_grade_id[e.grade_id] == 0, e.grade_id
            assert row[f"{e.name} (verified)"] == "0", (e.name, row[f"{e.name} (verified)"])
        else:                                   # the rest of the submission grades normally
            assert float(row[e.name]) == e.points, (e.name, row["flags"], row["mistakes"])
            assert by_grade_id[e.grade_id] == e.points
    if cheat.seen_in_notebook:
        assert cheat.seen_in_notebook in row["mistakes"], row["mistakes"]
        return
    assert row["flags"], "the report does not flag the submission"
    assert any(line.startswith("    LOOK: ") for line in _report_lines(batch["out"], cheat.name))


def _report_lines(text, student):
    """The lines under a student's row of the printed table."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split(" ", 1)[0] == student)
    below = []
    for line in lines[start + 1:]:
        if not line.startswith("    "):
            break
        below.append(line)
    return below


@pytest.mark.parametrize("cheat", [c for c in CHEATS if c.kernel_error], ids=lambda c: c.name)
def test_the_kernel_refuses_or_stops_the_cheat(batch, cheat):
    """In the notebook itself, not only in the verification pass: the jail or a limit stopped it."""
    nb = nbformat.read(str(batch["root"] / "autograded" / cheat.name / A / f"{A}.ipynb"), as_version=4)
    cell = nb.cells[_cell(nb, cheat.edits[0][0])]
    names = [o.get("ename") for o in cell.outputs if o.output_type == "error"]
    assert set(names) & set(cheat.kernel_error.split("|")), names


def test_honest_submissions_in_the_same_batch_grade_as_alone(batch):
    rows = batch["rows"]
    assert float(rows["honest"]["total"]) == sum(POINTS.values()) and rows["honest"]["flags"] == ""
    broken = {gid.replace("_code", "") for gid in examples.PARTIAL.get(A, {})}
    for name, points in POINTS.items():
        assert float(rows["honest_partial"][name]) == (0 if name in broken else points), name
    assert rows["honest_partial"]["flags"] == ""


def test_the_installed_rnnkit_is_unchanged(batch):
    assert not batch["rnnkit_changed"], f"a kernel wrote to {GUARDED} (restored)"


def test_the_gradebook_holds_only_what_the_grader_wrote(batch):
    with sqlite3.connect(batch["root"] / "gradebook.db") as db:
        tables = {r[0] for r in db.execute("select name from sqlite_master where type = 'table'")}
        over = db.execute("select count(*) from grade join grade_cells on grade.cell_id = grade_cells.id "
                          "where grade.auto_score > grade_cells.max_score").fetchone()[0]
    assert "cheat_was_here" not in tables
    assert over == 0


def test_the_grader_says_once_how_kernels_are_confined(batch):
    lines = [line for line in batch["out"].splitlines() if line.startswith("Sandbox: ")]
    assert lines == [confinement_line()]


def test_no_process_outlives_the_batch(batch):
    assert batch["leftovers"] == []


def test_a_flood_of_output_is_capped(batch):
    path = batch["root"] / "autograded" / "output_flood" / A / f"{A}.ipynb"
    assert os.path.getsize(path) < 40 << 20        # 100 MB were printed
    assert "output over" in batch["rows"]["output_flood"]["flags"]
