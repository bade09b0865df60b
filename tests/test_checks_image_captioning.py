"""The checks of notebook 06_image_captioning, exercised the way students will exercise them.

What is checked:

* that the solutions pass, that every catalogued mistake's mutant (tests/mutants/) is named on
  the visible and the hidden cases, and that nothing a student hands a check makes it raise:
  tests/test_contract.py, for every notebook at once; here, that each mutant returns what its
  catalogue entry returns (a captioner mutant: that probe_captioner catches it before any
  training);
* greedy_decode and beam_search: the prefix may be passed to step_fn as a list, a tuple or an
  array; token ids may come back as floats; returning the log-probabilities instead of the tokens
  fails readably, and the message shows both sequences ("tokens are [...], expected [...]");
  step_fn is deterministic, depends on the whole prefix, returns read-only normalised
  log-probabilities and rejects an out-of-range id with a ValueError that reaches the message;
  beam_search returning the tokens only (or the probability, or the pair swapped) fails readably;
* the references: the notebook's beam search with a beam wide enough to hold every caption is
  exhaustive_search, and with width 1 it is greedy decoding (many seeds); sacrebleu's corpus BLEU
  equals the NumPy _bleu() on many random corpora, and both give 0 when an n-gram order has no
  match; conv2d_same (the module's and the notebook's given one) matches
  keras.layers.Conv2D(padding='same', use_bias=False) for kernels 1, 3, 5 and (3, 2);
* mistakes outside the catalogues still fail with a readable message and name no mistake: BLEU as
  a percentage, per-order precisions, add-one smoothing; ConvLSTM returning (c, h), h only, or
  without the bias; a captioner that is a Sequential ignoring the tokens, takes its inputs in the
  wrong order, returns a tuple, has the wrong vocabulary size, or learns nothing (the floor);
  a decoder mixing time steps with a Conv1D is named "decoder sees later tokens";
* generic failures (not implemented, junk returned, an error in the student's code) give one
  readable message and no exception ever escapes evaluate();
* float inputs have the case's dtype (that inputs depend on the case alone: test_contract.py);
* check() prints on success and raises CheckFailed with the message on failure;
* a failing check writes nothing to stderr (nbgrader scores a cell that does 0).

Two guarantees that once were gaps: a (1, k) token array is reported as a shape problem (not as
two equal-looking lists), and a captioner whose encoder is built but never connected is named
"image ignored" (Keras drops the unconnected branch, so the probes look at what the model computes
before which layers it holds). The captioner check gives back the student's Python and NumPy
random generators as it found them.

The solution cells of the source notebook hold the graded functions; the notebook's given (not
graded) cell defining conv2d_same and sigmoid is read from the same notebook, so that the mutants
can call them as a student's notebook would.
"""
import dataclasses
import re
import warnings

import numpy as np
import pytest

from rnnkit import checks, data
from rnnkit.checks import CheckFailed, check, evaluate
from rnnkit.exercises.image_captioning import StepFunction, exhaustive_search, probe_captioner
from rnnkit.grading import keys
from rnnkit.grading.keys import image_captioning as ic
from rnnkit.registry import Case, Problem
from rnnkit.runtime import import_tf
from tests import mutants
from tests.mutation import assert_fails_naming, catalogued, student, warnings_to_stderr
from tests.mutants.image_captioning import BEAM, BLEU, CAPTIONER, CONVLSTM, GIVEN_HELPERS, LSTM_LINE, MUTANTS, variant

NOTEBOOK = "06_image_captioning"
EXERCISES = keys.for_notebook(NOTEBOOK)
EXERCISE_NAMES = [e.name for e in EXERCISES]
NUMERIC_NAMES = [n for n in EXERCISE_NAMES if n != "build_captioner"]




def _mutant_params():
    return [pytest.param(exercise, mistake, source, id=f"{exercise}: {mistake}")
            for exercise, entries in MUTANTS.items() for mistake, source in entries]


MUTANT_PARAMS = _mutant_params()
# (exercise, mistake, case label) whose catalogue replay takes seconds: keeping beam_width
# candidates per hypothesis on "hidden width 4, long" makes ~80,000 step_fn calls.
SLOW_REPLAYS = {("beam_search", "beam_width kept per hypothesis", "hidden width 4, long")}
NUMERIC_MUTANT_PARAMS = [p for p in MUTANT_PARAMS if p.values[0] != "build_captioner"]
CAPTIONER_MUTANT_PARAMS = [p for p in MUTANT_PARAMS if p.values[0] == "build_captioner"]


# ----------------------------------------------------------------------------- helpers
@pytest.fixture(scope="module")
def nb06():
    """The solution cells of 06_image_captioning, its given helper cells, and keras (as
    the setup cell imports it: build_captioner reads it)."""
    return mutants.namespace(NOTEBOOK)


def mutant_source(exercise_name, mistake_name):
    return dict(MUTANTS[exercise_name])[mistake_name]


def assert_readable_failure(result, name):
    """A failure reported as one message: no traceback, no checker crash."""
    assert not result.passed, result.message
    assert isinstance(result.message, str) and result.message.startswith(name), result.message
    assert "Traceback" not in result.message and 'File "' not in result.message, result.message
    assert "The checker itself failed" not in result.message, result.message


def assert_same_value(a, b, what):
    """Equal arrays, StepFunctions (settings and answers), containers or plain values."""
    if isinstance(a, (tuple, list)):
        assert type(a) is type(b) and len(a) == len(b), what
        for x, y in zip(a, b):
            assert_same_value(x, y, what)
    elif isinstance(a, dict):
        assert type(b) is dict and a.keys() == b.keys(), what
        for key in a:
            assert_same_value(a[key], b[key], what)
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype, what
        np.testing.assert_array_equal(a, b, err_msg=what)
    elif isinstance(a, StepFunction):
        assert isinstance(b, StepFunction) and vars(a) == vars(b), what
        for prefix in ([0], [a.V - 1, 0], [1, 0, 1]):
            np.testing.assert_array_equal(a(prefix), b(prefix), err_msg=what)
    else:
        assert type(a) is type(b) and a == b, what


def _call_directly(fn, exercise, inputs):
    """What `fn` returns on copies of these inputs, as a tuple."""
    with np.errstate(all="ignore"):
        value = fn(*[checks._copy(inputs[a]) for a in exercise.args])
    return value if isinstance(value, tuple) else (value,)


