"""The checks of notebook 01_rnn_fundamentals, exercised the way students will exercise them.

What is checked:

* that the solutions pass, that every catalogued mistake's mutant (tests/mutants/) is named on
  the visible and the hidden cases, and that nothing a student hands a check makes it raise:
  tests/test_contract.py, for every notebook at once; here, that each mutant returns what its
  catalogue entry returns;
* rnn_forward has to be built from rnn_cell_forward (the structural "does not use" check);
* generic failures (not implemented, no return, wrong shape, an error in the student's code, a
  non-callable) give one readable message and no exception ever escapes evaluate();
* inputs have the case's dtype (that they depend on the case alone: tests/test_contract.py);
* the student's function gets copies of the inputs;
* check() prints on success and raises CheckFailed (an AssertionError) with the message on failure;
* a failing check writes nothing to stderr (nbgrader scores a cell that does 0).

"""
import sys

import numpy as np
import pytest

from rnnkit import checks
from rnnkit.checks import CheckFailed, check, evaluate
from rnnkit.grading import keys
from tests import mutants
from tests.mutation import assert_fails_naming, catalogued, student, warnings_to_stderr
from tests.mutants.rnn_fundamentals import MUTANTS

NOTEBOOK = "01_rnn_fundamentals"
EXERCISES = keys.for_notebook(NOTEBOOK)
EXERCISE_NAMES = [e.name for e in EXERCISES]
MUTANT_PARAMS = mutants.params(NOTEBOOK)


# ----------------------------------------------------------------------------- helpers
# ----------------------------------------------------------------------------- correct solutions
def test_notebook_declares_the_six_exercises():
    assert EXERCISE_NAMES == ["rnn_cell_forward", "rnn_forward", "dense_softmax", "many_to_one",
                              "one_to_many", "encoder_decoder"]
    for exercise in EXERCISES:
        assert exercise.select(hidden=False), f"{exercise.name} has no visible case"
        assert exercise.select(hidden=True), f"{exercise.name} has no hidden case"


# ----------------------------------------------------------------------------- mutation tests
@pytest.mark.parametrize("exercise_name, mistake, occurrence, source", MUTANT_PARAMS)
def test_mutant_reproduces_its_catalogue_entry(nb01, exercise_name, mistake, occurrence, source):
    """The mutant returns what its catalogue entry says the mistake returns (so it is faithful)."""
    exercise = keys.get(exercise_name)
    entry = catalogued(exercise_name, mistake, occurrence)
    fn = student(nb01, source, exercise_name)
    compared = 0
    for case in exercise.select(hidden=False):
        inputs = checks.make_inputs(exercise, case)
        try:
            with np.errstate(all="ignore"):
                got = fn(*[checks._copy(inputs[a]) for a in exercise.args])
        except ValueError:
            continue  # a shape-dependent mistake (e.g. swapped weights) cannot run on this case
        with np.errstate(all="ignore"):
            expected = entry.output(**checks._copy(inputs))
        got = got if isinstance(got, tuple) else (got,)
        expected = expected if isinstance(expected, tuple) else (expected,)
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            np.testing.assert_allclose(np.asarray(g, np.float64), np.asarray(e, np.float64),
                                       atol=exercise.atol, rtol=exercise.rtol, equal_nan=True,
                                       err_msg=f"case {case.label}")
        compared += 1
    assert compared, "the mutant raised on every visible case"


def test_rnn_forward_must_call_rnn_cell_forward(nb01):
    fn = student(nb01, """
def rnn_forward(x, h0, Wx, Wh, b):
    h = h0
    states = []
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ Wx + h @ Wh + b)
        states.append(h)
    return np.stack(states, axis=1), h
""", "rnn_forward")
    result = evaluate("rnn_forward", fn)
    assert not result.passed, result.message
    assert result.mistake == "does not use rnn_cell_forward"
    assert "does not use rnn_cell_forward" in result.message
    assert "never calls rnn_cell_forward" in result.message
    # The spy is removed again: the namespace holds the student's own helper afterwards.
    assert fn.__globals__["rnn_cell_forward"] is nb01["rnn_cell_forward"]


def test_wrong_helper_is_pointed_out(nb01):
    """rnn_forward built on a broken rnn_cell_forward: the message says to fix the helper first."""
    fn = student(nb01, MUTANTS["rnn_cell_forward"][3][1] + """
def rnn_forward(x, h0, Wx, Wh, b):
    h = h0
    states = []
    for t in range(x.shape[1]):
        h = rnn_cell_forward(x[:, t], h, Wx, Wh, b)
        states.append(h)
    return np.stack(states, axis=1), h
""", "rnn_forward")
    result = evaluate("rnn_forward", fn)
    assert not result.passed
    assert "your rnn_cell_forward does not pass its own check yet" in result.message, result.message


