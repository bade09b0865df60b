"""The checks of notebook 02_bptt, exercised the way students will exercise them.

What is checked:

* that the solutions pass, that every catalogued mistake's mutant (tests/mutants/) is named on
  the visible and the hidden cases, and that nothing a student hands a check makes it raise:
  tests/test_contract.py, for every notebook at once; here, that each mutant returns what its
  catalogue entry returns;
* truncated_bptt_grads has to be built from rnn_backward (the structural "does not use" check),
  and a broken rnn_backward underneath it is pointed out;
* numerical_gradient: the student's f is a plain function returning a float, the student may
  scribble on the x it is given without changing what later cases or the reference see, a list
  is accepted as the gradient and a wrongly shaped gradient is reported readably;
* softmax_cross_entropy: the overflow mistake is named although its outputs are inf/NaN, and
  returning the loss alone asks for the tuple (loss, dlogits);
* rnn_backward: too few gradients, gradients in the wrong order, and an unimplemented function
  give one readable message, and no exception ever escapes evaluate();
* the student's function gets copies of the inputs (that they depend on the case alone:
  tests/test_contract.py);
* check() prints on success and raises CheckFailed (an AssertionError) with the message on failure;
* a failing check writes nothing to stderr (nbgrader scores a cell that does 0).

The solution cells of the source notebook hold the graded functions; the notebook's given (not
graded) rnn_forward cell, which rnn_backward and truncated_bptt_grads call, is read from the same
notebook so that these tests follow it.
"""
import json

import numpy as np
import pytest

from rnnkit import checks
from rnnkit.checks import CheckFailed, check, evaluate
from rnnkit.grading import keys
from tests.conftest import solution_path
from tests import mutants
from tests.mutation import assert_fails_naming, catalogued, student, warnings_to_stderr
from tests.mutants.bptt import GIVEN_HELPERS, MUTANTS

NOTEBOOK = "02_bptt"
EXERCISES = keys.for_notebook(NOTEBOOK)
EXERCISE_NAMES = [e.name for e in EXERCISES]
MUTANT_PARAMS = mutants.params(NOTEBOOK)


# ----------------------------------------------------------------------------- helpers
@pytest.fixture(scope="module")
def nb02():
    """The solution cells of 02_bptt, plus the notebook's given rnn_forward cell they call."""
    return mutants.namespace(NOTEBOOK)


def nb02_solution_source(name):
    """The source of the solution cell defining `name` (with its nbgrader markers)."""
    with open(solution_path(NOTEBOOK), encoding="utf-8") as f:
        nb = json.load(f)
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and source.lstrip().startswith(f"def {name}("):
            return "\n" + source + "\n"
    raise AssertionError(f"no cell defines {name}")


def mutant_source(exercise_name, mistake_name):
    return dict(MUTANTS[exercise_name])[mistake_name]


def assert_readable_failure(result, name):
    """A failure reported as one message: no traceback, no checker crash, no mistake guessed."""
    assert not result.passed, result.message
    assert isinstance(result.message, str) and result.message.startswith(name), result.message
    assert "Traceback" not in result.message and 'File "' not in result.message, result.message
    assert "The checker itself failed" not in result.message, result.message


def _call_directly(fn, exercise, inputs):
    with np.errstate(all="ignore"):
        return fn(*[checks._copy(inputs[a]) for a in exercise.args])


# ----------------------------------------------------------------------------- correct solutions
def test_notebook_declares_the_four_exercises():
    assert EXERCISE_NAMES == ["softmax_cross_entropy", "rnn_backward", "numerical_gradient",
                              "truncated_bptt_grads"]
    for exercise in EXERCISES:
        assert exercise.select(hidden=False), f"{exercise.name} has no visible case"
        assert exercise.select(hidden=True), f"{exercise.name} has no hidden case"
    assert keys.get("truncated_bptt_grads").must_call == ("rnn_backward",)


def test_namespace_holds_the_graded_functions_and_the_given_rnn_forward(nb02):
    for name in EXERCISE_NAMES + list(GIVEN_HELPERS):
        assert callable(nb02.get(name)), name
    # The given rnn_forward, run as the notebook's cell, has the values of Keras's SimpleRNN on
    # notebook 01's cases (it is written inline, so 01's "use rnn_cell_forward" rule is moot).
    result = evaluate("rnn_forward", nb02["rnn_forward"])
    assert result.cases and all(r.ok for r in result.cases), result.message


