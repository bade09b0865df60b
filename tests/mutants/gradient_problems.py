"""Student-style mutants of 03_gradient_problems: one per catalogued mistake."""

NOTEBOOK = '03_gradient_problems'
GIVEN_HELPERS = ()


# ----------------------------------------------------------------------------- mutants
# exercise name -> [(catalogued mistake name, student source defining that function)].
# A name catalogued twice (different wrong outputs) has one mutant per variant, in catalogue order.
_FORWARD = """
    N, T, _ = x.shape
    H = Wh.shape[0]
    h = h0
    states = []
    for t in range(T):
        h = np.tanh(x[:, t] @ Wx + h @ Wh + b)
        states.append(h)
    J = np.broadcast_to(np.eye(H), (N, H, H)).copy()
"""

MUTANTS = {
    "jacobian_norms": [
        ("summed over the batch instead of averaged", """
def jacobian_norms(x, h0, Wx, Wh, b):""" + _FORWARD + """
    norms = np.zeros(T)
    for t in range(T - 1, -1, -1):
        norms[t] = np.linalg.norm(J, axis=(1, 2)).sum()
        J = J @ ((1 - states[t] ** 2)[:, :, None] * Wh.T)
    return norms
"""),
        ("tanh derivative missing (products of Wh only)", """
def jacobian_norms(x, h0, Wx, Wh, b):""" + _FORWARD + """
    norms = np.zeros(T)
    for t in range(T - 1, -1, -1):
        norms[t] = np.linalg.norm(J, axis=(1, 2)).mean()
        J = J @ Wh.T
    return norms
"""),
        ("spectral norm instead of Frobenius", """
def jacobian_norms(x, h0, Wx, Wh, b):""" + _FORWARD + """
    norms = np.zeros(T)
    for t in range(T - 1, -1, -1):
        norms[t] = np.mean([np.linalg.norm(J[n], 2) for n in range(N)])
        J = J @ ((1 - states[t] ** 2)[:, :, None] * Wh.T)
    return norms
"""),
        ("off by one (d h_T / d h_{t-1})", """
def jacobian_norms(x, h0, Wx, Wh, b):""" + _FORWARD + """
    norms = np.zeros(T)
    for t in range(T - 1, -1, -1):
        J = J @ ((1 - states[t] ** 2)[:, :, None] * Wh.T)
        norms[t] = np.linalg.norm(J, axis=(1, 2)).mean()
    return norms
"""),
        ("returned reversed (indexed by the distance T-1-t)", """
def jacobian_norms(x, h0, Wx, Wh, b):""" + _FORWARD + """
    norms = []
    for t in reversed(range(T)):
        norms.append(np.linalg.norm(J, axis=(1, 2)).mean())
        J = J @ ((1 - states[t] ** 2)[:, :, None] * Wh.T)
    return np.array(norms)
"""),
        ("Jacobian product in the wrong order", """
def jacobian_norms(x, h0, Wx, Wh, b):""" + _FORWARD + """
    norms = np.zeros(T)
    for t in range(T - 1, -1, -1):
        norms[t] = np.linalg.norm(J, axis=(1, 2)).mean()
        J = ((1 - states[t] ** 2)[:, :, None] * Wh.T) @ J
    return norms
"""),
        ("Wh not transposed in the step Jacobian", """
def jacobian_norms(x, h0, Wx, Wh, b):""" + _FORWARD + """
    norms = np.zeros(T)
    for t in range(T - 1, -1, -1):
        norms[t] = np.linalg.norm(J, axis=(1, 2)).mean()
        J = J @ ((1 - states[t] ** 2)[:, :, None] * Wh)
    return norms
"""),
        ("tanh derivative taken at the previous state", """
def jacobian_norms(x, h0, Wx, Wh, b):""" + _FORWARD + """
    previous = [h0] + states[:-1]
    norms = np.zeros(T)
    for t in range(T - 1, -1, -1):
        norms[t] = np.linalg.norm(J, axis=(1, 2)).mean()
        J = J @ ((1 - previous[t] ** 2)[:, :, None] * Wh.T)
    return norms
"""),
    ],
    "clip_by_global_norm": [
        ("per-tensor norm instead of global", """
def clip_by_global_norm(grads, max_norm):
    clipped = []
    for g in grads:
        norm = np.linalg.norm(g)
        clipped.append(g * max_norm / norm if norm > max_norm else g)
    global_norm = np.sqrt(sum(np.sum(g ** 2) for g in grads))
    return clipped, global_norm
"""),
        ("scales up when below max_norm", """
def clip_by_global_norm(grads, max_norm):
    global_norm = np.sqrt(sum(np.sum(g ** 2) for g in grads))
    return [g * max_norm / global_norm for g in grads], global_norm
"""),
        ("global norm as the sum of per-tensor norms", """
def clip_by_global_norm(grads, max_norm):
    global_norm = sum(np.linalg.norm(g) for g in grads)
    scale = max_norm / max(global_norm, max_norm)
    return [g * scale for g in grads], global_norm
"""),
        ("squared norm (square root missing)", """
def clip_by_global_norm(grads, max_norm):
    global_norm = sum(np.sum(g * g) for g in grads)
    if global_norm > max_norm:
        grads = [g * (max_norm / global_norm) for g in grads]
    return grads, global_norm
"""),
        ("returns the norm after clipping", """
def clip_by_global_norm(grads, max_norm):
    norm = np.sqrt(sum(np.sum(g ** 2) for g in grads))
    clipped = [g * min(1.0, max_norm / max(norm, 1e-30)) for g in grads]
    global_norm = np.sqrt(sum(np.sum(c ** 2) for c in clipped))
    return clipped, global_norm
"""),
        ("divides by the norm without multiplying by max_norm", """
def clip_by_global_norm(grads, max_norm):
    global_norm = np.sqrt(sum(np.sum(g ** 2) for g in grads))
    if global_norm > max_norm:
        return [g / global_norm for g in grads], global_norm
    return list(grads), global_norm
"""),
    ],
    "clip_by_value": [
        ("only the upper bound", """
def clip_by_value(grads, limit):
    return [np.minimum(g, limit) for g in grads]
"""),
        ("only the lower bound", """
def clip_by_value(grads, limit):
    return [np.maximum(g, -limit) for g in grads]
"""),
        ("clipped to [0, limit]", """
def clip_by_value(grads, limit):
    return [np.clip(g, 0, limit) for g in grads]
"""),
        ("sign lost (np.abs)", """
def clip_by_value(grads, limit):
    return [np.minimum(np.abs(g), limit) for g in grads]
"""),
        # Variant 1: one norm for all the arrays (clip_by_global_norm under another name).
        ("clips the norm instead of the values", """
def clip_by_value(grads, limit):
    norm = np.sqrt(sum(np.sum(g ** 2) for g in grads))
    return [g * limit / max(norm, limit) for g in grads]
"""),
        # Variant 2: each array's own norm.
        ("clips the norm instead of the values", """
def clip_by_value(grads, limit):
    return [g * limit / max(np.linalg.norm(g), limit) for g in grads]
"""),
    ],
}

# Catalogued mistakes the hidden cases cannot see yet: (exercise, mistake) -> why.
HIDDEN_GAPS = {}
