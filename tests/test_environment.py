"""environment.yml stays a thin wrapper: conda's Python plus the student package installed by pip.

Dependencies are listed once, in pyproject.toml; environment.yml must not grow a second list that
could drift from it, and its Python must be one pyproject allows. It is what a JupyterHub student
image installs: the student package alone, not editable (an editable install would put the
checkout, the instructor's side with it, on the path).
"""
import os
import tomllib

import yaml
from packaging.specifiers import SpecifierSet

from tests.conftest import ROOT


def _environment():
    with open(os.path.join(ROOT, "environment.yml"), encoding="utf-8") as f:
        return yaml.safe_load(f)


def _pyproject():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        return tomllib.load(f)


def test_environment_parses_and_names_a_channel():
    env = _environment()
    assert env["name"] and env["channels"], env
    assert isinstance(env["dependencies"], list)


def test_environment_python_is_allowed_by_pyproject():
    pythons = [d for d in _environment()["dependencies"] if isinstance(d, str) and d.startswith("python")]
    assert len(pythons) == 1, pythons
    version = pythons[0].split("=")[-1]
    assert version in SpecifierSet(_pyproject()["project"]["requires-python"]), version


def test_environment_installs_the_student_package_and_nothing_else():
    deps = _environment()["dependencies"]
    conda = [d for d in deps if isinstance(d, str)]
    assert sorted(d.split("=")[0] for d in conda) == ["pip", "python"], conda
    pip = [d for d in deps if isinstance(d, dict)]
    assert pip == [{"pip": ["."]}], pip


def test_the_student_package_leaves_the_instructors_side_out():
    """pyproject.toml (what `pip install .` builds) excludes rnnkit/grading, which has its own."""
    found = _pyproject()["tool"]["setuptools"]
    assert "rnnkit.grading" in found["packages"]["find"]["exclude"]
    assert found["include-package-data"] is False
    assert "scripts" not in _pyproject()["project"], "the instructor's commands belong to rnnkit-grading"
    with open(os.path.join(ROOT, "rnnkit", "grading", "pyproject.toml"), "rb") as f:
        grading = tomllib.load(f)["project"]
    assert grading["name"] == "rnnkit-grading"
    assert grading["entry-points"]["rnnkit.answer_keys"] == {"keys": "rnnkit.grading.keys"}