# ----------------------------------------------------------------------------- mutation tests
def test_catalogues_never_shrink():
    """Catalogues grow; these are the sizes they have reached."""
    floors = {"softmax_cross_entropy": 8, "rnn_backward": 8, "numerical_gradient": 4,
              "truncated_bptt_grads": 5}
    for e in EXERCISES:
        assert len(e.mistakes) >= floors[e.name], e.name


@pytest.mark.parametrize("exercise_name, mistake, occurrence, source", MUTANT_PARAMS)
def test_mutant_reproduces_its_catalogue_entry(nb02, exercise_name, mistake, occurrence, source):
    """The mutant returns what its catalogue entry says the mistake returns (so it is faithful)."""
    exercise = keys.get(exercise_name)
    entry = catalogued(exercise_name, mistake, occurrence)
    fn = student(nb02, source, exercise_name)
    for case in exercise.select(hidden=False) + exercise.select(hidden=True):
        inputs = checks.make_inputs(exercise, case)
        got = _call_directly(fn, exercise, inputs)
        with np.errstate(all="ignore"):
            expected = entry.output(**checks._copy(inputs))
        got = got if isinstance(got, tuple) else (got,)
        expected = expected if isinstance(expected, tuple) else (expected,)
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            np.testing.assert_allclose(np.asarray(g, np.float64), np.asarray(e, np.float64),
                                       atol=exercise.atol, rtol=exercise.rtol, equal_nan=True,
                                       err_msg=f"case {case.label}")


def test_truncated_mutants_call_rnn_backward(nb02):
    """The truncated_bptt_grads mutants are recognised by their values, not by a missing call."""
    exercise = keys.get("truncated_bptt_grads")
    inputs = checks.make_inputs(exercise, exercise.select(hidden=False)[0])
    for mistake, source in MUTANTS["truncated_bptt_grads"]:
        fn = student(nb02, source, "truncated_bptt_grads")
        calls = []
        correct = fn.__globals__["rnn_backward"]
        fn.__globals__["rnn_backward"] = lambda *a: calls.append(1) or correct(*a)
        _call_directly(fn, exercise, inputs)
        assert calls, f"the mutant {mistake!r} does not call rnn_backward"


# ----------------------------------------------------------------------------- truncated_bptt_grads
TRUNCATED_WITHOUT_RNN_BACKWARD = """
def truncated_bptt_grads(dh_seq, x, h0, Wx, Wh, b, k):
    h_seq, _ = rnn_forward(x, h0, Wx, Wh, b)
    T = x.shape[1]
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dh_next = np.zeros_like(h0)
    for t in reversed(range(T)):
        if (t + 1) % k == 0:
            dh_next = np.zeros_like(h0)  # the state entering the next chunk is a constant
        h = h_seq[:, t]
        h_prev = h_seq[:, t - 1] if t > 0 else h0
        da = (dh_seq[:, t] + dh_next) * (1 - h ** 2)
        dx[:, t] = da @ Wx.T
        dWx += x[:, t].T @ da
        dWh += h_prev.T @ da
        db += da.sum(axis=0)
        dh_next = da @ Wh.T
    dh0 = dh_next
    return dx, dh0, dWx, dWh, db
"""


def test_truncated_bptt_must_call_rnn_backward(nb02):
    fn = student(nb02, TRUNCATED_WITHOUT_RNN_BACKWARD, "truncated_bptt_grads")
    # The values are right: every case, visible and hidden, matches the reference.
    exercise = keys.get("truncated_bptt_grads")
    for case in exercise.cases:
        inputs = checks.make_inputs(exercise, case)
        got = _call_directly(fn, exercise, inputs)
        for g, e in zip(got, exercise.reference(**checks._copy(inputs))):
            np.testing.assert_allclose(g, e, atol=exercise.atol, rtol=exercise.rtol,
                                       err_msg=case.label)
    for hidden in (False, True):
        result = evaluate("truncated_bptt_grads", fn, hidden=hidden)
        assert not result.passed, result.message
        assert result.mistake == "does not use rnn_backward"
        assert "does not use rnn_backward" in result.message
        assert "never calls rnn_backward" in result.message
    # The spy is removed again: the namespace holds the student's own helper afterwards.
    assert fn.__globals__["rnn_backward"] is nb02["rnn_backward"]


