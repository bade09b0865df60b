"""Uncatalogued wrong implementations of 02_bptt, and what diagnosis should find."""

NOTEBOOK = '02_bptt'

# exercise name -> [(what the student did, acceptable findings, student source)].
# Sources may call the notebook's given rnn_forward and the correct rnn_backward
# (truncated_bptt_grads must call rnn_backward).
WRONG = {
    "softmax_cross_entropy": [
        ("loss sign forgotten (mean log-probability, not its negative)",
         [("transform", "negated")], """
def softmax_cross_entropy(logits, targets):
    z = logits - logits.max(axis=-1, keepdims=True)
    log_probs = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    picked = np.take_along_axis(log_probs, targets[..., None], axis=-1)
    loss = np.mean(picked)
    one_hot = np.eye(logits.shape[-1])[targets]
    return loss, (np.exp(log_probs) - one_hot) / targets.size
"""),
        ("loss averaged over the V classes too (mean of one_hot * log_probs)",
         [("transform", "scaled")], """
def softmax_cross_entropy(logits, targets):
    z = logits - logits.max(axis=-1, keepdims=True)
    log_probs = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    one_hot = np.eye(logits.shape[-1])[targets]
    loss = -np.mean(one_hot * log_probs)
    return loss, (np.exp(log_probs) - one_hot) / targets.size
"""),
        ("max shift done in place on the logits (logits -= ...)",
         [("in_place", "logits")], """
def softmax_cross_entropy(logits, targets):
    logits -= logits.max(axis=-1, keepdims=True)
    log_probs = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    picked = np.take_along_axis(log_probs, targets[..., None], axis=-1)
    loss = -picked.mean()
    one_hot = np.eye(logits.shape[-1])[targets]
    return loss, (np.exp(log_probs) - one_hot) / targets.size
"""),
        ("gradient of -z_y only (softmax term missing from dlogits)",
         [("ignores", "logits")], """
def softmax_cross_entropy(logits, targets):
    z = logits - logits.max(axis=-1, keepdims=True)
    log_probs = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    picked = np.take_along_axis(log_probs, targets[..., None], axis=-1)
    loss = -picked.mean()
    one_hot = np.eye(logits.shape[-1])[targets]
    return loss, -one_hot / targets.size
"""),
    ],
    "rnn_backward": [
        ("upstream gradient used at the last step only (dh_seq[:, t] not added)",
         [("agrees_when", "upstream at last step"), ("ignores", "dh_seq")], """
def rnn_backward(dh_seq, x, h0, Wx, Wh, b):
    h_seq, _ = rnn_forward(x, h0, Wx, Wh, b)
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dh = dh_seq[:, -1]
    for t in reversed(range(x.shape[1])):
        h = h_seq[:, t]
        h_prev = h_seq[:, t - 1] if t > 0 else h0
        da = dh * (1 - h ** 2)
        dx[:, t] = da @ Wx.T
        dWx += x[:, t].T @ da
        dWh += h_prev.T @ da
        db += da.sum(axis=0)
        dh = da @ Wh.T
    return dx, dh, dWx, dWh, db
"""),
        ("loop range(T - 1, 0, -1): step 0 skipped",
         [("starts", "first step"), ("ignores", "dh_seq")], """
def rnn_backward(dh_seq, x, h0, Wx, Wh, b):
    h_seq, _ = rnn_forward(x, h0, Wx, Wh, b)
    T = x.shape[1]
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dh_next = np.zeros_like(h0)
    for t in range(T - 1, 0, -1):
        da = (dh_seq[:, t] + dh_next) * (1 - h_seq[:, t] ** 2)
        dx[:, t] = da @ Wx.T
        dWx += x[:, t].T @ da
        dWh += h_seq[:, t - 1].T @ da
        db += da.sum(axis=0)
        dh_next = da @ Wh.T
    return dx, dh_next, dWx, dWh, db
"""),
        ("db averaged over the batch (mean instead of sum)",
         [("transform", "scaled")], """
def rnn_backward(dh_seq, x, h0, Wx, Wh, b):
    h_seq, _ = rnn_forward(x, h0, Wx, Wh, b)
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dh_next = np.zeros_like(h0)
    for t in reversed(range(x.shape[1])):
        h = h_seq[:, t]
        h_prev = h_seq[:, t - 1] if t > 0 else h0
        da = (dh_seq[:, t] + dh_next) * (1 - h ** 2)
        dx[:, t] = da @ Wx.T
        dWx += x[:, t].T @ da
        dWh += h_prev.T @ da
        db += da.mean(axis=0)
        dh_next = da @ Wh.T
    return dx, dh_next, dWx, dWh, db
"""),
        ("dWh transposed (da.T @ h_prev)",
         [("transform", "transposed")], """
def rnn_backward(dh_seq, x, h0, Wx, Wh, b):
    h_seq, _ = rnn_forward(x, h0, Wx, Wh, b)
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dh_next = np.zeros_like(h0)
    for t in reversed(range(x.shape[1])):
        h = h_seq[:, t]
        h_prev = h_seq[:, t - 1] if t > 0 else h0
        da = (dh_seq[:, t] + dh_next) * (1 - h ** 2)
        dx[:, t] = da @ Wx.T
        dWx += x[:, t].T @ da
        dWh += da.T @ h_prev
        db += da.sum(axis=0)
        dh_next = da @ Wh.T
    return dx, dh_next, dWx, dWh, db
"""),
        ("tanh derivative applied to dh_seq[:, t] only, not to the carried gradient",
         [("agrees_when", "one step"), ("starts", "before the last step")], """
def rnn_backward(dh_seq, x, h0, Wx, Wh, b):
    h_seq, _ = rnn_forward(x, h0, Wx, Wh, b)
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dh_next = np.zeros_like(h0)
    for t in reversed(range(x.shape[1])):
        h = h_seq[:, t]
        h_prev = h_seq[:, t - 1] if t > 0 else h0
        da = dh_seq[:, t] * (1 - h ** 2) + dh_next
        dx[:, t] = da @ Wx.T
        dWx += x[:, t].T @ da
        dWh += h_prev.T @ da
        db += da.sum(axis=0)
        dh_next = da @ Wh.T
    return dx, dh_next, dWx, dWh, db
"""),
        ("carried gradient added into dh_seq in place (dh_seq[:, t] += dh_next)",
         [("in_place", "dh_seq")], """
def rnn_backward(dh_seq, x, h0, Wx, Wh, b):
    h_seq, _ = rnn_forward(x, h0, Wx, Wh, b)
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dh_next = np.zeros_like(h0)
    for t in reversed(range(x.shape[1])):
        h_prev = h_seq[:, t - 1] if t > 0 else h0
        dh_seq[:, t] += dh_next
        da = dh_seq[:, t] * (1 - h_seq[:, t] ** 2)
        dx[:, t] = da @ Wx.T
        dWx += x[:, t].T @ da
        dWh += h_prev.T @ da
        db += da.sum(axis=0)
        dh_next = da @ Wh.T
    return dx, dh_next, dWx, dWh, db
"""),
    ],
    "numerical_gradient": [
        ("difference taken the wrong way round (f_minus - f_plus)",
         [("transform", "negated")], """
def numerical_gradient(f, x, eps=1e-5):
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        f_plus = f(x)
        x[idx] = old - eps
        f_minus = f(x)
        x[idx] = old
        grad[idx] = (f_minus - f_plus) / (2 * eps)
    return grad
"""),
        ("operator precedence: / 2 * eps multiplies by eps",
         [("transform", "scaled")], """
def numerical_gradient(f, x, eps=1e-5):
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        f_plus = f(x)
        x[idx] = old - eps
        f_minus = f(x)
        x[idx] = old
        grad[idx] = (f_plus - f_minus) / 2 * eps
    return grad
"""),
        ("perturbs x itself (+= eps, -= 2 eps, += eps) without a copy",
         [("in_place", "x")], """
def numerical_gradient(f, x, eps=1e-5):
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        x[idx] += eps
        f_plus = f(x)
        x[idx] -= 2 * eps
        f_minus = f(x)
        x[idx] += eps
        grad[idx] = (f_plus - f_minus) / (2 * eps)
    return grad
"""),
    ],
    "truncated_bptt_grads": [
        # The chunk length of the notebook's example, typed in instead of the argument.
        ("chunks of 2 steps whatever k is (the example's k typed in)",
         [("substitute", "k")], """
def truncated_bptt_grads(dh_seq, x, h0, Wx, Wh, b, k):
    h_seq, _ = rnn_forward(x, h0, Wx, Wh, b)
    T = x.shape[1]
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dh0 = np.zeros_like(h0)
    for s in range(0, T, 2):
        e = min(s + 2, T)
        start = h0 if s == 0 else h_seq[:, s - 1]
        g_x, g_h, g_Wx, g_Wh, g_b = rnn_backward(dh_seq[:, s:e], x[:, s:e], start, Wx, Wh, b)
        dx[:, s:e] = g_x
        if s == 0:
            dh0 = g_h
        dWx, dWh, db = dWx + g_Wx, dWh + g_Wh, db + g_b
    return dx, dh0, dWx, dWh, db
"""),
        ("every chunk starts from h0 (forward state not carried into the chunk)",
         [("not_carried", "x"), ("starts", "after step 0")], """
def truncated_bptt_grads(dh_seq, x, h0, Wx, Wh, b, k):
    T = x.shape[1]
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dh0 = np.zeros_like(h0)
    for s in range(0, T, k):
        e = min(s + k, T)
        g_x, g_h, g_Wx, g_Wh, g_b = rnn_backward(dh_seq[:, s:e], x[:, s:e], h0, Wx, Wh, b)
        dx[:, s:e] = g_x
        if s == 0:
            dh0 = g_h
        dWx, dWh, db = dWx + g_Wx, dWh + g_Wh, db + g_b
    return dx, dh0, dWx, dWh, db
"""),
        ("weight gradients of the last chunk only (overwritten, not summed)",
         [("agrees_when", "upstream at last step")], """
def truncated_bptt_grads(dh_seq, x, h0, Wx, Wh, b, k):
    h_seq, _ = rnn_forward(x, h0, Wx, Wh, b)
    T = x.shape[1]
    dx = np.zeros_like(x)
    dh0 = np.zeros_like(h0)
    for s in range(0, T, k):
        e = min(s + k, T)
        start = h0 if s == 0 else h_seq[:, s - 1]
        g_x, g_h, dWx, dWh, db = rnn_backward(dh_seq[:, s:e], x[:, s:e], start, Wx, Wh, b)
        dx[:, s:e] = g_x
        if s == 0:
            dh0 = g_h
    return dx, dh0, dWx, dWh, db
"""),
        ("chunk starts from h_seq[:, s] (the state after its own first step)",
         [("starts", "after step 0"), ("starts", "later")], """
def truncated_bptt_grads(dh_seq, x, h0, Wx, Wh, b, k):
    h_seq, _ = rnn_forward(x, h0, Wx, Wh, b)
    T = x.shape[1]
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dh0 = np.zeros_like(h0)
    for s in range(0, T, k):
        e = min(s + k, T)
        start = h0 if s == 0 else h_seq[:, s]
        g_x, g_h, g_Wx, g_Wh, g_b = rnn_backward(dh_seq[:, s:e], x[:, s:e], start, Wx, Wh, b)
        dx[:, s:e] = g_x
        if s == 0:
            dh0 = g_h
        dWx, dWh, db = dWx + g_Wx, dWh + g_Wh, db + g_b
    return dx, dh0, dWx, dWh, db
"""),
        ("chunks loop range(0, T - k, k): the last chunk is dropped",
         [("starts", "last step"), ("ignores", "dh_seq")], """
def truncated_bptt_grads(dh_seq, x, h0, Wx, Wh, b, k):
    h_seq, _ = rnn_forward(x, h0, Wx, Wh, b)
    T = x.shape[1]
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dh0 = np.zeros_like(h0)
    for s in range(0, T - k, k):
        start = h0 if s == 0 else h_seq[:, s - 1]
        g_x, g_h, g_Wx, g_Wh, g_b = rnn_backward(dh_seq[:, s:s + k], x[:, s:s + k], start, Wx, Wh, b)
        dx[:, s:s + k] = g_x
        if s == 0:
            dh0 = g_h
        dWx, dWh, db = dWx + g_Wx, dWh + g_Wh, db + g_b
    return dx, dh0, dWx, dWh, db
"""),
    ],
}

