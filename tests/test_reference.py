"""rnnkit.reference against NumPy: every Keras layer the kit uses, and the weight layouts it documents.

Each layer is compared with a NumPy implementation written below, with random nonzero biases,
to 1e-5 when built in float32 and to 1e-10 when built with the builders' default dtype (float64 on
TensorFlow; on JAX and PyTorch the default is float32 and the tolerances are float32's).
Shapes follow the kit's notation: x (N, T, D), h (N, H), logits (..., V).
"""
import collections

import numpy as np
import pytest

from rnnkit import reference as R
from rnnkit.runtime import import_tf

tf, keras = import_tf()
# How close a reference in the builders' default dtype comes to NumPy in float64: EXACT for one
# layer, GRAD for a gradient against finite differences, SAME for two routes to the same number.
FLOAT64 = R.float_dtype() == "float64"
EXACT, GRAD, SAME = (1e-10, 1e-8, 1e-12) if FLOAT64 else (2e-5, 1e-3, 1e-5)

# (dtype passed to the builder, tolerance); None means "use the builder's default" (float64).
PRECISIONS = [pytest.param("float32", 1e-5, id="float32"),
              pytest.param(None, EXACT, id="float64-default")]
# (N, T, D, H): a batch of one, a single time step, and an ordinary case.
SIZES = [pytest.param(1, 4, 3, 5, id="N1"), pytest.param(3, 1, 2, 4, id="T1"),
         pytest.param(2, 6, 4, 3, id="N2T6")]


# ----------------------------------------------------------------------------- NumPy references
def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def softmax(a):
    e = np.exp(a - a.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def np_rnn_step(x_t, h, Wx, Wh, b):
    """x_t (N, D), h (N, H), Wx (D, H), Wh (H, H), b (H,) -> h_next (N, H)."""
    return np.tanh(x_t @ Wx + h @ Wh + b)


def np_rnn(x, h, Wx, Wh, b):
    """x (N, T, D), h0 (N, H) -> (h_seq (N, T, H), h_last (N, H))."""
    seq = []
    for t in range(x.shape[1]):
        h = np_rnn_step(x[:, t], h, Wx, Wh, b)
        seq.append(h)
    return np.stack(seq, axis=1), h


def np_dense(h, W, b, activation):
    """h (..., H), W (H, V), b (V,) -> (..., V)."""
    z = h @ W + b
    return softmax(z) if activation == "softmax" else z


def np_lstm(x, h, c, W, U, b):
    """x (N, T, D), h0 and c0 (N, H); W, U, b are dicts gate -> (D, H), (H, H), (H,)."""
    seq = []
    for t in range(x.shape[1]):
        a = {g: x[:, t] @ W[g] + h @ U[g] + b[g] for g in "ifco"}   # each (N, H)
        c = sigmoid(a["f"]) * c + sigmoid(a["i"]) * np.tanh(a["c"])
        h = sigmoid(a["o"]) * np.tanh(c)
        seq.append(h)
    return np.stack(seq, axis=1), h, c


def np_gru(x, h, W, U, b0, b1):
    """reset_after GRU. x (N, T, D), h0 (N, H); W, U, b0, b1 dicts gate -> (D, H), (H, H), (H,), (H,)."""
    seq = []
    for t in range(x.shape[1]):
        z = sigmoid(x[:, t] @ W["z"] + b0["z"] + h @ U["z"] + b1["z"])
        r = sigmoid(x[:, t] @ W["r"] + b0["r"] + h @ U["r"] + b1["r"])
        h = z * h + (1 - z) * np.tanh(x[:, t] @ W["h"] + b0["h"] + r * (h @ U["h"] + b1["h"]))
        seq.append(h)
    return np.stack(seq, axis=1), h


# ----------------------------------------------------------------------------- helpers
def npdtype(dtype):
    """The NumPy dtype of what a builder returns given dtype (None: the builders' default)."""
    return np.dtype(dtype or R.float_dtype()).type


def draw(rng, dtype, *shape, scale=0.5):
    return (scale * rng.standard_normal(shape)).astype(npdtype(dtype))


def draw_bias(rng, dtype, *shape):
    """Random signs and magnitudes in [0.1, 1]: never zero."""
    b = (rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.1, 1.0, size=shape)).astype(npdtype(dtype))
    assert np.all(b != 0)
    return b


