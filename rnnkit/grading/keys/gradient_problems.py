"""Notebook 03_gradient_problems: vanishing and exploding gradients, and gradient clipping.

Graded functions (the contract; N batch, T steps, D features, H hidden units):

    jacobian_norms(x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,)) -> norms (T,)
        norms[t] = mean over the batch of the Frobenius norm of d h_T / d h_t, where h_t = h_seq[:, t]
        is the SimpleRNN state after reading x[:, t] (so norms[T - 1] = sqrt(H), the identity).
    clip_by_global_norm(grads (list of K arrays), max_norm) -> (clipped (list of K arrays), global_norm ())
    clip_by_value(grads (list of K arrays), limit) -> clipped (list of K arrays)

The Jacobian reference is tf.GradientTape.batch_jacobian through a keras.layers.SimpleRNNCell stepped
in a loop (float64); the clipping references are tf.clip_by_global_norm and tf.clip_by_value. Mistakes
are written as TF configurations where one exists (activation=None, use_norm=..., tf.clip_by_norm);
the others as NumPy on the states Keras computes.
"""
import re

import numpy as np

from rnnkit import reference as ref
from rnnkit.grading.keys.bptt import AUTODIFF
from rnnkit.grading.keys.catalog import register
from rnnkit.registry import Case, Exercise, Mistake, Output
from rnnkit.runtime import import_tf

NOTEBOOK = "03_gradient_problems"
# tf.clip_by_global_norm, tf.clip_by_value and tf.clip_by_norm share one module (clip_ops); off
# TensorFlow the references are Keras's: an optimizer's global-norm clipping, and keras.ops.clip
# (whose module holds keras.ops' NumPy-like functions, so clip_by_value's students use NumPy).
CLIPPING = ("tf.clip_by_global_norm", "tf.clip_by_value")
GLOBAL_CLIPPING = CLIPPING + ("keras.src.optimizers.base_optimizer.clip_by_global_norm",)
VALUE_CLIPPING = CLIPPING + ("keras.ops.clip",)


def _tf():
    return import_tf()[0]


def _f64(*arrays):
    return [np.asarray(a, dtype=np.float64) for a in arrays]


# ----------------------------------------------------------------------------- input makers
def _seq_inputs(rng, case):
    N, T, D, H = (case.sizes[k] for k in ("N", "T", "D", "H"))
    x = rng.normal(size=(N, T, D))
    h0 = rng.uniform(-0.9, 0.9, size=(N, H))
    Wx = rng.normal(0.0, 1.0 / np.sqrt(D), size=(D, H))
    Wh = rng.normal(0.0, 1.3 / np.sqrt(H), size=(H, H))   # radius a bit above 1: norms decay slowly
    b = rng.uniform(-0.5, 0.5, size=H)
    return dict(x=x, h0=h0, Wx=Wx, Wh=Wh, b=b)


def _grad_shapes(case):
    """Shapes of the gradients of an RNN's weights Wx, Wh, b, Wy, by; the first K are used."""
    K, D, H, V = (case.sizes[k] for k in ("K", "D", "H", "V"))
    return [(D, H), (H, H), (H,), (H, V), (V,)][:K]


def _norm_ratio(case):
    """Global norm / max_norm of a case, from its note "global norm = 2.5 x max_norm"."""
    found = re.search(r"global norm = ([0-9.]+) x max_norm", case.note)
    return float(found.group(1)) if found else None


def _global_norm_inputs(rng, case):
    grads = [rng.normal(size=s) * rng.uniform(0.5, 3.0) for s in _grad_shapes(case)]
    max_norm = float(np.round(rng.uniform(0.5, 5.0), 2))
    ratio = _norm_ratio(case)
    if ratio is None:                                       # "all zeros"
        grads = [np.zeros_like(g) for g in grads]
    else:
        total = np.sqrt(sum(float(np.sum(g ** 2)) for g in grads))
        grads = [g * (ratio * max_norm / total) for g in grads]
    return dict(grads=grads, max_norm=max_norm)


