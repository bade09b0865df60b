"""The checks of notebook 04_lstm_gru, exercised the way students will exercise them.

What is checked:

* that the solutions pass, that every catalogued mistake's mutant (tests/mutants/) is named on
  the visible and the hidden cases, and that nothing a student hands a check makes it raise:
  tests/test_contract.py, for every notebook at once; here, that each mutant returns what its
  catalogue entry returns (for sample_next: the frequencies of its samples);
* lstm_forward and gru_forward have to be built from lstm_cell_forward and gru_cell_forward (the
  structural "does not use" check), and a broken cell underneath them is pointed out;
* sample_next: the student's function gets a np.random.Generator and must draw from it (one
  drawing from np.random is told so); an int, a NumPy integer or a one-element array is accepted
  as the index, while a float, a bool, an array of probabilities or an index out of range is
  reported readably; reseeding on every call fails; temperature 0 means argmax, and dividing by
  it fails readably on the argmax cases only; a hand-written inverse CDF (rng.random and
  np.searchsorted) passes, and so do correct samplers whose samples differ from rng.choice's
  (Gumbel-max, multinomial), which guards the frequency tolerance; a sampler without the max
  shift fails readably on the large logits only;
* perplexity: a NumPy float, a 0-d array or a Python float passes; one value per sequence is a
  shape failure;
* gru_cell_forward's bias has two rows: a student who sums them, reads them the wrong way round or
  adds b as it is fails readably (summing them is exactly a catalogued mistake, and is named);
* generic failures (not implemented, no return, the wrong number of outputs, a wrong shape, an
  error in the student's code) give one readable message and no exception ever escapes evaluate();
* the student's function gets copies of the inputs (that they depend on the case alone:
  tests/test_contract.py);
* check() prints on success and raises CheckFailed (an AssertionError) with the message on failure;
* a failing check writes nothing to stderr (nbgrader scores a cell that does 0).

An error raised inside NumPy's random generator (rng.choice on NaN probabilities) is located at
the student's line, not in NumPy's Cython source.

The solution cells of the source notebook hold the graded functions (and `sigmoid`, defined in the
lstm_cell_forward solution cell, which the GRU solution uses too).
"""
import collections
import re

import numpy as np
import pytest

from rnnkit import checks
from rnnkit.checks import CheckFailed, check, evaluate
from rnnkit.grading import keys
from tests import mutants
from tests.mutation import assert_fails_naming, catalogued, student, warnings_to_stderr
from tests.mutants.lstm_gru import MUTANTS

NOTEBOOK = "04_lstm_gru"
EXERCISES = keys.for_notebook(NOTEBOOK)
EXERCISE_NAMES = [e.name for e in EXERCISES]
MUTANT_PARAMS = mutants.params(NOTEBOOK)


# Mutants of sample_next that by nature never touch their rng.
DRAWS_NOTHING = {("sample_next", "always the most likely index (greedy)")}


# ----------------------------------------------------------------------------- helpers
@pytest.fixture(scope="module")
def nb04():
    """The solution cells of 04_lstm_gru (the graded functions and sigmoid)."""
    return mutants.namespace(NOTEBOOK)


def mutant_source(exercise_name, mistake_name):
    return dict(MUTANTS[exercise_name])[mistake_name]


def assert_readable_failure(result, name):
    """A failure reported as one message: no traceback, no checker crash."""
    assert not result.passed, result.message
    assert isinstance(result.message, str) and result.message.startswith(name), result.message
    assert "Traceback" not in result.message and 'File "' not in result.message, result.message
    assert "The checker itself failed" not in result.message, result.message


def _outputs_of(fn, exercise, inputs):
    """What the checker compares for `fn` on these inputs, as a tuple (the runner's, if any)."""
    with np.errstate(all="ignore"):
        if exercise.runner is not None:
            value = exercise.runner(fn, **checks._copy(inputs))
        else:
            value = fn(*[checks._copy(inputs[a]) for a in exercise.args])
    return value if isinstance(value, tuple) else (value,)


def all_cases(exercise):
    return exercise.select(hidden=False) + exercise.select(hidden=True)


def case_named(exercise_name, label):
    return next(c for c in keys.get(exercise_name).cases if c.label == label)


# ----------------------------------------------------------------------------- correct solutions
def test_notebook_declares_the_six_exercises():
    assert EXERCISE_NAMES == ["lstm_cell_forward", "lstm_forward", "gru_cell_forward",
                              "gru_forward", "sample_next", "perplexity"]
    for exercise in EXERCISES:
        assert exercise.select(hidden=False), f"{exercise.name} has no visible case"
        assert exercise.select(hidden=True), f"{exercise.name} has no hidden case"
    assert keys.get("lstm_forward").must_call == ("lstm_cell_forward",)
    assert keys.get("gru_forward").must_call == ("gru_cell_forward",)
    assert keys.get("sample_next").runner is not None
    # Temperature 0 (argmax) and large logits are both among sample_next's cases.
    sample = keys.get("sample_next")
    for hidden in (False, True):
        assert any(c.sizes["temperature"] == 0 for c in sample.select(hidden)), hidden
    assert any("large logits" in c.note for c in sample.select(hidden=True))


def test_namespace_holds_the_graded_functions_and_sigmoid(nb04):
    for name in EXERCISE_NAMES + ["sigmoid"]:
        assert callable(nb04.get(name)), name
    np.testing.assert_allclose(nb04["sigmoid"](np.array([0.0, 2.0])), [0.5, 1 / (1 + np.exp(-2.0))])