def build(builder, *weights, dtype, **kwargs):
    """Call a reference builder with dtype=dtype, or with its default dtype when dtype is None."""
    if dtype is not None:
        kwargs["dtype"] = dtype
    return builder(*weights, **kwargs)


def check(actual, expected, tol, dtype):
    actual = R.to_numpy(actual)
    assert actual.dtype == npdtype(dtype)
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=0, atol=tol)


def f64(*arrays):
    return [np.asarray(a, dtype=np.float64) for a in arrays]


# ----------------------------------------------------------------------------- SimpleRNN and Dense
@pytest.mark.parametrize("N, T, D, H", SIZES)
@pytest.mark.parametrize("dtype, tol", PRECISIONS)
def test_simple_rnn_cell(N, T, D, H, dtype, tol):
    rng = np.random.default_rng(1)
    x_t, h, Wx, Wh = draw(rng, dtype, N, D), draw(rng, dtype, N, H), draw(rng, dtype, D, H), draw(rng, dtype, H, H)
    b = draw_bias(rng, dtype, H)
    cell = build(R.simple_rnn_cell, Wx, Wh, b, dtype=dtype)
    out, states = cell(x_t, [h])
    expected = np_rnn_step(*f64(x_t, h, Wx, Wh, b))
    check(out, expected, tol, dtype)
    check(states[0], expected, tol, dtype)


@pytest.mark.parametrize("N, T, D, H", SIZES)
@pytest.mark.parametrize("dtype, tol", PRECISIONS)
@pytest.mark.parametrize("go_backwards", [False, True])
def test_simple_rnn(N, T, D, H, dtype, tol, go_backwards):
    rng = np.random.default_rng(2)
    x, h0 = draw(rng, dtype, N, T, D), draw(rng, dtype, N, H)
    Wx, Wh, b = draw(rng, dtype, D, H), draw(rng, dtype, H, H), draw_bias(rng, dtype, H)
    layer = build(R.simple_rnn, Wx, Wh, b, go_backwards=go_backwards, dtype=dtype)
    h_seq, h_last = layer(x, initial_state=[h0])
    x64, h064, Wx64, Wh64, b64 = f64(x, h0, Wx, Wh, b)
    if go_backwards:
        # Keras reads x from t = T-1 down to 0 and returns the outputs in that processing
        # order, NOT flipped back to input time: h_seq[:, 0] is the state after x[:, T-1] and
        # h_seq[:, -1] (== h_last) is the state after x[:, 0].
        x64 = x64[:, ::-1]
    exp_seq, exp_last = np_rnn(x64, h064, Wx64, Wh64, b64)
    check(h_seq, exp_seq, tol, dtype)
    check(h_last, exp_last, tol, dtype)


@pytest.mark.parametrize("activation", ["softmax", None])
@pytest.mark.parametrize("dtype, tol", PRECISIONS)
@pytest.mark.parametrize("lead", [(1,), (3,), (2, 5)], ids=["N1", "N3", "NxT"])
def test_dense(activation, dtype, tol, lead):
    rng = np.random.default_rng(3)
    H, V = 4, 6
    h, W, b = draw(rng, dtype, *lead, H), draw(rng, dtype, H, V, scale=1.0), draw_bias(rng, dtype, V)
    layer = build(R.dense, W, b, activation=activation, dtype=dtype)
    expected = np_dense(*f64(h, W, b), activation)
    check(layer(h), expected, tol, dtype)
    if activation == "softmax":
        np.testing.assert_allclose(R.to_numpy(layer(h)).sum(axis=-1), 1.0, atol=tol)