def _value_inputs(rng, case):
    grads = [rng.normal(size=s) * rng.uniform(1.0, 3.0) for s in _grad_shapes(case)]
    limit = 100.0 if "nothing to clip" in case.note else float(np.round(rng.uniform(0.5, 1.5), 2))
    return dict(grads=grads, limit=limit)


# ----------------------------------------------------------------------------- jacobian_norms
def _frobenius(J):
    return np.linalg.norm(J, axis=(-2, -1))


def _jacobian_norms(reduce="mean", ord="fro", shift=0, reverse=False, **config):
    def run(x, h0, Wx, Wh, b):
        J = ref.state_jacobians(x, h0, Wx, Wh, b, **config)
        J = J[:, 1:] if shift == 0 else J[:, :-1]          # shift=-1: d h_T / d h_{t-1}
        per_row = np.linalg.norm(J, ord=ord, axis=(-2, -1))
        norms = per_row.sum(axis=0) if reduce == "sum" else per_row.mean(axis=0)
        return norms[::-1] if reverse else norms
    return run


def _products(reverse_order=False, transpose=True, derivative_at_previous=False):
    """The Jacobian product written in NumPy on Keras's states, with one step of it done wrong."""
    def run(x, h0, Wx, Wh, b):
        h_seq, _ = ref.run_simple_rnn(x, h0, Wx, Wh, b)
        Wh = np.asarray(Wh, np.float64)
        states = np.concatenate([np.asarray(h0, np.float64)[:, None], h_seq], axis=1)  # h_0 .. h_T
        N, T, H = h_seq.shape
        J = np.broadcast_to(np.eye(H), (N, H, H)).copy()
        norms = np.empty(T)
        for t in range(T - 1, -1, -1):
            norms[t] = _frobenius(J).mean()
            h = states[:, t] if derivative_at_previous else states[:, t + 1]
            step = (1.0 - h ** 2)[:, :, None] * (Wh.T if transpose else Wh)[None]
            J = step @ J if reverse_order else J @ step
        return norms
    return run


register(Exercise(
    name="jacobian_norms", notebook=NOTEBOOK, points=2,
    args=("x", "h0", "Wx", "Wh", "b"),
    outputs=(Output("norms", ("T",)),),
    reference_name="tf.GradientTape.batch_jacobian through keras.layers.SimpleRNNCell",
    forbidden=AUTODIFF + ("keras.layers.SimpleRNNCell",),
    reference=ref.run_jacobian_norms,
    make_inputs=_seq_inputs,
    cases=[
        Case("visible 1", 3101, dict(N=3, T=6, D=4, H=5)),
        Case("visible 2", 3102, dict(N=2, T=12, D=3, H=4)),
        Case("hidden batch of one", 13101, dict(N=1, T=8, D=2, H=3), hidden=True),
        Case("hidden one step", 13102, dict(N=2, T=1, D=3, H=4), hidden=True),
        Case("hidden one unit", 13103, dict(N=3, T=5, D=2, H=1), hidden=True,
             vary=dict(N=(2, 5), T=(4, 8))),
        Case("hidden long float64", 13104, dict(N=4, T=30, D=5, H=8), hidden=True, dtype="float64",
             vary=dict(N=(3, 6), T=(24, 36), D=(3, 6), H=(6, 10))),
    ],
    mistakes=[
        Mistake("summed over the batch instead of averaged",
                "norms[t] is the *mean* over the N batch rows of the norm of each row's Jacobian.",
                _jacobian_norms(reduce="sum")),
        Mistake("tanh derivative missing (products of Wh only)",
                "each step's Jacobian is diag(1 - h_t**2) Wh.T: tanh'(z) = 1 - tanh(z)**2 scales the rows.",
                _jacobian_norms(activation=None)),
        Mistake("spectral norm instead of Frobenius",
                "use the Frobenius norm, np.linalg.norm(J, axis=(-2, -1)): the square root of the sum "
                "of all squared entries, not the largest singular value.",
                _jacobian_norms(ord=2)),
        Mistake("off by one (d h_T / d h_{t-1})",
                "norms[t] is the derivative with respect to h_seq[:, t], the state *after* reading "
                "x[:, t]: record the norm before multiplying in step t's Jacobian (norms[T-1] = sqrt(H)).",
                _jacobian_norms(shift=-1)),
        Mistake("returned reversed (indexed by the distance T-1-t)",
                "index by the time step t of h_t, not by the distance T-1-t: norms[-1] is the identity's.",
                _jacobian_norms(reverse=True)),
        Mistake("Jacobian product in the wrong order",
                "going back from h_T, d h_T/d h_{t-1} = (d h_T/d h_t) (d h_t/d h_{t-1}): multiply the "
                "new step's Jacobian on the right, J = J @ step.",
                _products(reverse_order=True)),
        Mistake("Wh not transposed in the step Jacobian",
                "with row vectors h_t = tanh(h_{t-1} Wh + ...), so d h_t/d h_{t-1} = diag(1 - h_t**2) Wh.T.",
                _products(transpose=False)),
        Mistake("tanh derivative taken at the previous state",
                "the derivative of step t uses the state that step produces: 1 - h_t**2, not 1 - h_{t-1}**2.",
                _products(derivative_at_previous=True)),
    ],
))