# ----------------------------------------------------------------------------- mutation tests
def test_catalogues_never_shrink():
    """Catalogues grow; these are the sizes they have reached."""
    floors = {"lstm_cell_forward": 7, "lstm_forward": 4, "gru_cell_forward": 6, "gru_forward": 2,
              "sample_next": 4, "perplexity": 5}
    for e in EXERCISES:
        assert len(e.mistakes) >= floors[e.name], e.name


@pytest.mark.parametrize("exercise_name, mistake, occurrence, source", MUTANT_PARAMS)
def test_mutant_reproduces_its_catalogue_entry(nb04, exercise_name, mistake, occurrence, source):
    """The mutant returns what its catalogue entry says the mistake returns (so it is faithful).

    For sample_next that is the frequencies of its samples, within the exercise's tolerance.
    """
    exercise = keys.get(exercise_name)
    entry = catalogued(exercise_name, mistake, occurrence)
    fn = student(nb04, source, exercise_name)
    for case in all_cases(exercise):
        inputs = checks.make_inputs(exercise, case)
        got = _outputs_of(fn, exercise, inputs)
        with np.errstate(all="ignore"):
            expected = entry.output(**checks._copy(inputs))
        expected = expected if isinstance(expected, tuple) else (expected,)
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            np.testing.assert_allclose(np.asarray(g, np.float64), np.asarray(e, np.float64),
                                       atol=exercise.atol, rtol=exercise.rtol, equal_nan=True,
                                       err_msg=f"case {case.label}")


@pytest.mark.parametrize("exercise_name, cell", [("lstm_forward", "lstm_cell_forward"),
                                                 ("gru_forward", "gru_cell_forward")])
def test_forward_mutants_call_the_cell(nb04, exercise_name, cell):
    """The loop mutants are recognised by their values, not by a missing call."""
    exercise = keys.get(exercise_name)
    inputs = checks.make_inputs(exercise, exercise.select(hidden=False)[0])
    T = inputs["x"].shape[1]
    for mistake, source in MUTANTS[exercise_name]:
        fn = student(nb04, source, exercise_name)
        calls = []
        correct = fn.__globals__[cell]
        fn.__globals__[cell] = lambda *a: calls.append(1) or correct(*a)
        _outputs_of(fn, exercise, inputs)
        assert len(calls) == T, f"the mutant {mistake!r} calls {cell} {len(calls)} times, not {T}"


def test_sample_next_mutants_draw_from_rng(nb04):
    """The sampling mutants really sample with the rng they are given; only greedy does not."""
    exercise = keys.get("sample_next")
    inputs = checks.make_inputs(exercise, exercise.select(hidden=False)[0])
    for mistake, source in MUTANTS["sample_next"]:
        fn = student(nb04, source, "sample_next")
        rng = np.random.default_rng(0)
        before = rng.bit_generator.state
        fn(inputs["logits"].copy(), inputs["temperature"], rng)
        drew = rng.bit_generator.state != before
        assert drew == (("sample_next", mistake) not in DRAWS_NOTHING), mistake


# ----------------------------------------------------------------------------- must_call
LSTM_FORWARD_INLINE = """
def lstm_forward(x, h0, c0, W, U, b):
    H = h0.shape[1]
    h, c = h0, c0
    h_seq = []
    for t in range(x.shape[1]):
        z = x[:, t] @ W + h @ U + b
        i = 1 / (1 + np.exp(-z[:, :H]))
        f = 1 / (1 + np.exp(-z[:, H:2 * H]))
        g = np.tanh(z[:, 2 * H:3 * H])
        o = 1 / (1 + np.exp(-z[:, 3 * H:]))
        c = f * c + i * g
        h = o * np.tanh(c)
        h_seq.append(h)
    return np.stack(h_seq, axis=1), h, c
"""

GRU_FORWARD_INLINE = """
def gru_forward(x, h0, W, U, b):
    H = h0.shape[1]
    h = h0
    h_seq = []
    for t in range(x.shape[1]):
        xw = x[:, t] @ W + b[0]
        hu = h @ U + b[1]
        z = sigmoid(xw[:, :H] + hu[:, :H])
        r = sigmoid(xw[:, H:2 * H] + hu[:, H:2 * H])
        h = z * h + (1 - z) * np.tanh(xw[:, 2 * H:] + r * hu[:, 2 * H:])
        h_seq.append(h)
    return np.stack(h_seq, axis=1), h
"""

INLINE = {"lstm_forward": ("lstm_cell_forward", LSTM_FORWARD_INLINE),
          "gru_forward": ("gru_cell_forward", GRU_FORWARD_INLINE)}


@pytest.mark.parametrize("name", list(INLINE))
def test_forward_must_call_its_cell(nb04, name):
    cell, source = INLINE[name]
    fn = student(nb04, source, name)
    # The values are right: every case, visible and hidden, matches the reference.
    exercise = keys.get(name)
    for case in exercise.cases:
        inputs = checks.make_inputs(exercise, case)
        got = _outputs_of(fn, exercise, inputs)
        for g, e in zip(got, exercise.reference(**checks._copy(inputs))):
            np.testing.assert_allclose(g, e, atol=exercise.atol, rtol=exercise.rtol,
                                       err_msg=case.label)
    for hidden in (False, True):
        result = evaluate(name, fn, hidden=hidden)
        assert_readable_failure(result, name)
        assert result.mistake == f"does not use {cell}"
        assert f"Recognised mistake: does not use {cell}." in result.message, result.message
        assert f"never calls {cell}" in result.message, result.message
    # The spy is removed again: the namespace holds the student's own cell afterwards.
    assert fn.__globals__[cell] is nb04[cell]