# ----------------------------------------------------------------------------- LSTM and GRU
@pytest.mark.parametrize("N, T, D, H", SIZES)
@pytest.mark.parametrize("dtype, tol", PRECISIONS)
def test_lstm_gate_order_ifco(N, T, D, H, dtype, tol):
    rng = np.random.default_rng(4)
    x, h0, c0 = draw(rng, dtype, N, T, D), draw(rng, dtype, N, H), draw(rng, dtype, N, H)
    # Named per-gate blocks; the NumPy reference uses the names, Keras gets them fused in [i, f, c, o].
    Wg = {g: draw(rng, dtype, D, H) for g in R.LSTM_GATES}
    Ug = {g: draw(rng, dtype, H, H) for g in R.LSTM_GATES}
    bg = {g: draw_bias(rng, dtype, H) for g in R.LSTM_GATES}
    W, U, b = (R.join_gates(blocks, R.LSTM_GATES) for blocks in (Wg, Ug, bg))
    assert W.shape == (D, 4 * H) and U.shape == (H, 4 * H) and b.shape == (4 * H,)
    assert np.all(b != 0)
    layer = build(R.lstm, W, U, b, dtype=dtype)
    h_seq, h_last, c_last = layer(x, initial_state=[h0, c0])
    as64 = lambda d: {g: v.astype(np.float64) for g, v in d.items()}  # noqa: E731
    exp_seq, exp_h, exp_c = np_lstm(*f64(x, h0, c0), as64(Wg), as64(Ug), as64(bg))
    check(h_seq, exp_seq, tol, dtype)
    check(h_last, exp_h, tol, dtype)
    check(c_last, exp_c, tol, dtype)
    # The layer's own kernel splits back into the same named blocks.
    for g, block in R.split_gates(layer.get_weights()[0], R.LSTM_GATES).items():
        np.testing.assert_array_equal(block, Wg[g])


@pytest.mark.parametrize("N, T, D, H", SIZES)
@pytest.mark.parametrize("dtype, tol", PRECISIONS)
def test_gru_reset_after_zrh(N, T, D, H, dtype, tol):
    rng = np.random.default_rng(5)
    x, h0 = draw(rng, dtype, N, T, D), draw(rng, dtype, N, H)
    Wg = {g: draw(rng, dtype, D, H) for g in R.GRU_GATES}
    Ug = {g: draw(rng, dtype, H, H) for g in R.GRU_GATES}
    b0g = {g: draw_bias(rng, dtype, H) for g in R.GRU_GATES}   # input bias
    b1g = {g: draw_bias(rng, dtype, H) for g in R.GRU_GATES}   # recurrent bias
    W, U = R.join_gates(Wg, R.GRU_GATES), R.join_gates(Ug, R.GRU_GATES)
    b = np.stack([R.join_gates(b0g, R.GRU_GATES), R.join_gates(b1g, R.GRU_GATES)])  # (2, 3H)
    assert b.shape == (2, 3 * H) and np.all(b != 0)
    layer = build(R.gru, W, U, b, dtype=dtype)
    assert layer.cell.reset_after
    h_seq, h_last = layer(x, initial_state=[h0])
    as64 = lambda d: {g: v.astype(np.float64) for g, v in d.items()}  # noqa: E731
    exp_seq, exp_h = np_gru(*f64(x, h0), as64(Wg), as64(Ug), as64(b0g), as64(b1g))
    check(h_seq, exp_seq, tol, dtype)
    check(h_last, exp_h, tol, dtype)


# ----------------------------------------------------------------------------- Bidirectional
MERGES = {"concat": lambda f, b: np.concatenate([f, b], axis=-1), "sum": lambda f, b: f + b,
          "mul": lambda f, b: f * b, "ave": lambda f, b: (f + b) / 2}