# ----------------------------------------------------------------------------- clip_by_global_norm
def _tensors(grads):
    tf = _tf()
    return [tf.constant(g, dtype=tf.float64) for g in _f64(*grads)]


def _numpy_list(tensors):
    return [np.asarray(t.numpy()) for t in tensors]


def _clip_global(use_norm=None, report="before"):
    """tf.clip_by_global_norm, optionally given a wrong norm to use (its `use_norm` argument)."""
    def run(grads, max_norm):
        tf = _tf()
        tensors = _tensors(grads)
        norm = None if use_norm is None else use_norm(tensors)
        clipped, global_norm = tf.clip_by_global_norm(tensors, max_norm, use_norm=norm)
        if report == "after":
            global_norm = tf.linalg.global_norm(clipped)
        return _numpy_list(clipped), np.asarray(global_norm.numpy())
    return run


def _per_tensor(grads, max_norm):
    tf = _tf()
    tensors = _tensors(grads)
    return (_numpy_list([tf.clip_by_norm(t, max_norm) for t in tensors]),
            np.asarray(tf.linalg.global_norm(tensors).numpy()))


def _always_rescaled(grads, max_norm):
    tf = _tf()
    tensors = _tensors(grads)
    global_norm = tf.linalg.global_norm(tensors)
    return _numpy_list([t * (max_norm / global_norm) for t in tensors]), np.asarray(global_norm.numpy())


def _unit_norm(grads, max_norm):
    tf = _tf()
    tensors = _tensors(grads)
    global_norm = tf.linalg.global_norm(tensors)
    if global_norm > max_norm:
        tensors = [t / global_norm for t in tensors]
    return _numpy_list(tensors), np.asarray(global_norm.numpy())


def _sum_of_norms(tensors):
    return sum(_tf().norm(t) for t in tensors)


def _squared_norm(tensors):
    return _tf().linalg.global_norm(tensors) ** 2


