"""The checks of notebook 05_bidirectional_stacked, exercised the way students will exercise them.

What is checked:

* that the solutions pass, that every catalogued mistake's mutant (tests/mutants/) is named on
  the visible and the hidden cases, and that nothing a student hands a check makes it raise:
  tests/test_contract.py, for every notebook at once; here, that each mutant returns what its
  catalogue entry returns;
* bidirectional_forward: the student's function gets two `RNNFunction` callables, which it may
  call any number of times (on the whole sequence, on prefixes, twice); their repr names them, so
  an error that shows one is readable; raising ValueError on an unknown merge_mode is fine, as no
  case uses one; returning (forward, backward) as a tuple asks for y itself, and concatenating on
  the time axis is a shape failure naming (N, T, M) and the expected shape;
* stacked_forward: one-layer and three-layer lists work; the student gets a fresh list (popping
  from it changes neither the reference nor what the mistakes are replayed on), but the
  RNNFunction objects in it are the case's own;
* masked_rnn_forward: the mask the student gets is a bool (N, T) array, and the solution works
  with a 0/1 int mask as well; forgetting the keepdims slice (mask[:, t]) fails readably, with a
  broadcasting error at the student's line where N != H; a function returning zeros at every
  padded step is named "zero output at padded steps"; on the reference itself, an all-padded row
  keeps h_last = h0 and outputs zeros (Keras's outputs start at zeros, its state at h0);
* generic failures (not implemented, no return, the wrong number of outputs, a wrong shape, an
  error in the student's code) give one readable message and no exception ever escapes evaluate();
* the student's function gets copies of the inputs (that they depend on the case alone:
  tests/test_contract.py);
* check() prints on success and raises CheckFailed (an AssertionError) with the message on failure;
* a failing check writes nothing to stderr (nbgrader scores a cell that does 0).

Three guarantees that once were gaps: a hidden case uses merge_mode "ave"; the visible masked
cases have N != H, so mask[:, t] without the keepdims slice raises at the student's line; and the
weights inside an RNNFunction are read-only, so a student cannot change what the mistake
catalogue is replayed on.

The solution cells of the source notebook hold the graded functions; the notebook's given (not
graded) cell defining rnn_forward and simple_rnn_fn is read from the same notebook, so that the
mutants can call rnn_forward as a student's notebook would.
"""
import collections

import numpy as np
import pytest

from rnnkit import checks, reference
from rnnkit.checks import CheckFailed, check, evaluate
from rnnkit.exercises.bidirectional_stacked import RNNFunction
from rnnkit.grading import keys
from rnnkit.grading.keys.bidirectional_stacked import MERGE_MODES
from tests import mutants
from tests.mutation import assert_fails_naming, catalogued, student, warnings_to_stderr
from tests.mutants.bidirectional_stacked import GIVEN_HELPERS, MUTANTS

NOTEBOOK = "05_bidirectional_stacked"
EXERCISES = keys.for_notebook(NOTEBOOK)
EXERCISE_NAMES = [e.name for e in EXERCISES]
MUTANT_PARAMS = mutants.params(NOTEBOOK)


# ----------------------------------------------------------------------------- helpers
@pytest.fixture(scope="module")
def nb05():
    """The solution cells of 05_bidirectional_stacked, plus the notebook's given helper cells."""
    return mutants.namespace(NOTEBOOK)


def mutant_source(exercise_name, mistake_name):
    return dict(MUTANTS[exercise_name])[mistake_name]


def assert_same_value(a, b, what):
    """Equal arrays, lists of layer functions, RNNFunctions (kind, name, weights) or plain values."""
    if isinstance(a, (tuple, list)):
        assert type(a) is type(b) and len(a) == len(b), what
        for x, y in zip(a, b):
            assert_same_value(x, y, what)
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype, what
        np.testing.assert_array_equal(a, b, err_msg=what)
    elif isinstance(a, RNNFunction):
        assert isinstance(b, RNNFunction) and (a.kind, a.name) == (b.kind, b.name), what
        assert_same_value(a.weights, b.weights, what)
    else:
        assert type(a) is type(b) and a == b, what


def assert_readable_failure(result, name):
    """A failure reported as one message: no traceback, no checker crash."""
    assert not result.passed, result.message
    assert isinstance(result.message, str) and result.message.startswith(name), result.message
    assert "Traceback" not in result.message and 'File "' not in result.message, result.message
    assert "The checker itself failed" not in result.message, result.message


def _call_directly(fn, exercise, inputs):
    """What `fn` returns on copies of these inputs, as a tuple."""
    with np.errstate(all="ignore"):
        value = fn(*[checks._copy(inputs[a]) for a in exercise.args])
    return value if isinstance(value, tuple) else (value,)


def _reference(exercise, inputs):
    value = exercise.reference(**checks._copy(inputs))
    return value if isinstance(value, tuple) else (value,)


def all_cases(exercise):
    return exercise.select(hidden=False) + exercise.select(hidden=True)


def case_named(exercise_name, label):
    return next(c for c in keys.get(exercise_name).cases if c.label == label)


def inputs_of(exercise_name, label):
    exercise = keys.get(exercise_name)
    return checks.make_inputs(exercise, case_named(exercise_name, label))


