"""The student release: regenerated from solutions/, never stale, never leaking solutions."""
import filecmp
import json
import os
import re

import pytest

from rnnkit.grading import workspace
from rnnkit.grading.release import examples, course
from tests.conftest import ROOT, solution_path

ASSIGNMENTS = workspace.assignments()


def _cells(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)["cells"]


@pytest.fixture(scope="module")
def fresh_release(tmp_path_factory):
    dest = tmp_path_factory.mktemp("release")
    course.release(dest=str(dest))
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


# ----------------------------------------------------------------------------- the views
def _same_data(a, b, where, arrays_a, arrays_b):
    """Equal structure and text; numbers and arrays equal but for floating-point noise between
    machines (float32 mistake outputs to 1e-5, the rest to 1e-9, relative)."""
    import numpy as np
    assert type(a) is type(b), where
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        if a.get("t") == "array":
            x, y = arrays_a[a["k"]], arrays_b[b["k"]]
            assert x.dtype == y.dtype and x.shape == y.shape, where
            if x.dtype.kind == "f":
                rtol = 1e-5 if x.dtype == np.float32 else 1e-9
                assert np.allclose(x, y, rtol=rtol, atol=1e-12, equal_nan=True), where
            else:
                assert np.array_equal(x, y), where
            return
        for k in a:
            if k != "k":
                _same_data(a[k], b[k], f"{where}.{k}", arrays_a, arrays_b)
    elif isinstance(a, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _same_data(x, y, f"{where}[{i}]", arrays_a, arrays_b)
    elif isinstance(a, float):
        assert abs(a - b) <= 1e-9 * max(abs(a), abs(b)) + 1e-12 or a == b, where
    else:
        assert a == b, where


def _view(notebook, folder):
    import numpy as np
    from rnnkit import views
    json_path, npz_path = views.paths(notebook, folder)
    with open(json_path, encoding="utf-8") as f:
        doc = json.load(f)
    with np.load(npz_path, allow_pickle=False) as npz:
        return doc, {k: npz[k] for k in npz.files}


def test_views_match_the_answer_keys(tmp_path):
    """rnnkit/exercises/views/ is what `make release` writes from the answer keys."""
    from rnnkit import views
    from rnnkit.grading.release import views as writer
    written = writer.write_all(str(tmp_path))
    assert written == ASSIGNMENTS
    assert views.notebooks() == ASSIGNMENTS, "a view is missing or extra: run `make release`"
    for notebook in written:
        ours, fresh = _view(notebook, views.VIEWS_DIR), _view(notebook, str(tmp_path))
        _same_data(ours[0], fresh[0], notebook, ours[1], fresh[1])


def test_views_hold_data_and_only_the_inputs_classes():
    """Plain JSON and arrays (no pickles); the only objects are inputs of the student package."""
    from rnnkit import views

    def classes(node):
        if isinstance(node, dict):
            found = {node["class"]} if node.get("t") == "object" else set()
            return found.union(*[classes(v) for v in node.values()])
        if isinstance(node, list):
            return set().union(*[classes(v) for v in node]) if node else set()
        return set()
    found = set()
    for notebook in views.notebooks():
        doc, _ = _view(notebook, views.VIEWS_DIR)
        found |= classes(doc)
        for record in doc["exercises"]:
            assert {"make_inputs", "hidden"}.isdisjoint(record), record["name"]
            # A reference is only named, and only where it is a Keras call of the student package.
            assert record["reference"] is None or record["reference"].startswith("rnnkit.reference:")
            assert all(not case.get("hidden") for case in record["cases"])
    assert found == {"rnnkit.exercises.bptt:Objective", "rnnkit.exercises.image_captioning:StepFunction",
                     "rnnkit.exercises.bidirectional_stacked:RNNFunction",
                     "rnnkit.exercises.time_series:WindowModel", "rnnkit.exercises.music:LSTMStep"}
