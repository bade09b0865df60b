"""Keras references with weights given as NumPy arrays, and the weight layouts written down once.

Notation (every notebook uses it): N batch, T time steps, D input features, H hidden units,
V vocabulary or output classes. Row vectors, batch-major sequences: x (N, T, D), h (N, H).

Keras weight layouts (Keras 3; checked by tests/test_reference.py against NumPy):

* SimpleRNN / SimpleRNNCell: ``kernel`` Wx (D, H), ``recurrent_kernel`` Wh (H, H), ``bias`` b (H,);
  ``h_t = tanh(x_t Wx + h_{t-1} Wh + b)``.
* Dense: ``kernel`` W (H, V), ``bias`` b (V,); ``y = activation(h W + b)`` on the last axis.
* LSTM / LSTMCell: kernel W (D, 4H), recurrent_kernel U (H, 4H), bias b (4H,), columns in the
  gate order **[i, f, c, o]** (input, forget, candidate, output); ``unit_forget_bias=True``
  initialises the forget slice of the bias to 1. Gates use sigmoid, candidate and output tanh:
  ``c_t = f * c_{t-1} + i * tanh(.)``, ``h_t = o * tanh(c_t)``.
* GRU / GRUCell with ``reset_after=True`` (the default): kernel W (D, 3H), recurrent_kernel
  U (H, 3H), bias b (2, 3H) (row 0 input bias, row 1 recurrent bias), columns **[z, r, h]**;
  ``h_t = z * h_{t-1} + (1 - z) * tanh(x W_h + b0_h + r * (h_{t-1} U_h + b1_h))``.
* ConvLSTM2D / ConvLSTM2DCell: kernel W (k, k, D, 4H), recurrent_kernel U (k, k, H, 4H), bias
  b (4H,), the LSTM's gate order **[i, f, c, o]** on the last axis; x_t (N, rows, cols, D),
  h and c (N, rows, cols, H). Every matrix product of the LSTM becomes a 2-D cross-correlation
  (no kernel flip); the input convolution uses the layer's padding, the recurrent one always
  "same".
* Bidirectional: weights of the forward layer, then the backward one; the backward half of the
  output equals ``forward(x[:, ::-1])[:, ::-1]``; merge_mode "concat" by default.
* Attention (dot, Luong): called as ``layer([query, value, key], mask=[None, value_mask],
  return_attention_scores=True)``, scores ``query key^T`` (no scaling unless use_scale), masked
  keys get ``-1e9`` before the softmax over the key axis. AdditiveAttention (Bahdanau) has one
  weight, ``scale`` v (A,), and scores ``sum_a v_a tanh(query_a + key_a)``: the projections
  query W1 and key W2 are Dense layers before it.

References are built in float64 on TensorFlow (float_dtype), so that a check measures the
student's error and not the reference's; on JAX and PyTorch, where Keras computes in float32
whatever a layer's dtype, they are float32.
"""
import numpy as np

from rnnkit import autodiff
from rnnkit.runtime import import_keras, import_tf

LSTM_GATES = ("i", "f", "c", "o")
GRU_GATES = ("z", "r", "h")
# How messages name a gate's block of columns.
GATE_NAMES = {"i": "input gate", "f": "forget gate", "c": "candidate", "o": "output gate",
              "z": "update gate", "r": "reset gate", "h": "candidate"}


def _keras():
    return import_keras()


def float_dtype():
    """The dtype references are built in: float64 on TensorFlow; float32 on JAX and PyTorch, where
    Keras's ops compute float64 in float32 anyway (keras.src.backend.common.dtypes.
    BIT64_TO_BIT32_DTYPE) and a float64 SimpleRNN fails inside jax.lax.scan."""
    return "float64" if _keras().backend.backend() == "tensorflow" else "float32"


