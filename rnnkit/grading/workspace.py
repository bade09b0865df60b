"""Where things live, and an in-process nbgrader API bound to the instructor workspace."""
import contextlib
import io
import logging
import os
import sys

PROJECT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AUTOGRADE = os.path.join(PROJECT, "autograde")
SOLUTIONS = os.path.join(PROJECT, "solutions")
COURSE = os.path.join(PROJECT, "course")


def assignments(solutions=SOLUTIONS):
    """Assignment names: the folders of solutions/ (or of another such folder) holding a notebook
    of the same name."""
    return sorted(d for d in os.listdir(solutions)
                  if os.path.isfile(os.path.join(solutions, d, f"{d}.ipynb")))


def put_venv_on_path():
    # nbgrader runs `alembic` by name, and kernels must import this environment's packages.
    bindir = os.path.dirname(sys.executable)
    path = os.environ.get("PATH", "")
    if bindir not in path.split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + path


DB_URL_ENV = "RNNKIT_DB_URL"   # a gradebook URL for every command, e.g. postgresql+psycopg2://...


def load_config(root=AUTOGRADE, db_url=None, **overrides):
    """The traitlets Config of autograde/nbgrader_config.py, with `Section__trait` overrides.

    The gradebook is root/gradebook.db (SQLite) unless `db_url` names another database
    (nbgrader's db_url, e.g. a PostgreSQL server), or else RNNKIT_DB_URL does, or
    autograde/nbgrader_config.py sets one.
    """
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader
    config = PyFileConfigLoader("nbgrader_config.py", path=AUTOGRADE).load_config()
    config.CourseDirectory.root = os.path.abspath(root)
    if os.path.abspath(root) != AUTOGRADE:
        config.CourseDirectory.db_url = "sqlite:///" + os.path.join(os.path.abspath(root), "gradebook.db")
    db_url = db_url or os.environ.get(DB_URL_ENV)
    if db_url:
        config.CourseDirectory.db_url = db_url
    for key, value in overrides.items():
        section, trait = key.split("__")
        config[section][trait] = value
    return config


def api(root=AUTOGRADE, db_url=None, **overrides):
    """An nbgrader NbGraderAPI for the workspace at `root` (autograde/ by default)."""
    put_venv_on_path()
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    config = load_config(root, db_url, **overrides)
    coursedir = CourseDirectory(config=config)
    nbapi = NbGraderAPI(coursedir, config=config)
    nbapi.log.setLevel(logging.WARNING)
    return nbapi


def db_url(root=AUTOGRADE, db_url=None):
    """The gradebook's URL for the workspace at `root` (`db_url` when given; see load_config)."""
    return db_url or load_config(root).CourseDirectory.db_url


@contextlib.contextmanager
def silenced():
    """Swallow nbgrader's console logging and its kernels' start-up chatter on file descriptor 2.

    nbgrader's results carry the log and the error we report, so nothing is lost.
    """
    sink = io.StringIO()
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
        with contextlib.redirect_stderr(sink), contextlib.redirect_stdout(sink):
            yield sink
    finally:
        os.dup2(saved, 2)
        os.close(saved)
