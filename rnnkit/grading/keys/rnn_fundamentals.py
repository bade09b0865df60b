"""Notebook 01_rnn_fundamentals: the recurrence and the five RNN types.

Graded functions (the contract; N batch, T steps, D features, H hidden units, V classes):

    rnn_cell_forward(x_t (N, D), h_prev (N, H), Wx (D, H), Wh (H, H), b (H,)) -> h_next (N, H)
    rnn_forward(x (N, T, D), h0 (N, H), Wx, Wh, b) -> (h_seq (N, T, H), h_last (N, H))
    dense_softmax(h_seq (N, T, H), Wy (H, V), by (V,)) -> probs (N, T, V)
    many_to_one(x (N, T, D), h0, Wx, Wh, b, Wy, by) -> probs (N, V)
    one_to_many(x0 (N, V), h0, Wx (V, H), Wh, b, Wy, by, T) -> probs (N, T, V)
    encoder_decoder(x (N, Tx, D), h0, enc, dec, Wy, by, Ty) -> probs (N, Ty, V)
        enc = (Wx (D, H), Wh, b), dec = (Wx (V, H), Wh, b); the decoder starts from the encoder's
        last state with a zero input and feeds each output back as its next input.

Each reference is a real Keras layer (float64) with the same weights; each mistake in a catalogue
is written as a Keras configuration where one exists (activation="sigmoid", use_bias=False,
go_backwards=True, swapped or transposed weights, ...).
"""
import numpy as np

from rnnkit import reference as ref
from rnnkit.grading.keys.catalog import register
from rnnkit.grading.keys.inputs import rnn_weights
from rnnkit.registry import Case, Exercise, Mistake, Output

NOTEBOOK = "01_rnn_fundamentals"
SIMPLE_RNN = "keras.layers.SimpleRNN"
# What the functions may not call: the layers they are checked against.
SOFTMAX = ("keras.layers.Dense", "keras.ops.softmax", "keras.activations.softmax", "tf.nn.softmax")
RNN_AND_DENSE = (SIMPLE_RNN, "keras.layers.Dense")


# ----------------------------------------------------------------------------- input makers
def _out_weights(rng, H, V, scale=1.0):
    Wy = rng.normal(0.0, scale / np.sqrt(H), size=(H, V))
    by = rng.uniform(-0.5, 0.5, size=V) * scale
    return Wy, by


def _cell_inputs(rng, case):
    N, D, H = (case.sizes[k] for k in "NDH")
    x_t = rng.normal(size=(N, D))
    h_prev = rng.uniform(-0.9, 0.9, size=(N, H))
    Wx, Wh, b = rnn_weights(rng, D, H)
    return dict(x_t=x_t, h_prev=h_prev, Wx=Wx, Wh=Wh, b=b)


def _seq_inputs(rng, case):
    N, T, D, H = (case.sizes[k] for k in ("N", "T", "D", "H"))
    x = rng.normal(size=(N, T, D))
    h0 = rng.uniform(-0.9, 0.9, size=(N, H))
    Wx, Wh, b = rnn_weights(rng, D, H)
    return dict(x=x, h0=h0, Wx=Wx, Wh=Wh, b=b)


def _dense_inputs(rng, case):
    N, T, H, V = (case.sizes[k] for k in ("N", "T", "H", "V"))
    scale = 400.0 if "large logits" in case.note else 1.0
    h_seq = rng.uniform(-1, 1, size=(N, T, H))
    Wy, by = _out_weights(rng, H, V, scale)
    return dict(h_seq=h_seq, Wy=Wy, by=by)


def _many_to_one_inputs(rng, case):
    inputs = _seq_inputs(rng, case)
    inputs["Wy"], inputs["by"] = _out_weights(rng, case.sizes["H"], case.sizes["V"], 2.0)
    return inputs


def _one_to_many_inputs(rng, case):
    N, T, H, V = (case.sizes[k] for k in ("N", "T", "H", "V"))
    x0 = np.eye(V)[rng.integers(0, V, size=N)]        # one-hot first input
    h0 = rng.uniform(-0.9, 0.9, size=(N, H))
    Wx, Wh, b = rnn_weights(rng, V, H)
    Wx *= 3.0                                          # make the fed-back probabilities matter
    Wy, by = _out_weights(rng, H, V, 3.0)
    return dict(x0=x0, h0=h0, Wx=Wx, Wh=Wh, b=b, Wy=Wy, by=by, T=T)