def assert_matches_reference(fn, exercise_name, label, **overrides):
    """`fn` called directly on the case's inputs (some replaced) matches the case's reference."""
    exercise = keys.get(exercise_name)
    inputs = inputs_of(exercise_name, label)
    expected = _reference(exercise, inputs)
    got = _call_directly(fn, exercise, dict(inputs, **overrides))
    assert len(got) == len(expected), label
    for g, e in zip(got, expected):
        np.testing.assert_allclose(np.asarray(g, np.float64), e, atol=exercise.atol,
                                   rtol=exercise.rtol, err_msg=label)


# ----------------------------------------------------------------------------- correct solutions
def test_notebook_declares_the_three_exercises():
    assert EXERCISE_NAMES == ["bidirectional_forward", "stacked_forward", "masked_rnn_forward"]
    for exercise in EXERCISES:
        assert exercise.select(hidden=False), f"{exercise.name} has no visible case"
        assert exercise.select(hidden=True), f"{exercise.name} has no hidden case"
        assert exercise.must_call == () and exercise.runner is None, exercise.name
    bi = keys.get("bidirectional_forward")
    assert [c.sizes["merge_mode"] for c in bi.select(hidden=False)] == ["concat", "ave"]
    assert {c.sizes["merge_mode"] for c in bi.select(hidden=True)} >= {"mul", "sum", "concat"}
    assert any(c.sizes["T"] == 1 for c in bi.select(hidden=True))
    assert any(c.dtype == "float64" for c in bi.select(hidden=True))
    stacked = keys.get("stacked_forward")
    depths = {len(c.sizes["layers"]) for c in stacked.select(hidden=True)}
    assert {1, 3} <= depths, depths
    assert {kind for c in stacked.cases for kind in c.sizes["layers"]} == {"SimpleRNN", "GRU"}
    masked = keys.get("masked_rnn_forward")
    assert {c.note for c in masked.cases} == {"mixed lengths", "pre-padded", "none padded",
                                              "all padded"}
    assert {c.note for c in masked.select(hidden=True)} == {"mixed lengths", "pre-padded",
                                                            "none padded", "all padded"}


def test_namespace_holds_the_graded_functions_and_the_given_helpers(nb05):
    for name in EXERCISE_NAMES + list(GIVEN_HELPERS):
        assert callable(nb05.get(name)), name


def test_given_simple_rnn_fn_computes_what_the_checker_passes(nb05):
    """The notebook's simple_rnn_fn, built from an RNNFunction's weights, gives its states."""
    inputs = inputs_of("bidirectional_forward", "visible concat")
    for key in ("forward_fn", "backward_fn"):
        fn = inputs[key]
        given = nb05["simple_rnn_fn"](*fn.weights)
        # fn runs Keras: float64 on TensorFlow, float32 elsewhere (reference.float_dtype)
        atol = 1e-12 if reference.float_dtype() == "float64" else 1e-6
        np.testing.assert_allclose(given(inputs["x"]), fn(inputs["x"]), atol=atol, err_msg=key)


# ----------------------------------------------------------------------------- mutation tests
def test_catalogues_never_shrink():
    """Catalogues grow; these are the sizes they have reached."""
    floors = {"bidirectional_forward": 5, "stacked_forward": 4, "masked_rnn_forward": 5}
    for e in EXERCISES:
        assert len(e.mistakes) >= floors[e.name], e.name


def test_ave_as_sum_is_caught_by_visible_and_hidden_cases(nb05):
    fn = student(nb05, mutant_source("bidirectional_forward", "ave computed as a sum"),
                 "bidirectional_forward")
    assert "On case 'visible ave'" in evaluate("bidirectional_forward", fn).message
    hidden = evaluate("bidirectional_forward", fn, hidden=True)
    assert "On case 'hidden ave'" in hidden.message, hidden.message


@pytest.mark.parametrize("exercise_name, mistake, occurrence, source", MUTANT_PARAMS)
def test_mutant_reproduces_its_catalogue_entry(nb05, exercise_name, mistake, occurrence, source):
    """The mutant returns what its catalogue entry says the mistake returns (so it is faithful).

    A case on which both raise (a layer fed the wrong width) counts as agreeing.
    """
    exercise = keys.get(exercise_name)
    entry = catalogued(exercise_name, mistake, occurrence)
    fn = student(nb05, source, exercise_name)
    compared = 0
    for case in all_cases(exercise):
        inputs = checks.make_inputs(exercise, case)
        try:
            with np.errstate(all="ignore"):
                expected = entry.output(**checks._copy(inputs))
        except ValueError:
            with pytest.raises(ValueError):
                _call_directly(fn, exercise, inputs)
            continue
        got = _call_directly(fn, exercise, inputs)
        expected = expected if isinstance(expected, tuple) else (expected,)
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            np.testing.assert_allclose(np.asarray(g, np.float64), np.asarray(e, np.float64),
                                       atol=exercise.atol, rtol=exercise.rtol, equal_nan=True,
                                       err_msg=f"case {case.label}")
        compared += 1
    assert compared >= len(exercise.cases) - 1, compared