def float64_unary(name):
    """keras.ops' elementwise function `name` ("tanh", "sin"), in a form that keeps float64 on
    every backend: keras.ops' own on TensorFlow; the backend's elsewhere, where keras.ops computes
    a float64 tanh in float32. As the activation of a float64 SimpleRNN(unroll=True), whose
    matmuls and sums keep float64, it makes the layer float64 throughout, as finite differences
    need."""
    keras = _keras()
    backend = keras.backend.backend()
    if backend == "jax":
        import jax.numpy as jnp
        return getattr(jnp, name)
    if backend == "torch":
        import torch
        return getattr(torch, name)
    return getattr(keras.ops, name)


def to_numpy(t):
    """A backend tensor (or anything array-like) as a NumPy array; on PyTorch, detached from the
    autograd graph (np.asarray refuses a tensor that requires grad)."""
    return np.asarray(_keras().ops.convert_to_numpy(t))


# ----------------------------------------------------------------------------- weight converters
def split_gates(kernel, gates):
    """Split a fused kernel (..., len(gates) * H) into a dict gate -> (..., H) in Keras's order."""
    kernel = np.asarray(kernel)
    parts = np.split(kernel, len(gates), axis=-1)
    return dict(zip(gates, parts))


def join_gates(per_gate, gates):
    """Inverse of split_gates: concatenate per-gate blocks along the last axis in `gates` order."""
    missing = [g for g in gates if g not in per_gate]
    if missing:
        raise KeyError(f"expected blocks for gates {list(gates)}, missing {missing}.")
    return np.concatenate([np.asarray(per_gate[g]) for g in gates], axis=-1)


# ----------------------------------------------------------------------------- builders
def simple_rnn_cell(Wx, Wh, b, activation="tanh", use_bias=True, dtype=None):
    """A built keras.layers.SimpleRNNCell holding Wx (D, H), Wh (H, H) and b (H,)."""
    keras = _keras()
    D, H = np.shape(Wx)
    cell = keras.layers.SimpleRNNCell(H, activation=activation, use_bias=use_bias, dtype=dtype or float_dtype())
    cell.build((None, D))
    cell.set_weights([Wx, Wh, b] if use_bias else [Wx, Wh])
    return cell


def simple_rnn(Wx, Wh, b, activation="tanh", use_bias=True, go_backwards=False,
               return_sequences=True, return_state=True, dtype=None, **config):
    """A built keras.layers.SimpleRNN holding Wx (D, H), Wh (H, H) and b (H,); `config` goes to
    the layer (e.g. unroll=True)."""
    keras = _keras()
    D, H = np.shape(Wx)
    layer = keras.layers.SimpleRNN(H, activation=activation, use_bias=use_bias,
                                   go_backwards=go_backwards, return_sequences=return_sequences,
                                   return_state=return_state, dtype=dtype or float_dtype(), **config)
    layer.build((None, None, D))
    layer.set_weights([Wx, Wh, b] if use_bias else [Wx, Wh])
    return layer


def dense(W, b, activation=None, use_bias=True, dtype=None):
    """A built keras.layers.Dense holding W (H, V) and b (V,)."""
    keras = _keras()
    H, V = np.shape(W)
    layer = keras.layers.Dense(V, activation=activation, use_bias=use_bias, dtype=dtype or float_dtype())
    layer.build((None, H))
    layer.set_weights([W, b] if use_bias else [W])
    return layer


def _gated(layer_name, gates, W, U, b, return_sequences, return_state, dtype, **kwargs):
    keras = _keras()
    dtype = dtype or float_dtype()
    D, fused = np.shape(W)
    layer = getattr(keras.layers, layer_name)(fused // len(gates), return_sequences=return_sequences,
                                              return_state=return_state, dtype=dtype, **kwargs)
    layer.build((None, None, D))
    layer.set_weights([W, U, b])
    return layer


def lstm(W, U, b, return_sequences=True, return_state=True, dtype=None, **kwargs):
    """A built keras.layers.LSTM holding W (D, 4H), U (H, 4H), b (4H,), columns [i, f, c, o]."""
    return _gated("LSTM", LSTM_GATES, W, U, b, return_sequences, return_state, dtype, **kwargs)