def test_truncated_bptt_calling_rnn_backward_passes(nb02):
    """A correct version written differently from the solution (chunk list, keyword calls)."""
    fn = student(nb02, """
def truncated_bptt_grads(dh_seq, x, h0, Wx, Wh, b, k):
    h_seq, _ = rnn_forward(x, h0, Wx, Wh, b)
    T = x.shape[1]
    starts = list(range(0, T, k))
    grads = [np.zeros_like(a) for a in (x, h0, Wx, Wh, b)]
    for s in starts:
        e = min(s + k, T)
        h_start = h0 if s == 0 else h_seq[:, s - 1]
        dx, dh, dWx, dWh, db = rnn_backward(dh_seq=dh_seq[:, s:e], x=x[:, s:e], h0=h_start,
                                            Wx=Wx, Wh=Wh, b=b)
        grads[0][:, s:e] = dx
        if s == 0:
            grads[1] = dh
        grads[2] += dWx
        grads[3] += dWh
        grads[4] += db
    return tuple(grads)
""", "truncated_bptt_grads")
    for hidden in (False, True):
        result = evaluate("truncated_bptt_grads", fn, hidden=hidden)
        assert result.passed, result.message
    assert fn.__globals__["rnn_backward"] is nb02["rnn_backward"]


def test_wrong_rnn_backward_is_pointed_out(nb02):
    """truncated_bptt_grads built on a broken rnn_backward: the message says to fix it first."""
    fn = student(nb02, mutant_source("rnn_backward", "tanh derivative missing")
                 + nb02_solution_source("truncated_bptt_grads"), "truncated_bptt_grads")
    result = evaluate("truncated_bptt_grads", fn)
    assert_readable_failure(result, "truncated_bptt_grads")
    assert "your rnn_backward does not pass its own check yet" in result.message, result.message


# ----------------------------------------------------------------------------- numerical_gradient
def test_numerical_gradient_gets_a_callable_returning_a_float(nb02):
    fn = student(nb02, """
seen = []

def numerical_gradient(f, x, eps=1e-5):
    value = f(x)
    seen.append((callable(f), type(value), type(x), x.dtype, x.shape, type(eps), eps))
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        f_plus = f(x)
        x[idx] = old - eps
        f_minus = f(x)
        x[idx] = old
        grad[idx] = (f_plus - f_minus) / (2 * eps)
    return grad
""", "numerical_gradient")
    exercise = keys.get("numerical_gradient")
    for hidden in (False, True):
        result = evaluate("numerical_gradient", fn, hidden=hidden)
        assert result.passed, result.message
    seen = fn.__globals__["seen"]
    assert len(seen) == len(exercise.cases)
    for (is_callable, value_type, x_type, dtype, shape, eps_type, eps), case in zip(seen, exercise.cases):
        assert is_callable and value_type is float, case.label
        assert x_type is np.ndarray and dtype == np.float64, case.label
        assert shape == tuple(case.sizes["shape"]), case.label
        assert eps_type is float and eps == case.sizes.get("eps", 1e-5), case.label


def test_numerical_gradient_f_accepts_what_a_student_passes():
    """f works on a list, on float32 and on a copy; it returns a float and leaves x alone."""
    exercise = keys.get("numerical_gradient")
    for case in exercise.cases:
        inputs = checks.make_inputs(exercise, case)
        f, x = inputs["f"], inputs["x"]
        before = x.copy()
        value = f(x)
        assert type(value) is float and np.isfinite(value), case.label
        np.testing.assert_array_equal(x, before)
        assert f(x.tolist()) == value
        assert f(x.copy()) == value
        assert abs(f(x.astype(np.float32)) - value) < 1e-4 * max(1.0, abs(value))
        assert repr(f).startswith("f(x) = ")


NUMERICAL_GRADIENT_SCRIBBLER = """
entries = []

def numerical_gradient(f, x, eps=1e-5):
    entries.append(x.copy())
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        x[idx] += eps
        f_plus = f(x)
        x[idx] -= 2 * eps
        f_minus = f(x)
        x[idx] += eps
        grad[idx] = (f_plus - f_minus) / (2 * eps)
    x[...] = 0.0          # the student clears "their" x afterwards
    return grad
"""


def test_numerical_gradient_that_clears_x_fails_and_the_cases_stay_whole(nb02):
    fn = student(nb02, NUMERICAL_GRADIENT_SCRIBBLER, "numerical_gradient")
    exercise = keys.get("numerical_gradient")
    def solution_differences():
        return [r.max_diff for hidden in (False, True)
                for r in evaluate("numerical_gradient", nb02["numerical_gradient"], hidden=hidden).cases]

    before = solution_differences()
    for _ in range(2):  # twice: a later run sees the same inputs as the first
        for hidden in (False, True):
            result = evaluate("numerical_gradient", fn, hidden=hidden)
            assert not result.passed and "in place: work on a copy" in result.message, result.message
            for r in result.cases:
                fresh = checks.make_inputs(exercise, r.case)
                np.testing.assert_array_equal(r.inputs["x"], fresh["x"])
                # equal to rounding: XLA's float64 products may round the last bit differently
                np.testing.assert_allclose(r.expected[0], exercise.reference(**checks._copy(fresh)),
                                           rtol=1e-13, atol=0)
    # The student saw each case's own x, every time.
    cases = exercise.select(False) + exercise.select(True)
    entries = fn.__globals__["entries"]
    assert len(entries) == 2 * len(cases)
    for seen, case in zip(entries, cases + cases):
        np.testing.assert_array_equal(seen, checks.make_inputs(exercise, case)["x"])
    # The solution checked afterwards measures the same differences as before.
    assert solution_differences() == before


