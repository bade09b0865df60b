"""A verdict reached from returned values alone (checks.judge) is the verdict evaluate() reaches
with the function at hand: the same pass or fail, the same message, the same named mistake.

This is what lets the grader judge a function that ran in another (sandboxed) process.
"""
import numpy as np
import pytest

from rnnkit import checks
from rnnkit.grading import keys
from tests.mutation import student
from tests.test_checks_bptt import MUTANT_PARAMS as BPTT_MUTANTS
from tests.test_checks_bptt import nb02  # noqa: F401  (fixture)
from tests.test_checks_rnn_fundamentals import MUTANT_PARAMS as RNN_MUTANTS

SOLUTIONS = [("01_rnn_fundamentals", e.name) for e in keys.for_notebook("01_rnn_fundamentals")] + \
            [("02_bptt", e.name) for e in keys.for_notebook("02_bptt")]


def judged(exercise, fn, hidden):
    cases = exercise.select(hidden)
    returned = [checks.call_case(exercise, fn, case) for case in cases]
    return checks.judge(exercise, cases, returned)


def same(a, b):
    assert (a.passed, a.mistake) == (b.passed, b.mistake)
    # evaluate() adds a note when a helper the function calls fails its own check: judge() has
    # no function to look into, so its message is the same without that note.
    assert a.message == "\n".join(l for l in b.message.splitlines() if not l.startswith("  Note: "))


@pytest.mark.parametrize("hidden", [False, True], ids=["visible", "hidden"])
@pytest.mark.parametrize("notebook, name", SOLUTIONS)
def test_solutions_pass_both_ways(notebook, name, hidden, request):
    ns = request.getfixturevalue({"01_rnn_fundamentals": "nb01", "02_bptt": "nb02"}[notebook])
    exercise = keys.get(name)
    a, b = judged(exercise, ns[name], hidden), checks.evaluate(name, ns[name], hidden)
    assert a.passed
    same(a, b)


@pytest.mark.parametrize("exercise_name, mistake, occurrence, source", RNN_MUTANTS[::3])
def test_mutants_of_01_get_the_same_verdict(nb01, exercise_name, mistake, occurrence, source):
    fn = student(nb01, source, exercise_name)
    exercise = keys.get(exercise_name)
    a, b = judged(exercise, fn, False), checks.evaluate(exercise_name, fn)
    assert not a.passed and a.mistake == mistake
    same(a, b)


@pytest.mark.parametrize("exercise_name, mistake, occurrence, source", BPTT_MUTANTS[::3])
def test_mutants_of_02_get_the_same_verdict(nb02, exercise_name, mistake, occurrence, source):
    fn = student(nb02, source, exercise_name)
    exercise = keys.get(exercise_name)
    a, b = judged(exercise, fn, True), checks.evaluate(exercise_name, fn, hidden=True)
    assert not a.passed
    same(a, b)


def test_right_values_without_the_required_helper_call_fail(nb01):
    exercise = keys.get("rnn_forward")
    cases = exercise.select(False)
    returned = [checks.call_case(exercise, nb01["rnn_forward"], case) for case in cases]
    assert checks.judge(exercise, cases, returned, calls={"rnn_cell_forward": 3}).passed
    result = checks.judge(exercise, cases, returned, calls={"rnn_cell_forward": 0})
    assert not result.passed
    assert "never calls rnn_cell_forward" in result.message


def test_a_problem_reported_from_elsewhere_fails_with_its_message():
    exercise = keys.get("rnn_cell_forward")
    cases = exercise.select(False)
    returned = [checks.Returned(problem="it raises NotImplementedError: it is not implemented yet")] * len(cases)
    result = checks.judge(exercise, cases, returned)
    assert not result.passed
    assert "On case " in result.message and "not implemented yet" in result.message


def test_each_case_reference_is_made_once_per_process(nb01, monkeypatch):
    """The grader judges every submission on the same cases: their references are computed once."""
    exercise = keys.get("rnn_forward")
    cases = exercise.select(True)
    made = []
    real = checks._reference
    monkeypatch.setattr(checks, "_reference", lambda e, inputs: made.append(e.name) or real(e, inputs))
    monkeypatch.setattr(checks, "_REFERENCES", {})
    returned = [checks.call_case(exercise, nb01["rnn_forward"], case) for case in cases]
    first = checks.judge(exercise, cases, returned)
    second = checks.judge(exercise, cases, returned)
    assert made == ["rnn_forward"] * len(cases)
    assert first.passed and (first.message, first.mistake) == (second.message, second.mistake)


def test_each_mistake_output_is_computed_once_per_process(monkeypatch):
    """A class repeats its mistakes: what a catalogued mistake returns on a case is computed once."""
    import dataclasses
    exercise = keys.get("rnn_cell_forward")
    mistake = next(m for m in exercise.mistakes if m.output is not None)
    calls = []
    counted = dataclasses.replace(mistake, output=lambda **kw: calls.append(1) or mistake.output(**kw))
    monkeypatch.setattr(exercise, "mistakes", [counted] + [m for m in exercise.mistakes if m is not mistake])
    monkeypatch.setattr(checks, "_MISTAKE_OUTPUTS", {})

    def makes_it(x_t, h_prev, Wx, Wh, b):          # a student's sigmoid cell
        return 1 / (1 + np.exp(-(x_t @ Wx + h_prev @ Wh + b)))

    assert mistake.name == "sigmoid instead of tanh"
    first = checks.evaluate(exercise, makes_it, hidden=True)      # the declaration computes them
    computed = len(calls)
    second = checks.evaluate(exercise, makes_it, hidden=True)
    assert first.mistake == second.mistake == mistake.name
    assert first.message == second.message
    assert 0 < computed == len(calls) <= len(exercise.select(True))