def _encoder_decoder_inputs(rng, case):
    N, Tx, Ty, D, H, V = (case.sizes[k] for k in ("N", "Tx", "Ty", "D", "H", "V"))
    x = rng.normal(size=(N, Tx, D))
    h0 = rng.uniform(-0.9, 0.9, size=(N, H))
    enc = rnn_weights(rng, D, H)
    dWx, dWh, db = rnn_weights(rng, V, H)
    dec = (dWx * 3.0, dWh, db)
    Wy, by = _out_weights(rng, H, V, 3.0)
    return dict(x=x, h0=h0, enc=enc, dec=dec, Wy=Wy, by=by, Ty=Ty)


# ----------------------------------------------------------------------------- Keras building blocks
def _softmax_dense(h_seq, Wy, by, **config):
    config.setdefault("activation", "softmax")
    return ref.run_dense(h_seq, Wy, by, **config)


def _decode(x0, h0, Wx, Wh, b, Wy, by, T, feed_back=True, reset_state=False, first_input=None):
    """SimpleRNNCell + Dense(softmax) unrolled T steps, each output fed back as the next input."""
    cell = ref.simple_rnn_cell(*[np.asarray(a, np.float64) for a in (Wx, Wh, b)])
    out = ref.dense(np.asarray(Wy, np.float64), np.asarray(by, np.float64), activation="softmax")
    x = np.asarray(x0 if first_input is None else first_input, np.float64)
    h = np.asarray(h0, np.float64)
    probs = []
    for _ in range(int(T)):
        h_new, _ = cell(x, [np.asarray(h0, np.float64) if reset_state else h])
        h = ref.to_numpy(h_new)
        y = ref.to_numpy(out(h))
        probs.append(y)
        x = y if feed_back else x
    return np.stack(probs, axis=1)


# ----------------------------------------------------------------------------- rnn_cell_forward
def _cell(**config):
    def run(x_t, h_prev, Wx, Wh, b):
        return ref.run_simple_rnn_cell(x_t, h_prev, Wx, Wh, b, **config)
    return run


register(Exercise(
    name="rnn_cell_forward", notebook=NOTEBOOK, points=2,
    args=("x_t", "h_prev", "Wx", "Wh", "b"),
    outputs=(Output("h_next", ("N", "H")),),
    reference_name="keras.layers.SimpleRNNCell",
    forbidden=("keras.layers.SimpleRNNCell",),
    reference=ref.run_simple_rnn_cell,
    make_inputs=_cell_inputs,
    cases=[
        Case("visible 1", 101, dict(N=3, D=4, H=5)),
        Case("visible 2", 102, dict(N=2, D=6, H=6)),
        Case("hidden batch of one", 1101, dict(N=1, D=1, H=1), hidden=True),
        Case("hidden wide", 1102, dict(N=7, D=3, H=16), hidden=True,
             vary=dict(N=(5, 9), D=(2, 4), H=(12, 20))),
        Case("hidden float64", 1103, dict(N=4, D=5, H=5), hidden=True, dtype="float64",
             vary=dict(N=(2, 6))),
    ],
    mistakes=[
        Mistake("sigmoid instead of tanh", "SimpleRNN squashes with tanh, whose outputs lie in (-1, 1).",
                _cell(activation="sigmoid")),
        Mistake("relu instead of tanh", "SimpleRNN squashes with tanh, not relu.", _cell(activation="relu")),
        Mistake("no activation", "apply np.tanh to x_t Wx + h_prev Wh + b.", _cell(activation=None)),
        Mistake("bias missing", "add b after the two matrix products.", _cell(use_bias=False)),
        Mistake("Wx and Wh swapped", "Wx (D, H) multiplies the input x_t; Wh (H, H) multiplies h_prev.",
                lambda x_t, h_prev, Wx, Wh, b: ref.run_simple_rnn_cell(x_t, h_prev, Wh, Wx, b)),
        Mistake("Wh transposed", "with row vectors the product is h_prev @ Wh, not Wh @ h_prev (or Wh.T).",
                lambda x_t, h_prev, Wx, Wh, b: ref.run_simple_rnn_cell(x_t, h_prev, Wx, Wh.T, b)),
        Mistake("recurrent term missing", "h_next depends on h_prev through h_prev @ Wh.",
                lambda x_t, h_prev, Wx, Wh, b: ref.run_simple_rnn_cell(x_t, h_prev, Wx, 0 * Wh, b)),
        Mistake("input term missing", "h_next depends on the input through x_t @ Wx.",
                lambda x_t, h_prev, Wx, Wh, b: ref.run_simple_rnn_cell(x_t, h_prev, 0 * Wx, Wh, b)),
    ],
))


