"""nbgrader's gradebook on a real PostgreSQL server, reached through `db_url` as a course would.

The server is private to the test session (tests/pgserver_fixture.py); every test gets a database
of its own on it. nbgrader stamps a new gradebook with the alembic head it learns by running
`alembic heads` (seconds: it imports nbgrader), so the schema is created once, in a template
database that each test copies; one test creates it from nothing. RNNKIT_SKIP_POSTGRES=1 skips
these tests.
"""
import itertools
import os
import subprocess
import sys

import pytest

from tests.pgserver_fixture import (PostgresUnavailable, create_database, drop_database,
                                    libpq_dsn, start_postgres)
from tests.pgserver_fixture import postgres_server, postgres_url  # noqa: F401  (fixtures)

VENV_BIN = os.path.dirname(sys.executable)
COURSE = "rnn-course"
# nbgrader's own add_submission trips these SQLAlchemy 2 warnings, whatever the database.
pytestmark = pytest.mark.filterwarnings("ignore:Object of type <Submitted:sqlalchemy.exc.SAWarning")
_numbers = itertools.count()


def _database(postgres_url, template=None):
    name = f"gradebook_{os.getpid()}_{next(_numbers)}"
    return name, create_database(postgres_url, name, template=template)


@pytest.fixture
def empty_db_url(postgres_url):
    """URL of an empty database on the session's server, dropped after the test."""
    name, url = _database(postgres_url)
    yield url
    drop_database(postgres_url, name)


@pytest.fixture(scope="session")
def gradebook_template(postgres_url):
    """A database holding an empty gradebook (schema, alembic stamp, course row) to copy."""
    name, url = _database(postgres_url)
    close(gradebook(url))  # no connection left open: PostgreSQL copies only an idle template
    yield name
    drop_database(postgres_url, name)


@pytest.fixture
def db_url(postgres_url, gradebook_template):
    """URL of a database holding an empty gradebook, dropped after the test."""
    name, url = _database(postgres_url, template=gradebook_template)
    yield url
    drop_database(postgres_url, name)


def sql(url, query, *args):
    """Rows of `query`, read with psycopg2 directly (not through nbgrader or SQLAlchemy)."""
    import psycopg2
    conn = psycopg2.connect(libpq_dsn(url))
    try:
        with conn.cursor() as cur:
            cur.execute(query, args)
            return cur.fetchall()
    finally:
        conn.close()


def gradebook(url):
    from nbgrader.api import Gradebook
    return Gradebook(url, course_id=COURSE)


def close(gb):
    """Close a Gradebook and its connection pool (Gradebook.close keeps the engine's pool open)."""
    gb.close()
    gb.engine.dispose()


def add_graded_assignment(gb, student="ada", score=2.0):
    """One assignment, notebook, graded cell (3 points), student and submission with a score."""
    gb.add_assignment("01_rnn_fundamentals")
    gb.add_notebook("01_rnn_fundamentals", "01_rnn_fundamentals")
    gb.add_grade_cell("rnn_step_matches_keras", "01_rnn_fundamentals", "01_rnn_fundamentals",
                      max_score=3, cell_type="code")
    gb.add_student(student, first_name="Ada", last_name="Lovelace")
    gb.add_submission("01_rnn_fundamentals", student)
    grade = gb.find_grade("rnn_step_matches_keras", "01_rnn_fundamentals", "01_rnn_fundamentals",
                          student)
    grade.auto_score = score
    grade.needs_manual_grade = False  # as nbgrader's autograder records an automatic score
    gb.db.commit()


def test_server_is_a_private_postgresql(postgres_server):
    version = sql(postgres_server.url, "SELECT current_setting('server_version_num')::int")[0][0]
    assert version >= 130000, postgres_server.version  # DROP DATABASE ... WITH (FORCE)
    assert postgres_server.url.startswith("postgresql+psycopg2://")
    assert "%" not in postgres_server.url  # nbgrader puts db_url in an alembic.ini (configparser)
    assert os.path.isdir(postgres_server.folder)
    print(f"PostgreSQL {postgres_server.version} from {postgres_server.backend}, "
          f"started in {postgres_server.startup_s:.1f} s")


def test_gradebook_creates_its_schema_and_stamps_alembic(empty_db_url):
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR
    close(gradebook(empty_db_url))
    tables = {r[0] for r in sql(empty_db_url, "SELECT table_name FROM information_schema.tables "
                                              "WHERE table_schema = 'public'")}
    assert {"assignment", "notebook", "grade_cells", "student", "submitted_assignment",
            "submitted_notebook", "grade", "course", "alembic_version"} <= tables
    head = ScriptDirectory(ALEMBIC_DIR).get_current_head()  # nbgrader's newest migration
    assert sql(empty_db_url, "SELECT version_num FROM alembic_version") == [(head,)]
    assert sql(empty_db_url, "SELECT id FROM course") == [(COURSE,)]


def test_score_is_written_to_postgresql_and_read_back(db_url):
    gb = gradebook(db_url)
    try:
        add_graded_assignment(gb, score=2.0)
    finally:
        close(gb)
    # In PostgreSQL itself ...
    assert sql(db_url, "SELECT g.auto_score, g.manual_score, c.max_score FROM grade g "
                       "JOIN grade_cells c ON c.id = g.cell_id") == [(2.0, None, 3.0)]
    # ... and through a new Gradebook, with nbgrader's computed totals.
    gb = gradebook(db_url)
    try:
        grade = gb.find_grade("rnn_step_matches_keras", "01_rnn_fundamentals",
                              "01_rnn_fundamentals", "ada")
        assert (grade.score, grade.max_score, grade.needs_manual_grade) == (2.0, 3.0, False)
        submission = gb.find_submission("01_rnn_fundamentals", "ada")
        assert (submission.score, submission.max_score) == (2.0, 3.0)
        assert gb.average_assignment_score("01_rnn_fundamentals") == 2.0
        grade.manual_score = 3.0  # the instructor's override wins over the autograder's score
        gb.db.commit()
    finally:
        close(gb)
    assert sql(db_url, "SELECT manual_score FROM grade") == [(3.0,)]
    gb = gradebook(db_url)
    try:
        assert gb.find_submission("01_rnn_fundamentals", "ada").score == 3.0
    finally:
        close(gb)


