"""Notebook 05_bidirectional_stacked: bidirectional, deep and masked RNNs.

Graded functions (the contract; N batch, T steps, D features, H hidden units):

    bidirectional_forward(x (N, T, D), forward_fn, backward_fn, merge_mode) -> y
        forward_fn, backward_fn: callables mapping a sequence (N, T, D) to its states (N, T, H);
        y is (N, T, 2H) for "concat" (forward first) and (N, T, H) for "sum", "mul", "ave".
    stacked_forward(x (N, T, D), layer_fns) -> h_seq (N, T, H_last)
        layer_fns: callables, each mapping (N, T, D_l) to (N, T, H_l), bottom layer first.
    masked_rnn_forward(x (N, T, D), mask (N, T) bool, h0 (N, H), Wx, Wh, b)
        -> (h_seq (N, T, H), h_last (N, H))

The callables the checker passes are `RNNFunction`s: NumPy RNNs with fixed weights that also
carry those weights, so that the reference can be the real Keras model: keras.layers.Bidirectional
around SimpleRNN, a stack of SimpleRNN/GRU layers, and SimpleRNN called with `mask=`. Keras
carries both the state and the output over a masked step; before the first unmasked step the
output is zeros while the state is h0.
"""
import numpy as np

from rnnkit import reference as ref
from rnnkit.exercises.bidirectional_stacked import RNNFunction
from rnnkit.grading.keys.catalog import register
from rnnkit.grading.keys.inputs import rnn_weights
from rnnkit.registry import Case, Exercise, Mistake, Output

NOTEBOOK = "05_bidirectional_stacked"
MERGE_MODES = ("concat", "sum", "mul", "ave")


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def _step(kind, x_t, h, weights):
    if kind == "SimpleRNN":
        Wx, Wh, b = weights
        return np.tanh(x_t @ Wx + h @ Wh + b)
    W, U, b = weights
    H = h.shape[-1]
    xw, hu = x_t @ W + b[0], h @ U + b[1]
    z = _sigmoid(xw[:, :H] + hu[:, :H])
    r = _sigmoid(xw[:, H:2 * H] + hu[:, H:2 * H])
    return z * h + (1 - z) * np.tanh(xw[:, 2 * H:] + r * hu[:, 2 * H:])


def _gru_weights(rng, D, H):
    return (rng.normal(0.0, 1.0 / np.sqrt(D), size=(D, 3 * H)),
            rng.normal(0.0, 1.0 / np.sqrt(H), size=(H, 3 * H)), rng.uniform(-0.5, 0.5, size=(2, 3 * H)))


def _f64(fn):
    """An RNNFunction as a NumPy function in float64 (the mistakes' models compute with it)."""
    weights = [np.asarray(w, np.float64) for w in fn.weights]

    def run(x):
        x = np.asarray(x)
        h = np.zeros((x.shape[0], fn.units), dtype=np.result_type(x, weights[0]))
        states = []
        for t in range(x.shape[1]):
            h = _step(fn.kind, x[:, t], h, weights)
            states.append(h)
        return np.stack(states, axis=1)
    return run


# ----------------------------------------------------------------------------- bidirectional_forward
def _bi_inputs(rng, case):
    N, T, D, H = (case.sizes[k] for k in ("N", "T", "D", "H"))
    x = rng.normal(size=(N, T, D))
    forward_fn = RNNFunction("SimpleRNN", rnn_weights(rng, D, H), "forward_fn")
    backward_fn = RNNFunction("SimpleRNN", rnn_weights(rng, D, H), "backward_fn")
    return dict(x=x, forward_fn=forward_fn, backward_fn=backward_fn, merge_mode=case.sizes["merge_mode"])


def _merge(a, b, merge_mode):
    if merge_mode == "concat":
        return np.concatenate([a, b], axis=-1)
    return {"sum": a + b, "mul": a * b, "ave": (a + b) / 2}[merge_mode]


def _bidirectional(rereverse=True, backward_first=False, reverse_input=True, same_fn=False,
                   mode_map=None):
    """NumPy bidirectional layer with switches for the catalogued mistakes."""
    def run(x, forward_fn, backward_fn, merge_mode):
        fw = _f64(forward_fn)(x)
        bw_fn = _f64(forward_fn if same_fn else backward_fn)
        bw = bw_fn(x[:, ::-1] if reverse_input else x)
        if rereverse and reverse_input:
            bw = bw[:, ::-1]
        mode = (mode_map or {}).get(merge_mode, merge_mode)
        return _merge(bw, fw, mode) if backward_first else _merge(fw, bw, mode)
    return run


def _bi_case(label, seed, merge_mode, hidden=False, dtype="float32", vary=None, **sizes):
    H = sizes["H"]       # fixed: M follows it
    sizes = dict(sizes, merge_mode=merge_mode, M=2 * H if merge_mode == "concat" else H)
    return Case(label, seed, sizes, hidden=hidden, dtype=dtype, vary=vary)


