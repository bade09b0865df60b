"""Notebook 02_bptt: backpropagation through time.

Graded functions (the contract; N batch, T steps, D features, H hidden units, V classes):

    softmax_cross_entropy(logits (N, T, V), targets (N, T) int) -> (loss (), dlogits (N, T, V))
    rnn_backward(dh_seq (N, T, H), x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,))
        -> (dx (N, T, D), dh0 (N, H), dWx (D, H), dWh (H, H), db (H,))
    numerical_gradient(f, x (any shape), eps) -> grad (same shape as x)
    truncated_bptt_grads(dh_seq, x, h0, Wx, Wh, b, k) -> (dx, dh0, dWx, dWh, db)

dh_seq is the upstream gradient on every hidden state, so the gradients are those of
sum(dh_seq * h_seq). References are tf.GradientTape on the real Keras layers in float64: the
SparseCategoricalCrossentropy(from_logits=True) loss, keras.layers.SimpleRNN (output_gradients =
dh_seq), and a SimpleRNNCell stepped with tf.stop_gradient every k steps for truncated BPTT.
numerical_gradient is checked against the analytic gradient (GradientTape) of known functions.

Each mistake is a NumPy implementation with exactly that mistake (`_bptt` takes the flags).
"""
import numpy as np

from rnnkit import autodiff
from rnnkit import reference as ref
from rnnkit.exercises.bptt import Objective
from rnnkit.grading.keys.catalog import register
from rnnkit.grading.keys.inputs import rnn_weights
from rnnkit.registry import Case, Exercise, Mistake, Output
from rnnkit.runtime import import_keras

NOTEBOOK = "02_bptt"
# Automatic differentiation: what the gradients are checked against, so what they may not call.
AUTODIFF = ("tf.GradientTape", "tf.gradients", "tf.autodiff.ForwardAccumulator", "jax.grad",
            "jax.vjp", "torch.autograd")
CROSS_ENTROPY = ("keras.losses.SparseCategoricalCrossentropy", "keras.ops.sparse_categorical_crossentropy",
                 "tf.nn.sparse_softmax_cross_entropy_with_logits")
GRADS = (Output("dx", ("N", "T", "D")), Output("dh0", ("N", "H")), Output("dWx", ("D", "H")),
         Output("dWh", ("H", "H")), Output("db", ("H",)))


# ----------------------------------------------------------------------------- softmax_cross_entropy
def _loss_inputs(rng, case):
    N, T, V = (case.sizes[k] for k in ("N", "T", "V"))
    scale = 1000.0 if "large logits" in case.note else 2.0
    logits = rng.normal(0.0, scale, size=(N, T, V))
    targets = rng.integers(0, V, size=(N, T))
    return dict(logits=logits, targets=targets)


def _cross_entropy(logits, targets, shift=True, divide_by="all", grad_divided=True,
                   subtract_one_hot=True, sign=1.0, log_sum_exp=True, log_of_probs=False):
    """NumPy softmax cross-entropy with switches for the catalogued mistakes."""
    z = np.asarray(logits)        # the student's dtype: float32 overflows sooner
    if shift:
        z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    p = e / e.sum(axis=-1, keepdims=True)
    picked = np.take_along_axis(z, targets[..., None], axis=-1)[..., 0]
    per_step = (np.log(e.sum(axis=-1)) if log_sum_exp else 0.0) - picked
    if log_of_probs:                # log(softmax): a tiny probability rounds to 0 and log gives inf
        per_step = -np.log(np.take_along_axis(p, targets[..., None], axis=-1)[..., 0])
    count = {"all": targets.size, "batch": targets.shape[0], "none": 1}[divide_by]
    one_hot = np.eye(z.shape[-1])[targets]
    d = p - one_hot if subtract_one_hot else p
    return per_step.sum() / count, sign * d / (count if grad_divided else 1)


def _ce(**flags):
    def run(logits, targets):
        return _cross_entropy(logits, targets, **flags)
    return run