@pytest.mark.parametrize("merge_mode", list(MERGES))
@pytest.mark.parametrize("N, T, D, H", SIZES)
@pytest.mark.parametrize("dtype, tol", PRECISIONS)
def test_bidirectional_simple_rnn(merge_mode, N, T, D, H, dtype, tol):
    dtype_name = dtype or R.float_dtype()
    rng = np.random.default_rng(6)
    x = draw(rng, dtype, N, T, D)
    fwd = [draw(rng, dtype, D, H), draw(rng, dtype, H, H), draw_bias(rng, dtype, H)]
    bwd = [draw(rng, dtype, D, H), draw(rng, dtype, H, H), draw_bias(rng, dtype, H)]
    # The dtype goes on both: the wrapper's dtype does not reach the wrapped layer (its weights
    # stay float32), and a float32 wrapper casts the input and the output of a float64 layer.
    layer = keras.layers.Bidirectional(
        keras.layers.SimpleRNN(H, return_sequences=True, dtype=dtype_name),
        merge_mode=merge_mode, dtype=dtype_name)
    layer.build((None, None, D))
    layer.set_weights(fwd + bwd)
    # Weights are the forward layer's, then the backward layer's.
    for got, want in zip(layer.get_weights(), fwd + bwd, strict=True):
        np.testing.assert_array_equal(got, want)
    for got, want in zip(layer.forward_layer.get_weights(), fwd, strict=True):
        np.testing.assert_array_equal(got, want)
    for got, want in zip(layer.backward_layer.get_weights(), bwd, strict=True):
        np.testing.assert_array_equal(got, want)

    zeros = np.zeros((N, H))
    x64 = np.asarray(x, np.float64)
    f_seq, _ = np_rnn(x64, zeros, *f64(*fwd))
    b_seq = np_rnn(x64[:, ::-1], zeros, *f64(*bwd))[0][:, ::-1]   # backward half, in input time
    out = layer(x)
    check(out, MERGES[merge_mode](f_seq, b_seq), tol, dtype_name)

    if merge_mode == "concat":
        # Backward half == forward(x[:, ::-1])[:, ::-1] with a plain forward SimpleRNN.
        plain = build(R.simple_rnn, *bwd, return_state=False, dtype=dtype)
        np.testing.assert_allclose(R.to_numpy(out)[..., H:],
                                   R.to_numpy(plain(x[:, ::-1]))[:, ::-1], rtol=0, atol=tol)


# ----------------------------------------------------------------------------- runners
@pytest.mark.parametrize("N, T, D, H", SIZES)
def test_runners_return_numpy(N, T, D, H):
    rng = np.random.default_rng(7)
    V = 5
    x, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H))
    Wx, Wh, b = 0.5 * rng.standard_normal((D, H)), 0.5 * rng.standard_normal((H, H)), draw_bias(rng, None, H)
    W, bV = rng.standard_normal((H, V)), draw_bias(rng, None, V)

    h1 = R.run_simple_rnn_cell(x[:, 0], h0, Wx, Wh, b)
    assert isinstance(h1, np.ndarray) and h1.shape == (N, H)
    np.testing.assert_allclose(h1, np_rnn_step(x[:, 0], h0, Wx, Wh, b), rtol=0, atol=EXACT)

    h_seq, h_last = R.run_simple_rnn(x, h0, Wx, Wh, b)
    assert isinstance(h_seq, np.ndarray) and h_seq.shape == (N, T, H)
    assert isinstance(h_last, np.ndarray) and h_last.shape == (N, H)
    exp_seq, exp_last = np_rnn(x, h0, Wx, Wh, b)
    np.testing.assert_allclose(h_seq, exp_seq, rtol=0, atol=EXACT)
    np.testing.assert_allclose(h_last, exp_last, rtol=0, atol=EXACT)

    y = R.run_dense(h_seq, W, bV, activation="softmax")
    assert isinstance(y, np.ndarray) and y.shape == (N, T, V)
    np.testing.assert_allclose(y, np_dense(h_seq, W, bV, "softmax"), rtol=0, atol=EXACT)