def test_forward_calling_the_cell_differently_passes(nb04):
    """Correct loops written differently from the solutions (preallocated, keyword calls)."""
    lstm = student(nb04, """
def lstm_forward(x, h0, c0, W, U, b):
    N, T, D = x.shape
    h_seq = np.empty((N, T, h0.shape[-1]), dtype=x.dtype)
    h, c = h0.copy(), c0.copy()
    for t in range(T):
        h, c = lstm_cell_forward(x_t=x[:, t, :], h_prev=h, c_prev=c, W=W, U=U, b=b)
        h_seq[:, t, :] = h
    return h_seq, h_seq[:, -1], c
""", "lstm_forward")
    gru = student(nb04, """
def gru_forward(x, h0, W, U, b):
    outputs = []
    h = h0
    for x_t in np.moveaxis(x, 1, 0):
        h = gru_cell_forward(x_t, h, W, U, b)
        outputs.append(h)
    return np.array(outputs).transpose(1, 0, 2), h
""", "gru_forward")
    for name, fn in (("lstm_forward", lstm), ("gru_forward", gru)):
        for hidden in (False, True):
            result = evaluate(name, fn, hidden=hidden)
            assert result.passed, result.message


CORRECT_LOOPS = {
    "lstm_forward": """
def lstm_forward(x, h0, c0, W, U, b):
    h, c, states = h0, c0, []
    for t in range(x.shape[1]):
        h, c = lstm_cell_forward(x[:, t], h, c, W, U, b)
        states.append(h)
    return np.stack(states, axis=1), h, c
""",
    "gru_forward": """
def gru_forward(x, h0, W, U, b):
    h, states = h0, []
    for t in range(x.shape[1]):
        h = gru_cell_forward(x[:, t], h, W, U, b)
        states.append(h)
    return np.stack(states, axis=1), h
""",
}


@pytest.mark.parametrize("name, cell, broken", [
    ("lstm_forward", "lstm_cell_forward", "bias missing"),
    ("gru_forward", "gru_cell_forward", "z convention swapped"),
])
def test_wrong_cell_is_pointed_out(nb04, name, cell, broken):
    """A correct loop built on a broken cell: the message says to fix the cell first."""
    assert evaluate(name, student(nb04, CORRECT_LOOPS[name], name)).passed
    fn = student(nb04, mutant_source(cell, broken) + CORRECT_LOOPS[name], name)
    for hidden in (False, True):
        result = evaluate(name, fn, hidden=hidden)
        assert_readable_failure(result, name)
        assert f"your {cell} does not pass its own check yet; fix it first" in result.message, \
            result.message
        assert f"never calls {cell}" not in result.message, result.message


# ----------------------------------------------------------------------------- sample_next
def sampler(nb04, body):
    """A sample_next whose body follows the usual softmax with temperature and max shift."""
    return student(nb04, """
def sample_next(logits, temperature, rng):
    if temperature == 0:
        return int(np.argmax(logits))
    z = np.asarray(logits, dtype=np.float64) / temperature
    p = np.exp(z - z.max())
    p /= p.sum()
""" + body, "sample_next")


@pytest.mark.parametrize("body", [
    "    return int(np.random.choice(len(p), p=p))\n",
    "    return int(np.random.default_rng().choice(len(p), p=p))\n",
], ids=["np.random.choice", "a fresh default_rng"])
def test_sample_next_not_drawing_from_rng_is_told_so(nb04, body):
    fn = sampler(nb04, body)
    for hidden in (False, True) if "np.random.choice" in body else (False,):
        result = evaluate("sample_next", fn, hidden=hidden)
        assert_readable_failure(result, "sample_next")
        assert result.mistake == "", result.message
        assert "it does not draw from its rng argument" in result.message, result.message
        assert "use rng.choice or rng.random, not np.random" in result.message, result.message


@pytest.mark.parametrize("source", ["""
def sample_next(logits, temperature, rng):
    rng = np.random.default_rng(0)
    if temperature == 0:
        return int(np.argmax(logits))
    z = logits / temperature
    p = np.exp(z - z.max())
    return int(rng.choice(len(p), p=p / p.sum()))
""", """
def sample_next(logits, temperature, rng):
    np.random.seed(42)
    if temperature == 0:
        return int(np.argmax(logits))
    z = logits / temperature
    p = np.exp(z - z.max())
    return int(np.random.choice(len(p), p=p / p.sum()))
"""], ids=["own generator", "np.random.seed"])
def test_sample_next_reseeding_every_call_is_named(nb04, source):
    """Reseeding on every call repeats one sample: both runs agree, but rng is never used.

    When that one repeated sample happens to be the argmax, it cannot be told from greedy
    decoding, and greedy is what the message names.
    """
    result = evaluate("sample_next", student(nb04, source, "sample_next"))
    assert_readable_failure(result, "sample_next")
    assert ("it never draws from its rng argument" in result.message
            or result.mistake == "always the most likely index (greedy)"), result.message


def test_sample_next_gets_a_generator_and_the_case_inputs(nb04):
    fn = student(nb04, """
import collections

seen = collections.Counter()

def sample_next(logits, temperature, rng):
    seen[(type(rng), type(logits), logits.dtype, logits.shape, type(temperature), temperature)] += 1
    if temperature == 0:
        return int(np.argmax(logits))
    z = logits / temperature
    p = np.exp(z - z.max())
    return int(rng.choice(len(p), p=p / p.sum()))
""", "sample_next")
    exercise = keys.get("sample_next")
    for hidden in (False, True):
        result = evaluate("sample_next", fn, hidden=hidden)
        assert result.passed, result.message
    seen = fn.__globals__["seen"]
    draws = sum(seen.values()) // (2 * len(exercise.cases))
    assert draws >= 1000, draws  # many samples per run, the same number on every case
    expected = collections.Counter()
    for case in exercise.cases:
        key = (np.random.Generator, np.ndarray, np.dtype(case.dtype), (case.sizes["V"],), float,
               float(case.sizes["temperature"]))
        expected[key] += 2 * draws
    assert seen == expected