def test_two_gradebooks_see_each_others_committed_writes(db_url):
    from nbgrader.api import MissingEntry, Student
    first, second = gradebook(db_url), gradebook(db_url)
    try:
        add_graded_assignment(first, score=1.0)
        grade = second.find_grade("rnn_step_matches_keras", "01_rnn_fundamentals",
                                  "01_rnn_fundamentals", "ada")
        assert grade.score == 1.0

        grade.auto_score = 3.0
        second.db.commit()
        first.db.rollback()  # end the first session's transaction: it reloads what it had cached
        assert first.find_submission("01_rnn_fundamentals", "ada").score == 3.0

        first.db.add(Student(id="grace"))
        first.db.flush()  # written but not committed: invisible to the other connection
        with pytest.raises(MissingEntry):
            second.find_student("grace")
        first.db.commit()
        assert second.find_student("grace").id == "grace"
        assert sorted(s.id for s in second.students) == ["ada", "grace"]
    finally:
        close(first)
        close(second)


def test_nbgrader_command_line_adds_a_student_through_the_course_config(db_url, tmp_path):
    """`nbgrader db student add`, in a course whose nbgrader_config.py sets the db_url."""
    (tmp_path / "nbgrader_config.py").write_text(
        f"c = get_config()\n"
        f"c.CourseDirectory.course_id = {COURSE!r}\n"
        f"c.CourseDirectory.root = {str(tmp_path)!r}\n"
        f"c.CourseDirectory.db_url = {db_url!r}\n", encoding="utf-8")
    env = dict(os.environ, PATH=VENV_BIN + os.pathsep + os.environ.get("PATH", ""))
    added = subprocess.run(
        [os.path.join(VENV_BIN, "nbgrader"), "db", "student", "add", "bob", "--first-name=Bob",
         "--last-name=Babbage", "--email=bob@example.org"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert added.returncode == 0, added.stderr[-2000:]
    assert sql(db_url, "SELECT id, first_name, last_name, email FROM student") == [
        ("bob", "Bob", "Babbage", "bob@example.org")]
    assert not os.path.exists(tmp_path / "gradebook.db")  # nothing fell back to SQLite


@pytest.fixture
def kit_config(db_url, tmp_path, monkeypatch):
    """The kit's config (rnnkit.grading.workspace.load_config) for a course root in tmp_path,
    with CourseDirectory.db_url overridden to the test's PostgreSQL database."""
    from rnnkit.grading import workspace
    monkeypatch.chdir(tmp_path)  # no nbgrader_config.py here for the apps to load over ours
    monkeypatch.setenv("PATH", VENV_BIN + os.pathsep + os.environ.get("PATH", ""))  # `alembic`
    config = workspace.load_config(str(tmp_path), CourseDirectory__db_url=db_url)
    assert config.CourseDirectory.db_url == db_url
    return config


def test_kit_config_and_api_use_the_postgresql_db_url(kit_config, db_url, tmp_path):
    """nbgrader's `db student add` app and the kit's NbGraderAPI, on the kit's config."""
    from nbgrader.apps.dbapp import DbStudentAddApp
    from rnnkit.grading import workspace
    app = DbStudentAddApp(config=kit_config)
    app.initialize(["carol", "--first-name=Carol", "--last-name=Shaw"])
    app.start()

    nbapi = workspace.api(str(tmp_path), CourseDirectory__db_url=db_url)
    assert nbapi.coursedir.db_url == db_url
    students = {s["id"]: s for s in nbapi.get_students()}
    assert (students["carol"]["first_name"], students["carol"]["last_name"]) == ("Carol", "Shaw")
    assert sql(db_url, "SELECT id FROM student") == [("carol",)]
    assert not os.path.exists(tmp_path / "gradebook.db")


def test_nbgrader_db_upgrade_runs_alembic_against_postgresql(kit_config, db_url):
    """`nbgrader db upgrade`: alembic, run by name from PATH, connects with the same db_url
    (it fails if it cannot) and finds the gradebook at its head revision."""
    from nbgrader.apps.dbapp import DbUpgradeApp
    before = sql(db_url, "SELECT version_num FROM alembic_version")
    app = DbUpgradeApp(config=kit_config)
    app.initialize([])
    app.start()
    assert sql(db_url, "SELECT version_num FROM alembic_version") == before
    assert len(before) == 1


def test_no_postgresql_is_one_line_that_says_what_to_install(monkeypatch):
    """No backend that works: one line naming what is missing and how to get it (or skip)."""
    import tests.pgserver_fixture as fixture

    def missing():
        raise PostgresUnavailable("pgserver is not installed")

    monkeypatch.delenv(fixture.BACKEND_VAR, raising=False)
    monkeypatch.setitem(fixture.BACKENDS, "pgserver", missing)
    monkeypatch.setattr(fixture, "system_bindirs", lambda: [])
    with pytest.raises(PostgresUnavailable) as info:
        start_postgres()
    message = str(info.value)
    assert "\n" not in message
    for words in ("pgserver is not installed", "no initdb/postgres", "pip install",
                  "apt-get install postgresql", "RNNKIT_SKIP_POSTGRES=1"):
        assert words in message, message