def gru(W, U, b, return_sequences=True, return_state=True, dtype=None, **kwargs):
    """A built keras.layers.GRU (reset_after=True) holding W (D, 3H), U (H, 3H), b (2, 3H)."""
    return _gated("GRU", GRU_GATES, W, U, b, return_sequences, return_state, dtype, **kwargs)


def _gated_cell(cell_name, gates, W, U, b, dtype, **kwargs):
    keras = _keras()
    D, fused = np.shape(W)
    cell = getattr(keras.layers, cell_name)(fused // len(gates), dtype=dtype or float_dtype(), **kwargs)
    cell.build((None, D))
    cell.set_weights([W, U, b])
    return cell


def lstm_cell(W, U, b, dtype=None, **kwargs):
    """A built keras.layers.LSTMCell holding W (D, 4H), U (H, 4H), b (4H,), columns [i, f, c, o]."""
    return _gated_cell("LSTMCell", LSTM_GATES, W, U, b, dtype, **kwargs)


def gru_cell(W, U, b, dtype=None, **kwargs):
    """A built keras.layers.GRUCell (reset_after=True) holding W (D, 3H), U (H, 3H), b (2, 3H)."""
    return _gated_cell("GRUCell", GRU_GATES, W, U, b, dtype, **kwargs)


# ----------------------------------------------------------------------------- runners (NumPy in, NumPy out)
def conv_lstm2d(W, U, b, frame_shape, padding="same", dtype=None, **kwargs):
    """A built keras.layers.ConvLSTM2D for frames (rows, cols) holding W, U, b; it returns its
    output sequence and both states (Keras needs the frame size when it builds the layer)."""
    keras = _keras()
    k_rows, k_cols, D, H4 = np.shape(W)
    layer = keras.layers.ConvLSTM2D(H4 // 4, (k_rows, k_cols), padding=padding,
                                    return_sequences=True, return_state=True, dtype=dtype or float_dtype(), **kwargs)
    layer.build((None, None, *frame_shape, D))
    layer.set_weights([W, U, b])
    return layer


def _floats(*arrays):
    """The arrays in the dtype references are built in (float_dtype)."""
    return [np.asarray(a, dtype=float_dtype()) for a in arrays]


def run_simple_rnn_cell(x_t, h_prev, Wx, Wh, b, **config):
    """h_next (N, H) from keras.layers.SimpleRNNCell for one step."""
    x_t, h_prev, Wx, Wh, b = _floats(x_t, h_prev, Wx, Wh, b)
    cell = simple_rnn_cell(Wx, Wh, b, **config)
    out, _ = cell(x_t, [h_prev])
    return to_numpy(out)


def run_simple_rnn(x, h0, Wx, Wh, b, **config):
    """(h_seq (N, T, H), h_last (N, H)) from keras.layers.SimpleRNN started at h0."""
    x, h0, Wx, Wh, b = _floats(x, h0, Wx, Wh, b)
    layer = simple_rnn(Wx, Wh, b, return_sequences=True, return_state=True, **config)
    h_seq, h_last = layer(x, initial_state=[h0])
    return to_numpy(h_seq), to_numpy(h_last)


def run_lstm_cell(x_t, h_prev, c_prev, W, U, b, **config):
    """(h_next, c_next), each (N, H), from keras.layers.LSTMCell for one step."""
    x_t, h_prev, c_prev, W, U, b = _floats(x_t, h_prev, c_prev, W, U, b)
    h, (h2, c) = lstm_cell(W, U, b, **config)(x_t, [h_prev, c_prev])
    return to_numpy(h), to_numpy(c)


def run_lstm(x, h0, c0, W, U, b, **config):
    """(h_seq (N, T, H), h_last, c_last) from keras.layers.LSTM started at (h0, c0)."""
    x, h0, c0, W, U, b = _floats(x, h0, c0, W, U, b)
    h_seq, h_last, c_last = lstm(W, U, b, **config)(x, initial_state=[h0, c0])
    return to_numpy(h_seq), to_numpy(h_last), to_numpy(c_last)


def run_gru_cell(x_t, h_prev, W, U, b, **config):
    """h_next (N, H) from keras.layers.GRUCell (reset_after=True) for one step."""
    x_t, h_prev, W, U, b = _floats(x_t, h_prev, W, U, b)
    h, _ = gru_cell(W, U, b, **config)(x_t, [h_prev])
    return to_numpy(h)


def run_gru(x, h0, W, U, b, **config):
    """(h_seq (N, T, H), h_last) from keras.layers.GRU started at h0."""
    x, h0, W, U, b = _floats(x, h0, W, U, b)
    h_seq, h_last = gru(W, U, b, **config)(x, initial_state=[h0])
    return to_numpy(h_seq), to_numpy(h_last)


def run_conv_lstm2d_cell(x_t, h_prev, c_prev, W, U, b, **config):
    """One ConvLSTM2D step: (h_next, c_next), each (N, rows, cols, H), as NumPy arrays."""
    x_t, h_prev, c_prev = _floats(x_t, h_prev, c_prev)
    layer = conv_lstm2d(*_floats(W, U, b), frame_shape=x_t.shape[1:3], **config)
    _, h, c = layer(x_t[:, None], initial_state=[h_prev, c_prev])
    return to_numpy(h), to_numpy(c)


def run_dense(h, W, b, **config):
    """Dense applied on the last axis of h (any rank), e.g. (N, T, H) -> (N, T, V)."""
    h, W, b = _floats(h, W, b)
    return to_numpy(dense(W, b, **config)(h))


def run_dot_attention(query, keys, values, mask=None, **config):
    """(context (N, Tq, Dv), weights (N, Tq, Tk)) from keras.layers.Attention (dot scores)."""
    query, keys, values = _floats(query, keys, values)
    layer = _keras().layers.Attention(dtype=float_dtype(), **config)
    mask = None if mask is None else np.asarray(mask, bool)
    context, weights = layer([query, values, keys], mask=[None, mask], return_attention_scores=True)
    return to_numpy(context), to_numpy(weights)


def run_additive_attention(query, keys, values, mask, W1, W2, v):
    """(context, weights) of Bahdanau attention: keras.layers.Dense projections (W1 on the query,
    W2 on the keys, no bias) feeding keras.layers.AdditiveAttention whose scale is v (A,)."""
    query, keys, values, W1, W2, v = _floats(query, keys, values, W1, W2, v)
    keras = _keras()
    project_q = dense(W1, None, use_bias=False)
    project_k = dense(W2, None, use_bias=False)
    q, k = project_q(query), project_k(keys)
    layer = keras.layers.AdditiveAttention(use_scale=True, dtype=float_dtype())
    layer.build([tuple(q.shape), tuple(values.shape), tuple(k.shape)])
    layer.set_weights([v])
    mask = None if mask is None else np.asarray(mask, bool)
    context, weights = layer([q, values, k], mask=[None, mask], return_attention_scores=True)
    return to_numpy(context), to_numpy(weights)


# ----------------------------------------------------------------------------- gradients (automatic differentiation)
def simple_rnn_gradients(dh_seq, x, h0, Wx, Wh, b, k=None):
    """Gradients (dx, dh0, dWx, dWh, db) of sum(dh_seq * h_seq) for a SimpleRNN, by the backend's
    automatic differentiation (tf.GradientTape on TensorFlow; rnnkit.autodiff).

    dh_seq (N, T, H) is the upstream gradient on every hidden state. With ``k=None`` the whole
    keras.layers.SimpleRNN is differentiated: full backpropagation through time. With an integer
    k, a SimpleRNNCell is stepped and the state entering steps k, 2k, ... goes through
    ``keras.ops.stop_gradient``: truncated BPTT over chunks of k steps.
    """
    ops = _keras().ops
    dh_seq, x, h0, Wx, Wh, b = _floats(dh_seq, x, h0, Wx, Wh, b)
    if k is None:
        layer = simple_rnn(Wx, Wh, b, return_state=False)
        fixed = [v.value for v in layer.non_trainable_variables]      # its dropout seed

        def h_seq(x, h0, *weights):
            return layer.stateless_call(list(weights), fixed, x, initial_state=[h0])[0]
    else:
        cell = simple_rnn_cell(Wx, Wh, b)
        fixed = [v.value for v in cell.non_trainable_variables]

        def h_seq(x, h0, *weights):
            h, states = h0, []
            for t in range(x.shape[1]):
                if t > 0 and t % int(k) == 0:
                    h = ops.stop_gradient(h)
                h = cell.stateless_call(list(weights), fixed, x[:, t], [h])[0][0]
                states.append(h)
            return ops.stack(states, axis=1)
    return tuple(autodiff.vjp(h_seq, [x, h0, Wx, Wh, b], dh_seq))


# ----------------------------------------------------------------------------- time series (notebook 08)
def run_timeseries_windows(series, input_width, horizon, stride=1):
    """X (N, W, D), Y (N, K, D) by keras.utils.timeseries_dataset_from_array: every window of
    W + K steps that starts at a multiple of `stride`, split into its first W steps (the input)
    and its last K (the target)."""
    keras = _keras()
    series = np.asarray(series, float_dtype())
    length = int(input_width) + int(horizon)
    dataset = keras.utils.timeseries_dataset_from_array(
        series, None, sequence_length=length, sequence_stride=int(stride), batch_size=4096,
        shuffle=False)
    windows = np.concatenate([to_numpy(batch) for batch in dataset], axis=0)
    return windows[:, :input_width], windows[:, input_width:]


def run_normalization(train, test):
    """Both splits through keras.layers.Normalization adapted on `train` alone (per-feature mean
    and population variance): (train_z, test_z)."""
    keras = _keras()
    layer = keras.layers.Normalization(axis=-1, dtype=float_dtype())
    layer.adapt(np.asarray(train, float_dtype()))
    return to_numpy(layer(np.asarray(train, float_dtype()))), to_numpy(layer(np.asarray(test, float_dtype())))


def _mae(a, b):
    metric = _keras().metrics.MeanAbsoluteError(dtype=float_dtype())
    metric.update_state(np.ravel(np.asarray(a, float_dtype())), np.ravel(np.asarray(b, float_dtype())))
    return float(to_numpy(metric.result()))


def run_mase(y_true, y_pred, y_train, season=1):
    """MAE(y_true, y_pred) / MAE(y_train[S:], y_train[:-S]), both by keras.metrics.MeanAbsoluteError:
    the error relative to the seasonal naive forecast's in-sample error on the training series."""
    y_train = np.asarray(y_train, float_dtype())
    return np.asarray(_mae(y_true, y_pred) / _mae(y_train[season:], y_train[:-season]))


def run_rolling_zscore(residuals, window, threshold):
    """scores (T,), flags (T,): |r_t - mean| / std over the previous `window` values, by keras.ops
    on a (T - window, window) stack of those windows; 0 where fewer than `window` values precede."""
    ops = _keras().ops
    r = np.asarray(residuals, float_dtype())
    T, window = len(r), int(window)
    scores = np.zeros(T)
    if T > window:
        past = np.lib.stride_tricks.sliding_window_view(r, window)[:-1]       # (T - window, window)
        mean, std = ops.mean(past, axis=-1), ops.std(past, axis=-1)
        scores[window:] = to_numpy(ops.abs(ops.subtract(r[window:], mean)) / std)
    return scores, scores > threshold


# ----------------------------------------------------------------------------- references of the exercises
def run_bidirectional(x, forward_fn, backward_fn, merge_mode):
    """y (N, T, M) from keras.layers.Bidirectional of two SimpleRNN layers holding the weights of
    forward_fn and backward_fn."""
    keras = _keras()
    D = np.shape(x)[-1]
    layer = keras.layers.Bidirectional(forward_fn.keras_layer(), backward_layer=backward_fn.keras_layer(
        go_backwards=True), merge_mode=merge_mode, dtype=float_dtype())
    layer.build((None, None, D))
    layer.set_weights([*(np.asarray(w, float_dtype()) for w in forward_fn.weights),
                       *(np.asarray(w, float_dtype()) for w in backward_fn.weights)])
    return to_numpy(layer(np.asarray(x, float_dtype())))


def run_stack(x, layer_fns):
    """keras.Sequential of the layers of layer_fns (each returning sequences): h_seq (N, T, H)."""
    keras = _keras()
    model = keras.Sequential([keras.Input((None, np.shape(x)[-1]), dtype=float_dtype())]
                             + [fn.keras_layer() for fn in layer_fns])
    for layer, fn in zip(model.layers, layer_fns):
        layer.set_weights([np.asarray(w, float_dtype()) for w in fn.weights])
    return to_numpy(model(np.asarray(x, float_dtype())))


def run_masked_simple_rnn(x, mask, h0, Wx, Wh, b):
    """(h_seq (N, T, H), h_last (N, H)) from keras.layers.SimpleRNN called with mask= (N, T).

    Unrolled: the backends agree then that a padded step outputs the previous step's output, and
    zeros before the first real step. (JAX's lax.scan loop, unroll=False, outputs h0 there instead.)
    """
    layer = simple_rnn(*(np.asarray(a, float_dtype()) for a in (Wx, Wh, b)), unroll=True)
    h_seq, h_last = layer(np.asarray(x, float_dtype()), mask=np.asarray(mask, bool),
                          initial_state=[np.asarray(h0, float_dtype())])
    return to_numpy(h_seq), to_numpy(h_last)


def run_cross_entropy(logits, targets):
    """(loss, dloss/dlogits (N, T, V)) of SparseCategoricalCrossentropy(from_logits=True), the
    gradient by the backend's automatic differentiation (rnnkit.autodiff)."""
    keras = _keras()
    z = np.asarray(logits, float_dtype())
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    targets = np.asarray(targets)
    loss = to_numpy(loss_fn(targets, z))[()]                # a NumPy scalar, as Keras returns it
    (grad,) = autodiff.vjp(lambda z: loss_fn(keras.ops.convert_to_tensor(targets), z), [z], np.ones_like(loss))
    return loss, grad


def run_perplexity(probs, targets):
    """exp(SparseCategoricalCrossentropy) of probs (N, T, V) and integer targets (N, T)."""
    keras = _keras()
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=False)
    return float(np.exp(to_numpy(loss(np.asarray(targets), np.asarray(probs, float_dtype())))))