# ----------------------------------------------------------------------------- gate converters
@pytest.mark.parametrize("gates, shape", [(R.LSTM_GATES, (3, 4 * 2)), (R.LSTM_GATES, (4 * 2,)),
                                          (R.GRU_GATES, (2, 3 * 5)), (R.GRU_GATES, (4, 3 * 5))])
def test_split_join_round_trip(gates, shape):
    fused = np.random.default_rng(8).standard_normal(shape)
    blocks = R.split_gates(fused, gates)
    assert list(blocks) == list(gates)
    H = shape[-1] // len(gates)
    for k, g in enumerate(gates):
        np.testing.assert_array_equal(blocks[g], fused[..., k * H:(k + 1) * H])
    np.testing.assert_array_equal(R.join_gates(blocks, gates), fused)


def test_join_gates_names_missing_gate():
    blocks = {g: np.ones((2, 3)) for g in ("i", "c", "o")}
    with pytest.raises(KeyError, match=r"missing \['f'\]"):
        R.join_gates(blocks, R.LSTM_GATES)


# ----------------------------------------------------------------------------- gradients
def _finite_difference_grads(dh_seq, args, eps=1e-6):
    """Central differences of sum(dh_seq * h_seq) with respect to each of x, h0, Wx, Wh, b."""
    def f(values):
        return float(np.sum(dh_seq * np_rnn(*values)[0]))
    grads = []
    for k, a in enumerate(args):
        g = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            plus = [v.copy() for v in args]
            minus = [v.copy() for v in args]
            plus[k][idx] += eps
            minus[k][idx] -= eps
            g[idx] = (f(plus) - f(minus)) / (2 * eps)
        grads.append(g)
    return grads


def test_simple_rnn_gradients_match_finite_differences():
    rng = np.random.default_rng(11)
    N, T, D, H = 2, 4, 3, 3
    args = [rng.normal(size=(N, T, D)), rng.uniform(-0.5, 0.5, (N, H)), rng.normal(0, 0.5, (D, H)),
            rng.normal(0, 0.5, (H, H)), rng.uniform(-0.5, 0.5, H)]
    dh_seq = rng.normal(size=(N, T, H))
    full = R.simple_rnn_gradients(dh_seq, *args)
    for got, want, name in zip(full, _finite_difference_grads(dh_seq, args), ["dx", "dh0", "dWx", "dWh", "db"]):
        np.testing.assert_allclose(got, want, atol=GRAD, err_msg=name)
    # A chunk as long as the sequence is no truncation at all.
    for got, want in zip(R.simple_rnn_gradients(dh_seq, *args, k=T), full):
        np.testing.assert_allclose(got, want, atol=SAME)


def test_truncated_gradients_stop_at_chunk_boundaries():
    """With k=1 each step sees only its own upstream gradient: dh0 comes from step 0 alone."""
    rng = np.random.default_rng(12)
    N, T, D, H = 2, 3, 2, 3
    args = [rng.normal(size=(N, T, D)), rng.uniform(-0.5, 0.5, (N, H)), rng.normal(0, 0.5, (D, H)),
            rng.normal(0, 0.5, (H, H)), rng.uniform(-0.5, 0.5, H)]
    dh_seq = rng.normal(size=(N, T, H))
    truncated = R.simple_rnn_gradients(dh_seq, *args, k=1)
    only_first = np.zeros_like(dh_seq)
    only_first[:, 0] = dh_seq[:, 0]
    np.testing.assert_allclose(truncated[1], R.simple_rnn_gradients(only_first, *args)[1], atol=SAME)
    x, h0, Wx, Wh, b = args
    h_seq = np_rnn(x, h0, Wx, Wh, b)[0]
    # dx at the last step only depends on that step's own gradient through one tanh.
    da = dh_seq[:, -1] * (1 - h_seq[:, -1] ** 2)
    np.testing.assert_allclose(truncated[0][:, -1], da @ Wx.T, atol=SAME)


