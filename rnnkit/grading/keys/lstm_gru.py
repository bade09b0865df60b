"""Notebook 04_lstm_gru: gates, and a language model built on them.

Graded functions (the contract; N batch, T steps, D features, H hidden units, V vocabulary):

    lstm_cell_forward(x_t (N, D), h_prev (N, H), c_prev (N, H), W (D, 4H), U (H, 4H), b (4H,))
        -> (h_next (N, H), c_next (N, H))                      columns [i, f, c, o], as Keras
    lstm_forward(x (N, T, D), h0, c0, W, U, b) -> (h_seq (N, T, H), h_last (N, H), c_last (N, H))
    gru_cell_forward(x_t (N, D), h_prev (N, H), W (D, 3H), U (H, 3H), b (2, 3H)) -> h_next (N, H)
        reset_after=True, columns [z, r, h]; b[0] input bias, b[1] recurrent bias
    gru_forward(x (N, T, D), h0, W, U, b) -> (h_seq (N, T, H), h_last (N, H))
    sample_next(logits (V,), temperature, rng) -> int in [0, V)
    perplexity(probs (N, T, V), targets (N, T) int) -> scalar

References: keras.layers.LSTMCell, LSTM, GRUCell and GRU in float64 with the same weights
(random, nonzero biases); softmax(logits / temperature) for sample_next, whose samples are
counted (rnnkit.exercises.lstm_gru.sample_frequencies); the exponential of
SparseCategoricalCrossentropy for perplexity. Mistakes are NumPy implementations with exactly that
mistake.
"""
import numpy as np

from rnnkit import reference as ref
from rnnkit.exercises.lstm_gru import DRAWS, draw_samples, frequencies, sample_frequencies
from rnnkit.grading.keys.catalog import register
from rnnkit.registry import Case, Exercise, Mistake, Output

NOTEBOOK = "04_lstm_gru"
CROSS_ENTROPY = ("keras.losses.SparseCategoricalCrossentropy", "keras.ops.sparse_categorical_crossentropy")


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


# ----------------------------------------------------------------------------- inputs
def _gated_weights(rng, D, H, gates, gru=False):
    W = rng.normal(0.0, 1.0 / np.sqrt(D), size=(D, gates * H))
    U = rng.normal(0.0, 1.0 / np.sqrt(H), size=(H, gates * H))
    b = rng.uniform(-0.5, 0.5, size=(2, gates * H) if gru else gates * H)
    return W, U, b


def _lstm_cell_inputs(rng, case):
    N, D, H = (case.sizes[k] for k in "NDH")
    W, U, b = _gated_weights(rng, D, H, 4)
    return dict(x_t=rng.normal(size=(N, D)), h_prev=rng.uniform(-0.9, 0.9, size=(N, H)),
                c_prev=rng.normal(0.0, 1.5, size=(N, H)), W=W, U=U, b=b)


def _lstm_inputs(rng, case):
    N, T, D, H = (case.sizes[k] for k in ("N", "T", "D", "H"))
    W, U, b = _gated_weights(rng, D, H, 4)
    return dict(x=rng.normal(size=(N, T, D)), h0=rng.uniform(-0.9, 0.9, size=(N, H)),
                c0=rng.normal(0.0, 1.5, size=(N, H)), W=W, U=U, b=b)


def _gru_cell_inputs(rng, case):
    N, D, H = (case.sizes[k] for k in "NDH")
    W, U, b = _gated_weights(rng, D, H, 3, gru=True)
    return dict(x_t=rng.normal(size=(N, D)), h_prev=rng.uniform(-0.9, 0.9, size=(N, H)),
                W=W, U=U, b=b)


def _gru_inputs(rng, case):
    N, T, D, H = (case.sizes[k] for k in ("N", "T", "D", "H"))
    W, U, b = _gated_weights(rng, D, H, 3, gru=True)
    return dict(x=rng.normal(size=(N, T, D)), h0=rng.uniform(-0.9, 0.9, size=(N, H)), W=W, U=U, b=b)


