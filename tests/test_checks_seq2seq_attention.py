"""The checks of notebook 07_seq2seq_attention, exercised the way students will exercise them.

What is checked:

* that the solutions pass, that every catalogued mistake's mutant (tests/mutants/) is named on
  the visible and the hidden cases, and that nothing a student hands a check makes it raise:
  tests/test_contract.py, for every notebook at once; here, that each mutant returns what its
  catalogue entry returns;
* dot_attention: other correct versions pass (-inf instead of -1e9 for the padding, the mask
  cast to float and multiplied into the exponentials before normalising, einsum); every visible
  case has keys to attend to in every row, and weights that sum to one;
* attention_decoder_step must call dot_attention (the structural "does not use" check), and a
  broken dot_attention underneath it is pointed out;
* masked_sequence_loss: a bool or a float mask, a Python float or a 0-d array all pass;
* shift_right keeps the targets' integer dtype and does not write into them.
"""

import numpy as np
import pytest

from rnnkit import checks
from rnnkit.checks import evaluate
from rnnkit.grading import keys
from tests import mutants
from tests.mutants.seq2seq_attention import MUTANTS
from tests.mutation import assert_reproduces, student

NOTEBOOK = "07_seq2seq_attention"
EXERCISES = keys.for_notebook(NOTEBOOK)
EXERCISE_NAMES = [e.name for e in EXERCISES]


@pytest.fixture(scope="module")
def nb07():
    """The solution cells of 07_seq2seq_attention, plus the notebook's given helper cell."""
    return mutants.namespace(NOTEBOOK)


def test_notebook_declares_the_five_exercises():
    assert EXERCISE_NAMES == ["dot_attention", "additive_attention", "attention_decoder_step",
                              "shift_right", "masked_sequence_loss"]
    assert [e.points for e in EXERCISES] == [3, 2, 3, 1, 2]
    for exercise in EXERCISES:
        assert exercise.select(hidden=False), f"{exercise.name} has no visible case"
        assert exercise.select(hidden=True), f"{exercise.name} has no hidden case"
        assert len(exercise.mistakes) >= 3, exercise.name
    assert keys.get("attention_decoder_step").must_call == ("dot_attention",)


def test_catalogues_never_shrink():
    """Catalogues grow; these are the sizes they have reached."""
    floors = {"dot_attention": 5, "additive_attention": 4, "attention_decoder_step": 5,
              "shift_right": 3, "masked_sequence_loss": 4}
    for e in EXERCISES:
        assert len(e.mistakes) >= floors[e.name], e.name


def test_namespace_holds_the_graded_functions_and_the_given_helpers(nb07):
    for name in EXERCISE_NAMES + list(mutants.of(NOTEBOOK).GIVEN_HELPERS):
        assert callable(nb07.get(name)), name


@pytest.mark.parametrize("exercise_name, mistake, occurrence, source", mutants.params(NOTEBOOK))
def test_mutant_reproduces_its_catalogue_entry(nb07, exercise_name, mistake, occurrence, source):
    assert_reproduces(nb07, exercise_name, mistake, occurrence, source)


def test_every_padded_case_leaves_a_real_key_in_every_row():
    """A row with every key padded has no distribution to take: no case makes one."""
    for name in ("dot_attention", "additive_attention"):
        exercise = keys.get(name)
        padded = 0
        for case in exercise.cases:
            mask = checks.make_inputs(exercise, case)["mask"]
            if mask is not None:
                assert mask.dtype == np.bool_ and mask.any(axis=1).all(), case.label
                padded += (~mask).any()
        assert padded >= 2, name
    step = keys.get("attention_decoder_step")
    for case in step.cases:
        assert checks.make_inputs(step, case)["enc_mask"].any(axis=1).all(), case.label


@pytest.mark.parametrize("source", ["""
def dot_attention(query, keys, values, mask=None):
    scores = np.einsum("nqh,nkh->nqk", query, keys)
    if mask is not None:
        scores = np.where(mask[:, None, :], scores, -np.inf)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights /= weights.sum(axis=-1, keepdims=True)
    return np.einsum("nqk,nkd->nqd", weights, values), weights
""", """
def dot_attention(query, keys, values, mask=None):
    scores = query @ keys.transpose(0, 2, 1)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    if mask is not None:
        e = e * mask[:, None, :].astype(float)
    weights = e / e.sum(axis=-1, keepdims=True)
    return weights @ values, weights
"""], ids=["einsum and -inf", "mask multiplied into the exponentials"])
def test_dot_attention_other_correct_versions_pass(nb07, source):
    fn = student(nb07, source, "dot_attention")
    for hidden in (False, True):
        result = evaluate("dot_attention", fn, hidden=hidden)
        assert result.passed, result.message