def test_bidirectional_mutants_use_the_callables_they_are_given(nb05):
    """The mutants run the given RNNFunctions (they do not read the weights themselves)."""
    exercise = keys.get("bidirectional_forward")
    inputs = checks.make_inputs(exercise, exercise.cases[0])
    for mistake, source in MUTANTS["bidirectional_forward"]:
        fn = student(nb05, source, "bidirectional_forward")
        calls = collections.Counter()

        class Counting(RNNFunction):
            def __call__(self, x):
                calls[self.name] += 1
                return super().__call__(x)

        counted = {k: Counting(inputs[k].kind, inputs[k].weights, k)
                   for k in ("forward_fn", "backward_fn")}
        fn(inputs["x"].copy(), counted["forward_fn"], counted["backward_fn"], inputs["merge_mode"])
        expected = ({"forward_fn": 2} if mistake == "forward_fn used for both directions"
                    else {"forward_fn": 1, "backward_fn": 1})
        assert calls == expected, (mistake, calls)


# ----------------------------------------------------------------------------- bidirectional_forward
BIDIRECTIONAL_MERGE = """
    if merge_mode == "concat":
        return np.concatenate([fw, bw], axis=-1)
    if merge_mode == "sum":
        return fw + bw
    if merge_mode == "mul":
        return fw * bw
    if merge_mode == "ave":
        return (fw + bw) / 2
    raise ValueError(f"unknown merge_mode {merge_mode!r}")
"""


def test_inputs_are_rnn_functions_with_readable_reprs():
    exercise = keys.get("bidirectional_forward")
    for case in exercise.cases:
        inputs = checks.make_inputs(exercise, case)
        assert inputs["merge_mode"] == case.sizes["merge_mode"] and inputs["merge_mode"] in MERGE_MODES
        H = case.sizes["H"]
        for key in ("forward_fn", "backward_fn"):
            fn = inputs[key]
            assert isinstance(fn, RNNFunction) and callable(fn) and fn.kind == "SimpleRNN", key
            assert repr(fn) == f"<{key}: SimpleRNN with {H} units>"
            states = fn(inputs["x"])
            assert states.shape == (case.sizes["N"], case.sizes["T"], H)
            np.testing.assert_array_equal(fn(inputs["x"]), states)  # no state kept between calls
    for case in keys.get("stacked_forward").cases:
        layer_fns = checks.make_inputs(keys.get("stacked_forward"), case)["layer_fns"]
        assert type(layer_fns) is list
        assert [repr(f) for f in layer_fns] == [
            f"<layer_fns[{k}]: {kind} with {H} units>"
            for k, (kind, H) in enumerate(zip(case.sizes["layers"], case.sizes["units"]))]


def test_bidirectional_may_call_the_functions_any_number_of_times(nb05):
    """Running the functions on every prefix and suffix (T calls each) gives the same states."""
    fn = student(nb05, """
def bidirectional_forward(x, forward_fn, backward_fn, merge_mode):
    T = x.shape[1]
    H = forward_fn(x[:, :1]).shape[-1]          # one call just to learn H
    fw = np.zeros((x.shape[0], T, H))
    bw = np.zeros((x.shape[0], T, H))
    for t in range(T):
        fw[:, t] = forward_fn(x[:, :t + 1])[:, -1]
        bw[:, t] = backward_fn(x[:, t:][:, ::-1])[:, -1]
""" + BIDIRECTIONAL_MERGE, "bidirectional_forward")
    for hidden in (False, True):
        result = evaluate("bidirectional_forward", fn, hidden=hidden)
        assert result.passed, result.message


@pytest.mark.parametrize("merge", [BIDIRECTIONAL_MERGE, """
    merged = {"concat": lambda: np.concatenate((fw, bw), axis=2), "sum": lambda: fw + bw,
              "mul": lambda: fw * bw, "ave": lambda: np.mean([fw, bw], axis=0)}
    return merged[merge_mode]()
""", """
    if merge_mode == "concat":
        return np.dstack([fw, bw])
    elif merge_mode in ("sum", "ave"):
        y = fw + bw
        return y / 2 if merge_mode == "ave" else y
    elif merge_mode == "mul":
        return np.multiply(fw, bw)
    else:
        raise ValueError("merge_mode must be one of concat, sum, mul, ave")
"""], ids=["if chain raising ValueError", "dict of merges (KeyError on others)",
           "dstack and shared sum branch"])
def test_bidirectional_other_correct_versions_pass(nb05, merge):
    """Unknown merge modes may raise: no case uses one."""
    fn = student(nb05, """
def bidirectional_forward(x, forward_fn, backward_fn, merge_mode):
    fw = forward_fn(x)
    bw = np.flip(backward_fn(np.flip(x, axis=1)), axis=1)
""" + merge, "bidirectional_forward")
    for case in keys.get("bidirectional_forward").cases:
        assert case.sizes["merge_mode"] in MERGE_MODES, case.label
    for hidden in (False, True):
        result = evaluate("bidirectional_forward", fn, hidden=hidden)
        assert result.passed, result.message
    inputs = inputs_of("bidirectional_forward", "visible concat")
    with pytest.raises((ValueError, KeyError)):
        fn(inputs["x"], inputs["forward_fn"], inputs["backward_fn"], "max")


def test_bidirectional_returning_both_directions_asks_for_y(nb05):
    fn = student(nb05, """
def bidirectional_forward(x, forward_fn, backward_fn, merge_mode):
    forward = forward_fn(x)
    backward = backward_fn(x[:, ::-1])[:, ::-1]
    return forward, backward
""", "bidirectional_forward")
    for hidden in (False, True):
        result = evaluate("bidirectional_forward", fn, hidden=hidden)
        assert_readable_failure(result, "bidirectional_forward")
        assert result.mistake == "", result.message
    result = evaluate("bidirectional_forward", fn)
    assert ("On case 'visible concat' (N=2, T=5, D=3, H=4, merge_mode=concat, M=8, float32) it "
            "returned a tuple of 2 arrays; return y itself." in result.message), result.message