# ----------------------------------------------------------------------------- generic failures
def test_missing_return(nb01):
    fn = student(nb01, """
def rnn_cell_forward(x_t, h_prev, Wx, Wh, b):
    h_next = np.tanh(x_t @ Wx + h_prev @ Wh + b)
""")
    result = evaluate("rnn_cell_forward", fn)
    assert not result.passed
    assert "returned None" in result.message and "return" in result.message, result.message


def test_wrong_shape(nb01):
    fn = student(nb01, """
def rnn_cell_forward(x_t, h_prev, Wx, Wh, b):
    return np.tanh(x_t @ Wx + h_prev @ Wh + b).T
""")
    result = evaluate("rnn_cell_forward", fn)
    assert not result.passed
    assert "shape" in result.message, result.message
    assert "expected (N, H) = (3, 5)" in result.message, result.message


def test_wrong_number_of_outputs(nb01):
    fn = student(nb01, """
def rnn_forward(x, h0, Wx, Wh, b):
    h = h0
    for t in range(x.shape[1]):
        h = rnn_cell_forward(x[:, t], h, Wx, Wh, b)
    return h
""")
    result = evaluate("rnn_forward", fn)
    assert not result.passed
    assert "expected a tuple (h_seq, h_last)" in result.message, result.message


def test_error_in_student_code_shows_the_line_not_a_traceback(nb01):
    fn = student(nb01, """
def rnn_cell_forward(x_t, h_prev, Wx, Wh, b):
    a = x_t @ Wx + h_prev @ Wh
    return np.tanh(a + bias)
""")
    result = evaluate("rnn_cell_forward", fn)
    assert not result.passed
    assert "NameError" in result.message, result.message
    assert "line 4: return np.tanh(a + bias)" in result.message, result.message
    assert "Traceback" not in result.message
    assert 'File "' not in result.message


def test_numpy_error_in_student_code_shows_the_line(nb01):
    fn = student(nb01, """
def dense_softmax(h_seq, Wy, by):
    logits = np.dot(Wy, h_seq) + by
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
""")
    result = evaluate("dense_softmax", fn)
    assert not result.passed
    assert "ValueError" in result.message, result.message
    assert "line 3: logits = np.dot(Wy, h_seq) + by" in result.message, result.message
    assert "Traceback" not in result.message


class _Unconvertible:
    def __array__(self, *args, **kwargs):
        raise RuntimeError("cannot be converted")


WEIRD = {
    "not callable (int)": 3,
    "not callable (None)": None,
    "not callable (array)": np.zeros(3),
    "returns a string": lambda *a: "h_next",
    "returns a dict": lambda *a: {"h": 1},
    "returns an object": lambda *a: object(),
    "returns an unconvertible object": lambda *a: _Unconvertible(),
    "returns a ragged list": lambda *a: [[1.0, 2.0], [3.0]],
    "returns complex numbers": lambda *a: np.ones((3, 5)) * 1j,
    "returns a tuple of arrays": lambda x_t, h_prev, Wx, Wh, b: (h_prev, h_prev),
    "returns an empty tuple": lambda *a: (),
    "returns a generator": lambda *a: (v for v in a),
    "returns NaN": lambda x_t, h_prev, Wx, Wh, b: np.full(h_prev.shape, np.nan),
    "returns inf": lambda x_t, h_prev, Wx, Wh, b: np.full(h_prev.shape, np.inf),
    "returns a scalar": lambda *a: 0.5,
    "takes no arguments": lambda: None,
    "raises TypeError": lambda *a: None + 1,
    "raises a custom exception": lambda *a: (_ for _ in ()).throw(ArithmeticError("boom")),
    "infinite recursion": None,  # filled in below
}


def _recurse(*args):
    return _recurse(*args)


WEIRD["infinite recursion"] = _recurse


# The ComplexWarning of a complex result is an engine problem of its own (see
# test_complex_result_writes_nothing_to_stderr); here only "nothing escapes" is checked.
WEIRD_PARAMS = [
    pytest.param(fn, id=label, marks=[pytest.mark.filterwarnings("ignore::numpy.exceptions.ComplexWarning")]
                 if "complex" in label else [])
    for label, fn in WEIRD.items()
]