register(Exercise(
    name="bidirectional_forward", notebook=NOTEBOOK, points=3,
    args=("x", "forward_fn", "backward_fn", "merge_mode"),
    outputs=(Output("y", ("N", "T", "M")),),
    reference_name="keras.layers.Bidirectional(SimpleRNN)",
    forbidden=("keras.layers.Bidirectional",),
    reference=ref.run_bidirectional,
    make_inputs=_bi_inputs,
    cases=[
        _bi_case("visible concat", 501, "concat", N=2, T=5, D=3, H=4),
        _bi_case("visible ave", 502, "ave", N=3, T=4, D=2, H=3),
        _bi_case("hidden mul", 1501, "mul", True, N=2, T=6, D=3, H=5, vary=dict(N=(2, 4), T=(4, 8))),
        _bi_case("hidden sum", 1502, "sum", True, N=2, T=3, D=4, H=2, vary=dict(T=(3, 6), D=(2, 5))),
        _bi_case("hidden one step", 1503, "concat", True, N=1, T=1, D=2, H=3),
        _bi_case("hidden long float64", 1504, "concat", True, "float64", N=2, T=20, D=3, H=4,
                 vary=dict(T=(15, 25), D=(2, 5))),
        _bi_case("hidden ave", 1505, "ave", True, N=3, T=5, D=3, H=2),
    ],
    mistakes=[
        Mistake("backward outputs not re-reversed", "the backward RNN reads x[:, ::-1]; flip its "
                "outputs back with [:, ::-1] so that y[:, t] pairs both directions at step t.",
                _bidirectional(rereverse=False)),
        Mistake("concat order (backward first)", "Keras puts the forward half first: "
                "concatenate [forward, backward] on the last axis.", _bidirectional(backward_first=True)),
        Mistake("backward RNN reads the sequence forwards", "give backward_fn the time-reversed "
                "input x[:, ::-1], then reverse its outputs.", _bidirectional(reverse_input=False)),
        Mistake("forward_fn used for both directions", "the two directions have their own weights: "
                "call backward_fn for the backward pass.", _bidirectional(same_fn=True)),
        Mistake("ave computed as a sum", "ave is (forward + backward) / 2.",
                _bidirectional(mode_map={"ave": "sum"})),
    ],
))


# ----------------------------------------------------------------------------- stacked_forward
def _stack_inputs(rng, case):
    N, T, D = (case.sizes[k] for k in ("N", "T", "D"))
    kinds, units = case.sizes["layers"], case.sizes["units"]
    layer_fns, width = [], D
    for k, (kind, H) in enumerate(zip(kinds, units)):
        weights = (_gru_weights if kind == "GRU" else rnn_weights)(rng, width, H)
        layer_fns.append(RNNFunction(kind, weights, f"layer_fns[{k}]"))
        width = H
    return dict(x=rng.normal(size=(N, T, D)), layer_fns=layer_fns)


def _stacked(feed="previous", pick="last", order=1, residual=False):
    def run(x, layer_fns):
        fns = [_f64(f) for f in layer_fns][::order]
        outs, inp = [], x
        for fn in fns:
            out = fn(x if feed == "x" else inp)
            if residual and out.shape == inp.shape:
                out = out + inp
            outs.append(out)
            inp = out
        return outs[-1] if pick == "last" else outs[0]
    return run


def _stack_case(label, seed, layers, units, hidden=False, dtype="float32", **sizes):
    return Case(label, seed, dict(sizes, layers=tuple(layers), units=tuple(units), H=units[-1]),
                hidden=hidden, dtype=dtype)


register(Exercise(
    name="stacked_forward", notebook=NOTEBOOK, points=2,
    args=("x", "layer_fns"),
    outputs=(Output("h_seq", ("N", "T", "H")),),
    reference_name="keras.Sequential of stacked RNN layers (return_sequences=True)",
    forbidden=("keras.Sequential",),
    reference=ref.run_stack,
    make_inputs=_stack_inputs,
    cases=[
        _stack_case("visible two SimpleRNN layers", 511, ("SimpleRNN", "SimpleRNN"), (3, 3),
                    N=2, T=4, D=3),
        _stack_case("visible SimpleRNN then GRU", 512, ("SimpleRNN", "GRU"), (4, 4), N=3, T=5, D=4),
        _stack_case("hidden one layer", 1511, ("GRU",), (5,), True, N=2, T=3, D=2),
        _stack_case("hidden three layers", 1512, ("GRU", "SimpleRNN", "GRU"), (4, 4, 4), True,
                    "float64", N=2, T=6, D=4),
        _stack_case("hidden narrowing", 1513, ("SimpleRNN", "SimpleRNN"), (6, 2), True, N=1, T=7, D=5),
    ],
    mistakes=[
        Mistake("x fed to every layer", "layer l + 1 reads the whole sequence of states of layer l, "
                "not x.", _stacked(feed="x")),
        Mistake("first layer's output returned", "return the states of the top (last) layer.",
                _stacked(pick="first")),
        Mistake("layers applied top first", "layer_fns[0] is the bottom layer: it reads x.",
                _stacked(order=-1)),
        Mistake("residual connections added", "a plain stack feeds each layer's output as it is; "
                "Keras adds no skip connections.", _stacked(residual=True)),
    ],
))


