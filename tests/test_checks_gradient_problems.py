"""The checks of notebook 03_gradient_problems, exercised the way students will exercise them.

What is checked:

* the Jacobian reference (batch_jacobian through a Keras SimpleRNNCell) agrees with an independent
  NumPy product and with finite differences, and the clipping references with their definitions;
* that the solutions pass, that every catalogued mistake's mutant (tests/mutants/) is named on
  the visible and the hidden cases, and that nothing a student hands a check makes it raise:
  tests/test_contract.py, for every notebook at once; here, that each mutant returns what its
  catalogue entry returns;
* list outputs (the clipped gradients): a list or a tuple is accepted; the wrong number of arrays, a
  bare array, a missing global norm or a norm of the wrong shape give one readable message;
* gradients that are all zero (a hidden case) are handled without anything reaching stderr;
* no exception ever escapes evaluate().
"""
import warnings

import numpy as np
import pytest

from rnnkit import checks
from rnnkit import reference as ref
from rnnkit.checks import CheckFailed, check, evaluate
from rnnkit.grading import keys
from rnnkit.grading.keys import gradient_problems as gp
from tests import mutants
from tests.mutation import catalogued, student
from tests.mutants.gradient_problems import MUTANTS

NOTEBOOK = "03_gradient_problems"
EXERCISES = keys.for_notebook(NOTEBOOK)
EXERCISE_NAMES = [e.name for e in EXERCISES]


@pytest.fixture(scope="module")
def nb03():
    """Namespace holding the reference solutions of 03_gradient_problems."""
    return mutants.namespace(NOTEBOOK)






MUTANT_PARAMS = mutants.params(NOTEBOOK)


# ----------------------------------------------------------------------------- helpers
def flat(exercise, value):
    """The flat tuple of float64 arrays that the engine compares (list outputs item by item)."""
    return checks._flatten(exercise, value if isinstance(value, tuple) else (value,))[1]


# ----------------------------------------------------------------------------- the references
def _numpy_jacobians(x, h0, Wx, Wh, b):
    """d h_T / d h_k for k = 0..T as an explicit product of diag(1 - h**2) Wh.T, in float64."""
    x, h0, Wx, Wh, b = (np.asarray(a, np.float64) for a in (x, h0, Wx, Wh, b))
    states = [h0]
    for t in range(x.shape[1]):
        states.append(np.tanh(x[:, t] @ Wx + states[-1] @ Wh + b))
    N, H = h0.shape
    J = np.broadcast_to(np.eye(H), (N, H, H)).copy()
    out = [J]
    for k in range(x.shape[1], 0, -1):
        J = J @ ((1 - states[k] ** 2)[:, :, None] * Wh.T)
        out.append(J)
    return np.stack(out[::-1], axis=1)


def test_state_jacobians_match_the_explicit_product():
    exercise = keys.get("jacobian_norms")
    for case in exercise.cases:
        inputs = checks.make_inputs(exercise, case)
        J = ref.state_jacobians(**inputs)
        N, T, H = case.sizes["N"], case.sizes["T"], case.sizes["H"]
        assert J.shape == (N, T + 1, H, H)
        # float32 off TensorFlow (reference.float_dtype)
        atol, rtol = (1e-12, 1e-9) if ref.float_dtype() == "float64" else (1e-6, 1e-4)
        np.testing.assert_allclose(J, _numpy_jacobians(**inputs), atol=atol, rtol=rtol)
        np.testing.assert_allclose(J[:, T], np.broadcast_to(np.eye(H), (N, H, H)), atol=1e-14)


def test_state_jacobians_match_finite_differences():
    exercise = keys.get("jacobian_norms")
    inputs = checks.make_inputs(exercise, exercise.cases[0])
    inputs = {k: np.asarray(v, np.float64) for k, v in inputs.items()}
    x, h0, Wx, Wh, b = (inputs[k] for k in ("x", "h0", "Wx", "Wh", "b"))
    J = ref.state_jacobians(**inputs)

    def last_state(h_start, t_start):
        h = h_start
        for t in range(t_start, x.shape[1]):
            h = np.tanh(x[:, t] @ Wx + h @ Wh + b)
        return h

    states = [h0]
    for t in range(x.shape[1]):
        states.append(np.tanh(x[:, t] @ Wx + states[-1] @ Wh + b))
    eps = 1e-6
    for k in (0, 2, x.shape[1] - 1):                      # d h_T / d h_k, h_k = states[k]
        for j in range(h0.shape[1]):
            up, down = states[k].copy(), states[k].copy()
            up[:, j] += eps
            down[:, j] -= eps
            column = (last_state(up, k) - last_state(down, k)) / (2 * eps)
            np.testing.assert_allclose(J[:, k, :, j], column, atol=1e-7)