def run_shift_right(targets, start_id):
    """keras.ops.concatenate([a start column, targets[:, :-1]]): the decoder's inputs (N, Ty)."""
    keras = _keras()
    ops = keras.ops
    targets = ops.convert_to_tensor(np.asarray(targets))
    start = ops.full((ops.shape(targets)[0], 1), start_id, dtype=targets.dtype)
    return to_numpy(ops.concatenate([start, targets[:, :-1]], axis=1))


def run_masked_loss(targets, probs, mask):
    """SparseCategoricalCrossentropy with the mask as sample weights (mean_with_sample_weight)."""
    keras = _keras()
    loss = keras.losses.SparseCategoricalCrossentropy(reduction="mean_with_sample_weight", dtype=float_dtype())
    return to_numpy(loss(np.asarray(targets), np.asarray(probs, float_dtype()),
                    sample_weight=np.asarray(mask, float_dtype())))


def run_repeat_last(X, horizon):
    """The last step of each window repeated K times (keras.ops.repeat)."""
    keras = _keras()
    return to_numpy(keras.ops.repeat(np.asarray(X, float_dtype())[:, -1:, :], int(horizon), axis=1))


def run_seasonal_take(X, season, horizon):
    """keras.ops.take of the steps W - S + (k mod S) along the time axis."""
    keras = _keras()
    X = np.asarray(X, float_dtype())
    idx = X.shape[1] - int(season) + np.arange(int(horizon)) % int(season)
    return to_numpy(keras.ops.take(X, idx, axis=1))