def test_sample_next_case_input_rng_is_the_case_seed():
    exercise = keys.get("sample_next")
    for case in exercise.cases:
        inputs = checks.make_inputs(exercise, case)
        assert inputs["rng"] == case.seed and type(inputs["rng"]) is int, case.label
        assert inputs["logits"].shape == (case.sizes["V"],), case.label


@pytest.mark.parametrize("returned", [
    "np.int64(rng.choice(len(p), p=p))",
    "np.int32(rng.choice(len(p), p=p))",
    "np.array(rng.choice(len(p), p=p))",              # 0-d array
    "rng.choice(len(p), size=1, p=p)",                # 1-element array
], ids=["np.int64", "np.int32", "0-d array", "size=1 array"])
def test_sample_next_integer_like_returns_pass(nb04, returned):
    fn = sampler(nb04, f"    return {returned}\n")
    result = evaluate("sample_next", fn)
    assert result.passed, result.message


@pytest.mark.parametrize("returned, pattern", [
    ("float(rng.choice(len(p), p=p))", r"it returned \d\.0 \(float\); expected an int index in \[0, 5\)"),
    ("np.float64(rng.choice(len(p), p=p))",
     r"it returned (np\.float64\()?\d\.0\)? \(float64\); expected an int index in \[0, 5\)"),
    ("bool(rng.choice(len(p), p=p))", r"it returned (True|False) \(bool\); expected an int index"),
    ("np.bool_(rng.choice(len(p), p=p))", r"it returned .*(True|False).* \(bool_?\); expected an int index"),
    ("rng.choice(len(p), p=p) + 1", r"it returned 5, outside \[0, 5\)"),
    ("rng.choice(len(p), p=p) - len(p)", r"it returned -\d, outside \[0, 5\)"),
    ("p", r"it returned array\(\[.*\]\) \(ndarray\); expected an int index in \[0, 5\)"),
    ("str(rng.choice(len(p), p=p))", r"it returned '\d' \(str\); expected an int index"),
    ("[rng.choice(len(p), p=p), 0]", r"\(list\); expected an int index"),
], ids=["float", "numpy float", "bool", "numpy bool", "one-based", "negative", "probabilities",
        "str", "list"])
def test_sample_next_wrong_return_is_readable(nb04, returned, pattern):
    fn = sampler(nb04, f"    return {returned}\n")
    for hidden in (False, True):
        result = evaluate("sample_next", fn, hidden=hidden)
        assert_readable_failure(result, "sample_next")
        assert result.mistake == "", result.message
    result = evaluate("sample_next", fn)
    assert "On case 'visible temperature 1' (V=5, temperature=1.0, float32) it returned" \
        in result.message, result.message
    assert re.search(pattern, result.message, re.DOTALL), result.message


def test_sample_next_temperature_zero_without_special_case_fails_readably(nb04):
    """Dividing by temperature 0 gives NaN probabilities; only the argmax cases fail, readably."""
    fn = student(nb04, """
def sample_next(logits, temperature, rng):
    z = logits / temperature
    p = np.exp(z - np.max(z))
    p = p / np.sum(p)
    return int(rng.choice(len(p), p=p))
""", "sample_next")
    for hidden in (True, False):
        result = evaluate("sample_next", fn, hidden=hidden)
        assert_readable_failure(result, "sample_next")
        assert result.mistake == "", result.message
        assert [r.ok for r in result.cases] == [r.case.sizes["temperature"] != 0
                                                for r in result.cases], result.message
    assert "On case 'visible temperature 0 (argmax)'" in result.message, result.message
    assert "it raised ValueError: Probabilities contain NaN" in result.message, result.message


def test_error_raised_inside_numpy_random_shows_the_student_line(nb04):
    """An error raised by rng.choice points at the student's line, not at NumPy's source."""
    fn = student(nb04, """
def sample_next(logits, temperature, rng):
    z = logits / temperature
    p = np.exp(z - np.max(z))
    p = p / np.sum(p)
    return int(rng.choice(len(p), p=p))
""", "sample_next")
    result = evaluate("sample_next", fn)
    assert "it raised ValueError: Probabilities contain NaN" in result.message, result.message
    assert "_generator" not in result.message, result.message
    assert "(in sample_next, line 6: return int(rng.choice(len(p), p=p)))" in result.message, \
        result.message


@pytest.mark.parametrize("source", ["""
def sample_next(logits, temperature, rng):
    z = logits / max(temperature, 1e-6)
    p = np.exp(z - z.max())
    return int(rng.choice(len(logits), p=p / p.sum()))
""", """
def sample_next(logits, temperature, rng):
    if temperature <= 0:
        return np.argmax(logits)
    logits -= np.max(logits)            # in place: the checker hands over a copy
    logits /= temperature
    p = np.exp(logits)
    p /= np.sum(p)
    return rng.choice(np.arange(len(p)), p=p)
"""], ids=["clamped temperature", "in place on float32"])
def test_sample_next_other_correct_temperature_handling_passes(nb04, source):
    fn = student(nb04, source, "sample_next")
    for hidden in (False, True):
        result = evaluate("sample_next", fn, hidden=hidden)
        assert result.passed, result.message


def test_sample_next_inverse_cdf_passes(nb04):
    """Inverse CDF with rng.random and np.searchsorted: a correct sampler written by hand."""
    fn = sampler(nb04, """
    cdf = np.cumsum(p)
    u = rng.random() * cdf[-1]
    return int(np.searchsorted(cdf, u, side="right"))
""")
    for hidden in (False, True):
        result = evaluate("sample_next", fn, hidden=hidden)
        assert result.passed, result.message