# ----------------------------------------------------------------------------- TF oracles
# The gradient and clipping references are written for every Keras backend (rnnkit.autodiff and
# keras.ops). These are the TensorFlow-only forms they replaced; on TensorFlow both must agree.
def tf_simple_rnn_gradients(dh_seq, x, h0, Wx, Wh, b, k=None):
    x_t, h0_t = tf.constant(x), tf.constant(h0)
    if k is None:
        layer = R.simple_rnn(Wx, Wh, b, return_state=False)
        weights = layer.trainable_variables
        with tf.GradientTape() as tape:
            tape.watch([x_t, h0_t])
            h_seq = layer(x_t, initial_state=[h0_t])
    else:
        cell = R.simple_rnn_cell(Wx, Wh, b)
        weights = cell.trainable_variables
        with tf.GradientTape() as tape:
            tape.watch([x_t, h0_t])
            h, states = h0_t, []
            for t in range(x.shape[1]):
                if t > 0 and t % int(k) == 0:
                    h = tf.stop_gradient(h)
                h, _ = cell(x_t[:, t], [h])
                states.append(h)
            h_seq = tf.stack(states, axis=1)
    grads = tape.gradient(h_seq, [x_t, h0_t, *weights], output_gradients=tf.constant(dh_seq))
    return tuple(g.numpy() for g in grads)


def tf_state_jacobians(x, h0, Wx, Wh, b, **config):
    N, T, _ = x.shape
    H = Wh.shape[0]
    cell = R.simple_rnn_cell(Wx, Wh, b, **config)
    probe = tf.zeros((N, T + 1, H), dtype=tf.float64)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(probe)
        h = tf.constant(h0) + probe[:, 0]
        for t in range(T):
            h, _ = cell(tf.constant(x[:, t]), [h])
            h = h + probe[:, t + 1]
    return np.transpose(tape.batch_jacobian(h, probe, experimental_use_pfor=False).numpy(), (0, 2, 1, 3))


def tf_cross_entropy(logits, targets):
    z = tf.constant(logits)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    with tf.GradientTape() as tape:
        tape.watch(z)
        loss = loss_fn(tf.constant(targets), z)
    return loss.numpy(), tape.gradient(loss, z).numpy()


def _rnn_case(rng, N=2, T=5, D=3, H=4):
    return (rng.normal(size=(N, T, H)), rng.normal(size=(N, T, D)), rng.normal(size=(N, H)),
            rng.normal(size=(D, H)) * 0.5, rng.normal(size=(H, H)) * 0.5, rng.normal(size=H))


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the oracles are TensorFlow's")
@pytest.mark.parametrize("k", [None, 1, 2, 5])
def test_backend_neutral_gradients_equal_the_gradient_tape(k):
    """simple_rnn_gradients (stateless Keras calls and the backend's vjp) equals GradientTape's,
    for full BPTT and every truncation."""
    dh_seq, *args = _rnn_case(np.random.default_rng(7))
    for got, want in zip(R.simple_rnn_gradients(dh_seq, *args, k=k), tf_simple_rnn_gradients(dh_seq, *args, k=k)):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the oracles are TensorFlow's")
@pytest.mark.parametrize("config", [{}, {"activation": None}])
def test_backend_neutral_jacobians_equal_batch_jacobian(config):
    _, x, h0, Wx, Wh, b = _rnn_case(np.random.default_rng(8), N=3, T=4)
    np.testing.assert_allclose(R.state_jacobians(x, h0, Wx, Wh, b, **config),
                               tf_state_jacobians(x, h0, Wx, Wh, b, **config), rtol=0, atol=1e-12)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the oracles are TensorFlow's")