# ----------------------------------------------------------------------------- rnn_forward
def _rnn(**config):
    def run(x, h0, Wx, Wh, b):
        return ref.run_simple_rnn(x, h0, Wx, Wh, b, **config)
    return run


def _state_not_carried(x, h0, Wx, Wh, b):
    steps = [ref.run_simple_rnn(x[:, t:t + 1], h0, Wx, Wh, b)[1] for t in range(x.shape[1])]
    h_seq = np.stack(steps, axis=1)
    return h_seq, h_seq[:, -1]


def _shifted(x, h0, Wx, Wh, b):
    h_seq, h_last = ref.run_simple_rnn(x, h0, Wx, Wh, b)
    return np.concatenate([np.asarray(h0, np.float64)[:, None], h_seq[:, :-1]], axis=1), h_last


def _reversed_realigned(x, h0, Wx, Wh, b):
    h_seq, h_last = ref.run_simple_rnn(x, h0, Wx, Wh, b, go_backwards=True)
    return h_seq[:, ::-1], h_last


def _first_as_last(x, h0, Wx, Wh, b):
    h_seq, _ = ref.run_simple_rnn(x, h0, Wx, Wh, b)
    return h_seq, h_seq[:, 0]


def _time_major(x, h0, Wx, Wh, b):
    h_seq, h_last = ref.run_simple_rnn(x, h0, Wx, Wh, b)
    return h_seq.transpose(1, 0, 2), h_last


def _with_h0(x, h0, Wx, Wh, b):
    h_seq, h_last = ref.run_simple_rnn(x, h0, Wx, Wh, b)
    return np.concatenate([np.asarray(h0, np.float64)[:, None], h_seq], axis=1), h_last


def _zero_h0(x, h0, Wx, Wh, b):
    return ref.run_simple_rnn(x, np.zeros_like(h0), Wx, Wh, b)


register(Exercise(
    name="rnn_forward", notebook=NOTEBOOK, points=2,
    args=("x", "h0", "Wx", "Wh", "b"),
    outputs=(Output("h_seq", ("N", "T", "H")), Output("h_last", ("N", "H"))),
    reference_name=f"{SIMPLE_RNN}(return_sequences=True, return_state=True)",
    forbidden=(SIMPLE_RNN,),
    reference=ref.run_simple_rnn,
    make_inputs=_seq_inputs,
    must_call=("rnn_cell_forward",),
    cases=[
        Case("visible 1", 201, dict(N=2, T=4, D=3, H=5)),
        Case("visible 2", 202, dict(N=3, T=6, D=5, H=4)),
        Case("hidden one step", 1201, dict(N=1, T=1, D=2, H=3), hidden=True),
        Case("hidden long sequence", 1202, dict(N=2, T=50, D=4, H=8), hidden=True,
             vary=dict(N=(2, 4), T=(40, 60), D=(3, 6), H=(6, 10))),
        Case("hidden float64", 1203, dict(N=3, T=7, D=3, H=3), hidden=True, dtype="float64",
             vary=dict(N=(2, 4), T=(5, 9))),
    ],
    mistakes=[
        Mistake("state not carried (h0 at every step)",
                "pass the h_next of step t as h_prev of step t + 1.", _state_not_carried),
        Mistake("sequence shifted by one (h_seq starts with h0)",
                "h_seq[:, t] is the state *after* reading x[:, t]; h0 is not part of h_seq.", _shifted),
        Mistake("time reversed (go_backwards)", "loop t = 0, 1, ..., T-1 over x[:, t].",
                _rnn(go_backwards=True)),
        Mistake("time reversed (go_backwards)", "loop t = 0, 1, ..., T-1 over x[:, t].",
                _reversed_realigned),
        Mistake("h_last is the first state", "h_last is the state after the last step, h_seq[:, -1].",
                _first_as_last),
        Mistake("h_seq is time-major (T, N, H)", "stack the states on axis 1: h_seq[:, t] = h_t.",
                _time_major),
        Mistake("h_seq includes h0 (T + 1 states)", "store only the T new states.", _with_h0),
        Mistake("h0 ignored (starts from zeros)", "start the recurrence from the given h0.", _zero_h0),
    ],
))