def _draws(fn, case_label, n=300):
    exercise = keys.get("sample_next")
    inputs = checks.make_inputs(exercise, case_named("sample_next", case_label))
    rng = np.random.default_rng(inputs["rng"])
    return [int(fn(inputs["logits"].copy(), inputs["temperature"], rng)) for _ in range(n)]


@pytest.mark.parametrize("body", ["""
    return int(np.argmax(z + rng.gumbel(size=z.shape)))
""", """
    return int(np.argmax(rng.multinomial(1, p)))
""", """
    cdf = np.cumsum(p[::-1])
    return len(p) - 1 - int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"))
"""], ids=["Gumbel-max", "multinomial", "inverse CDF from the last class"])
def test_sample_next_drawing_other_samples_than_choice_passes(nb04, body):
    """Correct samplers whose samples differ from rng.choice's: the frequency tolerance holds."""
    fn = sampler(nb04, body)
    for label in ("visible temperature 1", "hidden temperature 2"):
        assert _draws(fn, label) != _draws(nb04["sample_next"], label), label
    for hidden in (False, True):
        result = evaluate("sample_next", fn, hidden=hidden)
        assert result.passed, result.message


def test_sample_next_without_max_shift_fails_only_on_large_logits(nb04):
    fn = student(nb04, """
def sample_next(logits, temperature, rng):
    if temperature == 0:
        return int(np.argmax(logits))
    p = np.exp(logits / temperature)
    p = p / p.sum()
    return int(rng.choice(len(p), p=p))
""", "sample_next")
    assert evaluate("sample_next", fn).passed
    result = evaluate("sample_next", fn, hidden=True)
    assert_readable_failure(result, "sample_next")
    assert result.mistake == "", result.message
    assert [r.ok for r in result.cases] == ["large logits" not in r.case.note
                                            for r in result.cases], result.message
    assert "On case 'hidden large logits'" in result.message, result.message
    assert "it raised ValueError" in result.message, result.message


# ----------------------------------------------------------------------------- perplexity
PERPLEXITY_HEAD = """
def perplexity(probs, targets):
    picked = np.take_along_axis(probs, targets[..., None], axis=-1)[..., 0]
"""


@pytest.mark.parametrize("returned", [
    "np.exp(-np.mean(np.log(picked)))",                  # a NumPy float (float32 or float64)
    "np.array(np.exp(-np.log(picked).mean()))",          # a 0-d array
    "np.exp(-np.log(picked).mean(keepdims=False)).astype(np.float64)",
    "float(np.exp(-np.mean(np.log(picked))))",
    "np.prod(picked.astype(np.float64)) ** (-1.0 / picked.size)",
], ids=["numpy float", "0-d array", "float64 scalar", "float", "geometric mean"])
def test_perplexity_scalar_returns_pass(nb04, returned):
    fn = student(nb04, PERPLEXITY_HEAD + f"    return {returned}\n", "perplexity")
    for hidden in (False, True):
        result = evaluate("perplexity", fn, hidden=hidden)
        assert result.passed, result.message


def test_perplexity_per_sequence_is_a_shape_failure(nb04):
    fn = student(nb04, PERPLEXITY_HEAD + "    return np.exp(-np.log(picked).mean(axis=1))\n",
                 "perplexity")
    result = evaluate("perplexity", fn)
    assert_readable_failure(result, "perplexity")
    assert result.mistake == ""
    assert "On case 'visible 1' (N=2, T=5, V=4, float32): perplexity has shape (2,), expected a " \
           "scalar ()" in result.message, result.message
    result = evaluate("perplexity", fn, hidden=True)
    assert_readable_failure(result, "perplexity")
    assert "perplexity has shape (1,), expected a scalar ()" in result.message, result.message


def test_perplexity_per_prediction_is_a_shape_failure(nb04):
    fn = student(nb04, PERPLEXITY_HEAD + "    return 1.0 / picked\n", "perplexity")
    result = evaluate("perplexity", fn)
    assert_readable_failure(result, "perplexity")
    assert "perplexity has shape (2, 5), expected a scalar ()" in result.message, result.message


# ----------------------------------------------------------------------------- GRU bias rows
def test_gru_bias_rows_summed_is_caught(nb04):
    """b.sum(axis=0) puts b[1]'s candidate part outside the reset gate: a catalogued mistake."""
    fn = student(nb04, """
def gru_cell_forward(x_t, h_prev, W, U, b):
    H = h_prev.shape[1]
    bias = b.sum(axis=0)
    a = x_t @ W + bias
    hu = h_prev @ U
    z = sigmoid(a[:, :H] + hu[:, :H])
    r = sigmoid(a[:, H:2 * H] + hu[:, H:2 * H])
    h_tilde = np.tanh(a[:, 2 * H:] + r * hu[:, 2 * H:])
    return z * h_prev + (1 - z) * h_tilde
""", "gru_cell_forward")
    names = [m.name for m in keys.get("gru_cell_forward").mistakes]
    for hidden in (False, True):
        result = evaluate("gru_cell_forward", fn, hidden=hidden)
        assert_readable_failure(result, "gru_cell_forward")
        assert result.mistake in names, result.message
        assert result.mistake == "recurrent candidate bias outside the reset", result.message