def test_numerical_gradient_changes_to_x_do_not_hide_a_mistake(nb02):
    """The mistake is recognised from the original x, not from the student's scribbled copy."""
    fn = student(nb02, """
def numerical_gradient(f, x, eps=1e-5):
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        x[idx] += eps
        f_plus = f(x)
        x[idx] -= eps
        grad[idx] = (f_plus - f(x)) / eps
    x *= 0
    return grad
""", "numerical_gradient")
    assert_fails_naming(evaluate("numerical_gradient", fn), "forward difference instead of central")


def test_numerical_gradient_may_return_a_list(nb02):
    fn = student(nb02, """
def numerical_gradient(f, x, eps=1e-5):
    x = np.array(x, dtype=float)
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        x_plus, x_minus = x.copy(), x.copy()
        x_plus[idx] += eps
        x_minus[idx] -= eps
        grad[idx] = (f(x_plus) - f(x_minus)) / (2 * eps)
    return grad.tolist()
""", "numerical_gradient")
    for hidden in (False, True):
        result = evaluate("numerical_gradient", fn, hidden=hidden)
        assert result.passed, result.message
    # A flat Python list of floats for a vector, as a loop with append builds it.
    fn = student(nb02, """
def numerical_gradient(f, x, eps=1e-5):
    grad = []
    for i in range(len(x)):
        e = np.zeros_like(x)
        e[i] = eps
        grad.append((f(x + e) - f(x - e)) / (2 * eps))
    return grad
""", "numerical_gradient")
    result = evaluate("numerical_gradient", fn)
    # Right on the vector case; on a matrix this 1-D loop returns one number per row.
    assert result.cases[0].ok, result.message
    assert_readable_failure(result, "numerical_gradient")
    assert "grad has shape (3,), expected (3, 4)" in result.message, result.message


@pytest.mark.parametrize("how, expected", [
    ("grad.ravel()", "'visible matrix' (shape=(3, 4), float64, tanh layer): grad has shape (12,), "
                     "expected (3, 4)."),
    ("grad.T", "'visible matrix' (shape=(3, 4), float64, tanh layer): grad has shape (4, 3), "
               "expected (3, 4)."),
    ("grad[None]", "'visible vector' (shape=(5,), float64, sin): grad has shape (1, 5), "
                   "expected (5,)."),
])
def test_numerical_gradient_wrong_shape(nb02, how, expected):
    fn = student(nb02, f"""
def numerical_gradient(f, x, eps=1e-5):
    grad = np.zeros(x.shape)
    for idx in np.ndindex(x.shape):
        x_plus, x_minus = x.copy(), x.copy()
        x_plus[idx] += eps
        x_minus[idx] -= eps
        grad[idx] = (f(x_plus) - f(x_minus)) / (2 * eps)
    return {how}
""", "numerical_gradient")
    result = evaluate("numerical_gradient", fn)
    assert_readable_failure(result, "numerical_gradient")
    assert result.mistake == "", result.message
    assert f"On case {expected}" in result.message, result.message


def test_numerical_gradient_scalar_for_a_vector(nb02):
    fn = student(nb02, """
def numerical_gradient(f, x, eps=1e-5):
    return (f(x + eps) - f(x - eps)) / (2 * eps)
""", "numerical_gradient")
    result = evaluate("numerical_gradient", fn)
    assert_readable_failure(result, "numerical_gradient")
    assert "grad has shape (), expected (5,)" in result.message, result.message