@pytest.mark.parametrize("fn", WEIRD_PARAMS)
def test_no_exception_escapes_evaluate(fn):
    result = evaluate("rnn_cell_forward", fn)
    assert not result.passed
    assert isinstance(result.message, str) and result.message.startswith("rnn_cell_forward")
    assert "Traceback" not in result.message
    assert "The checker itself failed" not in result.message, result.message


def test_system_exit_does_not_escape_evaluate():
    result = evaluate("rnn_cell_forward", lambda *a: sys.exit(1))
    assert not result.passed
    assert "sys.exit" in result.message


def test_not_callable_is_explained():
    result = evaluate("rnn_cell_forward", 3)
    assert not result.passed
    assert "expected a function, got int" in result.message


def test_unknown_exercise_does_not_raise(nb01):
    result = evaluate("no_such_exercise", nb01["rnn_cell_forward"])
    assert not result.passed
    assert "no_such_exercise" in result.message
    assert "not your fault" in result.message


# ----------------------------------------------------------------------------- RNG independence
RECORDING_CELL = """
recorded = []

def rnn_cell_forward(x_t, h_prev, Wx, Wh, b):
    recorded.append([a.copy() for a in (x_t, h_prev, Wx, Wh, b)])
    np.random.seed(7)
    noise = np.random.rand(*h_prev.shape)
    rng = np.random.default_rng()
    rng.normal(size=5)
    return np.tanh(x_t @ Wx + h_prev @ Wh + b) + 0 * noise
"""


@pytest.mark.parametrize("hidden", [False, True], ids=["visible", "hidden"])
def test_inputs_do_not_depend_on_the_global_rng(nb01, hidden):
    runs = []
    for prepare in (lambda: np.random.seed(0),
                    lambda: (np.random.seed(123), np.random.rand(17), np.random.normal(size=3))):
        fn = student(nb01, RECORDING_CELL, "rnn_cell_forward")
        prepare()
        result = evaluate("rnn_cell_forward", fn, hidden=hidden)
        assert result.passed, result.message
        runs.append(fn.__globals__["recorded"])
    first, second = runs
    assert len(first) == len(second) == len(keys.get("rnn_cell_forward").select(hidden))
    for a_case, b_case in zip(first, second):
        for a, b in zip(a_case, b_case):
            np.testing.assert_array_equal(a, b)


def test_inputs_have_the_case_dtype():
    for exercise in EXERCISES:
        for case in exercise.cases:
            for key, value in checks.make_inputs(exercise, case).items():
                arrays = value if isinstance(value, tuple) else (value,)
                for a in arrays:
                    if isinstance(a, np.ndarray):
                        assert a.dtype == np.dtype(case.dtype), f"{exercise.name} {case.label} {key}"


# ----------------------------------------------------------------------------- copies and check()
def test_in_place_changes_to_inputs_fail_and_leave_the_cases_whole(nb01):
    """Changing the inputs in place fails (a later cell would see them changed); the case's own
    inputs stay whole."""
    fn = student(nb01, """
def rnn_cell_forward(x_t, h_prev, Wx, Wh, b):
    h_next = np.tanh(x_t @ Wx + h_prev @ Wh + b)
    x_t *= 0
    h_prev *= 0
    Wx *= 0
    Wh[:] = 0
    b += 100
    return h_next
""")
    for hidden in (False, True):
        result = evaluate("rnn_cell_forward", fn, hidden=hidden)
        assert not result.passed and "in place: work on a copy" in result.message, result.message
    # The recorded inputs of each case are the case's own, untouched.
    exercise = keys.get("rnn_cell_forward")
    for r in result.cases:
        fresh = checks.make_inputs(exercise, r.case)
        for key in exercise.args:
            np.testing.assert_array_equal(r.inputs[key], fresh[key])


def test_in_place_changes_do_not_hide_a_mistake(nb01):
    """The mistake is recognised from the original inputs, not from the student's zeroed copies."""
    fn = student(nb01, """
def rnn_cell_forward(x_t, h_prev, Wx, Wh, b):
    h_next = np.tanh(x_t @ Wx + h_prev @ Wh)
    x_t *= 0
    Wx *= 0
    b *= 0
    return h_next
""")
    assert_fails_naming(evaluate("rnn_cell_forward", fn), "bias missing")