def test_decoder_step_must_call_dot_attention(nb07):
    fn = student(nb07, """
def attention_decoder_step(y_prev, h_prev, enc_seq, enc_mask, cell, combine, Wy, by):
    h_next = gru_cell(y_prev, h_prev, *cell)
    scores = np.einsum("nh,nth->nt", h_next, enc_seq)
    scores = np.where(enc_mask, scores, -1e9)
    weights = softmax(scores)
    context = np.einsum("nt,nth->nh", weights, enc_seq)
    h_att = np.tanh(np.concatenate([context, h_next], axis=-1) @ combine[0] + combine[1])
    return softmax(h_att @ Wy + by), h_next, weights
""", "attention_decoder_step")
    result = evaluate("attention_decoder_step", fn)
    assert not result.passed
    assert "dot_attention" in result.message, result.message


def test_decoder_step_points_at_a_broken_dot_attention(nb07):
    """Correct wiring over a wrong dot_attention: the message sends the student to fix it first."""
    namespace = dict(nb07)
    namespace["dot_attention"] = student(nb07, MUTANTS["dot_attention"][0][1], "dot_attention")
    step = student(namespace, "\n" + _solution_step_source(), "attention_decoder_step")
    result = evaluate("attention_decoder_step", step)
    assert not result.passed
    assert "dot_attention" in result.message and "own check" in result.message, result.message


def _solution_step_source():
    return '''
def attention_decoder_step(y_prev, h_prev, enc_seq, enc_mask, cell, combine, Wy, by):
    h_next = gru_cell(y_prev, h_prev, *cell)
    context, weights = dot_attention(h_next[:, None, :], enc_seq, enc_seq, enc_mask)
    h_att = np.tanh(np.concatenate([context[:, 0], h_next], axis=-1) @ combine[0] + combine[1])
    return softmax(h_att @ Wy + by), h_next, weights[:, 0]
'''


@pytest.mark.parametrize("source", ["""
def masked_sequence_loss(targets, probs, mask):
    mask = mask.astype(bool)
    picked = np.take_along_axis(probs, targets[..., None], axis=-1)[..., 0]
    return float(-np.log(picked[mask]).mean())
""", """
def masked_sequence_loss(targets, probs, mask):
    N, T, V = probs.shape
    one_hot = np.eye(V)[targets]
    ce = -np.sum(one_hot * np.log(probs), axis=-1)
    return np.array(np.sum(ce * mask) / np.sum(mask))
"""], ids=["bool mask, Python float", "one-hot, 0-d array"])
def test_masked_loss_other_correct_versions_pass(nb07, source):
    fn = student(nb07, source, "masked_sequence_loss")
    for hidden in (False, True):
        result = evaluate("masked_sequence_loss", fn, hidden=hidden)
        assert result.passed, result.message


def test_shift_right_keeps_the_dtype_and_leaves_the_targets_alone(nb07):
    targets = np.array([[4, 5, 6, 0], [7, 8, 0, 0]], dtype=np.int32)
    before = targets.copy()
    shifted = nb07["shift_right"](targets, 1)
    assert shifted.dtype == np.int32
    np.testing.assert_array_equal(shifted, [[1, 4, 5, 6], [1, 7, 8, 0]])
    np.testing.assert_array_equal(targets, before)


def test_a_wrongly_shaped_context_is_reported_readably(nb07):
    fn = student(nb07, """
def dot_attention(query, keys, values, mask=None):
    scores = query @ np.swapaxes(keys, 1, 2)
    if mask is not None:
        scores = np.where(mask[:, None, :], scores, -1e9)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = weights / weights.sum(axis=-1, keepdims=True)
    return (weights @ values)[:, 0], weights
""", "dot_attention")
    result = evaluate("dot_attention", fn)
    assert not result.passed and result.mistake == ""
    assert "context has shape" in result.message and "(N, Tq, Dv)" in result.message, result.message