# ----------------------------------------------------------------------------- softmax_cross_entropy
def test_overflow_mistake_is_named_although_outputs_are_not_finite(nb02):
    source = mutant_source("softmax_cross_entropy", "overflow on large logits (no max shift)")
    fn = student(nb02, source, "softmax_cross_entropy")
    exercise = keys.get("softmax_cross_entropy")
    large = [c for c in exercise.select(hidden=False) if "large logits" in c.note]
    assert large, "no visible case with large logits"
    got = _call_directly(fn, exercise, checks.make_inputs(exercise, large[0]))
    assert not all(np.isfinite(g).all() for g in got), "the mutant does not overflow"
    result = evaluate("softmax_cross_entropy", fn)
    assert_fails_naming(result, "overflow on large logits (no max shift)")
    assert "visible large logits" in result.message, result.message
    assert "NaN or inf" in result.message, result.message
    assert "subtract the largest logit" in result.message, result.message
    # The case with moderate logits is right: only the overflow is wrong.
    assert [r.ok for r in result.cases] == [not ("large logits" in c.note)
                                            for c in exercise.select(hidden=False)]


def test_overflow_in_float64_fails_readably(nb02):
    """Casting to float64 first still overflows on logits in the thousands; the check says so.

    The catalogue reproduces the overflow in the input's dtype (float32), where more entries
    overflow than in float64, so this variant is not named; it is reported as NaN or inf.
    """
    fn = student(nb02, """
def softmax_cross_entropy(logits, targets):
    logits = logits.astype(np.float64)
    e = np.exp(logits)
    probs = e / e.sum(axis=-1, keepdims=True)
    loss = np.mean(np.log(e.sum(axis=-1)) - np.take_along_axis(logits, targets[..., None], -1)[..., 0])
    return loss, (probs - np.eye(logits.shape[-1])[targets]) / targets.size
""", "softmax_cross_entropy")
    result = evaluate("softmax_cross_entropy", fn)
    assert_readable_failure(result, "softmax_cross_entropy")
    assert "visible large logits" in result.message, result.message
    assert "loss contains NaN or inf where the reference is finite" in result.message, result.message


def test_log_of_underflowed_probability_fails_readably(nb02):
    """-log(softmax) with the max shift but no log-sum-exp: log(0) on logits in the thousands."""
    fn = student(nb02, """
def softmax_cross_entropy(logits, targets):
    z = logits - logits.max(axis=-1, keepdims=True)
    probs = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
    loss = -np.mean(np.log(np.take_along_axis(probs, targets[..., None], axis=-1)))
    return loss, (probs - np.eye(logits.shape[-1])[targets]) / targets.size
""", "softmax_cross_entropy")
    result = evaluate("softmax_cross_entropy", fn)
    assert_readable_failure(result, "softmax_cross_entropy")
    assert result.cases[0].ok, result.message  # moderate logits: right
    assert "loss contains NaN or inf where the reference is finite" in result.message, result.message
    assert "dlogits differs" not in result.message, result.message  # the gradient is right


@pytest.mark.parametrize("returned", ["loss", "(loss,)", "[loss]", "dlogits"])
def test_softmax_cross_entropy_loss_alone_asks_for_the_tuple(nb02, returned):
    fn = student(nb02, f"""
def softmax_cross_entropy(logits, targets):
    z = logits - logits.max(axis=-1, keepdims=True)
    log_probs = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    loss = -np.mean(np.take_along_axis(log_probs, targets[..., None], axis=-1))
    dlogits = (np.exp(log_probs) - np.eye(logits.shape[-1])[targets]) / targets.size
    return {returned}
""", "softmax_cross_entropy")
    result = evaluate("softmax_cross_entropy", fn)
    assert_readable_failure(result, "softmax_cross_entropy")
    assert "expected a tuple (loss, dlogits)" in result.message, result.message
    assert result.mistake == ""


def test_softmax_cross_entropy_loss_as_python_float_passes(nb02):
    fn = student(nb02, """
def softmax_cross_entropy(logits, targets):
    z = logits - logits.max(axis=-1, keepdims=True)
    log_probs = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    loss = float(-np.mean(np.take_along_axis(log_probs, targets[..., None], axis=-1)))
    return [loss, (np.exp(log_probs) - np.eye(logits.shape[-1])[targets]) / targets.size]
""", "softmax_cross_entropy")
    for hidden in (False, True):
        result = evaluate("softmax_cross_entropy", fn, hidden=hidden)
        assert result.passed, result.message


def test_softmax_cross_entropy_loss_per_prediction_is_a_shape_failure(nb02):
    fn = student(nb02, """
def softmax_cross_entropy(logits, targets):
    z = logits - logits.max(axis=-1, keepdims=True)
    log_probs = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    loss = -np.take_along_axis(log_probs, targets[..., None], axis=-1)[..., 0]
    return loss, (np.exp(log_probs) - np.eye(logits.shape[-1])[targets]) / targets.size
""", "softmax_cross_entropy")
    result = evaluate("softmax_cross_entropy", fn)
    assert_readable_failure(result, "softmax_cross_entropy")
    assert "loss has shape (2, 3), expected a scalar ()" in result.message, result.message


