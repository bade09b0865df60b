"""The JupyterHub round trip through nbgrader's exchange, on a local exchange directory.

Instructor: generate and release 02_bptt. Two students (ada completes it, bob hands in the release
untouched) fetch it and submit. Instructor: collect, grade with `rnnkit grade`, release feedback.
Students: fetch their feedback, which shows their score.
"""
import os
import shutil
import subprocess

import pytest

from rnnkit.grading import keys, workspace

pytestmark = pytest.mark.slow
A = "02_bptt"
COURSE = "rnn-course"

INSTRUCTOR_CONFIG = '''c = get_config()
c.CourseDirectory.course_id = "{course}"
c.CourseDirectory.root = "{root}"
c.CourseDirectory.source_directory = "{solutions}"
c.CourseDirectory.release_directory = "{root}/release"
c.CourseDirectory.db_url = "sqlite:///{root}/gradebook.db"
c.Exchange.root = "{exchange}"
c.Execute.timeout = 300
c.ClearSolutions.code_stub = {{"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}}
'''
STUDENT_CONFIG = '''c = get_config()
c.CourseDirectory.course_id = "{course}"
c.Exchange.root = "{exchange}"
c.Exchange.cache = "{home}/.nbgrader_cache"
'''


def nbgrader(cwd, *args, user=None):
    # On JupyterHub the student id is the login name and each student has a home of their own
    # (with nbgrader's submission cache in it); here every student is this process's user.
    student = ["--student", user] if user else []
    done = subprocess.run(["nbgrader", *args, *student], cwd=cwd, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory):
    base = tmp_path_factory.mktemp("hub")
    root, exchange = base / "instructor", base / "exchange"
    root.mkdir()
    (root / "nbgrader_config.py").write_text(INSTRUCTOR_CONFIG.format(
        course=COURSE, root=root, solutions=workspace.SOLUTIONS, exchange=exchange))
    nbgrader(root, "generate_assignment", A, "--force")
    nbgrader(root, "release_assignment", A, "--force")

    homes = {}
    for student, work in (("ada", "full_marks"), ("bob", None)):
        home = homes[student] = base / student
        home.mkdir()
        (home / "nbgrader_config.py").write_text(STUDENT_CONFIG.format(course=COURSE, exchange=exchange, home=home))
        nbgrader(home, "fetch_assignment", A)
        fetched = home / A / f"{A}.ipynb"
        assert fetched.exists()
        if work:
            shutil.copy(os.path.join(workspace.AUTOGRADE, "examples", work, A, f"{A}.ipynb"), fetched)
        nbgrader(home, "submit", A, user=student)

    nbgrader(root, "collect", A)
    graded = subprocess.run(["rnnkit", "grade", "--root", str(root)], capture_output=True, text=True,
                            timeout=900)
    assert graded.returncode == 0, graded.stdout[-3000:] + graded.stderr[-3000:]
    nbgrader(root, "release_feedback", A)
    for student, home in homes.items():
        nbgrader(home, "fetch_feedback", A, user=student)
    return root, homes, graded.stdout


def test_collect_puts_each_submission_in_submitted(round_trip):
    root = round_trip[0]
    for student in ("ada", "bob"):
        assert (root / "submitted" / student / A / f"{A}.ipynb").exists()
        assert (root / "submitted" / student / A / "timestamp.txt").exists()


def test_rnnkit_grades_the_collected_submissions(round_trip):
    from nbgrader.api import Gradebook
    root = round_trip[0]
    full = sum(e.points for e in keys.for_notebook(A))
    with Gradebook(f"sqlite:///{root}/gradebook.db") as gb:
        scores = {s.student.id: s.score for s in gb.assignment_submissions(A)}
    assert scores == {"ada": full, "bob": 0}
    assert "graded 2 of 2 submissions" in round_trip[2]


@pytest.mark.parametrize("student, score", [("ada", "9.0 / 9.0"), ("bob", "0.0 / 9.0")])
def test_students_fetch_feedback_showing_their_score(round_trip, student, score):
    home = round_trip[1][student]
    pages = list((home / A / "feedback").glob(f"*/{A}.html"))
    assert len(pages) == 1, pages
    html = pages[0].read_text(encoding="utf-8")
    assert f"Score: {score}" in html