def test_jacobian_norms_reference_ends_with_sqrt_h():
    exercise = keys.get("jacobian_norms")
    for case in exercise.cases:
        norms = exercise.reference(**checks.make_inputs(exercise, case))
        assert norms.shape == (case.sizes["T"],)
        assert norms[-1] == pytest.approx(np.sqrt(case.sizes["H"]))


def test_clipping_references_follow_their_definitions():
    # float64 on TensorFlow; Keras's float32 on the other backends (reference.float_dtype)
    rel = 1e-12 if ref.float_dtype() == "float64" else 1e-6
    exercise = keys.get("clip_by_global_norm")
    for case in exercise.cases:
        inputs = checks.make_inputs(exercise, case)
        grads, max_norm = inputs["grads"], inputs["max_norm"]
        clipped, norm = exercise.reference(**inputs)
        expected_norm = np.sqrt(sum(np.sum(np.asarray(g, np.float64) ** 2) for g in grads))
        assert float(norm) == pytest.approx(expected_norm, rel=rel, abs=1e-300)
        scale = max_norm / max(expected_norm, max_norm)
        for c, g in zip(clipped, grads):
            np.testing.assert_allclose(c, np.asarray(g, np.float64) * scale, rtol=rel)
        ratio = gp._norm_ratio(case)
        if ratio is not None:
            assert expected_norm / max_norm == pytest.approx(ratio, rel=1e-5)
    exercise = keys.get("clip_by_value")
    for case in exercise.cases:
        inputs = checks.make_inputs(exercise, case)
        clipped = exercise.reference(**inputs)
        assert isinstance(clipped, list) and len(clipped) == case.sizes["K"]
        for c, g in zip(clipped, inputs["grads"]):
            g = np.asarray(g, ref.float_dtype())
            np.testing.assert_array_equal(c, np.clip(g, g.dtype.type(-inputs["limit"]), g.dtype.type(inputs["limit"])))


def test_visible_cases_cover_both_sides_of_max_norm_and_of_the_limit():
    exercise = keys.get("clip_by_global_norm")
    ratios = [gp._norm_ratio(c) for c in exercise.select(hidden=False)]
    assert min(ratios) < 1 < max(ratios)
    for case in exercise.cases:
        assert checks.make_inputs(exercise, case)["max_norm"] != 1.0   # "forgot max_norm" must show
    hidden_sizes = [c.sizes["K"] for c in exercise.select(hidden=True)]
    assert 1 in hidden_sizes and 5 in hidden_sizes
    exercise = keys.get("clip_by_value")
    for case in exercise.select(hidden=False):
        inputs = checks.make_inputs(exercise, case)
        values = np.concatenate([g.ravel() for g in inputs["grads"]])
        assert (values > inputs["limit"]).any() and (values < -inputs["limit"]).any()
        assert (np.abs(values) < inputs["limit"]).any()


# ----------------------------------------------------------------------------- correct solutions
def test_notebook_declares_the_three_exercises():
    assert EXERCISE_NAMES == ["jacobian_norms", "clip_by_global_norm", "clip_by_value"]
    assert [e.points for e in EXERCISES] == [2, 2, 1]
    for exercise in EXERCISES:
        assert exercise.select(hidden=False), f"{exercise.name} has no visible case"
        assert exercise.select(hidden=True), f"{exercise.name} has no hidden case"
        assert len(exercise.mistakes) >= 4


def test_check_prints_one_line_on_success(nb03, capsys):
    check("clip_by_global_norm", nb03["clip_by_global_norm"])
    out = capsys.readouterr().out
    assert out.startswith("clip_by_global_norm matches tf.clip_by_global_norm on 2 visible cases")
    assert out.count("\n") == 1


# ----------------------------------------------------------------------------- mutation tests
@pytest.mark.parametrize("exercise_name, mistake, occurrence, source", MUTANT_PARAMS)
def test_mutant_reproduces_its_catalogue_entry(nb03, exercise_name, mistake, occurrence, source):
    """The mutant returns what its catalogue entry says the mistake returns (so it is faithful)."""
    exercise = keys.get(exercise_name)
    entry = catalogued(exercise_name, mistake, occurrence)
    fn = student(nb03, source, exercise_name)
    for case in exercise.select(hidden=False):
        inputs = checks.make_inputs(exercise, case)
        with np.errstate(all="ignore"):
            got = flat(exercise, fn(*[checks._copy(inputs[a]) for a in exercise.args]))
            expected = flat(exercise, entry.output(**checks._copy(inputs)))
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, e, atol=exercise.atol, rtol=exercise.rtol, equal_nan=True,
                                       err_msg=f"case {case.label}")