# ----------------------------------------------------------------------------- rnn_backward
RNN_BACKWARD_BODY = """
    h_seq, _ = rnn_forward(x, h0, Wx, Wh, b)
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dh_next = np.zeros_like(h0)
    for t in reversed(range(x.shape[1])):
        h = h_seq[:, t]
        h_prev = h_seq[:, t - 1] if t > 0 else h0
        da = (dh_seq[:, t] + dh_next) * (1 - h ** 2)
        dx[:, t] = da @ Wx.T
        dWx += x[:, t].T @ da
        dWh += h_prev.T @ da
        db += da.sum(axis=0)
        dh_next = da @ Wh.T
    dh0 = dh_next
"""


def rnn_backward_returning(nb02, returned):
    return student(nb02, "def rnn_backward(dh_seq, x, h0, Wx, Wh, b):" + RNN_BACKWARD_BODY
                   + f"    return {returned}\n", "rnn_backward")


def test_rnn_backward_body_is_correct(nb02):
    fn = rnn_backward_returning(nb02, "dx, dh0, dWx, dWh, db")
    assert evaluate("rnn_backward", fn).passed


@pytest.mark.parametrize("returned", ["dx, dWx, dWh, db", "dx, dh0, dWx, dWh",
                                      "[dx, dh0, dWx, dWh]"])
def test_rnn_backward_four_gradients(nb02, returned):
    result = evaluate("rnn_backward", rnn_backward_returning(nb02, returned))
    assert_readable_failure(result, "rnn_backward")
    assert "of length 4; expected a tuple (dx, dh0, dWx, dWh, db)" in result.message, result.message
    assert result.mistake == ""


def test_rnn_backward_dict_of_gradients(nb02):
    fn = rnn_backward_returning(nb02, "{'dx': dx, 'dh0': dh0, 'dWx': dWx, 'dWh': dWh, 'db': db}")
    result = evaluate("rnn_backward", fn)
    assert_readable_failure(result, "rnn_backward")
    assert "expected a tuple (dx, dh0, dWx, dWh, db)" in result.message, result.message


def test_rnn_backward_dWx_and_dWh_swapped(nb02):
    result = evaluate("rnn_backward", rnn_backward_returning(nb02, "dx, dh0, dWh, dWx, db"))
    assert_readable_failure(result, "rnn_backward")
    assert result.mistake == "" and "Recognised mistake" not in result.message
    # 'visible 1' has D != H: the shapes give the swap away.
    assert "dWx has shape (5, 5), expected (D, H) = (3, 5)" in result.message, result.message
    assert "dWh has shape (3, 5), expected (H, H) = (5, 5)" in result.message, result.message
    # 'visible 2' has D == H: the shapes agree, and exactly dWx and dWh are reported wrong.
    square = [r for r in result.cases if r.case.sizes["D"] == r.case.sizes["H"]]
    assert square and all(r.got is not None and r.wrong == [2, 3] for r in square)


def test_rnn_backward_dx_last(nb02):
    result = evaluate("rnn_backward", rnn_backward_returning(nb02, "dh0, dWx, dWh, db, dx"))
    assert_readable_failure(result, "rnn_backward")
    assert result.mistake == ""
    assert "dx has shape (2, 5), expected (N, T, D) = (2, 4, 3)" in result.message, result.message
    assert "db has shape (2, 4, 3), expected (H,) = (5,)" in result.message, result.message


def test_rnn_backward_dh0_and_dx_swapped(nb02):
    result = evaluate("rnn_backward", rnn_backward_returning(nb02, "dh0, dx, dWx, dWh, db"))
    assert_readable_failure(result, "rnn_backward")
    assert "dx has shape (2, 5), expected (N, T, D) = (2, 4, 3)" in result.message, result.message


def test_rnn_backward_only_dh0_wrong_points_at_it(nb02):
    """A single wrong output is located: the message names dh0 and the batch row and unit."""
    result = evaluate("rnn_backward", rnn_backward_returning(nb02, "dx, 2 * dh0, dWx, dWh, db"))
    assert_readable_failure(result, "rnn_backward")
    assert "dh0 differs at batch 0, unit " in result.message, result.message
    assert result.cases[0].wrong == [1]


def test_missing_return(nb02):
    fn = student(nb02, "def rnn_backward(dh_seq, x, h0, Wx, Wh, b):" + RNN_BACKWARD_BODY,
                 "rnn_backward")
    result = evaluate("rnn_backward", fn)
    assert_readable_failure(result, "rnn_backward")
    assert "returned None" in result.message and "return" in result.message, result.message