def test_backend_neutral_cross_entropy_equals_the_gradient_tape():
    """The loss and its gradient, and the loss's type (a NumPy scalar, as the views store it)."""
    rng = np.random.default_rng(9)
    logits, targets = rng.normal(size=(2, 3, 5)), rng.integers(0, 5, size=(2, 3))
    got, want = R.run_cross_entropy(logits, targets), tf_cross_entropy(logits, targets)
    assert type(got[0]) is type(want[0])
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=0, atol=1e-12)


@pytest.mark.parametrize("max_norm", [0.5, 100.0], ids=["clipped", "untouched"])
def test_keras_clipping_equals_tensorflows(max_norm):
    """The clipping references of JAX and PyTorch (Keras's global-norm clipping, keras.ops.clip)
    give TensorFlow's numbers on TensorFlow, and float_dtype()'s precision on other backends."""
    rng = np.random.default_rng(10)
    grads = [rng.normal(size=(3, 4)), rng.normal(size=5), rng.normal(size=(2, 2, 2))]
    clipped, norm = R.keras_clip_by_global_norm(grads, max_norm)
    np.testing.assert_allclose(norm, np.sqrt(sum((g ** 2).sum() for g in grads)), rtol=EXACT)
    scale = min(1.0, max_norm / norm)
    for c, g in zip(clipped, grads):
        np.testing.assert_allclose(c, g * scale, rtol=EXACT, atol=EXACT)
    for c, g in zip(R.keras_clip_by_value(grads, max_norm / 2), grads):
        np.testing.assert_array_equal(c, np.clip(g, -max_norm / 2, max_norm / 2).astype(R.float_dtype()))
    if keras.backend.backend() == "tensorflow":
        want, want_norm = tf.clip_by_global_norm([tf.constant(g) for g in grads], max_norm)
        np.testing.assert_array_equal(norm, want_norm.numpy())
        for c, w in zip(clipped, want):
            np.testing.assert_array_equal(c, w.numpy())
        for c, g in zip(R.keras_clip_by_value(grads, max_norm / 2), grads):
            np.testing.assert_array_equal(c, tf.clip_by_value(g, -max_norm / 2, max_norm / 2).numpy())


# ----------------------------------------------------------------------------- CTC
def np_log_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def np_collapse(path, blank):
    """Merge repeats, then drop blanks: (1, 1, 0, 1, 2, 2) -> (1, 1, 2) with blank 0."""
    merged = [p for k, p in enumerate(path) if k == 0 or p != path[k - 1]]
    return tuple(int(p) for p in merged if p != blank)


def np_ctc_loss(label, logits, blank):
    """-log p(label | logits) for one example by the forward (alpha) recursion in log space over
    the label with blanks around every symbol (2L + 1 states). logits (T, V), label (L,)."""
    logp = np_log_softmax(np.asarray(logits, np.float64))
    ext = [blank]
    for c in label:
        ext += [int(c), blank]
    S, T = len(ext), len(logp)
    alpha = np.full((T, S), -np.inf)
    alpha[0, 0] = logp[0, ext[0]]
    if S > 1:
        alpha[0, 1] = logp[0, ext[1]]
    for t in range(1, T):
        for s in range(S):
            terms = [alpha[t - 1, s]]
            if s >= 1:
                terms.append(alpha[t - 1, s - 1])
            if s >= 2 and ext[s] != blank and ext[s] != ext[s - 2]:
                terms.append(alpha[t - 1, s - 2])
            alpha[t, s] = np.logaddexp.reduce(terms) + logp[t, ext[s]]
    return -np.logaddexp.reduce(alpha[T - 1, max(S - 2, 0):])


def brute_force_ctc_loss(label, logits, blank):
    """-log of the summed probability of every path that collapses to `label` (V**T paths)."""
    import itertools
    logp = np_log_softmax(np.asarray(logits, np.float64))
    T, V = logp.shape
    total = [sum(logp[t, p] for t, p in enumerate(path)) for path in itertools.product(range(V), repeat=T)
             if np_collapse(path, blank) == tuple(label)]
    return -np.logaddexp.reduce(total)