register(Exercise(
    name="softmax_cross_entropy", notebook=NOTEBOOK, points=2,
    args=("logits", "targets"),
    outputs=(Output("loss", ()), Output("dlogits", ("N", "T", "V"))),
    reference_name="SparseCategoricalCrossentropy(from_logits=True) + tf.GradientTape",
    forbidden=CROSS_ENTROPY + AUTODIFF,
    reference=ref.run_cross_entropy,
    make_inputs=_loss_inputs,
    cases=[
        Case("visible 1", 201, dict(N=2, T=3, V=5)),
        Case("visible large logits", 202, dict(N=3, T=2, V=4), note="large logits"),
        Case("hidden one prediction", 1201, dict(N=1, T=1, V=3), hidden=True),
        Case("hidden long", 1202, dict(N=4, T=9, V=11), hidden=True, dtype="float64",
             vary=dict(N=(3, 6), T=(6, 12), V=(8, 14))),
        Case("hidden large logits", 1203, dict(N=2, T=5, V=7), hidden=True, note="large logits",
             vary=dict(T=(3, 7))),
    ],
    mistakes=[
        Mistake("overflow on large logits (no max shift)",
                "subtract the largest logit of each row before np.exp; it changes nothing else.",
                _ce(shift=False)),
        Mistake("sum instead of mean",
                "Keras averages the loss over all N*T predictions; divide the loss and dlogits by N*T.",
                _ce(divide_by="none")),
        Mistake("averaged over the batch only",
                "there are N*T predictions, not N: divide by targets.size.",
                _ce(divide_by="batch")),
        Mistake("gradient not divided by the number of predictions",
                "the loss is a mean, so each prediction's gradient (p - one_hot) is divided by N*T too.",
                _ce(grad_divided=False)),
        Mistake("one-hot not subtracted in the gradient",
                "d loss / d logits = (softmax(logits) - one_hot(targets)) / (N*T).",
                _ce(subtract_one_hot=False)),
        Mistake("gradient has the wrong sign",
                "the gradient points uphill: softmax - one_hot, not one_hot - softmax.",
                _ce(sign=-1.0)),
        Mistake("log of a probability that underflows (use log-softmax)",
                "a tiny probability rounds to 0 and np.log(0) is -inf: compute log-probabilities "
                "as z - log(sum(exp(z))) with the shifted logits z, never np.log(softmax).",
                _ce(log_of_probs=True)),
        Mistake("log-sum-exp missing from the loss",
                "-log softmax(z)_y = log(sum_j exp(z_j)) - z_y; both terms are needed.",
                _ce(log_sum_exp=False)),
    ],
))


# ----------------------------------------------------------------------------- rnn_backward
def _backward_inputs(rng, case):
    N, T, D, H = (case.sizes[k] for k in ("N", "T", "D", "H"))
    x = rng.normal(size=(N, T, D))
    h0 = rng.uniform(-0.9, 0.9, size=(N, H))
    Wx, Wh, b = rnn_weights(rng, D, H)
    dh_seq = rng.normal(size=(N, T, H))
    inputs = dict(dh_seq=dh_seq, x=x, h0=h0, Wx=Wx, Wh=Wh, b=b)
    if "k" in case.sizes:
        inputs["k"] = case.sizes["k"]
    return inputs


def _forward_states(x, h0, Wx, Wh, b):
    """All states h_0 ... h_T stacked on axis 1: (N, T + 1, H)."""
    hs = [h0]
    for t in range(x.shape[1]):
        hs.append(np.tanh(x[:, t] @ Wx + hs[-1] @ Wh + b))
    return np.stack(hs, axis=1)


def _bptt(dh_seq, x, h0, Wx, Wh, b, *, accumulate=True, tanh_derivative=True, prev_state=True,
          propagate=True, transpose_Wh=True, derivative_state="current", reverse=True, zero_dh0=False):
    """NumPy BPTT of sum(dh_seq * h_seq); each switch reproduces one catalogued mistake."""
    dh_seq, x, h0, Wx, Wh, b = (np.asarray(a, np.float64) for a in (dh_seq, x, h0, Wx, Wh, b))
    hs = _forward_states(x, h0, Wx, Wh, b)
    T = x.shape[1]
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dh_next = np.zeros_like(h0)
    for t in (reversed(range(T)) if reverse else range(T)):
        h, h_prev = hs[:, t + 1], hs[:, t]
        dh = dh_seq[:, t] + (dh_next if propagate else 0.0)
        if tanh_derivative:
            d_state = h if derivative_state == "current" else h_prev
            da = dh * (1.0 - d_state ** 2)
        else:
            da = dh
        step = (x[:, t].T @ da, (h_prev if prev_state else h).T @ da, da.sum(axis=0))
        if accumulate:
            dWx, dWh, db = dWx + step[0], dWh + step[1], db + step[2]
        else:
            dWx, dWh, db = step
        dx[:, t] = da @ Wx.T
        dh_next = da @ (Wh.T if transpose_Wh else Wh)
    dh0 = np.zeros_like(h0) if zero_dh0 else dh_next
    return dx, dh0, dWx, dWh, db