# ----------------------------------------------------------------------------- dense_softmax
def _naive_softmax(h_seq, Wy, by):
    dtype = np.result_type(h_seq, Wy)
    logits = (h_seq.astype(dtype) @ Wy.astype(dtype) + by.astype(dtype)).astype(dtype)
    e = np.exp(logits)
    return e / e.sum(axis=-1, keepdims=True)


def _softmax_axis(axis):
    def run(h_seq, Wy, by):
        logits = ref.run_dense(h_seq, Wy, by)
        e = np.exp(logits - logits.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)
    return run


register(Exercise(
    name="dense_softmax", notebook=NOTEBOOK, points=2,
    args=("h_seq", "Wy", "by"),
    outputs=(Output("probs", ("N", "T", "V")),),
    reference_name='keras.layers.Dense(V, activation="softmax")',
    forbidden=SOFTMAX,
    reference=ref.run_dense_softmax,
    make_inputs=_dense_inputs,
    cases=[
        Case("visible 1", 301, dict(N=2, T=3, H=4, V=5)),
        Case("visible large logits", 302, dict(N=3, T=2, H=4, V=4), note="large logits"),
        Case("hidden one step, two classes", 1301, dict(N=1, T=1, H=3, V=2), hidden=True),
        Case("hidden square", 1302, dict(N=2, T=5, H=6, V=6), hidden=True,
             vary=dict(N=(2, 4), T=(3, 7))),
        Case("hidden float64 huge logits", 1303, dict(N=2, T=3, H=4, V=7), hidden=True,
             dtype="float64", note="large logits"),
    ],
    mistakes=[
        Mistake("softmax over the wrong axis (time)", "normalise over the last axis, the V classes.",
                _softmax_axis(1)),
        Mistake("softmax over the wrong axis (batch)", "normalise over the last axis, the V classes.",
                _softmax_axis(0)),
        Mistake("overflow on large logits (no max shift)",
                "subtract logits.max(axis=-1, keepdims=True) before np.exp.", _naive_softmax),
        Mistake("bias missing", "add by to the logits.",
                lambda h_seq, Wy, by: _softmax_dense(h_seq, Wy, by, use_bias=False)),
        Mistake("logits returned (no softmax)", "turn the logits into probabilities with a softmax.",
                lambda h_seq, Wy, by: ref.run_dense(h_seq, Wy, by)),
        Mistake("sigmoid instead of softmax", "softmax couples the classes so each row sums to 1.",
                lambda h_seq, Wy, by: ref.run_dense(h_seq, Wy, by, activation="sigmoid")),
        Mistake("Wy transposed", "with row vectors the logits are h_seq @ Wy + by.",
                lambda h_seq, Wy, by: _softmax_dense(h_seq, Wy.T, by)),
    ],
))


# ----------------------------------------------------------------------------- many_to_one
def _many_to_one(pick_state="last", use_h0=True, softmax=True):
    def run(x, h0, Wx, Wh, b, Wy, by):
        h_seq, h_last = ref.run_simple_rnn(x, h0 if use_h0 else np.zeros_like(h0), Wx, Wh, b)
        h = {"last": h_last, "first": h_seq[:, 0], "mean": h_seq.mean(axis=1)}[pick_state]
        return ref.run_dense(h, Wy, by, activation="softmax" if softmax else None)
    return run


register(Exercise(
    name="many_to_one", notebook=NOTEBOOK, points=1,
    args=("x", "h0", "Wx", "Wh", "b", "Wy", "by"),
    outputs=(Output("probs", ("N", "V")),),
    reference_name=f'{SIMPLE_RNN}(return_sequences=False) + Dense(V, activation="softmax")',
    forbidden=RNN_AND_DENSE,
    reference=ref.run_many_to_one,
    make_inputs=_many_to_one_inputs,
    cases=[
        Case("visible 1", 401, dict(N=3, T=5, D=4, H=6, V=3)),
        Case("hidden one step", 1401, dict(N=2, T=1, D=3, H=4, V=2), hidden=True),
        Case("hidden long", 1402, dict(N=2, T=30, D=2, H=5, V=4), hidden=True, dtype="float64",
             vary=dict(N=(2, 4), T=(20, 40), H=(4, 7), V=(3, 6))),
    ],
    mistakes=[
        Mistake("classifies the first state", "many-to-one reads the whole sequence: use h_last.",
                _many_to_one(pick_state="first")),
        Mistake("classifies the mean of the states", "use the last state h_last, not an average.",
                _many_to_one(pick_state="mean")),
        Mistake("logits returned (no softmax)", "apply dense_softmax (or a softmax) to the logits.",
                _many_to_one(softmax=False)),
        Mistake("h0 ignored (starts from zeros)", "start the recurrence from the given h0.",
                _many_to_one(use_h0=False)),
    ],
))