def _ctc_case(rng, N=3, T=7, V=5, L=3, blank=0):
    logits = rng.normal(0, 2, size=(N, T, V))
    symbols = [v for v in range(V) if v != blank]
    labels = rng.choice(symbols, size=(N, L))
    labels[0, 1] = labels[0, 0]                         # a repeated label needs a blank between
    label_length = np.array([L, L - 1, 1][:N])
    logit_length = np.array([T, T - 1, T - 3][:N])
    return labels, logits, label_length, logit_length


def test_numpy_ctc_loss_equals_the_sum_over_every_path():
    """The oracle itself, against brute force on tiny cases: repeats, a blank not at 0."""
    rng = np.random.default_rng(20)
    for label, blank in (((1, 1), 0), ((2, 0, 2), 3), ((1,), 0), ((1, 2, 1), 0)):
        logits = rng.normal(0, 1.5, size=(5, 4))
        assert np_ctc_loss(label, logits, blank) == pytest.approx(brute_force_ctc_loss(label, logits, blank), rel=1e-12)


@pytest.mark.parametrize("blank", [0, 4])
def test_ctc_loss_is_the_forward_recursion(blank):
    """keras.ops.ctc_loss: -log p per example (no reduction), the blank at mask_index, only
    label_length labels and logit_length frames read; float32 even for float64 inputs."""
    labels, logits, label_length, logit_length = _ctc_case(np.random.default_rng(21), blank=blank)
    got = R.run_ctc_loss(labels, logits, label_length, logit_length, blank=blank)
    assert got.shape == (3,) and got.dtype == np.float32
    want = [np_ctc_loss(labels[n, :label_length[n]], logits[n, :logit_length[n]], blank) for n in range(3)]
    np.testing.assert_allclose(got, want, rtol=1e-5)
    padded = labels.copy()
    padded[1, label_length[1]:] = -7                     # padding is never read
    np.testing.assert_array_equal(R.run_ctc_loss(padded, logits, label_length, logit_length, blank=blank), got)


def test_greedy_ctc_decode_takes_each_frames_best_and_collapses():
    labels, logits, _, lengths = _ctc_case(np.random.default_rng(22))
    logits[0, 2:4] = 0.0
    logits[0, 2:4, 1] = 9.0                              # the same symbol twice in a row: merged
    decoded, score = R.run_ctc_decode(logits, lengths)
    T = logits.shape[1]
    assert decoded.shape == (3, T)
    for n in range(3):
        want = np_collapse(logits[n, :lengths[n]].argmax(-1), 0)
        assert tuple(decoded[n, :len(want)]) == want and np.all(decoded[n, len(want):] == -1)
        # Keras's greedy score: minus the sum of each frame's largest logit (not a log-probability)
        assert score[n] == pytest.approx(-logits[n, :lengths[n]].max(-1).sum(), rel=1e-5)


def test_beam_search_ctc_decode_finds_the_most_probable_labelling_of_a_tiny_case():
    """With a beam wider than every prefix, the best labelling by total probability (every path
    that collapses to it), found here by enumerating all paths."""
    import itertools
    rng = np.random.default_rng(23)
    logits = rng.normal(0, 1.5, size=(1, 4, 3))
    logp = np_log_softmax(logits[0])
    totals = collections.defaultdict(list)
    for path in itertools.product(range(3), repeat=4):
        totals[np_collapse(path, 0)].append(sum(logp[t, p] for t, p in enumerate(path)))
    best = max(totals, key=lambda k: np.logaddexp.reduce(totals[k]))
    decoded, score = R.run_ctc_decode(logits, [4], beam_width=32)
    assert tuple(decoded[0, :len(best)]) == best and np.all(decoded[0, len(best):] == -1)
    assert score[0] == pytest.approx(np.logaddexp.reduce(totals[best]), rel=1e-4)