def test_in_place_changes_to_tuple_inputs_fail(nb01):
    """Arrays inside the tuples of weights count as arguments too."""
    fn = student(nb01, """
def encoder_decoder(x, h0, enc, dec, Wy, by, Ty):
    _, h_enc = rnn_forward(x, h0, *enc)
    start = np.zeros((x.shape[0], Wy.shape[1]))
    probs = one_to_many(start, h_enc, *dec, Wy, by, Ty)
    for w in enc + dec:
        w *= 0
    x[:] = 0
    return probs
""")
    result = evaluate("encoder_decoder", fn)
    assert not result.passed and "in place: work on a copy" in result.message, result.message


def test_check_prints_on_success(nb01, capsys):
    check("rnn_cell_forward", nb01["rnn_cell_forward"])
    out = capsys.readouterr().out
    assert out.startswith("rnn_cell_forward matches keras.layers.SimpleRNNCell on 2 visible cases")
    assert out.endswith("\n") and out.count("\n") == 1


def test_check_prints_on_hidden_success(nb01, capsys):
    check("dense_softmax", nb01["dense_softmax"], hidden=True)
    assert "dense_softmax matches" in capsys.readouterr().out


def test_check_raises_check_failed_with_the_message(nb01, capsys):
    fn = student(nb01, MUTANTS["rnn_cell_forward"][0][1], "rnn_cell_forward")
    with pytest.raises(CheckFailed) as info:
        check("rnn_cell_forward", fn)
    assert isinstance(info.value, AssertionError)
    assert str(info.value) == evaluate("rnn_cell_forward", fn).message
    assert "sigmoid instead of tanh" in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert capsys.readouterr().out == ""


def test_check_raises_on_not_implemented(nb01):
    fn = student(nb01, "def rnn_cell_forward(x_t, h_prev, Wx, Wh, b):\n    raise NotImplementedError()\n")
    with pytest.raises(AssertionError, match="not implemented"):
        check("rnn_cell_forward", fn)


# ----------------------------------------------------------------------------- stderr
def _overflow_source():
    return dict(MUTANTS["dense_softmax"])["overflow on large logits (no max shift)"]


def test_stderr_harness_sees_a_numpy_warning(nb01, capfd):
    """The harness of the stderr tests can fail: outside a check the overflow mutant does warn."""
    fn = student(nb01, _overflow_source(), "dense_softmax")
    exercise = keys.get("dense_softmax")
    inputs = checks.make_inputs(exercise, exercise.select(hidden=False)[1])
    capfd.readouterr()
    with warnings_to_stderr():
        fn(**inputs)
    assert "overflow encountered in exp" in capfd.readouterr().err


def test_failing_overflow_check_writes_nothing_to_stderr(nb01, capfd):
    evaluate("dense_softmax", nb01["dense_softmax"])  # TensorFlow is loaded before capturing
    fn = student(nb01, _overflow_source(), "dense_softmax")
    capfd.readouterr()
    with warnings_to_stderr():
        for hidden in (False, True):
            result = evaluate("dense_softmax", fn, hidden=hidden)
            assert not result.passed
        with pytest.raises(CheckFailed):
            check("dense_softmax", fn)
        visible = evaluate("dense_softmax", fn)
    captured = capfd.readouterr()
    assert captured.err == ""
    assert captured.out == ""
    assert visible.mistake == "overflow on large logits (no max shift)"


def test_complex_result_fails_and_writes_nothing_to_stderr(nb01, capfd):
    fn = student(nb01, """
def rnn_cell_forward(x_t, h_prev, Wx, Wh, b):
    z = x_t @ Wx + h_prev @ Wh + b
    return np.tanh(z.astype(complex))
""")
    evaluate("rnn_cell_forward", nb01["rnn_cell_forward"])
    capfd.readouterr()
    with warnings_to_stderr():
        result = evaluate("rnn_cell_forward", fn)
    assert capfd.readouterr().err == ""
    assert not result.passed and "complex" in result.message


def test_overflow_message_mentions_nan(nb01):
    fn = student(nb01, _overflow_source(), "dense_softmax")
    result = evaluate("dense_softmax", fn)
    assert "visible large logits" in result.message, result.message
    assert "NaN or inf" in result.message, result.message


def test_warnings_do_not_leak_out_of_a_check(nb01, recwarn):
    fn = student(nb01, """
import warnings

def dense_softmax(h_seq, Wy, by):
    warnings.warn("student warning")
    e = np.exp(h_seq @ Wy + by)
    return e / e.sum(axis=-1, keepdims=True)
""", "dense_softmax")
    with np.errstate(all="raise"):
        result = evaluate("dense_softmax", fn)
    assert not result.passed
    assert len(recwarn) == 0, [str(w.message) for w in recwarn]