def test_bidirectional_concat_on_the_time_axis_is_a_shape_failure(nb05):
    fn = student(nb05, """
def bidirectional_forward(x, forward_fn, backward_fn, merge_mode):
    fw = forward_fn(x)
    bw = backward_fn(x[:, ::-1])[:, ::-1]
    if merge_mode == "concat":
        return np.concatenate([fw, bw], axis=1)
    if merge_mode == "sum":
        return fw + bw
    if merge_mode == "mul":
        return fw * bw
    return (fw + bw) / 2
""", "bidirectional_forward")
    result = evaluate("bidirectional_forward", fn)
    assert_readable_failure(result, "bidirectional_forward")
    assert result.mistake == "", result.message
    assert [r.ok for r in result.cases] == [False, True]
    assert "y has shape (2, 10, 4), expected (N, T, M) = (2, 5, 8)." in result.message, result.message
    result = evaluate("bidirectional_forward", fn, hidden=True)
    assert_readable_failure(result, "bidirectional_forward")
    assert "y has shape (1, 2, 3), expected (N, T, M) = (1, 1, 6)." in result.message, result.message


def test_bidirectional_calling_a_function_like_rnn_forward_is_readable(nb05):
    """forward_fn takes x only: passing h0 too names the RNNFunction and the student's line."""
    fn = student(nb05, """
def bidirectional_forward(x, forward_fn, backward_fn, merge_mode):
    h0 = np.zeros((x.shape[0], 4))
    fw = forward_fn(x, h0)
    bw = backward_fn(x[:, ::-1], h0)[:, ::-1]
    return np.concatenate([fw, bw], axis=-1)
""", "bidirectional_forward")
    result = evaluate("bidirectional_forward", fn)
    assert_readable_failure(result, "bidirectional_forward")
    assert ("it raised TypeError: RNNFunction.__call__() takes 2 positional arguments but 3 were "
            "given (in bidirectional_forward, line 4: fw = forward_fn(x, h0))") in result.message, \
        result.message


def test_bidirectional_returning_the_function_itself_is_readable(nb05):
    fn = student(nb05, """
def bidirectional_forward(x, forward_fn, backward_fn, merge_mode):
    return forward_fn
""", "bidirectional_forward")
    result = evaluate("bidirectional_forward", fn)
    assert_readable_failure(result, "bidirectional_forward")
    assert "y is not a numeric array (got RNNFunction)" in result.message, result.message


def test_rnn_function_repr_shows_in_the_students_error_text(nb05):
    """A student's own assertion that formats a layer function names it readably."""
    fn = student(nb05, """
def stacked_forward(x, layer_fns):
    h = x
    for layer in layer_fns:
        assert h.shape[-1] == x.shape[-1], f"{layer} gets {h.shape[-1]} features"
        h = layer(h)
    return h
""", "stacked_forward")
    assert evaluate("stacked_forward", fn).passed  # every visible layer keeps the width D
    result = evaluate("stacked_forward", fn, hidden=True)
    assert_readable_failure(result, "stacked_forward")
    assert ("it raised AssertionError: <layer_fns[1]: SimpleRNN with 2 units> gets 6 features "
            "(in stacked_forward, line 5:") in result.message, result.message


# ----------------------------------------------------------------------------- stacked_forward
@pytest.mark.parametrize("label, depth", [("hidden one layer", 1), ("hidden three layers", 3)])
def test_stacked_solution_handles_one_and_three_layers(nb05, label, depth):
    inputs = inputs_of("stacked_forward", label)
    assert len(inputs["layer_fns"]) == depth
    assert_matches_reference(nb05["stacked_forward"], "stacked_forward", label)
    result = evaluate("stacked_forward", nb05["stacked_forward"], hidden=True)
    assert next(r for r in result.cases if r.case.label == label).ok, result.message


@pytest.mark.parametrize("source", ["""
def stacked_forward(x, layer_fns):
    import functools
    return functools.reduce(lambda h, layer: layer(h), layer_fns, x)
""", """
def stacked_forward(x, layer_fns):
    h_seq = x
    for l in range(len(layer_fns)):
        h_seq = layer_fns[l](h_seq)
    return h_seq
""", """
def stacked_forward(x, layer_fns):
    if len(layer_fns) == 1:
        return layer_fns[0](x)
    return stacked_forward(layer_fns[0](x), layer_fns[1:])
"""], ids=["reduce", "index loop", "recursive"])
def test_stacked_other_correct_versions_pass(nb05, source):
    fn = student(nb05, source, "stacked_forward")
    for hidden in (False, True):
        result = evaluate("stacked_forward", fn, hidden=hidden)
        assert result.passed, result.message


def test_stacked_hard_coded_two_layers_fails_the_other_depths_readably(nb05):
    fn = student(nb05, """
def stacked_forward(x, layer_fns):
    h1 = layer_fns[0](x)
    h2 = layer_fns[1](h1)
    return h2
""", "stacked_forward")
    assert evaluate("stacked_forward", fn).passed
    result = evaluate("stacked_forward", fn, hidden=True)
    assert_readable_failure(result, "stacked_forward")
    assert [r.ok for r in result.cases] == [False, False, True], result.message
    assert ("On case 'hidden one layer' (N=2, T=3, D=2, layers=('GRU',), units=(5,), H=5, float32) "
            "it raised IndexError: list index out of range (in stacked_forward, line 4: "
            "h2 = layer_fns[1](h1))") in result.message, result.message
    assert result.mistake == "", result.message


