"""Student-style mutants of 02_bptt: one per catalogued mistake."""

NOTEBOOK = '02_bptt'
GIVEN_HELPERS = ('rnn_forward',)  # given (ungraded) code cells of the notebook the solutions use


# ----------------------------------------------------------------------------- mutants
# exercise name -> [(catalogued mistake name, student source defining that function)].
# A name catalogued twice (different wrong outputs) has one mutant per variant, in catalogue order.
# Mutants are plain NumPy; they may call the notebook's given rnn_forward and the *correct*
# rnn_backward, as a student's notebook would (truncated_bptt_grads must call rnn_backward).
MUTANTS = {
    "softmax_cross_entropy": [
        ("overflow on large logits (no max shift)", """
def softmax_cross_entropy(logits, targets):
    e = np.exp(logits)
    sums = e.sum(axis=-1)
    picked = np.take_along_axis(logits, targets[..., None], axis=-1)[..., 0]
    loss = np.mean(np.log(sums) - picked)
    probs = e / sums[..., None]
    one_hot = np.eye(logits.shape[-1])[targets]
    return loss, (probs - one_hot) / targets.size
"""),
        ("sum instead of mean", """
def softmax_cross_entropy(logits, targets):
    z = logits - logits.max(axis=-1, keepdims=True)
    sums = np.exp(z).sum(axis=-1)
    picked = np.take_along_axis(z, targets[..., None], axis=-1)[..., 0]
    loss = np.sum(np.log(sums) - picked)
    one_hot = np.eye(logits.shape[-1])[targets]
    return loss, np.exp(z) / sums[..., None] - one_hot
"""),
        ("averaged over the batch only", """
def softmax_cross_entropy(logits, targets):
    N = logits.shape[0]
    z = logits - np.max(logits, axis=-1, keepdims=True)
    log_probs = z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True))
    picked = np.take_along_axis(log_probs, targets[..., None], axis=-1)
    loss = -picked.sum() / N
    one_hot = np.eye(logits.shape[-1])[targets]
    return loss, (np.exp(log_probs) - one_hot) / N
"""),
        ("gradient not divided by the number of predictions", """
def softmax_cross_entropy(logits, targets):
    z = logits - logits.max(axis=-1, keepdims=True)
    log_probs = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    loss = -np.mean(np.take_along_axis(log_probs, targets[..., None], axis=-1))
    dlogits = np.exp(log_probs)
    dlogits -= np.eye(logits.shape[-1])[targets]
    return loss, dlogits
"""),
        ("one-hot not subtracted in the gradient", """
def softmax_cross_entropy(logits, targets):
    z = logits - logits.max(axis=-1, keepdims=True)
    log_probs = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    loss = -np.mean(np.take_along_axis(log_probs, targets[..., None], axis=-1))
    probs = np.exp(log_probs)
    return loss, probs / targets.size
"""),
        ("gradient has the wrong sign", """
def softmax_cross_entropy(logits, targets):
    z = logits - logits.max(axis=-1, keepdims=True)
    log_probs = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    loss = -np.mean(np.take_along_axis(log_probs, targets[..., None], axis=-1))
    one_hot = np.eye(logits.shape[-1])[targets]
    return loss, (one_hot - np.exp(log_probs)) / targets.size
"""),
        ("log of a probability that underflows (use log-softmax)", """
def softmax_cross_entropy(logits, targets):
    z = logits - logits.max(axis=-1, keepdims=True)
    probs = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
    picked = np.take_along_axis(probs, targets[..., None], axis=-1)
    loss = -np.mean(np.log(picked))
    one_hot = np.eye(logits.shape[-1])[targets]
    return loss, (probs - one_hot) / targets.size
"""),
        ("log-sum-exp missing from the loss", """
def softmax_cross_entropy(logits, targets):
    z = logits - logits.max(axis=-1, keepdims=True)
    probs = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
    loss = -np.mean(np.take_along_axis(z, targets[..., None], axis=-1))
    one_hot = np.eye(logits.shape[-1])[targets]
    return loss, (probs - one_hot) / targets.size
"""),
    ],
    "rnn_backward": [
        ("gradients not summed over time", """
def rnn_backward(dh_seq, x, h0, Wx, Wh, b):
    h_seq, _ = rnn_forward(x, h0, Wx, Wh, b)
    dx = np.zeros_like(x)
    dh_next = np.zeros_like(h0)
    for t in reversed(range(x.shape[1])):
        h = h_seq[:, t]
        h_prev = h_seq[:, t - 1] if t > 0 else h0
        da = (dh_seq[:, t] + dh_next) * (1 - h ** 2)
        dx[:, t] = da @ Wx.T
        dWx = x[:, t].T @ da
        dWh = h_prev.T @ da
        db = da.sum(axis=0)
        dh_next = da @ Wh.T
    return dx, dh_next, dWx, dWh, db
"""),
        ("tanh derivative missing", """
def rnn_backward(dh_seq, x, h0, Wx, Wh, b):
    h_seq, _ = rnn_forward(x, h0, Wx, Wh, b)
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dh_next = np.zeros_like(h0)
    for t in reversed(range(x.shape[1])):
        h_prev = h_seq[:, t - 1] if t > 0 else h0
        da = dh_seq[:, t] + dh_next
        dx[:, t] = da @ Wx.T
        dWx += x[:, t].T @ da
        dWh += h_prev.T @ da
        db += da.sum(axis=0)
        dh_next = da @ Wh.T
    return dx, dh_next, dWx, dWh, db
"""),
        ("h_t used where h_{t-1} belongs", """
def rnn_backward(dh_seq, x, h0, Wx, Wh, b):
    h_seq, _ = rnn_forward(x, h0, Wx, Wh, b)
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dh_next = np.zeros_like(h0)
    for t in reversed(range(x.shape[1])):
        h = h_seq[:, t]
        da = (dh_seq[:, t] + dh_next) * (1 - h ** 2)
        dx[:, t] = da @ Wx.T
        dWx += x[:, t].T @ da
        dWh += h.T @ da
        db += da.sum(axis=0)
        dh_next = da @ Wh.T
    return dx, dh_next, dWx, dWh, db
"""),
        ("dh not propagated to the previous step", """
def rnn_backward(dh_seq, x, h0, Wx, Wh, b):
    h_seq, _ = rnn_forward(x, h0, Wx, Wh, b)
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    for t in reversed(range(x.shape[1])):
        h = h_seq[:, t]
        h_prev = h_seq[:, t - 1] if t > 0 else h0
        da = dh_seq[:, t] * (1 - h ** 2)
        dx[:, t] = da @ Wx.T
        dWx += x[:, t].T @ da
        dWh += h_prev.T @ da
        db += da.sum(axis=0)
        dh_prev = da @ Wh.T
    return dx, dh_prev, dWx, dWh, db
"""),
        ("Wh not transposed when propagating", """
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
        db += da.sum(axis=0)
        dh_next = da @ Wh
    return dx, dh_next, dWx, dWh, db
"""),
        ("tanh derivative taken at h_{t-1}", """
def rnn_backward(dh_seq, x, h0, Wx, Wh, b):
    h_seq, _ = rnn_forward(x, h0, Wx, Wh, b)
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dh_next = np.zeros_like(h0)
    for t in reversed(range(x.shape[1])):
        h_prev = h_seq[:, t - 1] if t > 0 else h0
        da = (dh_seq[:, t] + dh_next) * (1 - h_prev ** 2)
        dx[:, t] = da @ Wx.T
        dWx += x[:, t].T @ da
        dWh += h_prev.T @ da
        db += da.sum(axis=0)
        dh_next = da @ Wh.T
    return dx, dh_next, dWx, dWh, db
"""),
        ("loop runs forward in time", """
def rnn_backward(dh_seq, x, h0, Wx, Wh, b):
    h_seq, _ = rnn_forward(x, h0, Wx, Wh, b)
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dh_next = np.zeros_like(h0)
    for t in range(x.shape[1]):
        h = h_seq[:, t]
        h_prev = h_seq[:, t - 1] if t > 0 else h0
        da = (dh_seq[:, t] + dh_next) * (1 - h ** 2)
        dx[:, t] = da @ Wx.T
        dWx += x[:, t].T @ da
        dWh += h_prev.T @ da
        db += da.sum(axis=0)
        dh_next = da @ Wh.T
    return dx, dh_next, dWx, dWh, db
"""),
        ("dh0 not computed", """
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
        db += da.sum(axis=0)
        dh_next = da @ Wh.T
    dh0 = np.zeros_like(h0)
    return dx, dh0, dWx, dWh, db
"""),
    ],
    "numerical_gradient": [
        ("forward difference instead of central", """
def numerical_gradient(f, x, eps=1e-5):
    fx = f(x)
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        x_plus = x.copy()
        x_plus[idx] += eps
        grad[idx] = (f(x_plus) - fx) / eps
    return grad
"""),
        ("divided by eps instead of 2 eps", """
def numerical_gradient(f, x, eps=1e-5):
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        x_plus, x_minus = x.copy(), x.copy()
        x_plus[idx] += eps
        x_minus[idx] -= eps
        grad[idx] = (f(x_plus) - f(x_minus)) / eps
    return grad
"""),
        # Works on the x it was given, and leaves every entry eps below where it was.
        ("x not restored after a perturbation", """
def numerical_gradient(f, x, eps=1e-5):
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        x[idx] += eps
        f_plus = f(x)
        x[idx] -= 2 * eps
        f_minus = f(x)
        grad[idx] = (f_plus - f_minus) / (2 * eps)
    return grad
"""),
        ("all entries perturbed at once", """
def numerical_gradient(f, x, eps=1e-5):
    slope = (f(x + eps) - f(x - eps)) / (2 * eps)
    return slope * np.ones_like(x)
"""),
    ],
    "truncated_bptt_grads": [
        ("no truncation (full BPTT)", """
def truncated_bptt_grads(dh_seq, x, h0, Wx, Wh, b, k):
    dx, dh0, dWx, dWh, db = rnn_backward(dh_seq, x, h0, Wx, Wh, b)
    return dx, dh0, dWx, dWh, db
"""),
        ("chunks of k+1 steps (off by one)", """
def truncated_bptt_grads(dh_seq, x, h0, Wx, Wh, b, k):
    h_seq, _ = rnn_forward(x, h0, Wx, Wh, b)
    T = x.shape[1]
    dx = np.zeros_like(x)
    dh0 = np.zeros_like(h0)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    for start in range(0, T, k + 1):
        end = min(start + k + 1, T)
        h_in = h0 if start == 0 else h_seq[:, start - 1]
        g = rnn_backward(dh_seq[:, start:end], x[:, start:end], h_in, Wx, Wh, b)
        dx[:, start:end] = g[0]
        if start == 0:
            dh0 = g[1]
        dWx += g[2]
        dWh += g[3]
        db += g[4]
    return dx, dh0, dWx, dWh, db
"""),
        ("chunks counted from the end of the sequence", """
def truncated_bptt_grads(dh_seq, x, h0, Wx, Wh, b, k):
    h_seq, _ = rnn_forward(x, h0, Wx, Wh, b)
    T = x.shape[1]
    dx = np.zeros_like(x)
    dh0 = np.zeros_like(h0)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    end = T
    while end > 0:
        start = max(end - k, 0)
        h_in = h0 if start == 0 else h_seq[:, start - 1]
        g_x, g_h0, g_Wx, g_Wh, g_b = rnn_backward(dh_seq[:, start:end], x[:, start:end], h_in,
                                                  Wx, Wh, b)
        dx[:, start:end] = g_x
        if start == 0:
            dh0 = g_h0
        dWx, dWh, db = dWx + g_Wx, dWh + g_Wh, db + g_b
        end = start
    return dx, dh0, dWx, dWh, db
"""),
        ("sliding window of k steps per loss (a different truncation)", """
def truncated_bptt_grads(dh_seq, x, h0, Wx, Wh, b, k):
    h_seq, _ = rnn_forward(x, h0, Wx, Wh, b)
    dx = np.zeros_like(x)
    dh0 = np.zeros_like(h0)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    for t in range(x.shape[1]):
        s = max(0, t - k + 1)
        upstream = np.zeros_like(dh_seq[:, s:t + 1])
        upstream[:, -1] = dh_seq[:, t]
        h_in = h0 if s == 0 else h_seq[:, s - 1]
        g_x, g_h0, g_Wx, g_Wh, g_b = rnn_backward(upstream, x[:, s:t + 1], h_in, Wx, Wh, b)
        dx[:, s:t + 1] += g_x
        if s == 0:
            dh0 += g_h0
        dWx += g_Wx
        dWh += g_Wh
        db += g_b
    return dx, dh0, dWx, dWh, db
"""),
        ("dh0 summed over every chunk", """
def truncated_bptt_grads(dh_seq, x, h0, Wx, Wh, b, k):
    h_seq, _ = rnn_forward(x, h0, Wx, Wh, b)
    T = x.shape[1]
    dx = np.zeros_like(x)
    dh0 = np.zeros_like(h0)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    for s in range(0, T, k):
        e = min(s + k, T)
        start = h0 if s == 0 else h_seq[:, s - 1]
        g_x, g_h, g_Wx, g_Wh, g_b = rnn_backward(dh_seq[:, s:e], x[:, s:e], start, Wx, Wh, b)
        dx[:, s:e] = g_x
        dh0 += g_h
        dWx, dWh, db = dWx + g_Wx, dWh + g_Wh, db + g_b
    return dx, dh0, dWx, dWh, db
"""),
    ],
}

# Catalogued mistakes the hidden cases cannot see yet: (exercise, mistake) -> why.
HIDDEN_GAPS = {}