def _bptt_mistake(**flags):
    def run(dh_seq, x, h0, Wx, Wh, b):
        return _bptt(dh_seq, x, h0, Wx, Wh, b, **flags)
    return run


register(Exercise(
    name="rnn_backward", notebook=NOTEBOOK, points=3,
    args=("dh_seq", "x", "h0", "Wx", "Wh", "b"),
    outputs=GRADS,
    reference_name="tf.GradientTape on keras.layers.SimpleRNN",
    forbidden=AUTODIFF + ("keras.layers.SimpleRNN",),
    reference=ref.simple_rnn_gradients,
    make_inputs=_backward_inputs,
    cases=[
        Case("visible 1", 211, dict(N=2, T=4, D=3, H=5)),
        Case("visible 2", 212, dict(N=3, T=5, D=4, H=4)),
        Case("hidden one step", 1211, dict(N=1, T=1, D=2, H=3), hidden=True),
        Case("hidden long", 1212, dict(N=2, T=12, D=3, H=6), hidden=True,
             vary=dict(T=(9, 15), D=(2, 5), H=(4, 8))),
        Case("hidden float64", 1213, dict(N=4, T=6, D=5, H=2), hidden=True, dtype="float64",
             vary=dict(N=(3, 6))),
    ],
    mistakes=[
        Mistake("gradients not summed over time",
                "Wx, Wh and b are shared by every step: add each step's contribution (dWx += ...).",
                _bptt_mistake(accumulate=False)),
        Mistake("tanh derivative missing",
                "h = tanh(a), so da = dh * (1 - h**2) before any product with the weights.",
                _bptt_mistake(tanh_derivative=False)),
        Mistake("h_t used where h_{t-1} belongs",
                "step t computes a_t = x_t Wx + h_{t-1} Wh + b, so dWh += h_{t-1}.T @ da.",
                _bptt_mistake(prev_state=False)),
        Mistake("dh not propagated to the previous step",
                "h_{t-1} also reaches the loss through h_t: add da @ Wh.T to the gradient of h_{t-1}.",
                _bptt_mistake(propagate=False)),
        Mistake("Wh not transposed when propagating",
                "h_{t-1} is multiplied by Wh on the right in the forward pass, so dh_{t-1} = da @ Wh.T.",
                _bptt_mistake(transpose_Wh=False)),
        Mistake("tanh derivative taken at h_{t-1}",
                "the tanh of step t produced h_t: use 1 - h_t**2, not 1 - h_{t-1}**2.",
                _bptt_mistake(derivative_state="previous")),
        Mistake("loop runs forward in time",
                "the gradient of h_t needs the gradient of h_{t+1} first: loop t = T-1, ..., 0.",
                _bptt_mistake(reverse=False)),
        Mistake("dh0 not computed",
                "the gradient left over after step 0 (da @ Wh.T) is dh0; do not return zeros.",
                _bptt_mistake(zero_dh0=True)),
    ],
))


# ----------------------------------------------------------------------------- numerical_gradient
def _objective(rng, case):
    kind, shape = case.note, tuple(case.sizes["shape"])
    if kind == "tanh layer":
        A = rng.normal(size=(shape[-1], 3))
        w = rng.normal(size=(shape[0], 3))
        return Objective(kind, dict(A=A, w=w)), shape
    if kind == "rnn":  # x is an input sequence (N, T, D); f is the gradient check of a SimpleRNN
        N, T, D = shape
        H = 4
        Wx, Wh, b = rnn_weights(rng, D, H)
        h0 = rng.uniform(-0.5, 0.5, size=(N, H))
        w = rng.normal(size=(N, T, H))
        return Objective(kind, dict(Wx=Wx, Wh=Wh, b=b, h0=h0, w=w)), shape
    return Objective("sin", dict(c=rng.normal(size=shape))), shape


def _keras_objective(f):
    """The objective f (an Objective) on backend tensors (keras.ops), in float64 on every backend
    (reference.float64_unary), for the analytic gradient."""
    ops = import_keras().ops
    p = f.params
    tanh, sin = ref.float64_unary("tanh"), ref.float64_unary("sin")
    if f.kind == "tanh layer":
        return lambda x: ops.sum(ops.multiply(p["w"], tanh(ops.matmul(x, p["A"]))))
    if f.kind == "rnn":
        layer = ref.simple_rnn(p["Wx"], p["Wh"], p["b"], return_state=False, dtype="float64",
                               activation=ref.float64_unary("tanh"), unroll=True)
        h0 = np.asarray(p["h0"], np.float64)
        return lambda x: ops.sum(ops.multiply(p["w"], layer(x, initial_state=[ops.convert_to_tensor(h0)])))
    return lambda x: ops.sum(sin(ops.multiply(p["c"], x)) * x ** 2)