# ----------------------------------------------------------------------------- one_to_many
register(Exercise(
    name="one_to_many", notebook=NOTEBOOK, points=2,
    args=("x0", "h0", "Wx", "Wh", "b", "Wy", "by", "T"),
    outputs=(Output("probs", ("N", "T", "V")),),
    reference_name="keras.layers.SimpleRNNCell + Dense(softmax), each output fed back",
    forbidden=RNN_AND_DENSE,
    reference=ref.run_one_to_many,
    make_inputs=_one_to_many_inputs,
    cases=[
        Case("visible 1", 501, dict(N=2, T=4, H=5, V=3)),
        Case("hidden one step", 1501, dict(N=1, T=1, H=3, V=4), hidden=True),
        Case("hidden long", 1502, dict(N=3, T=12, H=6, V=5), hidden=True, dtype="float64",
             vary=dict(N=(2, 4), T=(8, 16), H=(4, 8), V=(4, 7))),
    ],
    mistakes=[
        Mistake("output not fed back (x0 at every step)",
                "after step t, the next input is that step's output probabilities.",
                lambda **k: _decode(**k, feed_back=False)),
        Mistake("state reset to h0 at every step", "carry h from one step to the next.",
                lambda **k: _decode(**k, reset_state=True)),
        Mistake("x0 not used (first input zeros)", "the first step reads x0.",
                lambda **k: _decode(**k, first_input=np.zeros_like(k["x0"]))),
    ],
))


# ----------------------------------------------------------------------------- encoder_decoder
def _encoder_decoder(start="encoder", dec_weights="decoder", length="Ty", feed_back=True):
    def run(x, h0, enc, dec, Wy, by, Ty):
        _, h_enc = ref.run_simple_rnn(x, h0, *enc)
        h_start = h_enc if start == "encoder" else h0
        weights = dec if dec_weights == "decoder" else enc
        T = Ty if length == "Ty" else x.shape[1]
        zeros = np.zeros((x.shape[0], np.shape(Wy)[1]))
        return _decode(zeros, h_start, *weights, Wy, by, T, feed_back=feed_back)
    return run


register(Exercise(
    name="encoder_decoder", notebook=NOTEBOOK, points=2,
    args=("x", "h0", "enc", "dec", "Wy", "by", "Ty"),
    outputs=(Output("probs", ("N", "Ty", "V")),),
    reference_name="encoder keras.layers.SimpleRNN -> decoder SimpleRNNCell + Dense(softmax)",
    forbidden=RNN_AND_DENSE,
    reference=ref.run_encoder_decoder,
    make_inputs=_encoder_decoder_inputs,
    cases=[
        Case("visible 1", 601, dict(N=2, Tx=5, Ty=3, D=4, H=6, V=4)),
        Case("hidden short input", 1601, dict(N=1, Tx=1, Ty=4, D=2, H=3, V=3), hidden=True),
        Case("hidden same sizes", 1602, dict(N=3, Tx=6, Ty=2, D=5, H=4, V=5), hidden=True,
             dtype="float64", vary=dict(N=(2, 4), Tx=(4, 8))),
    ],
    mistakes=[
        Mistake("decoder ignores the encoder (starts from h0)",
                "the decoder's first state is the encoder's last state.",
                _encoder_decoder(start="h0")),
        Mistake("decoder uses the encoder's weights", "the decoder has its own weights, dec.",
                _encoder_decoder(dec_weights="encoder")),
        Mistake("output length follows the input (Tx instead of Ty)",
                "an encoder-decoder writes Ty outputs, whatever Tx is.", _encoder_decoder(length="Tx")),
        Mistake("decoder output not fed back (zero input at every step)",
                "feed each step's probabilities back as the next decoder input.",
                _encoder_decoder(feed_back=False)),
    ],
))