def test_gru_bias_rows_summed_inside_the_reset_fails_readably(nb04):
    """Summing the rows and resetting the whole candidate bias: wrong, not catalogued, readable."""
    fn = student(nb04, """
def gru_cell_forward(x_t, h_prev, W, U, b):
    H = h_prev.shape[1]
    b = b.sum(axis=0)
    z = sigmoid(x_t @ W[:, :H] + h_prev @ U[:, :H] + b[:H])
    r = sigmoid(x_t @ W[:, H:2 * H] + h_prev @ U[:, H:2 * H] + b[H:2 * H])
    h_tilde = np.tanh(x_t @ W[:, 2 * H:] + r * (h_prev @ U[:, 2 * H:] + b[2 * H:]))
    return z * h_prev + (1 - z) * h_tilde
""", "gru_cell_forward")
    for hidden in (False, True):
        result = evaluate("gru_cell_forward", fn, hidden=hidden)
        assert_readable_failure(result, "gru_cell_forward")
        assert "h_next differs at batch " in result.message, result.message


def test_gru_bias_rows_swapped_fails_readably(nb04):
    fn = student(nb04, """
def gru_cell_forward(x_t, h_prev, W, U, b):
    b_rec, b_in = b                     # the rows read the wrong way round
    xw_z, xw_r, xw_h = np.split(x_t @ W + b_in, 3, axis=-1)
    hu_z, hu_r, hu_h = np.split(h_prev @ U + b_rec, 3, axis=-1)
    z = sigmoid(xw_z + hu_z)
    r = sigmoid(xw_r + hu_r)
    return z * h_prev + (1 - z) * np.tanh(xw_h + r * hu_h)
""", "gru_cell_forward")
    for hidden in (False, True):
        result = evaluate("gru_cell_forward", fn, hidden=hidden)
        assert_readable_failure(result, "gru_cell_forward")
        assert "h_next differs at batch " in result.message, result.message


def test_gru_bias_used_as_is_fails_readably(nb04):
    """Adding b of shape (2, 3H) to an (N, 3H) product: a broadcasting error, shown with its line."""
    fn = student(nb04, """
def gru_cell_forward(x_t, h_prev, W, U, b):
    xw_z, xw_r, xw_h = np.split(x_t @ W + b, 3, axis=-1)
    hu_z, hu_r, hu_h = np.split(h_prev @ U, 3, axis=-1)
    z = sigmoid(xw_z + hu_z)
    r = sigmoid(xw_r + hu_r)
    return z * h_prev + (1 - z) * np.tanh(xw_h + r * hu_h)
""", "gru_cell_forward")
    for hidden in (False, True):
        result = evaluate("gru_cell_forward", fn, hidden=hidden)
        assert_readable_failure(result, "gru_cell_forward")
    result = evaluate("gru_cell_forward", fn)
    assert "On case 'visible 1'" in result.message and "ValueError" in result.message, result.message
    assert "xw_z, xw_r, xw_h = np.split(x_t @ W + b, 3, axis=-1)" in result.message, result.message


# ----------------------------------------------------------------------------- generic failures
def test_missing_return(nb04):
    fn = student(nb04, """
def lstm_cell_forward(x_t, h_prev, c_prev, W, U, b):
    z = x_t @ W + h_prev @ U + b
    i, f, g, o = np.split(z, 4, axis=1)
    c_next = sigmoid(f) * c_prev + sigmoid(i) * np.tanh(g)
    h_next = sigmoid(o) * np.tanh(c_next)
""", "lstm_cell_forward")
    result = evaluate("lstm_cell_forward", fn)
    assert_readable_failure(result, "lstm_cell_forward")
    assert "returned None" in result.message and "return" in result.message, result.message


@pytest.mark.parametrize("name, source, expected", [
    ("lstm_cell_forward", """
def lstm_cell_forward(x_t, h_prev, c_prev, W, U, b):
    i, f, g, o = np.split(x_t @ W + h_prev @ U + b, 4, axis=1)
    c_next = sigmoid(f) * c_prev + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c_next)
""", "it returned a ndarray; expected a tuple (h_next, c_next)"),
    ("lstm_forward", """
def lstm_forward(x, h0, c0, W, U, b):
    h, c, hs = h0, c0, []
    for t in range(x.shape[1]):
        h, c = lstm_cell_forward(x[:, t], h, c, W, U, b)
        hs.append(h)
    return np.stack(hs, axis=1), h
""", "it returned a tuple of length 2; expected a tuple (h_seq, h_last, c_last)"),
    ("gru_cell_forward", """
def gru_cell_forward(x_t, h_prev, W, U, b):
    xw_z, xw_r, xw_h = np.split(x_t @ W + b[0], 3, axis=-1)
    hu_z, hu_r, hu_h = np.split(h_prev @ U + b[1], 3, axis=-1)
    z = sigmoid(xw_z + hu_z)
    h_next = z * h_prev + (1 - z) * np.tanh(xw_h + sigmoid(xw_r + hu_r) * hu_h)
    return h_next, z
""", "it returned a tuple of 2 arrays; return h_next itself"),
    ("gru_forward", """
def gru_forward(x, h0, W, U, b):
    h, hs = h0, []
    for t in range(x.shape[1]):
        h = gru_cell_forward(x[:, t], h, W, U, b)
        hs.append(h)
    return np.stack(hs, axis=1)
""", "it returned a ndarray; expected a tuple (h_seq, h_last)"),
], ids=["lstm cell returns h only", "lstm_forward without c_last", "gru cell returns (h, z)",
        "gru_forward returns h_seq only"])
def test_wrong_number_of_outputs(nb04, name, source, expected):
    fn = student(nb04, source, name)
    result = evaluate(name, fn)
    assert_readable_failure(result, name)
    assert expected in result.message, result.message
    assert result.mistake == ""


