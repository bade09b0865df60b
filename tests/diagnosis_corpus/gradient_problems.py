"""Uncatalogued wrong implementations of 03_gradient_problems, and what diagnosis should find."""

NOTEBOOK = '03_gradient_problems'

# exercise name -> [(what the student did, acceptable findings, student source)].
WRONG = {
    "jacobian_norms": [
        ("backward loop range(T - 1, 0, -1): norms[0] left zero",
         [("starts", "first step")], """
def jacobian_norms(x, h0, Wx, Wh, b):
    N, T, _ = x.shape
    H = Wh.shape[0]
    h = h0
    states = []
    for t in range(T):
        h = np.tanh(x[:, t] @ Wx + h @ Wh + b)
        states.append(h)
    J = np.broadcast_to(np.eye(H), (N, H, H)).copy()
    norms = np.zeros(T)
    for t in range(T - 1, 0, -1):
        norms[t] = np.linalg.norm(J, axis=(1, 2)).mean()
        J = J @ ((1 - states[t] ** 2)[:, :, None] * Wh.T)
    return norms
"""),
        ("forward pass reuses h0 at every step (state not carried)",
         [("not_carried", "x"), ("starts", "before the last step"), ("agrees_when", "one step")], """
def jacobian_norms(x, h0, Wx, Wh, b):
    N, T, _ = x.shape
    H = Wh.shape[0]
    states = [np.tanh(x[:, t] @ Wx + h0 @ Wh + b) for t in range(T)]
    J = np.broadcast_to(np.eye(H), (N, H, H)).copy()
    norms = np.zeros(T)
    for t in range(T - 1, -1, -1):
        norms[t] = np.linalg.norm(J, axis=(1, 2)).mean()
        J = J @ ((1 - states[t] ** 2)[:, :, None] * Wh.T)
    return norms
"""),
        ("tanh applied twice in the derivative (1 - tanh(h_t)**2)",
         [("starts", "before the last step"), ("agrees_when", "one step")], """
def jacobian_norms(x, h0, Wx, Wh, b):
    N, T, _ = x.shape
    H = Wh.shape[0]
    h = h0
    states = []
    for t in range(T):
        h = np.tanh(x[:, t] @ Wx + h @ Wh + b)
        states.append(h)
    J = np.broadcast_to(np.eye(H), (N, H, H)).copy()
    norms = np.zeros(T)
    for t in range(T - 1, -1, -1):
        norms[t] = np.linalg.norm(J, axis=(1, 2)).mean()
        J = J @ ((1 - np.tanh(states[t]) ** 2)[:, :, None] * Wh.T)
    return norms
"""),
        ("squared Frobenius norm (square root missing)",
         [("starts", "every step")], """
def jacobian_norms(x, h0, Wx, Wh, b):
    N, T, _ = x.shape
    H = Wh.shape[0]
    h = h0
    states = []
    for t in range(T):
        h = np.tanh(x[:, t] @ Wx + h @ Wh + b)
        states.append(h)
    J = np.broadcast_to(np.eye(H), (N, H, H)).copy()
    norms = np.zeros(T)
    for t in range(T - 1, -1, -1):
        norms[t] = np.sum(J ** 2, axis=(1, 2)).mean()
        J = J @ ((1 - states[t] ** 2)[:, :, None] * Wh.T)
    return norms
"""),
        ("norm of the batch-mean Jacobian instead of the mean of the norms",
         [("starts", "before the last step"), ("agrees_when", "one step")], """
def jacobian_norms(x, h0, Wx, Wh, b):
    N, T, _ = x.shape
    H = Wh.shape[0]
    h = h0
    states = []
    for t in range(T):
        h = np.tanh(x[:, t] @ Wx + h @ Wh + b)
        states.append(h)
    J = np.broadcast_to(np.eye(H), (N, H, H)).copy()
    norms = np.zeros(T)
    for t in range(T - 1, -1, -1):
        norms[t] = np.linalg.norm(J.mean(axis=0))
        J = J @ ((1 - states[t] ** 2)[:, :, None] * Wh.T)
    return norms
"""),
        ("forward state kept in h0's buffer (h[...] = ..., h0 overwritten)",
         [("in_place", "h0")], """
def jacobian_norms(x, h0, Wx, Wh, b):
    N, T, _ = x.shape
    H = Wh.shape[0]
    h = h0
    states = []
    for t in range(T):
        h[...] = np.tanh(x[:, t] @ Wx + h @ Wh + b)
        states.append(h.copy())
    J = np.broadcast_to(np.eye(H), (N, H, H)).copy()
    norms = np.zeros(T)
    for t in range(T - 1, -1, -1):
        norms[t] = np.linalg.norm(J, axis=(1, 2)).mean()
        J = J @ ((1 - states[t] ** 2)[:, :, None] * Wh.T)
    return norms
"""),
    ],
    "clip_by_global_norm": [
        ("gradients scaled in place (g *= scale) and returned",
         [("in_place", "grads")], """
def clip_by_global_norm(grads, max_norm):
    global_norm = np.sqrt(sum(np.sum(g ** 2) for g in grads))
    if global_norm > max_norm:
        for g in grads:
            g *= max_norm / global_norm
    return grads, global_norm
"""),
        ("comparison the wrong way round (rescales only when below max_norm)",
         [("transform", "scaled")], """
def clip_by_global_norm(grads, max_norm):
    global_norm = np.sqrt(sum(np.sum(g ** 2) for g in grads))
    if global_norm < max_norm:
        return [g * (max_norm / global_norm) for g in grads], global_norm
    return [g.copy() for g in grads], global_norm
"""),
        ("mean of the squares instead of their sum",
         [("transform", "scaled")], """
def clip_by_global_norm(grads, max_norm):
    global_norm = np.sqrt(sum(np.mean(g ** 2) for g in grads))
    scale = max_norm / max(global_norm, max_norm)
    return [g * scale for g in grads], global_norm
"""),
        ("square root of the sum of the per-array norms",
         [("transform", "scaled")], """
def clip_by_global_norm(grads, max_norm):
    global_norm = np.sqrt(sum(np.linalg.norm(g) for g in grads))
    scale = max_norm / max(global_norm, max_norm)
    return [g * scale for g in grads], global_norm
"""),
    ],
    "clip_by_value": [
        ("clipped in place (np.clip(..., out=g))",
         [("in_place", "grads")], """
def clip_by_value(grads, limit):
    for g in grads:
        np.clip(g, -limit, limit, out=g)
    return grads
"""),
        ("bounds swapped (np.clip(g, limit, -limit)): every entry becomes -limit",
         [("ignores", "grads")], """
def clip_by_value(grads, limit):
    return [np.clip(g, limit, -limit) for g in grads]
"""),
    ],
}