# ----------------------------------------------------------------------------- NumPy cells with mistakes
def _lstm_step(x_t, h_prev, c_prev, W, U, b, order="ifco", gate_act=_sigmoid, cand_act=np.tanh,
               out_tanh=True, forget_on="c_prev", use_c_prev=True, use_bias=True):
    """One LSTM step; `order` is how the columns are read, the switches are catalogued mistakes."""
    z = x_t @ W + h_prev @ U + (b if use_bias else 0.0)
    blocks = dict(zip(order, np.split(z, 4, axis=-1)))
    i, f, o = gate_act(blocks["i"]), gate_act(blocks["f"]), gate_act(blocks["o"])
    g = cand_act(blocks["c"])
    c_old = c_prev if use_c_prev else 0.0
    if forget_on == "c_prev":
        c = f * c_old + i * g
    else:                                   # the forget gate scales the candidate
        c = i * c_old + f * g
    h = o * (np.tanh(c) if out_tanh else c)
    return h, c


def _lstm_cell_mistake(**flags):
    def run(x_t, h_prev, c_prev, W, U, b):
        return _lstm_step(x_t, h_prev, c_prev, W, U, b, **flags)
    return run


def _lstm_loop(x, h0, c0, W, U, b, carry_c=True, carry_h=True, reverse=False, return_c_seq=False):
    h, c, hs, cs = h0, c0, [], []
    steps = range(x.shape[1])
    for t in (reversed(steps) if reverse else steps):
        h, c = _lstm_step(x[:, t], h if carry_h else h0, c if carry_c else c0, W, U, b)
        hs.append(h)
        cs.append(c)
    if reverse:
        hs, cs = hs[::-1], cs[::-1]
    return np.stack(cs if return_c_seq else hs, axis=1), h, c


def _lstm_forward_mistake(**flags):
    def run(x, h0, c0, W, U, b):
        return _lstm_loop(x, h0, c0, W, U, b, **flags)
    return run


def _gru_step(x_t, h_prev, W, U, b, z_keeps_old=True, reset_after=True, bias_rows=(0, 1),
              reset_recurrent_bias=True, z_act=_sigmoid):
    """One GRU step (Keras reset_after=True by default); switches are catalogued mistakes."""
    H = h_prev.shape[-1]
    b_in = b[0] if 0 in bias_rows else np.zeros(3 * H)
    b_rec = b[1] if 1 in bias_rows else np.zeros(3 * H)
    xw = x_t @ W + b_in
    z = z_act(xw[:, :H] + h_prev @ U[:, :H] + b_rec[:H])
    r = _sigmoid(xw[:, H:2 * H] + h_prev @ U[:, H:2 * H] + b_rec[H:2 * H])
    if reset_after:
        rec = h_prev @ U[:, 2 * H:]
        rec = r * (rec + b_rec[2 * H:]) if reset_recurrent_bias else r * rec + b_rec[2 * H:]
    else:                                     # reset applied to h_prev before the product
        rec = (r * h_prev) @ U[:, 2 * H:] + b_rec[2 * H:]
    hh = np.tanh(xw[:, 2 * H:] + rec)
    return z * h_prev + (1 - z) * hh if z_keeps_old else (1 - z) * h_prev + z * hh


def _gru_cell_mistake(**flags):
    def run(x_t, h_prev, W, U, b):
        return _gru_step(x_t, h_prev, W, U, b, **flags)
    return run


def _gru_loop(x, h0, W, U, b, carry=True, reverse=False, step_flags=None):
    h, hs = h0, []
    steps = range(x.shape[1])
    for t in (reversed(steps) if reverse else steps):
        h = _gru_step(x[:, t], h if carry else h0, W, U, b, **(step_flags or {}))
        hs.append(h)
    return np.stack(hs[::-1] if reverse else hs, axis=1), h


def _gru_forward_mistake(**flags):
    def run(x, h0, W, U, b):
        return _gru_loop(x, h0, W, U, b, **flags)
    return run


