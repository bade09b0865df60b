"""The student release: regenerated from solutions/, never stale, never leaking solutions."""
import filecmp
import json
import os
import re

import pytest

from rnnkit.grading import examples, release, workspace
from tests.conftest import ROOT, solution_path

ASSIGNMENTS = workspace.assignments()


def _cells(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)["cells"]


@pytest.fixture(scope="module")
def fresh_release(tmp_path_factory):
    dest = tmp_path_factory.mktemp("release")
    release.release(dest=str(dest))
    return dest


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_course_matches_a_fresh_release(fresh_release, assignment):
    """course/ must be exactly what `make release` generates from solutions/."""
    ours = os.path.join(ROOT, "course", assignment, f"{assignment}.ipynb")
    fresh = fresh_release / assignment / f"{assignment}.ipynb"
    assert os.path.exists(ours), f"{ours} missing: run `make release`"
    assert _cells(ours) == _cells(fresh), f"{ours} is stale: run `make release` and commit course/"
    assert filecmp.cmp(os.path.join(ROOT, "course", "README.md"), fresh_release / "README.md", shallow=False)


def _solution_lines(assignment):
    lines = []
    for cell in _cells(solution_path(assignment)):
        text = "".join(cell["source"])
        bodies = re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", text, re.S)
        if cell["cell_type"] == "markdown" and cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            bodies = [text]            # a written answer: nbgrader replaces the whole cell
        for body in bodies:
            lines += [l.strip() for l in body.splitlines() if len(l.strip()) > 12]
    return lines


def _given_text(assignment):
    """The source notebook's text outside solution regions and hidden tests."""
    parts = []
    for cell in _cells(solution_path(assignment)):
        text = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            continue
        text = re.sub(r"### BEGIN SOLUTION\n.*?### END SOLUTION", "", text, flags=re.S)
        parts.append(re.sub(r"### BEGIN HIDDEN TESTS\n.*?### END HIDDEN TESTS", "", text, flags=re.S))
    return "\n".join(parts)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_holds_no_solution_or_hidden_test(assignment):
    text = open(os.path.join(ROOT, "course", assignment, f"{assignment}.ipynb"), encoding="utf-8").read()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "hidden=True"):
        assert marker not in text
    given = _given_text(assignment)      # a line the notebook also gives away elsewhere is no leak
    leaked = [l for l in _solution_lines(assignment) if l in text and l not in given]
    assert not leaked, f"solution lines in the release: {leaked}"
    assert _solution_lines(assignment), "the solution notebook has no solution code?"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_notebooks_are_stored_without_outputs(assignment):
    for cell in _cells(solution_path(assignment)):
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None


def test_examples_are_up_to_date(tmp_path):
    """autograde/examples/ must be what `make examples` builds from the current release."""
    examples.build(dest=str(tmp_path))
    committed = os.path.join(ROOT, "autograde", "examples")
    for folder, _, files in os.walk(tmp_path):
        for name in files:
            fresh = os.path.join(folder, name)
            ours = os.path.join(committed, os.path.relpath(fresh, tmp_path))
            assert os.path.exists(ours) and filecmp.cmp(ours, fresh, shallow=False), \
                f"{ours} is stale: run `make examples`"