STACKED_POPPING = """
def stacked_forward(x, layer_fns):
    h = x
    while layer_fns:
        h = layer_fns.pop({index})(h)
    return h
"""


def test_stacked_popping_from_the_list_fails_and_changes_nothing_outside(nb05):
    """Emptying the list it is given fails (the caller's list changes); the case's list stays
    whole."""
    fn = student(nb05, STACKED_POPPING.format(index=0), "stacked_forward")
    exercise = keys.get("stacked_forward")
    for hidden in (False, True):
        result = evaluate("stacked_forward", fn, hidden=hidden)
        assert not result.passed and "in place: work on a copy" in result.message, result.message
        for r in result.cases:
            fresh = checks.make_inputs(exercise, r.case)
            assert_same_value(r.inputs["layer_fns"], fresh["layer_fns"], r.case.label)


def test_stacked_popping_does_not_hide_a_mistake(nb05):
    """pop() takes the top layer first: named from the case's own (unpopped) list."""
    fn = student(nb05, STACKED_POPPING.format(index=""), "stacked_forward")
    for hidden in (False, True):
        assert_fails_naming(evaluate("stacked_forward", fn, hidden=hidden), "layers applied top first")


def test_student_gets_a_fresh_list_of_the_cases_own_functions(nb05):
    """What the engine does now: the list is copied, the RNNFunction objects in it are not.

    The same holds for forward_fn and backward_fn. Their weight arrays are read-only, so a
    student cannot change what the checker replays.
    """
    fn = student(nb05, """
seen = []

def stacked_forward(x, layer_fns):
    seen.append(layer_fns)
    h = x
    for layer in layer_fns:
        h = layer(h)
    return h
""", "stacked_forward")
    result = evaluate("stacked_forward", fn)
    assert result.passed, result.message
    got = fn.__globals__["seen"]
    assert len(got) == len(result.cases)
    for lst, r in zip(got, result.cases):
        assert lst is not r.inputs["layer_fns"]
        assert all(a is b for a, b in zip(lst, r.inputs["layer_fns"]))
        assert not any(w.flags.writeable for f in lst for w in f.weights)


BIDIRECTIONAL_SCRIBBLING_ON_WEIGHTS = mutant_source(
    "bidirectional_forward", "concat order (backward first)").replace(
    "    if merge_mode == \"concat\":\n        return np.concatenate([h_bw, h_fw], axis=-1)",
    "    for w in forward_fn.weights:\n        w *= 0\n"
    "    if merge_mode == \"concat\":\n        return np.concatenate([h_bw, h_fw], axis=-1)")


def test_writing_into_rnn_function_weights_is_refused_at_the_students_line(nb05):
    """The weights the checker hands over are read-only: editing them fails readably."""
    assert "w *= 0" in BIDIRECTIONAL_SCRIBBLING_ON_WEIGHTS
    fn = student(nb05, """
def bidirectional_forward(x, forward_fn, backward_fn, merge_mode):
    fw = forward_fn(x)
    bw = backward_fn(x[:, ::-1])[:, ::-1]
    for w in forward_fn.weights + backward_fn.weights:
        w[...] = 0
""" + BIDIRECTIONAL_MERGE, "bidirectional_forward")
    for hidden in (False, True):
        result = evaluate("bidirectional_forward", fn, hidden=hidden)
        assert not result.passed
        assert "assignment destination is read-only (in bidirectional_forward, line 6: w[...] = 0)" \
            in result.message, result.message


def test_writing_into_rnn_function_weights_does_not_hide_a_mistake(nb05):
    fn = student(nb05, BIDIRECTIONAL_SCRIBBLING_ON_WEIGHTS, "bidirectional_forward")
    result = evaluate("bidirectional_forward", fn)
    assert not result.passed, result.message
    # Either the mistake is named, or writing into the weights is refused at the student's line.
    assert (result.mistake == "concat order (backward first)"
            or "w *= 0" in result.message), result.message


# ----------------------------------------------------------------------------- masked_rnn_forward
MASKED_LOOP = """
def masked_rnn_forward(x, mask, h0, Wx, Wh, b):
    h = h0
    out = np.zeros_like(h0)
    outputs = []
    for t in range(x.shape[1]):
        real = {real}
        h_new = np.tanh(x[:, t] @ Wx + h @ Wh + b)
        h = {h}
        out = {out}
        outputs.append(out)
    return np.stack(outputs, axis=1), h
"""


def masked_variant(real="mask[:, t:t + 1]", h="np.where(real, h_new, h)",
                   out="np.where(real, h_new, out)"):
    return MASKED_LOOP.format(real=real, h=h, out=out)


def test_masked_gets_a_bool_mask():
    exercise = keys.get("masked_rnn_forward")
    for case in exercise.cases:
        inputs = checks.make_inputs(exercise, case)
        mask = inputs["mask"]
        assert mask.dtype == np.bool_ and mask.shape == (case.sizes["N"], case.sizes["T"]), case.label