def test_each_mistake_differs_from_the_reference_on_a_visible_case():
    for exercise in EXERCISES:
        for mistake in exercise.mistakes:
            differs = False
            for case in exercise.select(hidden=False):
                inputs = checks.make_inputs(exercise, case)
                ref = flat(exercise, exercise.reference(**checks._copy(inputs)))
                out = flat(exercise, mistake.output(**checks._copy(inputs)))
                differs |= len(ref) != len(out) or any(
                    r.shape != o.shape or not np.allclose(o, r, atol=exercise.atol, rtol=exercise.rtol)
                    for r, o in zip(ref, out))
            assert differs, f"{exercise.name}: '{mistake.name}' is invisible on the visible cases"


# ----------------------------------------------------------------------------- list outputs
def test_a_tuple_of_clipped_arrays_is_accepted(nb03):
    fn = student(nb03, """
def clip_by_value(grads, limit):
    return tuple(np.clip(g, -limit, limit) for g in grads)
""")
    assert evaluate("clip_by_value", fn).passed
    fn = student(nb03, """
def clip_by_global_norm(grads, max_norm):
    norm = np.sqrt(sum(np.sum(g ** 2) for g in grads))
    scale = max_norm / max(norm, max_norm)
    return tuple(g * scale for g in grads), float(norm)
""")
    result = evaluate("clip_by_global_norm", fn, hidden=True)
    assert result.passed, result.message


@pytest.mark.parametrize("source, expected", [
    ("return [np.clip(g, -limit, limit) for g in grads[:-1]]",
     "clipped holds 2 arrays; expected 3, one per input array"),
    ("return [np.clip(g, -limit, limit) for g in grads] + [np.zeros(2)]",
     "clipped holds 4 arrays; expected 3, one per input array"),
    ("return np.clip(grads[0], -limit, limit)", "clipped is a ndarray; expected a list of 3 arrays"),
    ("return np.concatenate([np.clip(g, -limit, limit).ravel() for g in grads])",
     "clipped is a ndarray; expected a list of 3 arrays"),
    ("return (np.clip(g, -limit, limit) for g in grads)", "clipped is a generator; expected a list of 3 arrays"),
    ("return [np.clip(g, -limit, limit).ravel() for g in grads]", "clipped[0] has shape (20,), expected (4, 5)"),
    ("return [np.clip(g, -limit, limit) for g in grads[:1]] + ['x', 'y']", "clipped[1] is not a numeric array"),
])
def test_clip_by_value_list_problems_are_explained(nb03, source, expected):
    fn = student(nb03, f"def clip_by_value(grads, limit):\n    {source}\n")
    result = evaluate("clip_by_value", fn)
    assert not result.passed
    assert expected in result.message, result.message
    assert "checker itself failed" not in result.message
    assert "Traceback" not in result.message


@pytest.mark.parametrize("source, expected", [
    ("return clipped", "it returned a list of length 3; expected a tuple (clipped, global_norm)"),
    ("return (clipped,)", "it returned a tuple of length 1; expected a tuple (clipped, global_norm)"),
    ("return clipped, norm, max_norm", "it returned a tuple of length 3; expected a tuple (clipped, global_norm)"),
    ("return clipped[0], norm", "clipped is a ndarray; expected a list of 3 arrays"),
    ("return clipped[:2], norm", "clipped holds 2 arrays; expected 3, one per input array"),
    ("return clipped, np.array([norm])", "global_norm has shape (1,), expected a scalar ()"),
    ("return clipped, [np.linalg.norm(g) for g in grads]", "global_norm has shape (3,), expected a scalar ()"),
    ("return norm, clipped", "clipped is a float"),
])
def test_clip_by_global_norm_output_problems_are_explained(nb03, source, expected):
    fn = student(nb03, f"""
def clip_by_global_norm(grads, max_norm):
    norm = np.sqrt(sum(np.sum(g ** 2) for g in grads))
    clipped = [g * (max_norm / max(norm, max_norm)) for g in grads]
    {source}
""")
    result = evaluate("clip_by_global_norm", fn)
    assert not result.passed
    assert expected in result.message, result.message
    assert "checker itself failed" not in result.message