# exercise name -> [(how it differs from the solution, a correct student source)].
SILENT = {
    "softmax_cross_entropy": [
        ("float32 arithmetic; one-hot subtracted with np.put_along_axis", """
def softmax_cross_entropy(logits, targets):
    z = logits.astype(np.float32)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    sums = e.sum(axis=-1, keepdims=True)
    picked = np.take_along_axis(z, targets[..., None], axis=-1)
    loss = np.mean(np.log(sums) - picked)
    d = e / sums
    np.put_along_axis(d, targets[..., None], np.take_along_axis(d, targets[..., None], axis=-1) - 1, axis=-1)
    return loss, d / targets.size
"""),
    ],
    "rnn_backward": [
        ("einsum products; all states h_0 .. h_T stacked first", """
def rnn_backward(dh_seq, x, h0, Wx, Wh, b):
    h_seq, _ = rnn_forward(x, h0, Wx, Wh, b)
    hs = np.concatenate([h0[:, None], h_seq], axis=1)
    T = x.shape[1]
    da_seq = np.zeros_like(h_seq)
    carry = np.zeros_like(h0)
    for t in range(T - 1, -1, -1):
        da_seq[:, t] = (dh_seq[:, t] + carry) * (1 - hs[:, t + 1] ** 2)
        carry = np.einsum("nk,hk->nh", da_seq[:, t], Wh)
    dx = np.einsum("nth,dh->ntd", da_seq, Wx)
    dWx = np.einsum("ntd,nth->dh", x, da_seq)
    dWh = np.einsum("ntk,nth->kh", hs[:, :-1], da_seq)
    db = da_seq.sum(axis=(0, 1))
    return dx, carry, dWx, dWh, db
"""),
    ],
    "truncated_bptt_grads": [
        ("chunk boundaries listed first; gradients summed with +=", """
def truncated_bptt_grads(dh_seq, x, h0, Wx, Wh, b, k):
    h_seq, _ = rnn_forward(x, h0, Wx, Wh, b)
    T = x.shape[1]
    starts = list(range(0, T, k))
    ends = starts[1:] + [T]
    dx = np.zeros_like(x)
    grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
    dh0 = None
    for s, e in zip(starts, ends):
        state = h_seq[:, s - 1] if s else h0
        g = rnn_backward(dh_seq[:, s:e], x[:, s:e], state, Wx, Wh, b)
        dx[:, s:e] = g[0]
        if dh0 is None:
            dh0 = g[1]
        for acc, part in zip(grads, g[2:]):
            acc += part
    return (dx, dh0, *grads)
"""),
    ],
}
