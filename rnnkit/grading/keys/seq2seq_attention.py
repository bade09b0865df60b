"""Notebook 07_seq2seq_attention: an encoder-decoder that translates, and attention.

Graded functions (the contract; N batch, Tq query steps, Tk key steps, H state units, Dv value
features, A attention units, E embedding features, V target vocabulary, Tx source steps, Ty
target steps):

    dot_attention(query (N, Tq, H), keys (N, Tk, H), values (N, Tk, Dv), mask (N, Tk) bool or None)
        -> (context (N, Tq, Dv), weights (N, Tq, Tk))
    additive_attention(query (N, Tq, H), keys (N, Tk, H), values (N, Tk, Dv), mask,
                       W1 (H, A), W2 (H, A), v (A,)) -> (context, weights)
    attention_decoder_step(y_prev (N, E), h_prev (N, H), enc_seq (N, Tx, H), enc_mask (N, Tx),
                           cell, combine, Wy (H, V), by (V,))
        -> (probs (N, V), h_next (N, H), weights (N, Tx))
        cell = (W (E, 3H), U (H, 3H), b (2, 3H)): a GRU cell (Keras's reset_after layout);
        combine = (Wc (2H, H), bc (H,)). Luong's step: h_next = GRU(y_prev, h_prev); attend with
        h_next over enc_seq; h_att = tanh([context, h_next] Wc + bc); probs = softmax(h_att Wy + by).
    shift_right(targets (N, Ty) int, start_id) -> decoder_inputs (N, Ty) int
    masked_sequence_loss(targets (N, Ty) int, probs (N, Ty, V), mask (N, Ty)) -> loss ()

Mask entries are True (1) at real steps and False (0) at padding. The references are real Keras
layers in float64 with the same weights (Attention, AdditiveAttention after Dense projections,
GRUCell + Attention + Dense composed, SparseCategoricalCrossentropy with sample_weight).
"""
import numpy as np

from rnnkit import reference as ref
from rnnkit.grading.keys.catalog import register
from rnnkit.registry import Case, Exercise, Mistake, Output

NOTEBOOK = "07_seq2seq_attention"
ATTENTION_LAYERS = ("keras.layers.Attention", "keras.layers.AdditiveAttention",
                    "keras.layers.MultiHeadAttention", "keras.ops.dot_product_attention")
CROSS_ENTROPY = ("keras.losses.SparseCategoricalCrossentropy", "keras.losses.sparse_categorical_crossentropy",
                 "keras.ops.sparse_categorical_crossentropy")