# ----------------------------------------------------------------------------- masked_rnn_forward
def _mask_inputs(rng, case):
    N, T, D, H = (case.sizes[k] for k in ("N", "T", "D", "H"))
    pattern = case.note
    lengths = rng.integers(1, T + 1, size=N)
    steps = np.arange(T)
    if pattern == "none padded":
        mask = np.ones((N, T), bool)
    elif pattern == "all padded":
        mask = np.zeros((N, T), bool)
    elif pattern == "pre-padded":
        mask = steps[None, :] >= (T - lengths)[:, None]
    else:                                  # "mixed lengths": post-padded rows, one full row
        lengths[0] = T
        mask = steps[None, :] < lengths[:, None]
    x = rng.normal(size=(N, T, D))
    h0 = rng.uniform(-0.9, 0.9, size=(N, H))
    Wx, Wh, b = rnn_weights(rng, D, H)
    return dict(x=x, mask=mask, h0=h0, Wx=Wx, Wh=Wh, b=b)


def _masked(use_mask=True, padded_state="carry", padded_output="carry", first_output="zeros",
            invert=False):
    """NumPy masked SimpleRNN with switches for the catalogued mistakes."""
    def run(x, mask, h0, Wx, Wh, b):
        x, h0 = np.asarray(x, np.float64), np.asarray(h0, np.float64)
        m = np.asarray(mask, bool)
        m = ~m if invert else m
        h = h0
        out = np.zeros_like(h0) if first_output == "zeros" else h0
        outs = []
        for t in range(x.shape[1]):
            new = np.tanh(x[:, t] @ Wx + h @ Wh + b)
            keep = m[:, t:t + 1] if use_mask else np.ones_like(m[:, t:t + 1])
            h = np.where(keep, new, h if padded_state == "carry" else 0.0)
            out = np.where(keep, new, out if padded_output == "carry" else 0.0)
            outs.append(out)
        return np.stack(outs, axis=1), h
    return run


register(Exercise(
    name="masked_rnn_forward", notebook=NOTEBOOK, points=3,
    args=("x", "mask", "h0", "Wx", "Wh", "b"),
    outputs=(Output("h_seq", ("N", "T", "H")), Output("h_last", ("N", "H"))),
    reference_name="keras.layers.SimpleRNN called with mask=",
    forbidden=("keras.layers.SimpleRNN",),
    reference=ref.run_masked_simple_rnn,
    make_inputs=_mask_inputs,
    cases=[
        Case("visible mixed lengths", 521, dict(N=4, T=6, D=3, H=5), note="mixed lengths"),
        Case("visible pre-padded", 522, dict(N=3, T=5, D=2, H=4), note="pre-padded"),
        Case("hidden none padded", 1521, dict(N=2, T=4, D=3, H=5), hidden=True, note="none padded"),
        Case("hidden all padded", 1522, dict(N=2, T=3, D=2, H=3), hidden=True, note="all padded"),
        Case("hidden mixed float64", 1523, dict(N=5, T=9, D=4, H=4), hidden=True, dtype="float64",
             note="mixed lengths", vary=dict(N=(4, 7), T=(7, 12), H=(3, 6))),
        Case("hidden pre-padded batch of one", 1524, dict(N=1, T=6, D=2, H=2), hidden=True,
             note="pre-padded"),
    ],
    mistakes=[
        Mistake("mask ignored", "at a padded step (mask False) keep the previous state and output "
                "instead of reading the padding.", _masked(use_mask=False)),
        Mistake("state reset to zeros at padded steps", "a padded step changes nothing: carry the "
                "state over it (np.where(mask[:, t:t+1], h_new, h)).", _masked(padded_state="zeros")),
        Mistake("zero output at padded steps", "Keras repeats the previous output at a padded step "
                "(that is SimpleRNN's default, zero_output_for_mask=False).",
                _masked(padded_output="zeros")),
        Mistake("outputs start from h0 at leading padded steps", "Keras's outputs start at zeros: "
                "before the first real step the output is 0 while the state is h0.",
                _masked(first_output="h0")),
        Mistake("mask inverted", "mask is True at real steps and False at padding.",
                _masked(invert=True)),
    ],
))