def all_cases(exercise):
    return exercise.select(hidden=False) + exercise.select(hidden=True)


def case_named(exercise_name, label):
    return next(c for c in keys.get(exercise_name).cases if c.label == label)


def inputs_of(exercise_name, label):
    return checks.make_inputs(keys.get(exercise_name), case_named(exercise_name, label))


def greedy_path(step_fn, start_id, end_id, max_len):
    """(tokens, total log-probability) of greedy decoding, written out here once more."""
    seq, total = [start_id], 0.0
    for _ in range(max_len):
        log_probs = step_fn(seq)
        token = int(np.argmax(log_probs))
        seq.append(token)
        total += log_probs[token]
        if token == end_id:
            break
    return seq[1:], total


def random_step_fn(seed, V=None, end_id=None, sharpness=None):
    rng = np.random.default_rng(seed)
    V = V or int(rng.integers(2, 6))
    end_id = int(rng.integers(V)) if end_id is None else end_id
    return StepFunction(V, seed, end_id, sharpness=sharpness or float(rng.uniform(0.2, 2.0)))


def captioner_batch(max_digits=3, n=8):
    """A validation batch like the one train_captioner probes a model with."""
    caps = data.digit_captions(n_train=1, n_val=n, max_digits=max_digits, seed=7)
    return caps["x_val"], caps["y_val"][:, :-1]


def build(source, nb06, *, image_shape=(8, 24, 1), vocab_size=13, units=16):
    fn = student(nb06, source, "build_captioner")
    return fn(image_shape, vocab_size, units)


# ----------------------------------------------------------------------------- correct solutions
def test_notebook_declares_the_five_exercises():
    assert EXERCISE_NAMES == ["greedy_decode", "beam_search", "bleu", "convlstm_cell_forward",
                              "build_captioner"]
    for exercise in EXERCISES:
        assert exercise.select(hidden=False), f"{exercise.name} has no visible case"
        assert exercise.select(hidden=True), f"{exercise.name} has no hidden case"
        assert exercise.must_call == (), exercise.name
        assert (exercise.runner is not None) == (exercise.name == "build_captioner"), exercise.name
    beam = keys.get("beam_search")
    for hidden in (False, True):
        cases = beam.select(hidden)
        assert any(c.sizes["beam_width"] >= c.sizes["V"] ** c.sizes["max_len"] for c in cases), hidden
        assert any(c.sizes["beam_width"] < c.sizes["V"] ** c.sizes["max_len"] for c in cases), hidden
    assert any(c.sizes["beam_width"] == 1 for c in beam.select(hidden=True))
    for name in ("greedy_decode", "beam_search"):
        hidden = keys.get(name).select(hidden=True)
        assert any((c.sizes["start_id"], c.sizes["end_id"]) != (1, 2) for c in hidden), name
        assert any(c.sizes["max_len"] == 1 for c in hidden), name
    bleu_cases = keys.get("bleu").cases
    assert {c.sizes["max_n"] for c in bleu_cases} == {1, 2, 3, 4}
    assert any(c.note == "short candidates" for c in keys.get("bleu").select(hidden=False))
    conv = keys.get("convlstm_cell_forward")
    assert {c.sizes["k"] for c in conv.select(hidden=True)} >= {1, 3, 5}
    assert any(c.dtype == "float64" for c in conv.select(hidden=True))
    assert all(m.output is None for m in keys.get("build_captioner").mistakes)
    assert all(m.output is not None for n in NUMERIC_NAMES for m in keys.get(n).mistakes)


def test_namespace_holds_the_graded_functions_and_the_given_helpers(nb06):
    for name in EXERCISE_NAMES + list(GIVEN_HELPERS):
        assert callable(nb06.get(name)), name


def test_solution_captioner_reports_its_token_accuracy(solution_result):
    for hidden in (False, True):
        result = solution_result("build_captioner", hidden)
        (r,) = result.cases
        accuracy = float(r.got[0])
        assert ic.TOKEN_ACCURACY_FLOOR <= accuracy <= 1.0, result.message
        assert f"(token_accuracy {accuracy:.3g})." in result.message, result.message


# ----------------------------------------------------------------------------- mutation tests
def test_catalogues_never_shrink():
    """Catalogues grow; these are the sizes they have reached."""
    floors = {"greedy_decode": 6, "beam_search": 7, "bleu": 7, "convlstm_cell_forward": 6,
              "build_captioner": 6}
    for e in EXERCISES:
        assert len(e.mistakes) >= floors[e.name], e.name


@pytest.mark.parametrize("exercise_name, mistake, source", NUMERIC_MUTANT_PARAMS)
def test_mutant_reproduces_its_catalogue_entry(nb06, exercise_name, mistake, source):
    """The mutant returns what its catalogue entry says the mistake returns (so it is faithful).

    A case on which both raise ValueError ('valid' padding of a one-row frame) counts as agreeing;
    every visible case must be compared. Replays that take seconds (SLOW_REPLAYS) are left to the
    hidden naming test, whose recognition replays the entry on every failing case anyway.
    """
    exercise = keys.get(exercise_name)
    entry = catalogued(exercise_name, mistake)
    fn = student(nb06, source, exercise_name)
    compared = []
    for case in all_cases(exercise):
        if (exercise_name, mistake, case.label) in SLOW_REPLAYS:
            continue
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
        compared.append(case)
    compared = [c.label for c in compared]
    assert all(c.label in compared for c in exercise.select(hidden=False)), compared
    assert len(compared) >= len(exercise.cases) - 1, compared


@pytest.mark.parametrize("exercise_name, mistake, source", CAPTIONER_MUTANT_PARAMS)
def test_captioner_mutant_is_caught_by_the_probes(nb06, exercise_name, mistake, source):
    """Each captioner mistake is seen by probe_captioner on the untrained model: no training."""
    images, tokens = captioner_batch()
    model = build(source, nb06)
    with pytest.raises(Problem) as info:
        probe_quietly(model, images, tokens)
    assert info.value.mistake is catalogued("build_captioner", mistake), str(info.value)


def probe_quietly(model, images, tokens, vocab_size=13):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return probe_captioner(model, images, tokens, vocab_size)