def test_masked_student_receives_the_bool_mask(nb05):
    fn = student(nb05, """
seen = []

def masked_rnn_forward(x, mask, h0, Wx, Wh, b):
    seen.append((type(mask), mask.dtype, mask.shape))
""" + masked_variant().split("\n", 2)[2], "masked_rnn_forward")
    result = evaluate("masked_rnn_forward", fn, hidden=True)
    assert result.passed, result.message
    assert fn.__globals__["seen"] == [(np.ndarray, np.dtype(bool), (c.sizes["N"], c.sizes["T"]))
                                      for c in keys.get("masked_rnn_forward").select(True)]


@pytest.mark.parametrize("dtype", [int, np.int8, np.float32])
def test_masked_solution_works_with_a_numeric_mask(nb05, dtype):
    """The engine passes bool; a 0/1 mask (int or float) gives the same result with np.where."""
    for case in keys.get("masked_rnn_forward").cases:
        mask = inputs_of("masked_rnn_forward", case.label)["mask"]
        assert_matches_reference(nb05["masked_rnn_forward"], "masked_rnn_forward", case.label,
                                 mask=mask.astype(dtype))


@pytest.mark.parametrize("variant", [
    dict(real="mask[:, t, None]"),
    dict(real="mask[:, t].reshape(-1, 1)"),
    dict(real="np.expand_dims(mask[:, t], axis=-1)"),
    dict(real="mask[:, t:t + 1].astype(x.dtype)", h="real * h_new + (1 - real) * h",
         out="real * h_new + (1 - real) * out"),
], ids=["None index", "reshape", "expand_dims", "float mask arithmetic"])
def test_masked_other_correct_versions_pass(nb05, variant):
    fn = student(nb05, masked_variant(**variant), "masked_rnn_forward")
    for hidden in (False, True):
        result = evaluate("masked_rnn_forward", fn, hidden=hidden)
        assert result.passed, result.message


MASKED_WITHOUT_KEEPDIMS = masked_variant(real="mask[:, t]")


def test_masked_without_keepdims_fails_readably(nb05):
    """mask[:, t] is (N,): against (N, H) it raises a broadcasting error, shown with the line.

    Where N == H it broadcasts along the units instead (both visible cases, now): the values are
    wrong and the message locates them; no exception escapes either way.
    """
    fn = student(nb05, MASKED_WITHOUT_KEEPDIMS, "masked_rnn_forward")
    exercise = keys.get("masked_rnn_forward")
    for hidden in (False, True):
        result = evaluate("masked_rnn_forward", fn, hidden=hidden)
        assert_readable_failure(result, "masked_rnn_forward")
        assert result.mistake == "", result.message
        for r in result.cases:
            N, H = r.case.sizes["N"], r.case.sizes["H"]
            if N not in (1, H):
                assert "could not be broadcast together" in r.problem, r.problem
    result = evaluate("masked_rnn_forward", fn, hidden=True)
    first = next(r for r in result.cases if not r.ok)
    assert first.case.sizes["N"] != first.case.sizes["H"]
    assert (f"On case {first.case.describe()} it raised ValueError: operands could not be broadcast "
            f"together with shapes ({first.case.sizes['N']},) ") in result.message, result.message
    assert "(in masked_rnn_forward, line 9: h = np.where(real, h_new, h))" in result.message, \
        result.message
    visible = [c for c in exercise.select(hidden=False)]
    if all(c.sizes["N"] == c.sizes["H"] for c in visible):
        result = evaluate("masked_rnn_forward", fn)
        assert "h_seq differs at t=" in result.message, result.message


def test_masked_without_keepdims_raises_on_the_visible_cases(nb05):
    fn = student(nb05, MASKED_WITHOUT_KEEPDIMS, "masked_rnn_forward")
    result = evaluate("masked_rnn_forward", fn)
    assert "could not be broadcast together" in result.message, result.message
    assert "line 9: h = np.where(real, h_new, h)" in result.message, result.message


def test_masked_zeros_at_every_padded_step_is_named(nb05):
    """Multiplying the outputs by the mask zeroes the padded steps: Keras repeats the last output."""
    fn = student(nb05, masked_variant(out="h * real"), "masked_rnn_forward")
    for hidden in (False, True):
        assert_fails_naming(evaluate("masked_rnn_forward", fn, hidden=hidden),
                            "zero output at padded steps")


def test_all_padded_reference_keeps_h0_and_outputs_zeros():
    """Keras's SimpleRNN with mask=: a row with no real step never updates. Its state stays h0 and
    its outputs stay at their start value, zeros (not h0); at leading padded steps of a pre-padded
    row the outputs are zeros too, while the state is h0."""
    exercise = keys.get("masked_rnn_forward")
    case = next(c for c in exercise.select(hidden=True) if c.note == "all padded")
    inputs = checks.make_inputs(exercise, case)
    assert not inputs["mask"].any()
    h_seq, h_last = _reference(exercise, inputs)
    N, T, H = case.sizes["N"], case.sizes["T"], case.sizes["H"]
    assert h_seq.shape == (N, T, H) and h_last.shape == (N, H)
    np.testing.assert_array_equal(h_seq, np.zeros((N, T, H)))
    np.testing.assert_array_equal(h_last, inputs["h0"].astype(np.float64))
    assert np.all(inputs["h0"] != 0)
    for case in exercise.cases:
        if case.note != "pre-padded":
            continue
        inputs = checks.make_inputs(exercise, case)
        h_seq, _ = _reference(exercise, inputs)
        leading = ~np.logical_or.accumulate(inputs["mask"], axis=1)
        assert leading.any(), case.label
        np.testing.assert_array_equal(h_seq[leading], 0.0, err_msg=case.label)
        assert np.all(h_seq[~leading] != 0), case.label