# ----------------------------------------------------------------------------- lstm_cell_forward
CELL_CASES = [
    Case("visible 1", 401, dict(N=3, D=4, H=5)),
    Case("visible 2", 402, dict(N=2, D=2, H=3)),
    Case("hidden batch of one", 1401, dict(N=1, D=1, H=1), hidden=True),
    Case("hidden wide", 1402, dict(N=5, D=3, H=12), hidden=True, vary=dict(N=(3, 7), H=(9, 15))),
    Case("hidden float64", 1403, dict(N=4, D=6, H=4), hidden=True, dtype="float64",
         vary=dict(N=(2, 6), D=(4, 8))),
]
SEQ_CASES = [
    Case("visible 1", 411, dict(N=2, T=4, D=3, H=5)),
    Case("hidden one step", 1411, dict(N=3, T=1, D=2, H=4), hidden=True),
    Case("hidden long", 1412, dict(N=2, T=25, D=3, H=6), hidden=True, dtype="float64",
         vary=dict(T=(18, 30), D=(2, 5), H=(4, 8))),
    Case("hidden batch of one", 1413, dict(N=1, T=6, D=5, H=3), hidden=True),
]

register(Exercise(
    name="lstm_cell_forward", notebook=NOTEBOOK, points=3,
    args=("x_t", "h_prev", "c_prev", "W", "U", "b"),
    outputs=(Output("h_next", ("N", "H")), Output("c_next", ("N", "H"))),
    reference_name="keras.layers.LSTMCell",
    gates=dict(W=ref.LSTM_GATES, U=ref.LSTM_GATES, b=ref.LSTM_GATES),
    forbidden=("keras.layers.LSTMCell",),
    reference=ref.run_lstm_cell,
    make_inputs=_lstm_cell_inputs,
    cases=CELL_CASES,
    mistakes=[
        Mistake("gate order i, f, o, g", "Keras stores the columns as [i, f, c, o]: input, forget, "
                "candidate (g), output.", _lstm_cell_mistake(order="ifoc")),
        Mistake("tanh on a gate", "the gates i, f, o use the sigmoid (values in 0..1); only the "
                "candidate and the output use tanh.", _lstm_cell_mistake(gate_act=np.tanh)),
        Mistake("h = o * c (no tanh)", "the output is h = o * tanh(c_next).",
                _lstm_cell_mistake(out_tanh=False)),
        Mistake("forget gate applied to the candidate", "c_next = f * c_prev + i * g: the forget "
                "gate scales the old cell state, the input gate the candidate.",
                _lstm_cell_mistake(forget_on="candidate")),
        Mistake("sigmoid on the candidate", "the candidate g = tanh(.) can be negative; a sigmoid "
                "could only ever add to the cell state.", _lstm_cell_mistake(cand_act=_sigmoid)),
        Mistake("c_prev ignored", "the cell state is the conveyor belt: c_next = f * c_prev + i * g.",
                _lstm_cell_mistake(use_c_prev=False)),
        Mistake("bias missing", "add b (4H,) to x_t W + h_prev U before splitting the gates.",
                _lstm_cell_mistake(use_bias=False)),
    ],
))

register(Exercise(
    name="lstm_forward", notebook=NOTEBOOK, points=2,
    args=("x", "h0", "c0", "W", "U", "b"),
    outputs=(Output("h_seq", ("N", "T", "H")), Output("h_last", ("N", "H")), Output("c_last", ("N", "H"))),
    reference_name="keras.layers.LSTM(return_sequences=True, return_state=True)",
    gates=dict(W=ref.LSTM_GATES, U=ref.LSTM_GATES, b=ref.LSTM_GATES),
    forbidden=("keras.layers.LSTM",),
    reference=ref.run_lstm,
    make_inputs=_lstm_inputs,
    must_call=("lstm_cell_forward",),
    cases=SEQ_CASES,
    mistakes=[
        Mistake("cell state not carried (c0 at every step)", "pass the c_next of step t as the "
                "c_prev of step t + 1, like h.", _lstm_forward_mistake(carry_c=False)),
        Mistake("hidden state not carried (h0 at every step)", "pass the h_next of step t as the "
                "h_prev of step t + 1.", _lstm_forward_mistake(carry_h=False)),
        Mistake("time reversed", "loop t = 0, 1, ..., T-1.", _lstm_forward_mistake(reverse=True)),
        Mistake("cell states returned instead of hidden states", "h_seq stacks the h of every step; "
                "c stays inside the layer.", _lstm_forward_mistake(return_c_seq=True)),
    ],
))