def run_dense_softmax(h_seq, Wy, by):
    """probs (N, T, V) from keras.layers.Dense(V, activation="softmax") on h_seq (N, T, H)."""
    return run_dense(h_seq, Wy, by, activation="softmax")


def run_many_to_one(x, h0, Wx, Wh, b, Wy, by):
    """probs (N, V): keras.layers.SimpleRNN's last state through Dense(V, activation="softmax")."""
    _, h_last = run_simple_rnn(x, h0, Wx, Wh, b)
    return run_dense(h_last, Wy, by, activation="softmax")


def run_one_to_many(x0, h0, Wx, Wh, b, Wy, by, T):
    """probs (N, T, V): a SimpleRNNCell and Dense(softmax) stepped T times from x0 (N, V) and h0,
    each step's probabilities the next step's input."""
    cell = simple_rnn_cell(*_floats(Wx, Wh, b))
    out = dense(*_floats(Wy, by), activation="softmax")
    x, h = _floats(x0, h0)
    probs = []
    for _ in range(int(T)):
        h = to_numpy(cell(x, [h])[0])
        x = to_numpy(out(h))
        probs.append(x)
    return np.stack(probs, axis=1)


def run_encoder_decoder(x, h0, enc, dec, Wy, by, Ty):
    """probs (N, Ty, V): keras.layers.SimpleRNN with the weights `enc` reads x (N, Tx, D) from h0;
    its last state starts run_one_to_many with the weights `dec`, from a zero first input."""
    _, h_enc = run_simple_rnn(x, h0, *enc)
    return run_one_to_many(np.zeros((np.shape(x)[0], np.shape(Wy)[1])), h_enc, *dec, Wy, by, Ty)