def _numeric_inputs(rng, case):
    f, shape = _objective(rng, case)
    x = rng.uniform(-1.0, 1.0, size=shape)
    return dict(f=f, x=x, eps=float(case.sizes.get("eps", 1e-5)))


def _analytic_gradient(f, x, eps):
    """df/dx by the backend's automatic differentiation (tf.GradientTape on TensorFlow)."""
    return autodiff.vjp(_keras_objective(f), [np.asarray(x, np.float64)], np.float64(1.0))[0]


def _finite_differences(f, x, eps, central=True, denominator=None, restore=True, all_at_once=False):
    """NumPy finite differences with switches for the catalogued mistakes."""
    x = np.array(x, dtype=np.float64)
    if all_at_once:
        return np.full_like(x, (f(x + eps) - f(x - eps)) / (2 * eps))
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        f_plus = f(x)
        if central:
            x[idx] = old - eps
            f_minus = f(x)
            grad[idx] = (f_plus - f_minus) / (denominator or 2 * eps)
        else:
            x[idx] = old
            grad[idx] = (f_plus - f(x)) / eps
        if restore:
            x[idx] = old
    return grad


def _fd(**flags):
    def run(f, x, eps):
        return _finite_differences(f, x, eps, **flags)
    return run


register(Exercise(
    name="numerical_gradient", notebook=NOTEBOOK, points=2,
    args=("f", "x", "eps"),
    outputs=(Output("grad", None),),
    reference_name="the analytic gradient (tf.GradientTape)",
    forbidden=AUTODIFF,
    reference=_analytic_gradient,
    make_inputs=_numeric_inputs,
    # Central differences are accurate to about eps**2; a forward difference only to about eps.
    atol=1e-7, rtol=1e-6,
    cases=[
        Case("visible vector", 221, dict(shape=(5,)), dtype="float64", note="sin"),
        Case("visible matrix", 222, dict(shape=(3, 4)), dtype="float64", note="tanh layer"),
        Case("hidden one entry", 1221, dict(shape=(1,)), hidden=True, dtype="float64", note="sin"),
        Case("hidden RNN input", 1222, dict(shape=(2, 3, 2)), hidden=True, dtype="float64",
             note="rnn"),
        Case("hidden larger eps", 1223, dict(shape=(2, 3), eps=1e-4), hidden=True, dtype="float64",
             note="tanh layer"),
    ],
    mistakes=[
        Mistake("forward difference instead of central",
                "use (f(x + eps) - f(x - eps)) / (2 eps): its error shrinks like eps**2, not eps.",
                _fd(central=False)),
        Mistake("divided by eps instead of 2 eps",
                "the two evaluation points are 2 eps apart.",
                lambda f, x, eps: _finite_differences(f, x, eps, denominator=eps)),
        Mistake("x not restored after a perturbation",
                "put x[idx] back to its old value before moving to the next entry.",
                _fd(restore=False)),
        Mistake("all entries perturbed at once",
                "perturb one entry at a time (np.ndindex(x.shape) visits them all); moving every "
                "entry gives one directional derivative, not the gradient.",
                _fd(all_at_once=True)),
    ],
))


# ----------------------------------------------------------------------------- truncated_bptt_grads
def _chunked(dh_seq, x, h0, Wx, Wh, b, k, *, size=None, from_end=False, sum_dh0=False):
    """Truncated BPTT as a sum of full BPTT over chunks; switches reproduce catalogued mistakes."""
    T = x.shape[1]
    size = int(size or k)
    hs = _forward_states(*(np.asarray(a, np.float64) for a in (x, h0, Wx, Wh, b)))
    if from_end:
        bounds = [(max(e - size, 0), e) for e in sorted(range(T, 0, -size))]
    else:
        bounds = [(s, min(s + size, T)) for s in range(0, T, size)]
    dx = np.zeros(np.shape(x))
    dh0 = np.zeros(np.shape(h0))
    dW = [np.zeros(np.shape(Wx)), np.zeros(np.shape(Wh)), np.zeros(np.shape(b))]
    for s, e in bounds:
        g = _bptt(dh_seq[:, s:e], x[:, s:e], hs[:, s], Wx, Wh, b)
        dx[:, s:e] = g[0]
        if s == 0 or sum_dh0:
            dh0 = dh0 + g[1]
        dW = [a + c for a, c in zip(dW, g[2:])]
    return (dx, dh0, *dW)