def test_time_major_h_seq_is_a_shape_failure(nb04):
    fn = student(nb04, """
def lstm_forward(x, h0, c0, W, U, b):
    h, c, hs = h0, c0, []
    for t in range(x.shape[1]):
        h, c = lstm_cell_forward(x[:, t], h, c, W, U, b)
        hs.append(h)
    return np.array(hs), h, c
""", "lstm_forward")
    result = evaluate("lstm_forward", fn)
    assert_readable_failure(result, "lstm_forward")
    assert "h_seq has shape (4, 2, 5), expected (N, T, H) = (2, 4, 5)" in result.message, result.message


def test_lstm_states_swapped_locates_the_difference(nb04):
    """Returning (c_next, h_next): both outputs are reported, at batch and unit."""
    fn = student(nb04, """
def lstm_cell_forward(x_t, h_prev, c_prev, W, U, b):
    i, f, g, o = np.split(x_t @ W + h_prev @ U + b, 4, axis=1)
    c_next = sigmoid(f) * c_prev + sigmoid(i) * np.tanh(g)
    h_next = sigmoid(o) * np.tanh(c_next)
    return c_next, h_next
""", "lstm_cell_forward")
    result = evaluate("lstm_cell_forward", fn)
    assert_readable_failure(result, "lstm_cell_forward")
    assert "h_next differs at batch " in result.message, result.message
    assert "c_next differs at batch " in result.message, result.message
    assert result.cases[0].wrong == [0, 1]


def test_error_in_student_code_shows_the_line_not_a_traceback(nb04):
    fn = student(nb04, """
def lstm_cell_forward(x_t, h_prev, c_prev, W, U, b):
    z = x_t @ U + h_prev @ W + b
    i, f, g, o = np.split(z, 4, axis=1)
    c_next = sigmoid(f) * c_prev + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c_next), c_next
""", "lstm_cell_forward")
    result = evaluate("lstm_cell_forward", fn)
    assert_readable_failure(result, "lstm_cell_forward")
    assert "ValueError" in result.message, result.message
    assert "line 3: z = x_t @ U + h_prev @ W + b" in result.message, result.message


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


def test_gru_bias_has_two_rows_and_lstm_bias_one():
    for name, shape in (("lstm_cell_forward", lambda s: (4 * s["H"],)),
                        ("lstm_forward", lambda s: (4 * s["H"],)),
                        ("gru_cell_forward", lambda s: (2, 3 * s["H"])),
                        ("gru_forward", lambda s: (2, 3 * s["H"]))):
        exercise = keys.get(name)
        for case in exercise.cases:
            b = checks.make_inputs(exercise, case)["b"]
            assert b.shape == shape(case.sizes), f"{name} {case.label}"
            assert np.all(b != 0), f"{name} {case.label}: biases are nonzero"
        if name.startswith("gru"):  # the two rows differ, so mixing them up is seen
            assert not np.allclose(b[0], b[1])


def test_in_place_changes_to_inputs_fail_and_leave_the_cases_whole(nb04):
    """Changing the inputs in place fails (a later cell would see them changed); the case's own
    inputs stay whole."""
    fn = student(nb04, """
def lstm_cell_forward(x_t, h_prev, c_prev, W, U, b):
    z = x_t @ W + h_prev @ U + b
    i, f, g, o = np.split(z, 4, axis=1)
    c_next = sigmoid(f) * c_prev + sigmoid(i) * np.tanh(g)
    h_next = sigmoid(o) * np.tanh(c_next)
    for a in (x_t, h_prev, c_prev, W, U):
        a *= 0
    b += 100
    return h_next, c_next
""", "lstm_cell_forward")
    exercise = keys.get("lstm_cell_forward")
    for hidden in (False, True):
        result = evaluate("lstm_cell_forward", fn, hidden=hidden)
        assert not result.passed and "in place: work on a copy" in result.message, result.message
        for r in result.cases:
            fresh = checks.make_inputs(exercise, r.case)
            for key in exercise.args:
                np.testing.assert_array_equal(r.inputs[key], fresh[key])


def test_in_place_changes_do_not_hide_a_mistake(nb04):
    """The mistake is recognised from the original inputs, not the student's scribbled copies."""
    fn = student(nb04, """
def gru_cell_forward(x_t, h_prev, W, U, b):
    xw = x_t @ W + b[0]
    hu = h_prev @ U
    xw_z, xw_r, xw_h = np.split(xw, 3, axis=-1)
    hu_z, hu_r, hu_h = np.split(hu, 3, axis=-1)
    z = sigmoid(xw_z + hu_z)
    r = sigmoid(xw_r + hu_r)
    h_next = z * h_prev + (1 - z) * np.tanh(xw_h + r * hu_h)
    b[...] = 0
    W *= 2
    return h_next
""", "gru_cell_forward")
    assert_fails_naming(evaluate("gru_cell_forward", fn), "recurrent bias row ignored")


# ----------------------------------------------------------------------------- check()
def test_check_prints_on_success(nb04, capsys):
    check("lstm_forward", nb04["lstm_forward"])
    out = capsys.readouterr().out
    assert out.startswith("lstm_forward matches keras.layers.LSTM(return_sequences=True, "
                          "return_state=True) on 1 visible case (largest difference"), out
    assert out.endswith("\n") and out.count("\n") == 1


def test_check_prints_on_hidden_success(nb04, capsys):
    check("sample_next", nb04["sample_next"], hidden=True)
    out = capsys.readouterr().out
    assert out.startswith("sample_next matches softmax(logits / temperature) (frequencies of "), out
    assert "on 4 hidden cases" in out, out