def test_solution_captioner_passes_the_probes(nb06):
    images, tokens = captioner_batch()
    model = nb06["build_captioner"]((8, 24, 1), 13, 16)
    probs = probe_quietly(model, images, tokens)
    assert probs.shape == tokens.shape + (13,)
    model = build(CAPTIONER, nb06)
    assert probe_quietly(model, images, tokens).shape == tokens.shape + (13,)


# ----------------------------------------------------------------------------- step_fn
def test_step_fn_is_deterministic_normalised_and_reads_the_whole_prefix():
    fn = StepFunction(6, 1234, end_id=2)
    a = fn([1, 3, 4])
    assert a.shape == (6,) and a.dtype == np.float64
    np.testing.assert_allclose(np.exp(a).sum(), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(a, StepFunction(6, 1234, end_id=2)([1, 3, 4]))
    for other in ([1, 3, 5], [1, 4, 4], [0, 3, 4], [1, 3], [1, 3, 4, 0]):
        assert not np.array_equal(fn(other), a), other
    assert not np.array_equal(StepFunction(6, 1235, end_id=2)([1, 3, 4]), a)


@pytest.mark.parametrize("prefix", [[1, 3, 4], (1, 3, 4), np.array([1, 3, 4]),
                                    np.array([1, 3, 4], dtype=np.int32), np.array([[1, 3, 4]]),
                                    [np.int64(1), 3.0, np.float32(4)]],
                         ids=["list", "tuple", "array", "int32 array", "2-D array", "mixed scalars"])
def test_step_fn_takes_a_prefix_as_any_sequence(prefix):
    fn = StepFunction(6, 1234, end_id=2)
    np.testing.assert_array_equal(fn(prefix), fn([1, 3, 4]))


def test_step_fn_returns_read_only_arrays():
    fn = StepFunction(5, 3, end_id=2)
    log_probs = fn([1])
    assert not log_probs.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        log_probs[2] = -np.inf
    np.testing.assert_array_equal(fn([1]), log_probs)


@pytest.mark.parametrize("prefix, match", [
    ([], "needs a prefix that starts with the start token, got an empty one"),
    ([1, 5], r"step_fn got token id 5; ids are 0\.\.4"),
    ([1, -1], r"step_fn got token id -1; ids are 0\.\.4"),
])
def test_step_fn_rejects_bad_prefixes_readably(prefix, match):
    with pytest.raises(ValueError, match=match):
        StepFunction(5, 3, end_id=2)(prefix)


def test_step_fn_repr_is_readable():
    fn = inputs_of("greedy_decode", "visible ends early")["step_fn"]
    assert repr(fn) == "<step_fn: a decoder step over 6 tokens>"


def test_step_fn_ends_captions():
    """end_id grows likelier with the prefix's length, so greedy captions end."""
    ends = 0
    for seed in range(100):
        fn = StepFunction(6, seed, end_id=2)
        tokens, _ = greedy_path(fn, 1, 2, 30)
        ends += tokens[-1] == 2
    assert ends == 100


def test_out_of_range_id_reaches_the_message(nb06):
    """A student padding the prefix with -1 gets step_fn's ValueError, with the line."""
    fn = student(nb06, """
def greedy_decode(step_fn, start_id, end_id, max_len):
    seq = [start_id] + [-1] * max_len
    for t in range(1, max_len + 1):
        seq[t] = int(np.argmax(step_fn(seq)))
        if seq[t] == end_id:
            return seq[1:t + 1]
    return seq[1:]
""", "greedy_decode")
    result = evaluate("greedy_decode", fn)
    assert_readable_failure(result, "greedy_decode")
    assert ("it raised ValueError: step_fn got token id -1; ids are 0..5 (in greedy_decode, "
            "line 5: seq[t] = int(np.argmax(step_fn(seq))))") in result.message, result.message
    assert result.mistake == ""


def test_writing_into_the_log_probabilities_fails_at_the_students_line(nb06):
    fn = student(nb06, """
def greedy_decode(step_fn, start_id, end_id, max_len):
    seq = [start_id]
    for _ in range(max_len):
        log_probs = step_fn(seq)
        log_probs[start_id] = -np.inf          # never repeat the start token
        seq.append(int(np.argmax(log_probs)))
        if seq[-1] == end_id:
            break
    return seq[1:]
""", "greedy_decode")
    for hidden in (False, True):
        result = evaluate("greedy_decode", fn, hidden=hidden)
        assert_readable_failure(result, "greedy_decode")
        assert ("assignment destination is read-only (in greedy_decode, line 6: "
                "log_probs[start_id] = -np.inf") in result.message, result.message


# ----------------------------------------------------------------------------- greedy_decode
GREEDY = """
def greedy_decode(step_fn, start_id, end_id, max_len):
    seq = [start_id]
    for _ in range(max_len):
        token = {token}
        seq.append(token)
        if token == end_id:
            break
    return seq[1:]
"""


@pytest.mark.parametrize("token", [
    "int(np.argmax(step_fn(seq)))",
    "int(np.argmax(step_fn(tuple(seq))))",
    "int(np.argmax(step_fn(np.array(seq))))",
    "np.argmax(step_fn(np.array(seq, dtype=np.int32)))",
    "step_fn(seq).argmax() * 1.0",
], ids=["list", "tuple", "array", "int32 array, numpy ids", "float ids"])
def test_greedy_other_correct_versions_pass(nb06, token):
    """Any sequence type for the prefix; ids may be numpy ints or floats (a list of floats)."""
    fn = student(nb06, GREEDY.format(token=token), "greedy_decode")
    for hidden in (False, True):
        result = evaluate("greedy_decode", fn, hidden=hidden)
        assert result.passed, result.message


def test_greedy_cases_both_end_early_and_reach_max_len():
    exercise = keys.get("greedy_decode")
    for hidden in (False, True):
        outcomes = set()
        for case in exercise.select(hidden):
            inputs = checks.make_inputs(exercise, case)
            tokens = exercise.reference(**inputs)
            assert list(tokens) == greedy_path(**inputs)[0], case.label
            ended = len(tokens) > 0 and tokens[-1] == inputs["end_id"]
            assert ended or len(tokens) == inputs["max_len"], case.label
            outcomes.add("ended" if ended and len(tokens) < inputs["max_len"] else "max_len")
        assert outcomes == {"ended", "max_len"}, hidden


def test_greedy_message_shows_both_sequences(nb06):
    fn = student(nb06, mutant_source("greedy_decode", "end_id left out"), "greedy_decode")
    result = evaluate("greedy_decode", fn)
    assert ("On case 'visible ends early' (start_id=1, end_id=2, V=6, max_len=8, float32): "
            "tokens are [4], expected [4, 2] (first difference at position 1).") in result.message, \
        result.message


def test_greedy_returning_the_log_probabilities_fails_readably(nb06):
    fn = student(nb06, """
def greedy_decode(step_fn, start_id, end_id, max_len):
    seq, scores = [start_id], []
    for _ in range(max_len):
        log_probs = step_fn(seq)
        token = int(np.argmax(log_probs))
        seq.append(token)
        scores.append(log_probs[token])
        if token == end_id:
            break
    return scores
""", "greedy_decode")
    for hidden in (False, True):
        result = evaluate("greedy_decode", fn, hidden=hidden)
        assert_readable_failure(result, "greedy_decode")
        assert result.mistake == "", result.message
    result = evaluate("greedy_decode", fn)
    assert re.search(r"tokens are \[-\d\.\d+, -\d\.\d+\], expected \[4, 2\] \(first difference at "
                     r"position 0\)\.", result.message), result.message


def test_greedy_returning_a_string_fails_readably(nb06):
    fn = student(nb06, GREEDY.format(token="int(np.argmax(step_fn(seq)))").replace(
        "return seq[1:]", "return ' '.join(map(str, seq[1:]))"), "greedy_decode")
    result = evaluate("greedy_decode", fn)
    assert_readable_failure(result, "greedy_decode")
    assert "tokens is not a numeric array (got str)" in result.message, result.message


def test_greedy_two_dimensional_tokens_name_the_shape(nb06):
    """A (1, k) array is a shape problem, not two equal-looking lists."""
    fn = student(nb06, GREEDY.format(token="int(np.argmax(step_fn(seq)))").replace(
        "return seq[1:]", "return np.array([seq[1:]])"), "greedy_decode")
    result = evaluate("greedy_decode", fn)
    assert_readable_failure(result, "greedy_decode")
    assert "shape (1, 2)" in result.message, result.message


# ----------------------------------------------------------------------------- beam_search
@pytest.mark.parametrize("call", ["step_fn(seq)", "step_fn(tuple(seq))", "step_fn(np.array(seq))"],
                         ids=["list", "tuple", "array"])
def test_beam_other_correct_versions_pass(nb06, call):
    fn = student(nb06, variant(BEAM, ("log_probs = step_fn(seq)", f"log_probs = {call}")),
                 "beam_search")
    for hidden in (False, True):
        result = evaluate("beam_search", fn, hidden=hidden)
        assert result.passed, result.message


def test_beam_with_tuples_and_numpy_tokens_passes(nb06):
    """Hypotheses as tuples of numpy ints, a heap-free sort by -score, tokens as an array."""
    fn = student(nb06, """
def beam_search(step_fn, start_id, end_id, beam_width, max_len):
    live, done = [((start_id,), 0.0)], []
    for _ in range(max_len):
        pool = [(seq + (v,), s + lp) for seq, s in live for v, lp in enumerate(step_fn(seq))]
        pool.sort(key=lambda c: -c[1])
        live = []
        for seq, s in pool[:beam_width]:
            (done if seq[-1] == end_id else live).append((seq, s))
        if not live:
            break
    seq, s = max(done + live, key=lambda c: c[1])
    return np.array(seq[1:]), s
""", "beam_search")
    for hidden in (False, True):
        result = evaluate("beam_search", fn, hidden=hidden)
        assert result.passed, result.message


@pytest.mark.parametrize("ret, expected", [
    ("return best_seq[1:]", "it returned a list of length 3; expected a tuple (tokens, log_prob)"),
    ("return np.array(best_seq[1:])", "it returned a ndarray; expected a tuple (tokens, log_prob)"),
], ids=["list", "array"])
def test_beam_returning_only_the_tokens_asks_for_the_pair(nb06, ret, expected):
    fn = student(nb06, variant(BEAM, ("return best_seq[1:], best_score", ret)), "beam_search")
    result = evaluate("beam_search", fn)
    assert_readable_failure(result, "beam_search")
    assert expected in result.message, result.message
    assert result.mistake == ""


def test_beam_returning_the_probability_fails_on_log_prob(nb06):
    fn = student(nb06, variant(BEAM, ("return best_seq[1:], best_score",
                                      "return best_seq[1:], np.exp(best_score)")), "beam_search")
    for hidden in (False, True):
        result = evaluate("beam_search", fn, hidden=hidden)
        assert_readable_failure(result, "beam_search")
        assert result.mistake == "", result.message
        assert "log_prob differs: yours " in result.message, result.message
        assert "tokens are" not in result.message, result.message


def test_beam_returning_the_pair_swapped_fails_readably(nb06):
    fn = student(nb06, variant(BEAM, ("return best_seq[1:], best_score",
                                      "return best_score, best_seq[1:]")), "beam_search")
    result = evaluate("beam_search", fn)
    assert_readable_failure(result, "beam_search")
    assert result.mistake == "", result.message
    assert "tokens has shape (); expected a flat sequence like [" in result.message, result.message
    assert "log_prob has shape (" in result.message, result.message


@pytest.mark.parametrize("seed", range(40))
def test_wide_beam_is_exhaustive_search(nb06, seed):
    """A beam that can hold every caption finds the most likely one of all: the notebook's beam
    search (the reference's and the solution's), and the reference used for such cases."""
    rng = np.random.default_rng(seed)
    V, max_len = int(rng.integers(2, 5)), int(rng.integers(1, 5))
    start_id, end_id = (int(t) for t in rng.choice(V, size=2, replace=V < 2))
    fn = StepFunction(V, seed, end_id, sharpness=float(rng.uniform(0.2, 2.0)),
                      typical=int(rng.integers(0, 4)))
    width = V ** max_len
    best, best_lp = exhaustive_search(fn, start_id, end_id, max_len)
    for name, search in (("_beam", ic._beam()), ("_reference_beam", ic._reference_beam),
                         ("solution", nb06["beam_search"])):
        tokens, lp = search(fn, start_id, end_id, width, max_len)
        np.testing.assert_array_equal(np.asarray(tokens), best, err_msg=name)
        np.testing.assert_allclose(lp, best_lp, rtol=1e-12, err_msg=name)
    # Exhaustive really is the best: no other complete caption scores higher than it.
    assert len(best) == max_len or best[-1] == end_id
    assert not any(t == end_id for t in best[:-1])


@pytest.mark.parametrize("seed", range(40))
def test_width_one_beam_is_greedy(nb06, seed):
    fn = random_step_fn(seed)
    start_id = (fn.end_id + 1) % fn.V
    max_len = 1 + seed % 7
    tokens, lp = ic._beam()(fn, start_id, fn.end_id, 1, max_len)
    expected, total = greedy_path(fn, start_id, fn.end_id, max_len)
    assert list(tokens) == expected == list(ic._greedy()(fn, start_id, fn.end_id, max_len))
    np.testing.assert_allclose(lp, total, rtol=1e-12)
    sol_tokens, sol_lp = nb06["beam_search"](fn, start_id, fn.end_id, 1, max_len)
    assert list(sol_tokens) == expected
    np.testing.assert_allclose(sol_lp, total, rtol=1e-12)


def test_exhaustive_search_beats_every_caption_it_could_return():
    """exhaustive_search against a brute-force enumeration of every caption."""
    import itertools
    for seed in range(15):
        fn = random_step_fn(seed, V=3)
        start_id, end_id, max_len = 0, fn.end_id, 4
        scores = {}
        for length in range(1, max_len + 1):
            for tail in itertools.product(range(fn.V), repeat=length):
                if end_id in tail[:-1] or (length < max_len and tail[-1] != end_id):
                    continue
                seq = (start_id,) + tail
                scores[tail] = sum(fn(seq[:k + 1])[seq[k + 1]] for k in range(length))
        best = max(scores, key=scores.get)
        tokens, lp = exhaustive_search(fn, start_id, end_id, max_len)
        assert tuple(tokens) == best, seed
        np.testing.assert_allclose(lp, scores[best], rtol=1e-12)


def test_narrow_beam_cases_are_not_exhaustive():
    """The narrow visible cases do prune: their answer is not always exhaustive search's (else a
    student's exhaustive search would pass the beam cases)."""
    exercise = keys.get("beam_search")
    differ = 0
    for case in exercise.cases:
        inputs = checks.make_inputs(exercise, case)
        if inputs["beam_width"] >= inputs["step_fn"].V ** inputs["max_len"]:
            continue
        tokens, _ = exercise.reference(**inputs)
        best, _ = exhaustive_search(inputs["step_fn"], inputs["start_id"], inputs["end_id"],
                                    inputs["max_len"])
        differ += not np.array_equal(tokens, best)
    assert differ >= 1


# ----------------------------------------------------------------------------- bleu
def random_corpus(seed):
    rng = np.random.default_rng(seed)
    sizes = dict(S=int(rng.integers(1, 9)), W=int(rng.integers(2, 8)), R=int(rng.integers(1, 5)),
                 min_len=int(rng.integers(1, 5)), max_n=int(rng.integers(1, 5)))
    sizes["max_len"] = sizes["min_len"] + int(rng.integers(0, 7))
    note = "short candidates" if rng.random() < 0.3 else ""
    case = Case("random", seed, sizes, note=note)
    return ic._bleu_inputs(np.random.default_rng(seed), case)


@pytest.mark.parametrize("start", range(0, 300, 50))
def test_sacrebleu_equals_numpy_bleu(nb06, start):
    nonzero = 0
    for seed in range(start, start + 50):
        inputs = random_corpus(seed)
        expected = ic._sacrebleu(**inputs)
        assert 0.0 <= expected <= 1.0 + 1e-12
        np.testing.assert_allclose(ic._bleu()(**inputs), expected, rtol=1e-9, atol=1e-12,
                                   err_msg=f"seed {seed}")
        np.testing.assert_allclose(nb06["bleu"](**inputs), expected, rtol=1e-9, atol=1e-12,
                                   err_msg=f"seed {seed}")
        nonzero += expected > 0
    assert nonzero >= 10


@pytest.mark.parametrize("candidates, references, max_n", [
    ([["a", "b", "c"]], [[["a", "b", "c"]]], 4),                       # no 4-grams at all
    ([["a", "b", "a", "b", "a"]], [[["a", "a", "b", "b", "a"]]], 4),     # 4-grams, none match
    ([["x", "y"], ["a", "b"]], [[["y", "x"]], [["b", "a"]]], 2),         # no bigram matches
    ([["x"]], [[["y"], ["z", "z"]]], 1),                                 # no unigram matches
], ids=["no 4-grams", "no 4-gram matches", "no bigram matches", "no unigram matches"])
def test_bleu_is_zero_when_an_order_has_no_match(nb06, candidates, references, max_n):
    assert ic._sacrebleu(candidates, references, max_n) == 0.0
    assert ic._bleu()(candidates, references, max_n) == 0.0
    assert nb06["bleu"](candidates, references, max_n) == 0.0


def test_bleu_of_a_perfect_corpus_is_one(nb06):
    candidates = [["one", "two", "three", "four"], ["five", "six", "seven", "eight", "nine"]]
    references = [[c, ["zero"]] for c in candidates]
    for fn in (ic._sacrebleu, ic._bleu(), nb06["bleu"]):
        np.testing.assert_allclose(fn(candidates, references, 4), 1.0, rtol=1e-12)


@pytest.mark.parametrize("source, expected", [
    (variant(BLEU, ("return bp * precision", "return 100 * bp * precision")),
     r"score differs: yours \d+\.\d+, sacrebleu's corpus BLEU 0\.\d+"),
    (variant(BLEU, ("    precision = np.exp(np.mean(np.log(matches / totals)))\n"
                    "    bp = 1.0 if c >= r else np.exp(1 - r / c)\n    return bp * precision",
                    "    return matches / totals")),
     r"score has shape \(4,\), expected a scalar \(\)"),
    (variant(BLEU, ("np.log(matches / totals)", "np.log((matches + 1) / (totals + 1))"),
             ("if c == 0 or (matches == 0).any():", "if c == 0:")),
     r"score differs: yours 0\.\d+, sacrebleu's corpus BLEU 0\.\d+"),
], ids=["percentage", "per-order precisions", "add-one smoothing"])
def test_bleu_other_mistakes_fail_readably(nb06, source, expected):
    fn = student(nb06, source, "bleu")
    for hidden in (False, True):
        result = evaluate("bleu", fn, hidden=hidden)
        assert_readable_failure(result, "bleu")
        assert result.mistake == "", result.message
    assert re.search(expected, evaluate("bleu", fn).message), evaluate("bleu", fn).message


def test_bleu_inputs_are_lists_of_word_lists():
    exercise = keys.get("bleu")
    for case in exercise.cases:
        inputs = checks.make_inputs(exercise, case)
        cands, refs = inputs["candidates"], inputs["references"]
        assert type(cands) is list and len(cands) == len(refs) == case.sizes["S"], case.label
        assert inputs["max_n"] == case.sizes["max_n"]
        for cand, rs in zip(cands, refs):
            assert cand and all(type(w) is str and " " not in w for w in cand), case.label
            assert 1 <= len(rs) <= case.sizes["R"] and all(r for r in rs), case.label


# ----------------------------------------------------------------------------- convlstm
@pytest.mark.parametrize("kernel_size", [1, 3, 5, (3, 2)], ids=["1", "3", "5", "3x2"])
def test_conv2d_same_matches_keras(nb06, kernel_size):
    _, keras = import_tf()
    k_r, k_c = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    rng = np.random.default_rng(k_r * 10 + k_c)
    x = rng.normal(size=(2, 5, 6, 3))
    kernel = rng.normal(size=(k_r, k_c, 3, 4))
    layer = keras.layers.Conv2D(4, (k_r, k_c), padding="same", use_bias=False, dtype="float64")
    layer.build((None, 5, 6, 3))
    layer.set_weights([kernel])
    expected = keras.ops.convert_to_numpy(layer(x))
    for name, conv in (("rnnkit", ic.conv2d_same), ("notebook", nb06["conv2d_same"])):
        got = conv(x, kernel)
        assert got.shape == (2, 5, 6, 4), name
        np.testing.assert_allclose(got, expected, atol=1e-12, rtol=1e-12, err_msg=name)


def test_given_sigmoid(nb06):
    a = np.linspace(-30, 30, 13)
    np.testing.assert_allclose(nb06["sigmoid"](a), 1 / (1 + np.exp(-a)), rtol=1e-15)


def test_convlstm_reference_is_the_numpy_step():
    """ConvLSTM2D's step equals the NumPy one written with conv2d_same on every case."""
    exercise = keys.get("convlstm_cell_forward")
    for case in exercise.cases:
        inputs = checks.make_inputs(exercise, case)
        for got, expected in zip(ic._convlstm()(**inputs), exercise.reference(**inputs)):
            np.testing.assert_allclose(got, expected, atol=1e-6, rtol=1e-5, err_msg=case.label)


@pytest.mark.parametrize("source, expected", [
    (variant(CONVLSTM, ("return h_next, c_next", "return c_next, h_next")),
     "h_next differs at batch 0, row 0, column 0, unit 0"),
    (variant(CONVLSTM, ("return h_next, c_next", "return h_next")),
     "it returned a ndarray; expected a tuple (h_next, c_next)"),
    (variant(CONVLSTM, ("conv2d_same(h_prev, U) + b", "conv2d_same(h_prev, U)")),
     "h_next differs at batch 0, row 0, column 0, unit 0"),
], ids=["(c, h) swapped", "h only", "bias forgotten"])
def test_convlstm_other_mistakes_fail_readably(nb06, source, expected):
    fn = student(nb06, source, "convlstm_cell_forward")
    for hidden in (False, True):
        result = evaluate("convlstm_cell_forward", fn, hidden=hidden)
        assert_readable_failure(result, "convlstm_cell_forward")
        assert result.mistake == "", result.message
    result = evaluate("convlstm_cell_forward", fn)
    assert expected in result.message, result.message


def test_convlstm_with_its_own_loops_passes(nb06):
    """A student convolution written pixel by pixel (no given conv2d_same) passes too."""
    fn = student(nb06, """
def conv(x, kernel):
    k = kernel.shape[0]
    p = k // 2
    N, R, C, _ = x.shape
    padded = np.zeros((N, R + 2 * p, C + 2 * p, x.shape[3]))
    padded[:, p:p + R, p:p + C] = x
    out = np.zeros((N, R, C, kernel.shape[3]))
    for r in range(R):
        for c in range(C):
            patch = padded[:, r:r + k, c:c + k]
            out[:, r, c] = np.tensordot(patch, kernel, axes=([1, 2, 3], [0, 1, 2]))
    return out

def convlstm_cell_forward(x_t, h_prev, c_prev, W, U, b):
    H = h_prev.shape[-1]
    z = conv(x_t, W) + conv(h_prev, U) + b
    i = 1 / (1 + np.exp(-z[..., :H]))
    f = 1 / (1 + np.exp(-z[..., H:2 * H]))
    g = np.tanh(z[..., 2 * H:3 * H])
    o = 1 / (1 + np.exp(-z[..., 3 * H:]))
    c_next = f * c_prev + i * g
    return o * np.tanh(c_next), c_next
""", "convlstm_cell_forward")
    for hidden in (False, True):
        result = evaluate("convlstm_cell_forward", fn, hidden=hidden)
        assert result.passed, result.message


# ----------------------------------------------------------------------------- build_captioner
def test_captioner_time_mixing_conv1d_is_named(nb06):
    """Not only Bidirectional: a Conv1D with 'same' padding over the tokens also reads ahead."""
    fn = student(nb06, variant(CAPTIONER, (
        "    e = layers.Embedding(vocab_size, 8)(tokens)\n",
        "    e = layers.Embedding(vocab_size, 8)(tokens)\n"
        "    e = layers.Conv1D(8, 3, padding=\"same\")(e)\n")), "build_captioner")
    for hidden in (False, True):
        assert_fails_naming(evaluate("build_captioner", fn, hidden=hidden), "decoder sees later tokens")


@pytest.mark.parametrize("source, expected", [
    ("""
import keras
from keras import layers

def build_captioner(image_shape, vocab_size, units):
    return keras.Sequential([
        keras.Input(image_shape),
        layers.Conv2D(8, 3, padding="same", activation="relu"),
        layers.Flatten(),
        layers.Dense(vocab_size, activation="softmax"),
    ])
""", "its model takes 1 input(s); expected two, [images, tokens]."),
    (variant(CAPTIONER, ("keras.Model([images, tokens], probs)", "keras.Model([tokens, images], probs)")),
     "its model fails when called on [images (8, 8, 32, 1), tokens (8, 5)] ("),
    (variant(CAPTIONER, ("return keras.Model([images, tokens], probs)",
                         "return keras.Model([images, tokens], probs), keras.Model(images, h0)")),
     "it returned tuple; expected a keras.Model."),
    (variant(CAPTIONER, ("layers.Dense(vocab_size, activation=\"softmax\")",
                         "layers.Dense(vocab_size - 1, activation=\"softmax\")")),
     "its model returns shape (8, 5, 12); expected (N, L, V) = (8, 5, 13)."),
    (variant(CAPTIONER, ("    return keras.Model", "    pass  # return keras.Model")),
     "it returned None: is the `return` statement missing?"),
], ids=["Sequential ignoring the tokens", "inputs in the wrong order", "a tuple of models",
        "vocabulary one short", "no return"])
def test_captioner_other_mistakes_fail_readably(nb06, source, expected):
    fn = student(nb06, source, "build_captioner")
    for hidden in (False, True):
        result = evaluate("build_captioner", fn, hidden=hidden)
        assert_readable_failure(result, "build_captioner")
        assert result.mistake == "", result.message
    result = evaluate("build_captioner", fn)
    assert expected in result.message, result.message


def test_captioner_that_learns_nothing_is_below_the_floor(nb06):
    """A model that passes every probe but cannot learn (frozen) fails on the floor. Frozen, its
    training run is quick."""
    fn = student(nb06, variant(CAPTIONER, ("    return keras.Model([images, tokens], probs)",
                                           "    model = keras.Model([images, tokens], probs)\n"
                                           "    model.trainable = False\n    return model")),
                 "build_captioner")
    result = evaluate("build_captioner", fn, hidden=True)
    assert_readable_failure(result, "build_captioner")
    assert result.mistake == "", result.message
    assert re.search(r"token_accuracy is 0\.\d+, below the floor 0\.45\.", result.message), \
        result.message


def test_captioner_with_an_unconnected_encoder_is_named_image_ignored(nb06):
    """Keras drops an encoder that nothing reads: the probes look at what the model computes
    before which layers it holds, so this is an ignored image, not a missing encoder."""
    fn = student(nb06, variant(CAPTIONER, (LSTM_LINE,
                                           "    seq = layers.LSTM(units, return_sequences=True)(e)\n")),
                 "build_captioner")
    assert_fails_naming(evaluate("build_captioner", fn), "image ignored")


def test_captioner_check_restores_the_students_random_generators(nb06):
    """The check trains with a fixed seed, then gives back the Python and NumPy generators as
    the student left them (a probe failure and a full training run alike)."""
    import random
    for fn, hidden in ((nb06["build_captioner"], True), (lambda *a: None, False)):
        np.random.seed(123)
        random.seed(123)
        expected = np.random.random(), random.random()
        np.random.seed(123)
        random.seed(123)
        evaluate("build_captioner", fn, hidden=hidden)
        assert (np.random.random(), random.random()) == expected


def test_captioner_returning_none_asks_for_the_return(nb06):
    result = evaluate("build_captioner", lambda image_shape, vocab_size, units: None)
    assert_readable_failure(result, "build_captioner")
    assert "is the `return` statement missing?" in result.message, result.message


def test_captioner_inputs():
    exercise = keys.get("build_captioner")
    for case in exercise.cases:
        inputs = checks.make_inputs(exercise, case)
        assert inputs["image_shape"] == (8, 8 * case.sizes["max_digits"], 1)
        assert inputs["vocab_size"] == len(data.CAPTION_WORDS) == 13
        assert inputs["units"] == case.sizes["units"]
        assert inputs["training"]["seed"] == case.seed


# ----------------------------------------------------------------------------- generic failures
def test_error_in_student_code_shows_the_line_not_a_traceback(nb06):
    fn = student(nb06, """
def convlstm_cell_forward(x_t, h_prev, c_prev, W, U, b):
    z = conv2d_same(x_t, U) + conv2d_same(h_prev, W) + b
    i, f, g, o = np.split(z, 4, axis=-1)
    c_next = sigmoid(f) * c_prev + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c_next), c_next
""", "convlstm_cell_forward")
    result = evaluate("convlstm_cell_forward", fn)
    assert_readable_failure(result, "convlstm_cell_forward")
    assert "it raised ValueError: matmul: Input operand 1 has a mismatch" in result.message, \
        result.message
    assert "(in conv2d_same, line " in result.message or "(in convlstm_cell_forward, line 3:" \
        in result.message, result.message


# ----------------------------------------------------------------------------- inputs
@pytest.mark.parametrize("exercise", [e for e in EXERCISES if e.name != "build_captioner"],
                         ids=NUMERIC_NAMES)
def test_inputs_change_with_the_seed(exercise):
    case = exercise.cases[0]
    a = checks.make_inputs(exercise, case)
    b = checks.make_inputs(exercise, dataclasses.replace(case, seed=case.seed + 1))
    with pytest.raises(AssertionError):
        for key in a:
            assert_same_value(a[key], b[key], key)


def test_float_inputs_have_the_case_dtype():
    exercise = keys.get("convlstm_cell_forward")
    for case in exercise.cases:
        for key, value in checks.make_inputs(exercise, case).items():
            assert value.dtype == np.dtype(case.dtype), f"{case.label} {key}"


def test_in_place_changes_to_inputs_fail_and_leave_the_cases_whole(nb06):
    """Changing the inputs in place fails (a later cell would see them changed); the case's own
    inputs stay whole."""
    fn = student(nb06, variant(CONVLSTM, ("    return h_next, c_next", """\
    for a in (x_t, h_prev, c_prev, W, U):
        a *= 0
    b += 100
    return h_next, c_next""")), "convlstm_cell_forward")
    exercise = keys.get("convlstm_cell_forward")
    for hidden in (False, True):
        result = evaluate("convlstm_cell_forward", fn, hidden=hidden)
        assert not result.passed and "in place: work on a copy" in result.message, result.message
        for r in result.cases:
            fresh = checks.make_inputs(exercise, r.case)
            for key in exercise.args:
                np.testing.assert_array_equal(r.inputs[key], fresh[key])


def test_bleu_emptying_the_corpus_fails_and_changes_neither_reference_nor_replay(nb06):
    """Emptying the candidate lists in place fails; the reference and the replay are unchanged."""
    fn = student(nb06, variant(BLEU, ("    return bp * precision", """\
    for cand in candidates:
        cand.clear()
    references.clear()
    return bp * precision""")), "bleu")
    for hidden in (False, True):
        result = evaluate("bleu", fn, hidden=hidden)
        assert not result.passed and "in place: work on a copy" in result.message, result.message


# ----------------------------------------------------------------------------- check()
def test_check_prints_on_success(nb06, capsys):
    check("greedy_decode", nb06["greedy_decode"])
    out = capsys.readouterr().out
    assert out.startswith("greedy_decode matches the most likely token at every step on 2 visible "
                          "cases (largest difference"), out
    assert out.endswith("\n") and out.count("\n") == 1


def test_check_prints_on_hidden_success(nb06, capsys):
    check("bleu", nb06["bleu"], hidden=True)
    out = capsys.readouterr().out
    assert out.startswith("bleu matches sacrebleu's corpus BLEU on 4 hidden cases"), out


def test_check_raises_check_failed_with_the_message(nb06, capsys):
    fn = student(nb06, mutant_source("beam_search", "start_id included"), "beam_search")
    with pytest.raises(CheckFailed) as info:
        check("beam_search", fn)
    assert isinstance(info.value, AssertionError)
    assert str(info.value) == evaluate("beam_search", fn).message
    assert "Recognised mistake: start_id included." in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert capsys.readouterr().out == ""


def test_check_raises_on_hidden_failure(nb06, capsys):
    fn = student(nb06, mutant_source("build_captioner", "logits returned"), "build_captioner")
    with pytest.raises(CheckFailed, match="Recognised mistake: logits returned."):
        check("build_captioner", fn, hidden=True)
    assert capsys.readouterr().out == ""


# ----------------------------------------------------------------------------- stderr
NOISY = {
    # Prints each prefix, warns, and stops without end_id.
    "greedy_decode": """
import sys
import warnings

def greedy_decode(step_fn, start_id, end_id, max_len):
    warnings.warn("decoding greedily")
    seq = [start_id]
    for _ in range(max_len):
        print("prefix", seq, step_fn, file=sys.stderr)
        token = int(np.argmax(step_fn(seq)))
        if token == end_id:
            break
        seq.append(token)
    return seq[1:]
""",
    # Takes log(0) and returns start_id too.
    "beam_search": variant(MUTANTS["beam_search"][-1][1], (
        "    beams = [([start_id], 0.0)]\n", "    beams = [([start_id], 0.0)]\n    np.log(0.0)\n")),
    # Divides by zero and leaves out the brevity penalty.
    "bleu": variant(BLEU, ("    return bp * precision",
                           "    np.ones(1) / 0\n    return precision")),
    # Overflows and prints, with the output gate and candidate swapped.
    "convlstm_cell_forward": variant(CONVLSTM, ("i, f, g, o = ", "i, f, o, g = "), (
        "    h_next =", "    import sys\n    print(np.exp(np.full(2, 1e4)), file=sys.stderr)\n    h_next =")),
    # Prints and warns while building, and returns logits.
    "build_captioner": variant(MUTANTS["build_captioner"][2][1], (
        "    images = keras.Input",
        "    import sys, warnings\n    print('building', file=sys.stderr)\n"
        "    warnings.warn('no softmax?')\n    images = keras.Input")),
}
NOISY_MISTAKES = {"greedy_decode": "end_id left out", "beam_search": "start_id included",
                  "bleu": "no brevity penalty", "convlstm_cell_forward": "gate order i, f, o, c",
                  "build_captioner": "logits returned"}


def test_stderr_harness_sees_the_noise(nb06, capfd):
    """The harness of the stderr tests can fail: outside a check the noisy versions do write."""
    inputs = inputs_of("bleu", "visible captions")
    fn = student(nb06, NOISY["bleu"], "bleu")
    capfd.readouterr()
    with warnings_to_stderr():
        fn(**inputs)
        student(nb06, NOISY["greedy_decode"], "greedy_decode")(**inputs_of("greedy_decode",
                                                                          "visible ends early"))
    err = capfd.readouterr().err
    assert "divide by zero" in err and "decoding greedily" in err and "prefix [1]" in err, err


@pytest.mark.parametrize("name", EXERCISE_NAMES)
def test_failing_check_writes_nothing_to_stderr(nb06, capfd, name):
    # TensorFlow and Keras are loaded, and a model built, before capturing.
    build(CAPTIONER, nb06)
    evaluate("convlstm_cell_forward", nb06["convlstm_cell_forward"])
    fn = student(nb06, NOISY[name], name)
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


def test_warnings_do_not_leak_out_of_a_check(nb06, recwarn):
    fn = student(nb06, NOISY["greedy_decode"], "greedy_decode")
    with np.errstate(all="raise"):
        result = evaluate("greedy_decode", fn)
    assert not result.passed
    assert result.mistake == "end_id left out", result.message
    assert len(recwarn) == 0, [str(w.message) for w in recwarn]


SUBCLASSED_CAPTIONER = """
import keras
from keras import layers


class Captioner(keras.Model):
    def __init__(self, vocab_size, units):
        super().__init__()
        self.conv1 = layers.Conv2D(16, 3, padding="same", activation="relu")
        self.pool = layers.MaxPooling2D(2)
        self.conv2 = layers.Conv2D(32, 3, padding="same", activation="relu")
        self.flatten = layers.Flatten()
        self.to_h, self.to_c = layers.Dense(units, activation="tanh"), layers.Dense(units)
        self.embed = layers.Embedding(vocab_size, 16)
        self.lstm = layers.LSTM(units, return_sequences=True)
        self.out = layers.Dense(vocab_size, activation="softmax")

    def call(self, inputs):
        images, tokens = inputs
        f = self.flatten(self.conv2(self.pool(self.conv1(images))))
        seq = self.lstm(self.embed(tokens), initial_state=[self.to_h(f), self.to_c(f)])
        return self.out(seq)


def build_captioner(image_shape, vocab_size, units):
    return Captioner(vocab_size, units)
"""


def test_captioner_subclassed_model_passes(nb06):
    """A correct keras.Model subclass (no declared inputs) is probed by calling it, and learns."""
    fn = student(nb06, SUBCLASSED_CAPTIONER, "build_captioner")
    result = evaluate("build_captioner", fn, hidden=True)
    assert result.passed, result.message