# ----------------------------------------------------------------------------- gru_cell_forward
register(Exercise(
    name="gru_cell_forward", notebook=NOTEBOOK, points=3,
    args=("x_t", "h_prev", "W", "U", "b"),
    outputs=(Output("h_next", ("N", "H")),),
    reference_name="keras.layers.GRUCell(reset_after=True)",
    gates=dict(W=ref.GRU_GATES, U=ref.GRU_GATES, b=ref.GRU_GATES),
    forbidden=("keras.layers.GRUCell",),
    reference=ref.run_gru_cell,
    make_inputs=_gru_cell_inputs,
    cases=[Case(c.label, c.seed + 20, c.sizes, c.hidden, c.dtype) for c in CELL_CASES],
    mistakes=[
        Mistake("z convention swapped", "in Keras, z keeps the old state: h = z * h_prev + "
                "(1 - z) * h_candidate.", _gru_cell_mistake(z_keeps_old=False)),
        Mistake("reset before the matmul", "with reset_after=True the reset gate multiplies "
                "(h_prev U_h + b1_h), after the product, not h_prev before it.",
                _gru_cell_mistake(reset_after=False)),
        Mistake("recurrent bias row ignored", "b has two rows: b[0] is added to x_t W, b[1] to "
                "h_prev U.", _gru_cell_mistake(bias_rows=(0,))),
        Mistake("input bias row ignored", "b has two rows: b[0] is added to x_t W, b[1] to h_prev U.",
                _gru_cell_mistake(bias_rows=(1,))),
        Mistake("recurrent candidate bias outside the reset", "the reset gate multiplies "
                "(h_prev U_h + b[1]_h) as a whole.", _gru_cell_mistake(reset_recurrent_bias=False)),
        Mistake("tanh on the update gate", "z is a gate: use the sigmoid.",
                _gru_cell_mistake(z_act=np.tanh)),
    ],
))

register(Exercise(
    name="gru_forward", notebook=NOTEBOOK, points=1,
    args=("x", "h0", "W", "U", "b"),
    outputs=(Output("h_seq", ("N", "T", "H")), Output("h_last", ("N", "H"))),
    reference_name="keras.layers.GRU(return_sequences=True, return_state=True)",
    gates=dict(W=ref.GRU_GATES, U=ref.GRU_GATES, b=ref.GRU_GATES),
    forbidden=("keras.layers.GRU",),
    reference=ref.run_gru,
    make_inputs=_gru_inputs,
    must_call=("gru_cell_forward",),
    cases=[Case(c.label, c.seed + 20, c.sizes, c.hidden, c.dtype) for c in SEQ_CASES],
    mistakes=[
        Mistake("state not carried (h0 at every step)", "pass the h_next of step t as the h_prev "
                "of step t + 1.", _gru_forward_mistake(carry=False)),
        Mistake("time reversed", "loop t = 0, 1, ..., T-1.", _gru_forward_mistake(reverse=True)),
    ],
))


# ----------------------------------------------------------------------------- sample_next
def _sample_inputs(rng, case):
    V = case.sizes["V"]
    scale = 400.0 if "large logits" in case.note else 1.5
    logits = rng.normal(0.0, scale, size=V)
    return dict(logits=logits, temperature=float(case.sizes["temperature"]), rng=case.seed)


def _softmax_t(logits, temperature):
    logits = np.asarray(logits, np.float64)
    if temperature == 0:
        return np.eye(len(logits))[np.argmax(logits)]
    z = logits / temperature
    e = np.exp(z - z.max())
    return e / e.sum()