def state_jacobians(x, h0, Wx, Wh, b, **config):
    """Every d h_T / d h_k of a SimpleRNN, by the backend's automatic differentiation, in
    float_dtype().

    keras.layers.SimpleRNNCell is stepped in a loop; a zero tensor `probe` is added to every
    state (h0 included), so that the derivative of h_T with respect to `probe` gives the derivative
    with respect to each state (rnnkit.autodiff.jacobian_rows: one vjp per unit of h_T).

    Args:
        x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,): as in rnn_forward.
        **config: keras.layers.SimpleRNNCell settings (e.g. activation=None).

    Returns:
        J of shape (N, T + 1, H, H): J[n, k, i, j] = d h_T[n, i] / d h_k[n, j], where h_0 = h0 and
        h_k = h_seq[:, k - 1] for k >= 1 (so J[:, T] is the identity).
    """
    ops = _keras().ops
    x, h0, Wx, Wh, b = _floats(x, h0, Wx, Wh, b)
    N, T, _ = x.shape
    H = Wh.shape[0]
    cell = simple_rnn_cell(Wx, Wh, b, **config)

    def h_last(probe):
        h = ops.convert_to_tensor(h0) + probe[:, 0]
        for t in range(T):
            h, _ = cell(ops.convert_to_tensor(x[:, t]), [h])
            h = h + probe[:, t + 1]
        return h

    J = autodiff.jacobian_rows(h_last, np.zeros((N, T + 1, H)), H)      # (N, H, T + 1, H)
    return np.transpose(J, (0, 2, 1, 3))