# ----------------------------------------------------------------------------- generic failures
def test_missing_return(nb05):
    fn = student(nb05, """
def stacked_forward(x, layer_fns):
    h_seq = x
    for layer in layer_fns:
        h_seq = layer(h_seq)
""", "stacked_forward")
    result = evaluate("stacked_forward", fn)
    assert_readable_failure(result, "stacked_forward")
    assert "returned None" in result.message and "return" in result.message, result.message


@pytest.mark.parametrize("name, source, expected", [
    ("masked_rnn_forward", masked_variant().replace("return np.stack(outputs, axis=1), h",
                                                    "return np.stack(outputs, axis=1)"),
     "it returned a ndarray; expected a tuple (h_seq, h_last)"),
    ("masked_rnn_forward", masked_variant().replace("return np.stack(outputs, axis=1), h",
                                                    "return np.stack(outputs, axis=1), h, out"),
     "it returned a tuple of length 3; expected a tuple (h_seq, h_last)"),
    ("stacked_forward", """
def stacked_forward(x, layer_fns):
    states = [x]
    for layer in layer_fns:
        states.append(layer(states[-1]))
    return states[1:]
""", "it returned a list of 2 arrays; return h_seq itself"),
], ids=["masked returns h_seq only", "masked returns three arrays", "stacked returns every layer"])
def test_wrong_number_of_outputs(nb05, name, source, expected):
    fn = student(nb05, source, name)
    result = evaluate(name, fn)
    assert_readable_failure(result, name)
    assert expected in result.message, result.message
    assert result.mistake == ""


def test_masked_time_major_h_seq_is_a_shape_failure(nb05):
    fn = student(nb05, masked_variant().replace("np.stack(outputs, axis=1)", "np.array(outputs)"),
                 "masked_rnn_forward")
    result = evaluate("masked_rnn_forward", fn)
    assert_readable_failure(result, "masked_rnn_forward")
    N, T, H = (result.cases[0].case.sizes[k] for k in ("N", "T", "H"))
    assert f"h_seq has shape ({T}, {N}, {H}), expected (N, T, H) = ({N}, {T}, {H})" in result.message, \
        result.message


def test_error_in_student_code_shows_the_line_not_a_traceback(nb05):
    fn = student(nb05, """
def masked_rnn_forward(x, mask, h0, Wx, Wh, b):
    h, outputs = h0, []
    for t in range(x.shape[1]):
        h_new = np.tanh(x[:, t] @ Wh + h @ Wx + b)
        h = np.where(mask[:, t:t + 1], h_new, h)
        outputs.append(h)
    return np.stack(outputs, axis=1), h
""", "masked_rnn_forward")
    result = evaluate("masked_rnn_forward", fn)
    assert_readable_failure(result, "masked_rnn_forward")
    assert "ValueError" in result.message, result.message
    assert "line 5: h_new = np.tanh(x[:, t] @ Wh + h @ Wx + b)" in result.message, result.message


# ----------------------------------------------------------------------------- inputs
def test_float_inputs_have_the_case_dtype():
    """Arrays passed directly have the case dtype (the mask is bool); the weights inside the
    RNNFunctions stay float64 whatever the case dtype, so their outputs are float64."""
    for exercise in EXERCISES:
        for case in exercise.cases:
            for key, value in checks.make_inputs(exercise, case).items():
                if isinstance(value, np.ndarray):
                    expected = np.bool_ if key == "mask" else np.dtype(case.dtype)
                    assert value.dtype == expected, f"{exercise.name} {case.label} {key}"
                fns = value if isinstance(value, list) else [value]
                for fn in fns:
                    if isinstance(fn, RNNFunction):
                        assert all(w.dtype == np.float64 for w in fn.weights), case.label


def test_in_place_changes_to_inputs_fail_and_leave_the_cases_whole(nb05):
    """Changing the inputs in place fails (a later cell would see them changed); the case's own
    inputs stay whole."""
    fn = student(nb05, masked_variant().replace("    return np.stack", """\
    for a in (x, h0, Wx, Wh):
        a *= 0
    b += 100
    mask[...] = False
    return np.stack"""), "masked_rnn_forward")
    exercise = keys.get("masked_rnn_forward")
    for hidden in (False, True):
        result = evaluate("masked_rnn_forward", fn, hidden=hidden)
        assert not result.passed and "in place: work on a copy" in result.message, result.message
        for r in result.cases:
            fresh = checks.make_inputs(exercise, r.case)
            for key in exercise.args:
                np.testing.assert_array_equal(r.inputs[key], fresh[key])


def test_in_place_changes_do_not_hide_a_mistake(nb05):
    """Inverting the mask in place: the mistake is recognised from the original inputs."""
    fn = student(nb05, """
def masked_rnn_forward(x, mask, h0, Wx, Wh, b):
    mask ^= True                            # "mask marks the padding", the student thinks
    h = h0
    out = np.zeros_like(h0)
    outputs = []
    for t in range(x.shape[1]):
        real = mask[:, t:t + 1]
        h_new = np.tanh(x[:, t] @ Wx + h @ Wh + b)
        h = np.where(real, h_new, h)
        out = np.where(real, h_new, out)
        outputs.append(out)
    return np.stack(outputs, axis=1), h
""", "masked_rnn_forward")
    for hidden in (False, True):
        assert_fails_naming(evaluate("masked_rnn_forward", fn, hidden=hidden), "mask inverted")