register(Exercise(
    name="sample_next", notebook=NOTEBOOK, points=2,
    args=("logits", "temperature", "rng"),
    outputs=(Output("frequency", ("V",)),),
    reference_name=f"softmax(logits / temperature) (frequencies of {DRAWS} samples)",
    reference=lambda logits, temperature, rng: _softmax_t(logits, temperature),
    make_inputs=_sample_inputs,
    runner=sample_frequencies, collect=draw_samples, finish=frequencies,
    atol=0.035, rtol=0.0,        # 5 standard deviations of a frequency
    cases=[
        Case("visible temperature 1", 451, dict(V=5, temperature=1.0)),
        Case("visible temperature 0.5", 452, dict(V=6, temperature=0.5)),
        Case("visible temperature 0 (argmax)", 453, dict(V=4, temperature=0.0)),
        Case("hidden temperature 2", 1451, dict(V=8, temperature=2.0), hidden=True, vary=dict(V=(6, 10))),
        Case("hidden two classes", 1452, dict(V=2, temperature=1.0), hidden=True),
        Case("hidden large logits", 1453, dict(V=5, temperature=1.0), hidden=True, note="large logits"),
        Case("hidden temperature 0", 1454, dict(V=7, temperature=0.0), hidden=True),
    ],
    mistakes=[
        Mistake("temperature multiplied instead of divided", "divide the logits by the temperature: "
                "a low temperature sharpens the distribution.",
                lambda logits, temperature, rng: _softmax_t(np.asarray(logits) * temperature, 1.0)),
        Mistake("temperature ignored", "sample from softmax(logits / temperature).",
                lambda logits, temperature, rng: _softmax_t(logits, 1.0)),
        Mistake("always the most likely index (greedy)", "draw at random from the distribution, "
                "e.g. rng.choice(len(p), p=p); only temperature 0 means argmax.",
                lambda logits, temperature, rng: _softmax_t(logits, 0.0)),
        Mistake("uniform sampling", "the probabilities come from the logits: p = "
                "softmax(logits / temperature).",
                lambda logits, temperature, rng: np.full(len(logits), 1.0 / len(logits))),
    ],
))


# ----------------------------------------------------------------------------- perplexity
def _perplexity_inputs(rng, case):
    N, T, V = (case.sizes[k] for k in ("N", "T", "V"))
    z = rng.normal(0.0, 2.0, size=(N, T, V))
    probs = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
    return dict(probs=probs, targets=rng.integers(0, V, size=(N, T)))


def _picked(probs, targets):
    return np.take_along_axis(np.asarray(probs, np.float64), targets[..., None], axis=-1)[..., 0]


register(Exercise(
    name="perplexity", notebook=NOTEBOOK, points=1,
    args=("probs", "targets"),
    outputs=(Output("perplexity", ()),),
    reference_name="exp(SparseCategoricalCrossentropy)",
    forbidden=CROSS_ENTROPY,
    reference=ref.run_perplexity,
    make_inputs=_perplexity_inputs,
    cases=[
        Case("visible 1", 461, dict(N=2, T=5, V=4)),
        Case("hidden one prediction", 1461, dict(N=1, T=1, V=3), hidden=True),
        Case("hidden long", 1462, dict(N=3, T=40, V=30), hidden=True, dtype="float64",
             vary=dict(N=(2, 5), T=(30, 50), V=(20, 40))),
    ],
    mistakes=[
        Mistake("cross-entropy returned (no exp)", "perplexity = exp(mean cross-entropy).",
                lambda probs, targets: -np.log(_picked(probs, targets)).mean()),
        Mistake("exp of the summed loss", "average the cross-entropy over all N*T predictions "
                "before np.exp.", lambda probs, targets: np.exp(-np.log(_picked(probs, targets)).sum())),
        Mistake("mean of per-sequence perplexities", "average the log-probabilities over every "
                "prediction first, then take one exp.",
                lambda probs, targets: np.exp(-np.log(_picked(probs, targets)).mean(axis=1)).mean()),
        Mistake("entropy of the predictions instead of the targets' probabilities",
                "use the probability given to the target, probs[n, t, targets[n, t]].",
                lambda probs, targets: np.exp(-(np.asarray(probs) * np.log(probs)).sum(-1).mean())),
        Mistake("mean of inverse probabilities", "the geometric mean, exp(-mean(log p)), not the "
                "arithmetic mean of 1/p.", lambda probs, targets: (1.0 / _picked(probs, targets)).mean()),
    ],
))