def test_check_raises_check_failed_with_the_message(nb04, capsys):
    fn = student(nb04, mutant_source("lstm_cell_forward", "c_prev ignored"), "lstm_cell_forward")
    with pytest.raises(CheckFailed) as info:
        check("lstm_cell_forward", fn)
    assert isinstance(info.value, AssertionError)
    assert str(info.value) == evaluate("lstm_cell_forward", fn).message
    assert "Recognised mistake: c_prev ignored." in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert capsys.readouterr().out == ""


def test_check_raises_on_missing_call(nb04, capsys):
    fn = student(nb04, GRU_FORWARD_INLINE, "gru_forward")
    with pytest.raises(CheckFailed, match="never calls gru_cell_forward"):
        check("gru_forward", fn, hidden=True)
    assert capsys.readouterr().out == ""


def test_check_raises_when_rng_is_not_used(nb04, capsys):
    fn = sampler(nb04, "    return int(np.random.choice(len(p), p=p))\n")
    with pytest.raises(CheckFailed, match="does not draw from its rng argument"):
        check("sample_next", fn)
    assert capsys.readouterr().out == ""


def test_check_raises_on_not_implemented(nb04):
    fn = student(nb04, "def perplexity(probs, targets):\n    raise NotImplementedError()\n")
    with pytest.raises(AssertionError, match="not implemented"):
        check("perplexity", fn)


# ----------------------------------------------------------------------------- stderr
SAMPLE_NEXT_NO_SHIFT = """
def sample_next(logits, temperature, rng):
    if temperature == 0:
        return int(np.argmax(logits))
    p = np.exp(logits / temperature)
    p = p / p.sum()
    return int(rng.choice(len(p), p=p))
"""


def test_stderr_harness_sees_a_numpy_warning(nb04, capfd):
    """The harness of the stderr tests can fail: outside a check the no-shift sampler does warn."""
    fn = student(nb04, SAMPLE_NEXT_NO_SHIFT, "sample_next")
    exercise = keys.get("sample_next")
    inputs = checks.make_inputs(exercise, case_named("sample_next", "hidden large logits"))
    capfd.readouterr()
    with warnings_to_stderr():
        with pytest.raises(ValueError):
            fn(inputs["logits"], inputs["temperature"], np.random.default_rng(inputs["rng"]))
    assert "overflow encountered in exp" in capfd.readouterr().err


NOISY = {
    # Prints and warns, then forgets the bias.
    "lstm_cell_forward": """
import sys
import warnings

def lstm_cell_forward(x_t, h_prev, c_prev, W, U, b):
    print("shapes", x_t.shape, W.shape, file=sys.stderr)
    warnings.warn("no bias yet")
    np.log(-1.0)
    z = x_t @ W + h_prev @ U
    i, f, g, o = np.split(z, 4, axis=1)
    c_next = sigmoid(f) * c_prev + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c_next), c_next
""",
    # Divides by zero on purpose and never calls lstm_cell_forward.
    "lstm_forward": LSTM_FORWARD_INLINE.replace("    return np.stack",
                                                "    np.zeros(1) / 0\n    return np.stack"),
    # Overflows in exp and swaps the z convention.
    "gru_cell_forward": mutant_source("gru_cell_forward", "z convention swapped").replace(
        "    return (1 - z)", "    np.exp(np.full(3, 1e4))\n    return (1 - z)"),
    # Prints its progress and does not carry the state.
    "gru_forward": """
import sys

def gru_forward(x, h0, W, U, b):
    states = []
    for t in range(x.shape[1]):
        print("step", t, file=sys.stderr)
        states.append(gru_cell_forward(x[:, t], h0, W, U, b))
    return np.stack(states, axis=1), states[-1]
""",
    # Warns on every call, overflows on large logits and divides by temperature 0.
    "sample_next": """
import warnings

def sample_next(logits, temperature, rng):
    warnings.warn("sampling")
    p = np.exp(logits / temperature)
    p = p / p.sum()
    return int(rng.choice(len(p), p=p))
""",
    # Prints the loss to stderr and forgets the exp; takes log(0) of a masked copy.
    "perplexity": """
import sys

def perplexity(probs, targets):
    picked = np.take_along_axis(probs, targets[..., None], axis=-1)[..., 0]
    np.log(np.zeros_like(picked))
    loss = -np.mean(np.log(picked))
    print("loss", loss, file=sys.stderr)
    return loss
""",
}


@pytest.mark.parametrize("name", EXERCISE_NAMES)
def test_failing_check_writes_nothing_to_stderr(nb04, capfd, name):
    evaluate(name, nb04[name])  # TensorFlow is loaded before capturing
    fn = student(nb04, NOISY[name], name)
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


def test_noisy_mutants_are_still_named(nb04, capfd):
    """The catalogued mistakes behind the noisy versions are named while warnings are shown."""
    expected = {"lstm_cell_forward": "bias missing", "lstm_forward": "does not use lstm_cell_forward",
                "gru_cell_forward": "z convention swapped",
                "gru_forward": "state not carried (h0 at every step)",
                "perplexity": "cross-entropy returned (no exp)"}
    for name, mistake in expected.items():
        evaluate(name, nb04[name])
    capfd.readouterr()
    with warnings_to_stderr():
        for name, mistake in expected.items():
            result = evaluate(name, student(nb04, NOISY[name], name))
            assert result.mistake == mistake, result.message
    assert capfd.readouterr().err == ""


def test_warnings_do_not_leak_out_of_a_check(nb04, recwarn):
    fn = student(nb04, NOISY["lstm_cell_forward"], "lstm_cell_forward")
    with np.errstate(all="raise"):
        result = evaluate("lstm_cell_forward", fn)
    assert not result.passed
    assert result.mistake == "bias missing", result.message
    assert len(recwarn) == 0, [str(w.message) for w in recwarn]