def test_error_in_student_code_shows_the_line_not_a_traceback(nb02):
    fn = student(nb02, """
def rnn_backward(dh_seq, x, h0, Wx, Wh, b):
    h_seq, _ = rnn_forward(x, h0, Wx, Wh, b)
    da = dh_seq * (1 - h_seq ** 2)
    dWx = x.T @ da
    return da @ Wx.T, da[:, 0] @ Wh.T, dWx, h_seq.T @ da, da.sum(axis=(0, 1))
""", "rnn_backward")
    result = evaluate("rnn_backward", fn)
    assert_readable_failure(result, "rnn_backward")
    assert "ValueError" in result.message, result.message
    assert "line 5: dWx = x.T @ da" in result.message, result.message


# ----------------------------------------------------------------------------- inputs
def test_float_inputs_have_the_case_dtype_and_targets_are_integers():
    for exercise in EXERCISES:
        for case in exercise.cases:
            for key, value in checks.make_inputs(exercise, case).items():
                if isinstance(value, np.ndarray):
                    if key == "targets":
                        assert value.dtype.kind == "i", f"{exercise.name} {case.label}"
                    else:
                        assert value.dtype == np.dtype(case.dtype), f"{exercise.name} {case.label} {key}"


def test_in_place_changes_to_inputs_fail_and_leave_the_cases_whole(nb02):
    """Changing the inputs in place fails (a later cell would see them changed); the case's own
    inputs stay whole."""
    fn = student(nb02, "def rnn_backward(dh_seq, x, h0, Wx, Wh, b):" + RNN_BACKWARD_BODY + """
    for a in (dh_seq, x, h0, Wx, Wh):
        a *= 0
    b += 100
    return dx, dh0, dWx, dWh, db
""", "rnn_backward")
    exercise = keys.get("rnn_backward")
    for hidden in (False, True):
        result = evaluate("rnn_backward", fn, hidden=hidden)
        assert not result.passed and "in place: work on a copy" in result.message, result.message
        for r in result.cases:
            fresh = checks.make_inputs(exercise, r.case)
            for key in exercise.args:
                np.testing.assert_array_equal(r.inputs[key], fresh[key])


# ----------------------------------------------------------------------------- check()
def test_check_prints_on_success(nb02, capsys):
    check("rnn_backward", nb02["rnn_backward"])
    out = capsys.readouterr().out
    assert out.startswith("rnn_backward matches tf.GradientTape on keras.layers.SimpleRNN "
                          "on 2 visible cases"), out
    assert out.endswith("\n") and out.count("\n") == 1


def test_check_prints_on_hidden_success(nb02, capsys):
    check("truncated_bptt_grads", nb02["truncated_bptt_grads"], hidden=True)
    assert "truncated_bptt_grads matches" in capsys.readouterr().out


def test_check_raises_check_failed_with_the_message(nb02, capsys):
    fn = student(nb02, mutant_source("rnn_backward", "tanh derivative missing"), "rnn_backward")
    with pytest.raises(CheckFailed) as info:
        check("rnn_backward", fn)
    assert isinstance(info.value, AssertionError)
    assert str(info.value) == evaluate("rnn_backward", fn).message
    assert "Recognised mistake: tanh derivative missing." in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert capsys.readouterr().out == ""


def test_check_raises_on_missing_call(nb02, capsys):
    fn = student(nb02, TRUNCATED_WITHOUT_RNN_BACKWARD, "truncated_bptt_grads")
    with pytest.raises(CheckFailed, match="never calls rnn_backward"):
        check("truncated_bptt_grads", fn, hidden=True)
    assert capsys.readouterr().out == ""


def test_check_raises_on_not_implemented(nb02):
    fn = student(nb02, "def numerical_gradient(f, x, eps=1e-5):\n    raise NotImplementedError()\n")
    with pytest.raises(AssertionError, match="not implemented"):
        check("numerical_gradient", fn)


# ----------------------------------------------------------------------------- stderr
def test_stderr_harness_sees_a_numpy_warning(nb02, capfd):
    """The harness of the stderr tests can fail: outside a check the overflow mutant does warn."""
    fn = student(nb02, mutant_source("softmax_cross_entropy", "overflow on large logits (no max shift)"),
                 "softmax_cross_entropy")
    exercise = keys.get("softmax_cross_entropy")
    inputs = checks.make_inputs(exercise, exercise.select(hidden=False)[1])
    capfd.readouterr()
    with warnings_to_stderr():
        fn(**inputs)
    assert "overflow encountered in exp" in capfd.readouterr().err