def _sliding_window(dh_seq, x, h0, Wx, Wh, b, k):
    """Each step's gradient goes back k steps from its own position (another kind of truncation)."""
    hs = _forward_states(*(np.asarray(a, np.float64) for a in (x, h0, Wx, Wh, b)))
    dx, dh0 = np.zeros(np.shape(x)), np.zeros(np.shape(h0))
    dW = [np.zeros(np.shape(Wx)), np.zeros(np.shape(Wh)), np.zeros(np.shape(b))]
    for t in range(x.shape[1]):
        s = max(0, t - int(k) + 1)
        upstream = np.zeros_like(dh_seq[:, s:t + 1])
        upstream[:, -1] = dh_seq[:, t]
        g = _bptt(upstream, x[:, s:t + 1], hs[:, s], Wx, Wh, b)
        dx[:, s:t + 1] += g[0]
        if s == 0:
            dh0 = dh0 + g[1]
        dW = [a + c for a, c in zip(dW, g[2:])]
    return (dx, dh0, *dW)


register(Exercise(
    name="truncated_bptt_grads", notebook=NOTEBOOK, points=2,
    args=("dh_seq", "x", "h0", "Wx", "Wh", "b", "k"),
    outputs=GRADS,
    reference_name="tf.GradientTape with tf.stop_gradient every k steps",
    forbidden=AUTODIFF + ("keras.layers.SimpleRNN",),
    probes_on=("substitute",),
    reference=ref.simple_rnn_gradients,
    make_inputs=_backward_inputs,
    must_call=("rnn_backward",),
    cases=[
        Case("visible k=2", 231, dict(N=2, T=6, D=3, H=4, k=2)),
        Case("visible k=3, short last chunk", 232, dict(N=3, T=7, D=2, H=3, k=3)),
        Case("hidden k=1", 1231, dict(N=2, T=4, D=2, H=3, k=1), hidden=True),
        Case("hidden k=T (no truncation)", 1232, dict(N=1, T=5, D=3, H=2, k=5), hidden=True),
        Case("hidden k>T", 1233, dict(N=2, T=3, D=2, H=4, k=10), hidden=True),
        Case("hidden long float64", 1234, dict(N=3, T=16, D=4, H=5, k=4), hidden=True,
             dtype="float64", vary=dict(T=(13, 20), D=(3, 6))),
        Case("hidden short last chunk", 1235, dict(N=2, T=10, D=3, H=4, k=4), hidden=True),
    ],
    mistakes=[
        Mistake("no truncation (full BPTT)",
                "cut the sequence into chunks of k steps and treat the state entering each chunk "
                "as a constant: its gradient is dropped, not passed on.",
                lambda dh_seq, x, h0, Wx, Wh, b, k: _bptt(dh_seq, x, h0, Wx, Wh, b)),
        Mistake("chunks of k+1 steps (off by one)",
                "chunks start at steps 0, k, 2k, ...; each holds exactly k steps (the last may be shorter).",
                lambda dh_seq, x, h0, Wx, Wh, b, k: _chunked(dh_seq, x, h0, Wx, Wh, b, k, size=k + 1)),
        Mistake("chunks counted from the end of the sequence",
                "count chunks from the start (steps 0..k-1 first), as a stateful RNN reading a "
                "long sequence would; only the last chunk may be shorter.",
                lambda dh_seq, x, h0, Wx, Wh, b, k: _chunked(dh_seq, x, h0, Wx, Wh, b, k, from_end=True)),
        Mistake("sliding window of k steps per loss (a different truncation)",
                "here the state is cut every k steps (chunks), as tf.stop_gradient in the loop "
                "does; a window that follows each loss back k steps is another algorithm.",
                _sliding_window),
        Mistake("dh0 summed over every chunk",
                "only the first chunk starts from h0; the gradient of another chunk's first state "
                "is dropped, so dh0 comes from the first chunk alone.",
                lambda dh_seq, x, h0, Wx, Wh, b, k: _chunked(dh_seq, x, h0, Wx, Wh, b, k, sum_dh0=True)),
    ],
))
