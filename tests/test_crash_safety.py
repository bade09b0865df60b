"""Killing `rnnkit grade` mid-batch loses nothing: no process is left behind, and running it again
finishes the batch with one score per submission, none lost and none doubled."""
import csv
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from rnnkit.grading import keys, workspace

pytestmark = pytest.mark.slow
A = "02_bptt"
STUDENTS = {"ada": "full_marks", "bob": "partial", "cy": "untouched", "dee": "full_marks"}


def _descendants(pid):
    """Every live process below `pid`, from /proc."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _command(root, source):
    return [sys.executable, "-m", "rnnkit.grading.cli", "grade", "--root", str(root), "--from", str(source),
            "--jobs", "2", "--no-feedback"]


@pytest.fixture(scope="module")
def killed_then_finished(tmp_path_factory, course_root):
    src = tmp_path_factory.mktemp("batch")
    for student, example in STUDENTS.items():
        shutil.copytree(os.path.join(workspace.AUTOGRADE, "examples", example, A), src / student / A)
    root = course_root("root")

    proc = subprocess.Popen(_command(root, src), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    seen, below = [], []
    deadline = time.time() + 600
    for line in proc.stdout:                 # one progress line per result when not on a terminal
        seen.append(line)
        below = _descendants(proc.pid) or below
        if " 1/4 done" in line or time.time() > deadline:
            break
    below = sorted(set(below) | set(_descendants(proc.pid)))
    os.kill(proc.pid, signal.SIGKILL)        # the grader only: its workers, zygote and kernels must follow,
    proc.wait()                              # with the second worker mid-notebook
    time.sleep(1)
    for _ in range(100):
        left = [p for p in below if _alive(p)]
        if not left:
            break
        time.sleep(0.2)
    again = subprocess.run(_command(root, src), capture_output=True, text=True, timeout=900)
    return root, seen, below, left, again


def test_the_kill_happened_mid_batch(killed_then_finished):
    seen = "".join(killed_then_finished[1])
    assert " 1/4 done" in seen and "4/4 done" not in seen
    assert len(killed_then_finished[2]) >= 3        # workers, zygote, kernel at least


def test_no_process_outlives_the_killed_grader(killed_then_finished):
    assert killed_then_finished[3] == []


def test_running_again_finishes_the_batch(killed_then_finished):
    again = killed_then_finished[4]
    assert again.returncode == 0, again.stdout[-2000:]
    assert "graded 4 of 4 submissions (0 invalid, 0 failed to grade)" in again.stdout


def test_one_score_per_submission_none_lost_none_doubled(killed_then_finished):
    from nbgrader.api import Gradebook
    root = killed_then_finished[0]
    full = sum(e.points for e in keys.for_notebook(A))
    with Gradebook(workspace.db_url(str(root))) as gb:
        subs = gb.assignment_submissions(A)
        assert sorted(s.student.id for s in subs) == sorted(STUDENTS)
        scores = {s.student.id: s.score for s in subs}
        notebooks = [nb for s in subs for nb in s.notebooks]
        assert len(notebooks) == len(STUDENTS)
    assert scores["ada"] == scores["dee"] == full
    assert scores["cy"] == 0
    assert 0 < scores["bob"] < full
    with open(root / "grades.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert sorted(r["student"] for r in rows) == sorted(STUDENTS)
    for student in STUDENTS:
        assert (root / "autograded" / student / A / f"{A}.ipynb").exists()