# exercise name -> [(how it differs from the solution, a correct student source)].
SILENT = {
    "jacobian_norms": [
        ("transposed product accumulated (K = step.T @ K), einsum for the norms", """
def jacobian_norms(x, h0, Wx, Wh, b):
    N, T, _ = x.shape
    H = Wh.shape[0]
    states = np.empty((N, T, H))
    h = h0
    for t in range(T):
        h = np.tanh(x[:, t] @ Wx + h @ Wh + b)
        states[:, t] = h
    K = np.tile(np.eye(H), (N, 1, 1))
    norms = np.empty(T)
    for t in reversed(range(T)):
        norms[t] = np.sqrt(np.einsum("nij,nij->n", K, K)).mean()
        K = (Wh[None] * (1 - states[:, t] ** 2)[:, None, :]) @ K
    return norms
"""),
    ],
    "clip_by_global_norm": [
        ("one concatenated vector; unclipped arrays returned as copies", """
def clip_by_global_norm(grads, max_norm):
    flat = np.concatenate([np.ravel(g) for g in grads])
    global_norm = np.linalg.norm(flat)
    if global_norm <= max_norm:
        return [np.array(g) for g in grads], global_norm
    return [g * (max_norm / global_norm) for g in grads], global_norm
"""),
    ],
    "clip_by_value": [
        ("np.minimum of np.maximum", """
def clip_by_value(grads, limit):
    clipped = []
    for g in grads:
        clipped.append(np.minimum(np.maximum(g, -limit), limit))
    return clipped
"""),
    ],
}