def test_wrong_item_is_located_by_index(nb03):
    fn = student(nb03, """
def clip_by_value(grads, limit):
    out = [np.clip(g, -limit, limit) for g in grads]
    out[2] = out[2] + 1.0
    return out
""")
    result = evaluate("clip_by_value", fn)
    assert not result.passed
    assert "clipped[2] differs at index (" in result.message, result.message
    assert "yours 2.23, tf.clip_by_value 1.23" in result.message, result.message
    assert "clipped[0]" not in result.message


def test_index_of_a_list_item_is_printed_plainly(nb03):
    fn = student(nb03, """
def clip_by_value(grads, limit):
    out = [np.clip(g, -limit, limit) for g in grads]
    out[2] = out[2] + 1.0
    return out
""")
    assert "clipped[2] differs at index (0,)" in evaluate("clip_by_value", fn).message


# ----------------------------------------------------------------------------- all-zero gradients
ZERO_DIVIDING = """
def clip_by_global_norm(grads, max_norm):
    norm = np.sqrt(sum(np.sum(g ** 2) for g in grads))
    return [g / norm * min(norm, max_norm) for g in grads], norm
"""


def test_all_zero_gradients_must_stay_zero(nb03, capfd):
    """0 / 0 in a student's clipping fails the hidden 'all zeros' case, quietly."""
    evaluate("clip_by_global_norm", nb03["clip_by_global_norm"])      # TF loaded before capturing
    fn = student(nb03, ZERO_DIVIDING)
    assert evaluate("clip_by_global_norm", fn).passed                 # right on the visible cases
    capfd.readouterr()
    with warnings.catch_warnings(), np.errstate(all="warn"):
        warnings.simplefilter("always")
        result = evaluate("clip_by_global_norm", fn, hidden=True)
    assert not result.passed
    assert "hidden all zeros" in result.message, result.message
    assert "NaN or inf" in result.message, result.message
    assert capfd.readouterr().err == ""


def test_failing_checks_write_nothing_to_stderr(nb03, capfd):
    for name in EXERCISE_NAMES:
        evaluate(name, nb03[name])
    capfd.readouterr()
    with warnings.catch_warnings(), np.errstate(all="warn"):
        warnings.simplefilter("always")
        for exercise_name, mistakes in MUTANTS.items():
            for _, source in mistakes:
                fn = student(nb03, source, exercise_name)
                for hidden in (False, True):
                    evaluate(exercise_name, fn, hidden=hidden)
                with pytest.raises(CheckFailed):
                    check(exercise_name, fn)
    captured = capfd.readouterr()
    assert captured.err == ""


# ----------------------------------------------------------------------------- generic failures
@pytest.mark.parametrize("name", EXERCISE_NAMES)
def test_not_implemented_is_reported(nb03, name):
    args = ", ".join(keys.get(name).args)
    fn = student(nb03, f"def {name}({args}):\n    raise NotImplementedError()\n", name)
    result = evaluate(name, fn)
    assert not result.passed
    assert "not implemented" in result.message
    assert result.mistake == ""


@pytest.mark.parametrize("exercise", EXERCISES, ids=EXERCISE_NAMES)
def test_inputs_depend_on_the_case_seed_only(exercise):
    np.random.seed(1)
    first = [checks.make_inputs(exercise, c) for c in exercise.cases]
    np.random.seed(2)
    second = [checks.make_inputs(exercise, c) for c in reversed(exercise.cases)][::-1]
    for case, a, b in zip(exercise.cases, first, second):
        for key in exercise.args:
            va, vb = a[key], b[key]
            if isinstance(va, list):
                assert len(va) == len(vb)
                for x, y in zip(va, vb):
                    assert x.dtype == y.dtype == np.dtype(case.dtype)
                    np.testing.assert_array_equal(x, y)
            elif isinstance(va, np.ndarray):
                assert va.dtype == np.dtype(case.dtype)
                np.testing.assert_array_equal(va, vb)
            else:
                assert va == vb


def test_gradients_clipped_in_place_fail_with_their_own_message(nb03):
    """The right values, but the caller's gradients are changed: a later cell would see them
    clipped (and here emptied)."""
    fn = student(nb03, """
def clip_by_value(grads, limit):
    for g in grads:
        np.clip(g, -limit, limit, out=g)
    out = list(grads)
    grads.clear()
    return out
""")
    for hidden in (False, True):
        result = evaluate("clip_by_value", fn, hidden=hidden)
        assert not result.passed
        assert "it changes its argument grads in place: work on a copy" in result.message
