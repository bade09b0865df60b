"""deploy/jupyterhub/ as the README describes it: the settings and their defaults, the versions
to install, and what the spawn hook gives the instructor's server and a student's.

tests/test_jupyterhub.py runs this configuration on a real hub; these checks run anywhere.
"""
import json
import os
import re
import tomllib
import types

import pytest

from tests.conftest import ROOT

DEPLOY = os.path.join(ROOT, "deploy", "jupyterhub")
CONFIG = os.path.join(DEPLOY, "jupyterhub_config.py")


def load_config(monkeypatch, **settings):
    """Execute jupyterhub_config.py as JupyterHub does, with only `settings` in the environment."""
    from traitlets.config import Config
    for name in list(os.environ):
        if name.startswith(("RNN_COURSE_", "RNN_HUB_")):
            monkeypatch.delenv(name)
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    c = Config()
    namespace = {"get_config": lambda: c, "__file__": CONFIG, "__name__": "jupyterhub_config"}
    with open(CONFIG, encoding="utf-8") as f:
        exec(compile(f.read(), CONFIG, "exec"), namespace)
    return c, namespace


def _readme():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        return f.read()


def test_every_setting_is_documented_with_its_default(monkeypatch):
    """The config's docstring lists each RNN_* variable it reads, with the default it uses."""
    _, ns = load_config(monkeypatch)
    with open(CONFIG, encoding="utf-8") as f:
        source = f.read()
    read = set(re.findall(r'os\.environ\.get\("(RNN_[A-Z_]+)"', source))
    documented = dict(re.findall(r"^    (RNN_[A-Z_]+) +(\S+)", ns["__doc__"], re.M))
    assert set(documented) == read
    actual = {"RNN_COURSE_ID": ns["COURSE_ID"], "RNN_COURSE_INSTRUCTOR": ns["INSTRUCTOR"],
              "RNN_COURSE_STUDENTS_GROUP": ns["STUDENTS_GROUP"], "RNN_COURSE_EXCHANGE": ns["EXCHANGE"],
              "RNN_COURSE_STUDENT_ENV": ns["STUDENT_ENV"], "RNN_COURSE_DATA": ns["DATA"],
              "RNN_HUB_STATE": ns["STATE"],
              "RNN_COURSE_INSTRUCTOR_ENV": ns["INSTRUCTOR_ENV"].replace(f"~{ns['INSTRUCTOR']}", "~INSTRUCTOR")}
    assert documented == actual
    readme = _readme()
    for name in ("RNN_COURSE_INSTRUCTOR", "RNN_COURSE_STUDENTS_GROUP", "RNN_COURSE_EXCHANGE"):
        assert name in readme, name
    for default in ("/srv/nbgrader/exchange", "/opt/conda/envs/rnn-course", "/opt/rnn-course/data",
                    "/srv/jupyterhub", "rnn-students"):
        assert default in readme, default


def test_readme_installs_the_versions_the_tests_run():
    """The admin's pip lines name exactly the [hub] extra's pins."""
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        pins = tomllib.load(f)["project"]["optional-dependencies"]["hub"]
    section = _readme().split("## Run the course on JupyterHub")[1].split("\n## ")[0]
    for pin in pins:
        assert f'"{pin}"' in section, pin
    assert set(re.findall(r'"(jupyterhub==[^"]+)"', section)) == {p for p in pins if p.startswith("jupyterhub==")}


def _spawn(namespace, user):
    spawner = types.SimpleNamespace(user=types.SimpleNamespace(name=user), cmd=None,
                                    environment=dict(namespace["c"].Spawner.environment))
    namespace["course_server"](spawner)
    return spawner


@pytest.mark.parametrize("role", ["instructor", "student"])
def test_each_role_gets_its_environment_and_configuration(monkeypatch, tmp_path, role):
    """The instructor's server runs the instructor's environment with instructor/ config, a
    student's the student environment with student/; PATH starts at that environment and has
    nothing of the hub's; TensorFlow stays quiet."""
    c, ns = load_config(monkeypatch, RNN_COURSE_INSTRUCTOR="root",
                        RNN_COURSE_INSTRUCTOR_ENV=str(tmp_path / "kit"), RNN_COURSE_STUDENT_ENV=str(tmp_path / "student"))
    ns["c"] = c
    assert c.Spawner.pre_spawn_hook is ns["course_server"]
    spawner = _spawn(ns, "root" if role == "instructor" else "nobody")
    env = tmp_path / ("kit" if role == "instructor" else "student")
    assert spawner.cmd == [str(env / "bin" / "python"), "-m", "jupyterhub.singleuser"]
    assert spawner.environment["JUPYTER_CONFIG_PATH"] == os.path.join(DEPLOY, role)
    assert spawner.environment["PATH"].split(os.pathsep) == [str(env / "bin"), "/usr/local/bin", "/usr/bin", "/bin"]
    assert spawner.environment["TF_CPP_MIN_LOG_LEVEL"] == "3"
    assert "JUPYTER_CONFIG_DIR" not in spawner.environment


def test_formgrader_is_the_instructors_only():
    """The students' servers load the Assignments tab and not formgrader; their JupyterLab hides
    formgrader and Create Assignment. The instructor's loads both."""
    def extensions(role):
        with open(os.path.join(DEPLOY, role, "jupyter_server_config.json"), encoding="utf-8") as f:
            return json.load(f)["ServerApp"]["jpserver_extensions"]
    student, instructor = extensions("student"), extensions("instructor")
    assert student["nbgrader.server_extensions.formgrader"] is False
    assert instructor["nbgrader.server_extensions.formgrader"] is True
    for both in (student, instructor):
        assert both["nbgrader.server_extensions.assignment_list"] is True
    with open(os.path.join(DEPLOY, "student", "labconfig", "page_config.json"), encoding="utf-8") as f:
        hidden = json.load(f)["disabledExtensions"]
    assert hidden == {"@jupyter/nbgrader:formgrader": True, "@jupyter/nbgrader:create-assignment": True}
    assert not os.path.exists(os.path.join(DEPLOY, "instructor", "labconfig"))


@pytest.mark.parametrize("role", ["instructor", "student"])
def test_nbgrader_config_of_each_role(monkeypatch, tmp_path, role):
    """Both name the course and the exchange the hub passes; only the instructor's names a course
    root, in the instructor's home."""
    from traitlets.config import Config
    monkeypatch.setenv("RNN_COURSE_ID", "c1")
    monkeypatch.setenv("RNN_COURSE_EXCHANGE", str(tmp_path / "x"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    c = Config()
    path = os.path.join(DEPLOY, role, "nbgrader_config.py")
    with open(path, encoding="utf-8") as f:
        exec(compile(f.read(), path, "exec"), {"get_config": lambda: c})
    assert c.CourseDirectory.course_id == "c1" and c.Exchange.root == str(tmp_path / "x")
    if role == "instructor":
        assert c.CourseDirectory.root == str(tmp_path / "home" / "rnn-course")
    else:
        assert "root" not in c.CourseDirectory