# ----------------------------------------------------------------------------- check()
def test_check_prints_on_success(nb05, capsys):
    check("bidirectional_forward", nb05["bidirectional_forward"])
    out = capsys.readouterr().out
    assert out.startswith("bidirectional_forward matches keras.layers.Bidirectional(SimpleRNN) on 2 "
                          "visible cases (largest difference"), out
    assert out.endswith("\n") and out.count("\n") == 1


def test_check_prints_on_hidden_success(nb05, capsys):
    check("masked_rnn_forward", nb05["masked_rnn_forward"], hidden=True)
    out = capsys.readouterr().out
    assert out.startswith("masked_rnn_forward matches keras.layers.SimpleRNN called with mask= on 4 "
                          "hidden cases"), out


def test_check_raises_check_failed_with_the_message(nb05, capsys):
    fn = student(nb05, mutant_source("stacked_forward", "x fed to every layer"), "stacked_forward")
    with pytest.raises(CheckFailed) as info:
        check("stacked_forward", fn)
    assert isinstance(info.value, AssertionError)
    assert str(info.value) == evaluate("stacked_forward", fn).message
    assert "Recognised mistake: x fed to every layer." in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert capsys.readouterr().out == ""


def test_check_raises_on_hidden_failure(nb05, capsys):
    fn = student(nb05, mutant_source("masked_rnn_forward", "mask inverted"), "masked_rnn_forward")
    with pytest.raises(CheckFailed, match="Recognised mistake: mask inverted."):
        check("masked_rnn_forward", fn, hidden=True)
    assert capsys.readouterr().out == ""


def test_check_raises_on_not_implemented(nb05):
    fn = student(nb05, "def stacked_forward(x, layer_fns):\n    raise NotImplementedError()\n")
    with pytest.raises(AssertionError, match="not implemented"):
        check("stacked_forward", fn)


# ----------------------------------------------------------------------------- stderr
NOISY = {
    # Prints the shapes and warns, then puts the backward half first.
    "bidirectional_forward": """
import sys
import warnings

def bidirectional_forward(x, forward_fn, backward_fn, merge_mode):
    print("x", x.shape, forward_fn, file=sys.stderr)
    warnings.warn("merging " + merge_mode)
    fw = forward_fn(x)
    bw = backward_fn(x[:, ::-1])[:, ::-1]
    if merge_mode == "concat":
        return np.concatenate([bw, fw], axis=-1)
    if merge_mode == "sum":
        return fw + bw
    if merge_mode == "mul":
        return fw * bw
    return (fw + bw) / 2
""",
    # Prints its progress per layer, takes log(-1) and feeds x to every layer.
    "stacked_forward": """
import sys

def stacked_forward(x, layer_fns):
    np.log(-1.0)
    for k, layer in enumerate(layer_fns):
        print("layer", k, layer, file=sys.stderr)
        h = layer(x)
    return h
""",
    # Divides by zero, overflows and zeroes the outputs at padded steps.
    "masked_rnn_forward": mutant_source("masked_rnn_forward", "zero output at padded steps").replace(
        "    h = h0\n", "    h = h0\n    np.ones(1) / 0\n    np.exp(np.full(3, 1e4))\n", 1),
}
NOISY_MISTAKES = {"bidirectional_forward": "concat order (backward first)",
                  "stacked_forward": "x fed to every layer",
                  "masked_rnn_forward": "zero output at padded steps"}


def test_stderr_harness_sees_a_numpy_warning(nb05, capfd):
    """The harness of the stderr tests can fail: outside a check the noisy version does warn."""
    fn = student(nb05, NOISY["masked_rnn_forward"], "masked_rnn_forward")
    inputs = inputs_of("masked_rnn_forward", "visible mixed lengths")
    capfd.readouterr()
    with warnings_to_stderr():
        fn(**inputs)
    err = capfd.readouterr().err
    assert "divide by zero" in err and "overflow encountered in exp" in err, err


@pytest.mark.parametrize("name", EXERCISE_NAMES)
def test_failing_check_writes_nothing_to_stderr(nb05, capfd, name):
    evaluate(name, nb05[name])  # TensorFlow is loaded before capturing
    fn = student(nb05, NOISY[name], name)
    capfd.readouterr()
    with warnings_to_stderr():
        for hidden in (False, True):
            result = evaluate(name, fn, hidden=hidden)
            assert not result.passed, result.message
            assert result.mistake == NOISY_MISTAKES[name], result.message
        with pytest.raises(CheckFailed):
            check(name, fn)
        with pytest.raises(CheckFailed):
            check(name, fn, hidden=True)
    captured = capfd.readouterr()
    assert captured.err == ""
    assert captured.out == ""


def test_warnings_do_not_leak_out_of_a_check(nb05, recwarn):
    fn = student(nb05, NOISY["bidirectional_forward"], "bidirectional_forward")
    with np.errstate(all="raise"):
        result = evaluate("bidirectional_forward", fn)
    assert not result.passed
    assert result.mistake == "concat order (backward first)", result.message
    assert len(recwarn) == 0, [str(w.message) for w in recwarn]