NOISY = {
    "softmax_cross_entropy": mutant_source("softmax_cross_entropy",
                                           "overflow on large logits (no max shift)"),
    # Prints its progress to stderr and warns, then returns a forward difference.
    "numerical_gradient": """
import sys
import warnings

def numerical_gradient(f, x, eps=1e-5):
    print("computing", x.shape, file=sys.stderr)
    warnings.warn("using a forward difference")
    fx = f(x)
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        x[idx] += eps
        grad[idx] = (f(x) - fx) / eps
        x[idx] -= eps
    np.log(-1.0)
    return grad
""",
    # Divides by zero on purpose and never calls rnn_backward.
    "truncated_bptt_grads": TRUNCATED_WITHOUT_RNN_BACKWARD.replace(
        "    dh0 = dh_next\n", "    np.zeros(1) / 0\n    dh0 = dh_next\n"),
    # Its dWx overflows: the tanh derivative is missing and the result is scaled up.
    "rnn_backward": mutant_source("rnn_backward", "tanh derivative missing").replace(
        "return dx, dh_next, dWx, dWh, db", "return dx, dh_next, dWx * np.exp(1e4), dWh, db"),
}


@pytest.mark.parametrize("name", EXERCISE_NAMES)
def test_failing_check_writes_nothing_to_stderr(nb02, capfd, name):
    evaluate(name, nb02[name])  # TensorFlow is loaded before capturing
    fn = student(nb02, NOISY[name], name)
    capfd.readouterr()
    with warnings_to_stderr():
        for hidden in (False, True):
            result = evaluate(name, fn, hidden=hidden)
            assert not result.passed, result.message
        with pytest.raises(CheckFailed):
            check(name, fn)
        with pytest.raises(CheckFailed):
            check(name, fn, hidden=True)
    captured = capfd.readouterr()
    assert captured.err == ""
    assert captured.out == ""


def test_overflow_check_names_the_mistake_while_warnings_are_shown(nb02, capfd):
    fn = student(nb02, NOISY["softmax_cross_entropy"], "softmax_cross_entropy")
    evaluate("softmax_cross_entropy", nb02["softmax_cross_entropy"])
    capfd.readouterr()
    with warnings_to_stderr():
        result = evaluate("softmax_cross_entropy", fn)
    assert capfd.readouterr().err == ""
    assert result.mistake == "overflow on large logits (no max shift)"


def test_warnings_do_not_leak_out_of_a_check(nb02, recwarn):
    fn = student(nb02, NOISY["numerical_gradient"], "numerical_gradient")
    with np.errstate(all="raise"):
        result = evaluate("numerical_gradient", fn)
    assert not result.passed
    assert result.mistake == "forward difference instead of central", result.message
    assert len(recwarn) == 0, [str(w.message) for w in recwarn]


def keras_backend():
    from rnnkit.runtime import import_keras
    return import_keras().backend.backend()


@pytest.mark.skipif(keras_backend() != "tensorflow", reason="the oracle is TensorFlow's GradientTape")
def test_analytic_gradient_equals_the_gradient_tape():
    """numerical_gradient's reference (keras.ops and the backend's vjp) equals what GradientTape
    gives on the same objectives, for every kind of visible and hidden case."""
    import tensorflow as tf
    from rnnkit import reference as ref
    from rnnkit.grading.keys import bptt as key

    def tape_gradient(f, x):
        p = f.params
        if f.kind == "tanh layer":
            fn = lambda x: tf.reduce_sum(p["w"] * tf.tanh(x @ p["A"]))          # noqa: E731
        elif f.kind == "rnn":
            layer = ref.simple_rnn(p["Wx"], p["Wh"], p["b"], return_state=False)
            fn = lambda x: tf.reduce_sum(p["w"] * layer(x, initial_state=[tf.constant(p["h0"])]))  # noqa: E731
        else:
            fn = lambda x: tf.reduce_sum(tf.sin(p["c"] * x) * x ** 2)           # noqa: E731
        x_t = tf.constant(np.asarray(x, np.float64))
        with tf.GradientTape() as tape:
            tape.watch(x_t)
            y = fn(x_t)
        return tape.gradient(y, x_t).numpy()

    kinds = set()
    exercise = keys.get("numerical_gradient")
    for case in exercise.cases:
        inputs = checks.make_inputs(exercise, case)
        kinds.add(inputs["f"].kind)
        np.testing.assert_allclose(key._analytic_gradient(**inputs), tape_gradient(inputs["f"], inputs["x"]),
                                   rtol=0, atol=1e-12, err_msg=case.label)
    assert {"tanh layer", "rnn"} <= kinds, kinds