def run_jacobian_norms(x, h0, Wx, Wh, b):
    """norms (T,): the Frobenius norm of d h_T / d h_t for t = 1..T (state_jacobians), averaged
    over the batch."""
    J = state_jacobians(x, h0, Wx, Wh, b)[:, 1:]
    return np.linalg.norm(J, axis=(-2, -1)).mean(axis=0)


def run_clip_by_global_norm(grads, max_norm):
    """([clipped arrays], global norm before clipping): tf.clip_by_global_norm on TensorFlow, Keras's
    own on JAX and PyTorch (keras_clip_by_global_norm).

    Library calls, not code written out in keras.ops: this module is in the students' hands, and
    an implementation here would answer the exercise. Both are the exercise's forbidden names.
    """
    if _keras().backend.backend() != "tensorflow":
        return keras_clip_by_global_norm(grads, max_norm)
    tf, _ = import_tf()
    clipped, norm = tf.clip_by_global_norm([tf.constant(np.asarray(g, np.float64)) for g in grads], max_norm)
    return [to_numpy(c) for c in clipped], to_numpy(norm)


def keras_clip_by_global_norm(grads, max_norm):
    """([clipped arrays], global norm before clipping) in float_dtype(), from the functions a Keras
    optimizer's global_clipnorm runs (keras.src.optimizers.base_optimizer: global_norm and
    clip_by_global_norm); on every backend."""
    from keras.src.optimizers import base_optimizer
    tensors = [_keras().ops.convert_to_tensor(g) for g in _floats(*grads)]
    return ([to_numpy(c) for c in base_optimizer.clip_by_global_norm(tensors, max_norm)],
            to_numpy(base_optimizer.global_norm(tensors)))


