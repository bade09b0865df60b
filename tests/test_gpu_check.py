"""rnnkit.grading.gpu_check, the GPU table, run here as its dry run (no GPU: the CPU against
itself) on whichever backend the suite runs on (TensorFlow, and JAX in `make test-jax`).

What the table says is tested with references and solutions made to disagree: a reference that
moves between devices, a failing solution, a library the machine lacks.
"""
import dataclasses
import io
import os

import numpy as np
import pytest

from rnnkit import runtime
from rnnkit.grading import gpu_check, keys
from tests.conftest import ROOT

SOLUTIONS = os.path.join(ROOT, "solutions")
keras = runtime.import_keras()


@pytest.fixture(autouse=True)
def fast(monkeypatch):
    monkeypatch.setenv("RNNKIT_FAST", "1")


def test_dry_run_prints_one_agreeing_row_per_exercise():
    """One exercise of each kind of solution notebook: a NumPy function with a given helper
    (rnn_backward uses rnn_forward), a function given an Objective, a Keras-layer comparison."""
    out = io.StringIO()
    names = ("rnn_backward", "numerical_gradient", "masked_rnn_forward")
    assert gpu_check.run(SOLUTIONS, only=names, out=out), out.getvalue()
    text = out.getvalue()
    assert f"on {keras.backend.backend()}" in text and "no GPU" in text
    rows = {line.split()[0]: line for line in text.splitlines() if line.split() and line.split()[0] in names}
    assert set(rows) == set(names), text
    for row in rows.values():
        assert "same (0 of tolerance)" in row and " pass " in row, row
    assert text.rstrip().splitlines()[-1].startswith("all agree")


def _with_reference(exercise, reference):
    return dataclasses.replace(exercise, reference=reference)


def test_a_reference_that_moves_between_devices_differs():
    exercise = keys.get("rnn_cell_forward")
    calls = []

    def moving(**inputs):
        calls.append(1)
        h = np.asarray(exercise.reference(**inputs), np.float64)
        return h + (exercise.atol if len(calls) % 2 == 0 else 0.0)     # every second run: the "GPU"

    status, worst = gpu_check.compare_reference(keras, _with_reference(exercise, moving), "cpu:0")
    assert status == "DIFFERS" and worst == pytest.approx(1.0, rel=0.5)


def test_a_reference_within_a_tenth_of_the_tolerance_is_the_same():
    exercise = keys.get("rnn_cell_forward")
    calls = []

    def jitter(**inputs):
        calls.append(1)
        return np.asarray(exercise.reference(**inputs), np.float64) + exercise.atol / 100 * (len(calls) % 2)

    status, worst = gpu_check.compare_reference(keras, _with_reference(exercise, jitter), "cpu:0")
    assert status == "same" and 0 < worst < 0.1


def test_a_missing_library_is_a_skip_naming_it():
    def needs_music21(**inputs):
        raise ModuleNotFoundError("No module named 'music21'", name="music21")

    exercise = _with_reference(keys.get("rnn_cell_forward"), needs_music21)
    assert gpu_check.compare_reference(keras, exercise, "cpu:0") == ("skipped: needs music21", None)


def test_a_failing_solution_is_reported_with_the_checks_message():
    def wrong(x_t, h_prev, Wx, Wh, b):
        return np.tanh(x_t @ Wx + h_prev @ Wh)       # forgets the bias

    status = gpu_check.check_solution(keras, keys.get("rnn_cell_forward"), wrong, "cpu:0")
    assert status.startswith("FAILS: rnn_cell_forward does not match"), status
    assert gpu_check.check_solution(keras, keys.get("rnn_cell_forward"), None, "cpu:0") == "no solution function"


def test_the_solution_loader_gives_the_helpers_a_graded_cell_sees():
    names = gpu_check.solution_functions(SOLUTIONS, "02_bptt", keras)
    assert callable(names["rnn_backward"]) and callable(names["rnn_forward"])
    assert names["keras"] is keras


def test_unknown_exercise_or_folder_is_refused(capsys):
    with pytest.raises(SystemExit) as stop:
        gpu_check.main(["--solutions", SOLUTIONS, "--only", "rnn_cel_forward"])
    assert stop.value.code == 2 and "no exercise named rnn_cel_forward" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        gpu_check.main(["--solutions", os.path.join(ROOT, "no-such-folder")])
    assert stop.value.code == 2 and "no solutions folder" in capsys.readouterr().err