def _softmax(s, axis=-1):
    e = np.exp(s - np.max(s, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _mask(rng, N, T, padded):
    """(N, T) bool: True at real steps; with `padded`, every row but the first ends in padding
    (at least one real step each)."""
    lengths = np.full(N, T)
    if padded:
        lengths[1:] = rng.integers(1, T, size=N - 1) if T > 1 else 1
    return np.arange(T)[None, :] < lengths[:, None]


# ----------------------------------------------------------------------------- dot_attention
def _attention_inputs(rng, case):
    N, Tq, Tk, H, Dv = (case.sizes[k] for k in ("N", "Tq", "Tk", "H", "Dv"))
    mask = _mask(rng, N, Tk, True) if "padded" in case.note else None
    return dict(query=rng.normal(size=(N, Tq, H)), keys=rng.normal(size=(N, Tk, H)),
                values=rng.normal(size=(N, Tk, Dv)), mask=mask)


def _dot(scale=1.0, axis=-1, use_mask=True, after=False, swap=False):
    """NumPy dot attention with switches for the catalogued mistakes."""
    def run(query, keys, values, mask=None):
        query, keys, values = (np.asarray(a, np.float64) for a in (query, keys, values))
        if swap:
            keys, values = values, keys
        scores = query @ np.swapaxes(keys, 1, 2) * scale
        if mask is not None and use_mask and not after:
            scores = np.where(np.asarray(mask, bool)[:, None, :], scores, -1e9)
        weights = _softmax(scores, axis=axis)
        if mask is not None and after:
            weights = weights * np.asarray(mask, bool)[:, None, :]
        return weights @ values, weights
    return run


def _scaled(query, keys, values, mask=None):
    return _dot(scale=1.0 / np.sqrt(np.shape(query)[-1]))(query, keys, values, mask)


ATTENTION_OUTPUTS = (Output("context", ("N", "Tq", "Dv")), Output("weights", ("N", "Tq", "Tk")))

register(Exercise(
    name="dot_attention", notebook=NOTEBOOK, points=3,
    args=("query", "keys", "values", "mask"),
    outputs=ATTENTION_OUTPUTS,
    reference_name="keras.layers.Attention",
    forbidden=ATTENTION_LAYERS,
    reference=ref.run_dot_attention,
    make_inputs=_attention_inputs,
    cases=[
        Case("visible padded", 701, dict(N=3, Tq=2, Tk=5, H=4, Dv=4), note="padded"),
        Case("visible no mask", 702, dict(N=2, Tq=3, Tk=4, H=3, Dv=5)),
        Case("hidden padded", 1701, dict(N=4, Tq=3, Tk=7, H=5, Dv=5), hidden=True, note="padded",
             vary=dict(N=(3, 6), Tq=(2, 5), Tk=(5, 9))),
        Case("hidden one query", 1702, dict(N=2, Tq=1, Tk=6, H=4, Dv=3), hidden=True, note="padded"),
        Case("hidden float64", 1703, dict(N=3, Tq=4, Tk=3, H=6, Dv=6), hidden=True, dtype="float64",
             note="padded", vary=dict(Tq=(2, 6), Tk=(3, 6))),
        Case("hidden no mask", 1704, dict(N=2, Tq=2, Tk=3, H=2, Dv=4), hidden=True),
    ],
    mistakes=[
        Mistake("softmax over the query axis", "each query's weights are a distribution over the "
                "keys: softmax over the last axis (Tk), so that weights.sum(-1) is 1.", _dot(axis=1)),
        Mistake("mask ignored (padding attended)", "padded keys must get no weight: set their "
                "scores to a large negative number (e.g. -1e9) before the softmax.", _dot(use_mask=False)),
        Mistake("mask applied after the softmax", "masking the weights after the softmax leaves "
                "rows that no longer sum to 1: mask the scores before it.", _dot(after=True)),
        Mistake("keys and values swapped", "scores compare the query with the keys; the context "
                "averages the values.", _dot(swap=True)),
        Mistake("scores scaled by 1/sqrt(H)", "Luong's dot score (keras.layers.Attention by "
                "default) is the plain dot product query . key, not divided by sqrt(H).", _scaled),
    ],
))


# ----------------------------------------------------------------------------- additive_attention
def _additive_inputs(rng, case):
    inputs = _attention_inputs(rng, case)
    H, A = case.sizes["H"], case.sizes["A"]
    inputs.update(W1=rng.normal(0.0, 1.0 / np.sqrt(H), size=(H, A)),
                  W2=rng.normal(0.0, 1.0 / np.sqrt(H), size=(H, A)),
                  v=rng.normal(0.0, 1.0, size=A))
    return inputs


def _additive(tanh=True, swap=False, reduce=np.sum, use_mask=True):
    """NumPy Bahdanau attention with switches for the catalogued mistakes."""
    def run(query, keys, values, mask, W1, W2, v):
        query, keys, values, W1, W2, v = (np.asarray(a, np.float64)
                                          for a in (query, keys, values, W1, W2, v))
        if swap:
            W1, W2 = W2, W1
        hidden = (query @ W1)[:, :, None, :] + (keys @ W2)[:, None, :, :]
        scores = reduce((np.tanh(hidden) if tanh else hidden) * v, axis=-1)
        if mask is not None and use_mask:
            scores = np.where(np.asarray(mask, bool)[:, None, :], scores, -1e9)
        weights = _softmax(scores)
        return weights @ values, weights
    return run


register(Exercise(
    name="additive_attention", notebook=NOTEBOOK, points=2,
    args=("query", "keys", "values", "mask", "W1", "W2", "v"),
    outputs=ATTENTION_OUTPUTS,
    reference_name="keras.layers.AdditiveAttention after Dense(W1), Dense(W2)",
    forbidden=ATTENTION_LAYERS,
    reference=ref.run_additive_attention,
    make_inputs=_additive_inputs,
    cases=[
        Case("visible padded", 711, dict(N=3, Tq=2, Tk=5, H=4, Dv=3, A=6), note="padded"),
        Case("visible no mask", 712, dict(N=2, Tq=3, Tk=4, H=3, Dv=2, A=4)),
        Case("hidden padded", 1711, dict(N=4, Tq=3, Tk=6, H=5, Dv=4, A=7), hidden=True, note="padded",
             vary=dict(N=(2, 5), Tk=(4, 8), A=(3, 9))),
        Case("hidden float64", 1712, dict(N=2, Tq=4, Tk=3, H=4, Dv=5, A=5), hidden=True,
             dtype="float64", note="padded", vary=dict(Tq=(2, 5))),
        Case("hidden one unit", 1713, dict(N=2, Tq=2, Tk=4, H=3, Dv=3, A=1), hidden=True),
    ],
    mistakes=[
        Mistake("tanh missing", "Bahdanau's score is v . tanh(query W1 + key W2): without the "
                "tanh it is linear, and the softmax of a sum ignores the query.", _additive(tanh=False)),
        Mistake("W1 and W2 swapped", "W1 projects the query (the decoder's state), W2 the keys "
                "(the encoder's outputs).", _additive(swap=True)),
        Mistake("scores not summed over A", "the score is the sum over the A attention units of "
                "v * tanh(...); a mean divides every score by A.", _additive(reduce=np.mean)),
        Mistake("mask ignored (padding attended)", "padded keys must get no weight: set their "
                "scores to a large negative number before the softmax.", _additive(use_mask=False)),
    ],
))


# ----------------------------------------------------------------------------- attention_decoder_step
def _decoder_inputs(rng, case):
    N, Tx, H, E, V = (case.sizes[k] for k in ("N", "Tx", "H", "E", "V"))
    cell = (rng.normal(0.0, 1.0 / np.sqrt(E), size=(E, 3 * H)),
            rng.normal(0.0, 1.0 / np.sqrt(H), size=(H, 3 * H)), rng.uniform(-0.5, 0.5, size=(2, 3 * H)))
    combine = (rng.normal(0.0, 1.0 / np.sqrt(2 * H), size=(2 * H, H)), rng.uniform(-0.5, 0.5, size=H))
    return dict(y_prev=rng.normal(size=(N, E)), h_prev=rng.uniform(-0.9, 0.9, size=(N, H)),
                enc_seq=rng.uniform(-1.0, 1.0, size=(N, Tx, H)) * 2.0,
                enc_mask=_mask(rng, N, Tx, True), cell=cell, combine=combine,
                Wy=rng.normal(0.0, 2.0 / np.sqrt(H), size=(H, V)), by=rng.uniform(-0.5, 0.5, size=V))


def _decoder_step(query_state="new", use_context=True, use_mask=True, context_first=True, squash=True):
    """The Keras composition of one Luong decoder step, with switches for the mistakes."""
    def run(y_prev, h_prev, enc_seq, enc_mask, cell, combine, Wy, by):
        h_next = ref.run_gru_cell(y_prev, h_prev, *cell)
        query = h_next if query_state == "new" else np.asarray(h_prev, np.float64)
        context, weights = ref.run_dot_attention(query[:, None, :], enc_seq, enc_seq,
                                                 enc_mask if use_mask else None)
        joined = np.concatenate([context[:, 0], h_next] if context_first else [h_next, context[:, 0]], axis=-1)
        h_att = ref.run_dense(joined, *combine, activation="tanh" if squash else None) if use_context else h_next
        probs = ref.run_dense(h_att, Wy, by, activation="softmax")
        return probs, h_next, weights[:, 0]
    return run


register(Exercise(
    name="attention_decoder_step", notebook=NOTEBOOK, points=3,
    args=("y_prev", "h_prev", "enc_seq", "enc_mask", "cell", "combine", "Wy", "by"),
    outputs=(Output("probs", ("N", "V")), Output("h_next", ("N", "H")), Output("weights", ("N", "Tx"))),
    reference_name="keras.layers.GRUCell + Attention + Dense(tanh) + Dense(softmax)",
    forbidden=ATTENTION_LAYERS + ("keras.layers.GRUCell", "keras.layers.GRU", "keras.layers.Dense"),
    must_call=("dot_attention",),
    reference=ref.run_attention_decoder_step,
    make_inputs=_decoder_inputs,
    cases=[
        Case("visible 1", 721, dict(N=3, Tx=5, H=4, E=3, V=6)),
        Case("visible 2", 722, dict(N=2, Tx=4, H=3, E=5, V=4)),
        Case("hidden long source", 1721, dict(N=3, Tx=12, H=5, E=4, V=7), hidden=True,
             vary=dict(N=(2, 5), Tx=(9, 15), V=(5, 9))),
        Case("hidden float64", 1722, dict(N=2, Tx=6, H=4, E=2, V=5), hidden=True, dtype="float64",
             vary=dict(Tx=(4, 8))),
        Case("hidden batch of one", 1723, dict(N=1, Tx=3, H=3, E=3, V=3), hidden=True),
    ],
    mistakes=[
        Mistake("attends with the old state", "Luong's decoder first steps the GRU, then attends "
                "with the new state h_next (not h_prev).", _decoder_step(query_state="old")),
        Mistake("context not used in the output", "the output layer reads the attentional state "
                "tanh([context, h_next] Wc + bc), not h_next: the context is what attention adds.",
                _decoder_step(use_context=False)),
        Mistake("encoder mask dropped", "pass enc_mask to dot_attention: padded source steps "
                "must get no weight.", _decoder_step(use_mask=False)),
        Mistake("concatenation order [h_next, context]", "join the context first: "
                "[context, h_next] (Wc's first H rows multiply the context).",
                _decoder_step(context_first=False)),
        Mistake("tanh missing on the attentional state", "h_att = tanh([context, h_next] Wc + bc).",
                _decoder_step(squash=False)),
    ],
))


# ----------------------------------------------------------------------------- shift_right
def _shift_inputs(rng, case):
    N, Ty, V = (case.sizes[k] for k in ("N", "Ty", "V"))
    targets = rng.integers(3, V, size=(N, Ty))          # 0 padding, 1 start, 2 end
    mask = _mask(rng, N, Ty, True)
    targets = np.where(mask, targets, 0)
    return dict(targets=targets, start_id=1)


def _shift(how="right", start=True):
    def run(targets, start_id):
        targets = np.asarray(targets)
        if how == "none":
            return targets.copy()
        fill = np.full((targets.shape[0], 1), start_id if start else 0, dtype=targets.dtype)
        if how == "left":
            return np.concatenate([targets[:, 1:], np.zeros_like(fill)], axis=1)
        return np.concatenate([fill, targets[:, :-1]], axis=1)
    return run


register(Exercise(
    name="shift_right", notebook=NOTEBOOK, points=1,
    args=("targets", "start_id"),
    outputs=(Output("decoder_inputs", ("N", "Ty")),),
    reference_name="keras.ops.concatenate([start column, targets[:, :-1]])",
    forbidden=("keras.ops.concatenate",),          # what its Keras reference computes it with
    reference=ref.run_shift_right,
    make_inputs=_shift_inputs,
    atol=0.0, rtol=0.0,
    cases=[
        Case("visible 1", 731, dict(N=3, Ty=6, V=9)),
        Case("visible 2", 732, dict(N=2, Ty=4, V=5)),
        Case("hidden long", 1731, dict(N=4, Ty=11, V=13), hidden=True, vary=dict(N=(2, 6), Ty=(8, 14))),
        Case("hidden one step", 1732, dict(N=2, Ty=1, V=6), hidden=True),
    ],
    mistakes=[
        Mistake("targets not shifted (the decoder sees the answer)", "at step t the decoder's "
                "input is the previous target y_{t-1}, starting with start_id: shift right by one.",
                _shift("none")),
        Mistake("shifted left (the decoder sees the next token)", "prepend start_id and drop the "
                "last column: [start_id, y_0, ..., y_{Ty-2}].", _shift("left")),
        Mistake("start token missing", "the first input is start_id, not the padding id 0.",
                _shift(start=False)),
    ],
))


# ----------------------------------------------------------------------------- masked_sequence_loss
def _loss_inputs(rng, case):
    N, Ty, V = (case.sizes[k] for k in ("N", "Ty", "V"))
    mask = _mask(rng, N, Ty, True)
    logits = rng.normal(0.0, 2.0, size=(N, Ty, V))
    return dict(targets=np.where(mask, rng.integers(0, V, size=(N, Ty)), 0), probs=_softmax(logits),
                mask=mask.astype(np.float64))


def _nll(targets, probs):
    picked = np.take_along_axis(np.asarray(probs, np.float64), np.asarray(targets)[..., None], axis=-1)
    return -np.log(picked[..., 0])


def _loss(how):
    def run(targets, probs, mask):
        ce, m = _nll(targets, probs), np.asarray(mask, np.float64)
        if how == "padding counted":
            return np.sum(ce * m) / m.size
        if how == "mask ignored":
            return np.mean(ce)
        if how == "per sequence":
            return np.mean(np.sum(ce * m, axis=1) / np.sum(m, axis=1))
        return np.sum(ce * m) / m.shape[0]        # summed over time, averaged over the batch
    return run


register(Exercise(
    name="masked_sequence_loss", notebook=NOTEBOOK, points=2,
    args=("targets", "probs", "mask"),
    outputs=(Output("loss", ()),),
    reference_name='keras.losses.SparseCategoricalCrossentropy(reduction="mean_with_sample_weight")',
    forbidden=CROSS_ENTROPY,
    reference=ref.run_masked_loss,
    make_inputs=_loss_inputs,
    cases=[
        Case("visible 1", 741, dict(N=3, Ty=5, V=6)),
        Case("visible 2", 742, dict(N=4, Ty=3, V=4)),
        Case("hidden long", 1741, dict(N=5, Ty=10, V=11), hidden=True, vary=dict(N=(3, 7), Ty=(7, 13))),
        Case("hidden float64", 1742, dict(N=3, Ty=6, V=5), hidden=True, dtype="float64"),
    ],
    mistakes=[
        Mistake("padding counted in the mean", "divide by the number of real tokens, mask.sum(), "
                "not by N * Ty: padded steps are not predictions.", _loss("padding counted")),
        Mistake("mask ignored", "multiply each step's cross-entropy by the mask before summing, "
                "so that padding adds nothing.", _loss("mask ignored")),
        Mistake("mean of per-sequence means", "average over every real token of the batch at "
                "once: a short sequence's tokens weigh as much as a long one's.", _loss("per sequence")),
        Mistake("summed over time, averaged over the batch", "divide the masked sum by the number "
                "of real tokens, not by N.", _loss("sum over time")),
    ],
))