def run_clip_by_value(grads, limit):
    """[each array clipped to [-limit, limit]]: tf.clip_by_value on TensorFlow, keras.ops.clip on
    JAX and PyTorch (library calls, as above)."""
    if _keras().backend.backend() != "tensorflow":
        return keras_clip_by_value(grads, limit)
    tf, _ = import_tf()
    return [to_numpy(tf.clip_by_value(tf.constant(np.asarray(g, np.float64)), -float(limit), float(limit)))
            for g in grads]


def keras_clip_by_value(grads, limit):
    """[each array clipped to [-limit, limit]] in float_dtype() by keras.ops.clip; on every backend."""
    clip = _keras().ops.clip
    return [to_numpy(clip(g, -float(limit), float(limit))) for g in _floats(*grads)]


def run_attention_decoder_step(y_prev, h_prev, enc_seq, enc_mask, cell, combine, Wy, by):
    """One Luong decoder step: (probs (N, V), h_next (N, H), weights (N, Tx)). A GRUCell with the
    weights `cell` steps from h_prev on y_prev; keras.layers.Attention with the query h_next reads
    enc_seq (keys and values) under enc_mask; Dense(tanh) with the weights `combine` joins
    [context, h_next]; Dense(softmax) with Wy, by gives the probabilities."""
    h_next = run_gru_cell(y_prev, h_prev, *cell)
    context, weights = run_dot_attention(h_next[:, None, :], enc_seq, enc_seq, enc_mask)
    h_att = run_dense(np.concatenate([context[:, 0], h_next], axis=-1), *combine, activation="tanh")
    return run_dense(h_att, Wy, by, activation="softmax"), h_next, weights[:, 0]


# ----------------------------------------------------------------------------- CTC (notebook 10)
def run_ctc_loss(labels, logits, label_length, logit_length, blank=0):
    """loss (N,): -log p(labels | logits) of each example, from keras.ops.ctc_loss (no reduction;
    the blank is its mask_index). Keras computes it in float32 whatever the inputs' dtype.

    Args:
        labels: int (N, L), each row's first label_length[n] entries (padding is never read);
        logits: float (N, T, V), unnormalised scores (Keras applies the log-softmax);
        label_length, logit_length: int (N,): the labels and frames that count;
        blank: int, the blank's index in 0..V-1.
    """
    ops = _keras().ops
    return to_numpy(ops.ctc_loss(np.asarray(labels, "int32"), np.asarray(logits, "float32"),
                                 np.asarray(label_length, "int32"), np.asarray(logit_length, "int32"),
                                 mask_index=int(blank)))


def run_ctc_decode(logits, lengths, blank=0, beam_width=None):
    """(labels (N, T) int, -1 after each sequence's end; score (N,)) from keras.ops.ctc_decode:
    greedy (the best frame by frame, repeats merged, blanks dropped; its score is minus the sum
    of each frame's largest *logit*), or, with beam_width, the best path of its beam search (its
    score is that path's log-probability)."""
    ops = _keras().ops
    strategy = "greedy" if beam_width is None else "beam_search"
    extra = {} if beam_width is None else {"beam_width": int(beam_width), "top_paths": 1}
    decoded, score = ops.ctc_decode(np.asarray(logits, "float32"), np.asarray(lengths, "int32"),
                                    strategy=strategy, mask_index=int(blank), **extra)
    return to_numpy(decoded)[0].astype(np.int64), to_numpy(score)[:, 0]