register(Exercise(
    name="clip_by_global_norm", notebook=NOTEBOOK, points=2,
    args=("grads", "max_norm"),
    outputs=(Output("clipped", listed=True), Output("global_norm", ())),
    reference_name="tf.clip_by_global_norm",
    forbidden=GLOBAL_CLIPPING,
    reference=ref.run_clip_by_global_norm,
    make_inputs=_global_norm_inputs,
    cases=[
        Case("visible above max_norm", 3201, dict(K=3, D=4, H=5, V=3), note="global norm = 3 x max_norm"),
        Case("visible below max_norm", 3202, dict(K=3, D=3, H=4, V=2), note="global norm = 0.6 x max_norm"),
        Case("hidden one tensor", 13201, dict(K=1, D=6, H=2, V=2), hidden=True,
             note="global norm = 4 x max_norm"),
        Case("hidden five tensors", 13202, dict(K=5, D=5, H=7, V=4), hidden=True,
             note="global norm = 1.7 x max_norm", vary=dict(D=(3, 7), H=(5, 9), V=(3, 6))),
        Case("hidden float64 just below", 13203, dict(K=4, D=2, H=3, V=5), hidden=True, dtype="float64",
             note="global norm = 0.9 x max_norm"),
        Case("hidden all zeros", 13204, dict(K=3, D=2, H=2, V=2), hidden=True, note="all zeros"),
    ],
    mistakes=[
        Mistake("per-tensor norm instead of global",
                "one norm for all the arrays together, sqrt(sum of every squared entry), and one "
                "scale factor for all of them (that keeps the gradient's direction).",
                _per_tensor),
        Mistake("scales up when below max_norm",
                "leave the gradients unchanged when global_norm <= max_norm: the factor is "
                "max_norm / max(global_norm, max_norm).",
                _always_rescaled),
        Mistake("global norm as the sum of per-tensor norms",
                "global_norm = sqrt(sum over arrays of sum(g**2)), not the sum of each array's norm.",
                _clip_global(use_norm=_sum_of_norms)),
        Mistake("squared norm (square root missing)",
                "global_norm is the square root of the sum of the squares.",
                _clip_global(use_norm=_squared_norm)),
        Mistake("returns the norm after clipping",
                "return the global norm of the gradients you were given (before clipping), as "
                "tf.clip_by_global_norm does: it tells you how large they were.",
                _clip_global(report="after")),
        Mistake("divides by the norm without multiplying by max_norm",
                "the clipped gradients have norm max_norm, not 1: multiply by max_norm / global_norm.",
                _unit_norm),
    ],
))


# ----------------------------------------------------------------------------- clip_by_value
def _clip_values(low, high, absolute=False):
    def run(grads, limit):
        tf = _tf()
        tensors = _tensors(grads)
        if absolute:
            tensors = [tf.abs(t) for t in tensors]
        lo = -np.inf if low is None else low(limit)
        hi = np.inf if high is None else high(limit)
        return _numpy_list([tf.clip_by_value(t, tf.constant(lo, tf.float64), tf.constant(hi, tf.float64))
                            for t in tensors])
    return run


def _clip_norms(per_tensor):
    def run(grads, limit):
        tf = _tf()
        tensors = _tensors(grads)
        if per_tensor:
            return _numpy_list([tf.clip_by_norm(t, limit) for t in tensors])
        return _numpy_list(tf.clip_by_global_norm(tensors, limit)[0])
    return run


register(Exercise(
    name="clip_by_value", notebook=NOTEBOOK, points=1,
    args=("grads", "limit"),
    outputs=(Output("clipped", listed=True),),
    reference_name="tf.clip_by_value",
    forbidden=VALUE_CLIPPING,
    reference=ref.run_clip_by_value,
    make_inputs=_value_inputs,
    cases=[
        Case("visible 1", 3301, dict(K=3, D=4, H=5, V=3)),
        Case("hidden one tensor", 13301, dict(K=1, D=7, H=3, V=2), hidden=True),
        Case("hidden five tensors float64", 13302, dict(K=5, D=3, H=6, V=4), hidden=True, dtype="float64",
             vary=dict(D=(2, 5), H=(4, 8), V=(3, 6))),
        Case("hidden nothing to clip", 13303, dict(K=2, D=3, H=3, V=2), hidden=True,
             note="limit 100, nothing to clip"),
    ],
    mistakes=[
        Mistake("only the upper bound", "clip below too: every entry ends in [-limit, limit].",
                _clip_values(None, lambda limit: limit)),
        Mistake("only the lower bound", "clip above too: every entry ends in [-limit, limit].",
                _clip_values(lambda limit: -limit, None)),
        Mistake("clipped to [0, limit]", "the lower bound is -limit: negative gradients stay negative.",
                _clip_values(lambda limit: 0.0, lambda limit: limit)),
        Mistake("sign lost (np.abs)", "clip the values themselves; np.abs throws their sign away.",
                _clip_values(lambda limit: -limit, lambda limit: limit, absolute=True)),
        Mistake("clips the norm instead of the values",
                "clipping by value bounds every entry on its own (np.clip); it does not rescale.",
                _clip_norms(per_tensor=False)),
        Mistake("clips the norm instead of the values",
                "clipping by value bounds every entry on its own (np.clip); it does not rescale.",
                _clip_norms(per_tensor=True)),
    ],
))
