"""Uncatalogued wrong implementations of 04_lstm_gru, and correct ones written differently.

See tests/diagnosis_corpus/__init__.py for the format and the vocabulary of findings.
"""

NOTEBOOK = '04_lstm_gru'

# ----------------------------------------------------------------------------- wrong
# exercise -> [(what the student did, acceptable findings, source)]
WRONG = {
    "lstm_cell_forward": [
        ("input gate forgotten: c = f * c_prev + g",
         [("ignores", "W:i"), ("ignores", "U:i"), ("ignores", "b:i")], """
def lstm_cell_forward(x_t, h_prev, c_prev, W, U, b):
    z = x_t @ W + h_prev @ U + b
    z_i, z_f, z_c, z_o = np.split(z, 4, axis=-1)
    i, f, o = sigmoid(z_i), sigmoid(z_f), sigmoid(z_o)
    g = np.tanh(z_c)
    c_next = f * c_prev + g
    h_next = o * np.tanh(c_next)
    return h_next, c_next
"""),
        ("output gate read from the forget gate's columns (z[:, H:2H] twice)",
         [("ignores", "W:o"), ("ignores", "U:o"), ("ignores", "b:o")], """
def lstm_cell_forward(x_t, h_prev, c_prev, W, U, b):
    H = h_prev.shape[1]
    z = x_t @ W + h_prev @ U + b
    i = sigmoid(z[:, :H])
    f = sigmoid(z[:, H:2 * H])
    g = np.tanh(z[:, 2 * H:3 * H])
    o = sigmoid(z[:, H:2 * H])
    c_next = f * c_prev + i * g
    h_next = o * np.tanh(c_next)
    return h_next, c_next
"""),
        # With h_prev = c_prev = 0 both products vanish.
        ("h_prev where c_prev belongs: c = f * h_prev + i * g",
         [("ignores", "c_prev"), ("agrees_when", "zero state")], """
def lstm_cell_forward(x_t, h_prev, c_prev, W, U, b):
    z = x_t @ W + h_prev @ U + b
    i, f, g, o = np.split(z, 4, axis=1)
    i, f, o = sigmoid(i), sigmoid(f), sigmoid(o)
    g = np.tanh(g)
    c_next = f * h_prev + i * g
    h_next = o * np.tanh(c_next)
    return h_next, c_next
"""),
        # h_next reads the old cell state: only its output gate sees the new step.
        ("h from the old cell state: h = o * tanh(c_prev)",
         [("ignores", "W:i"), ("ignores", "W:f"), ("ignores", "W:c"),
          ("ignores", "U:i"), ("ignores", "U:f"), ("ignores", "U:c"),
          ("ignores", "b:i"), ("ignores", "b:f"), ("ignores", "b:c")], """
def lstm_cell_forward(x_t, h_prev, c_prev, W, U, b):
    z = x_t @ W + h_prev @ U + b
    z_i, z_f, z_c, z_o = np.split(z, 4, axis=-1)
    i, f, o = sigmoid(z_i), sigmoid(z_f), sigmoid(z_o)
    g = np.tanh(z_c)
    h_next = o * np.tanh(c_prev)
    c_next = f * c_prev + i * g
    return h_next, c_next
"""),
        # Right values, but the caller's c_prev is overwritten (and returned).
        ("cell state updated in place: c_prev *= f; c_prev += i * g",
         [("in_place", "c_prev")], """
def lstm_cell_forward(x_t, h_prev, c_prev, W, U, b):
    z = x_t @ W + h_prev @ U + b
    z_i, z_f, z_c, z_o = np.split(z, 4, axis=-1)
    i, f, o = sigmoid(z_i), sigmoid(z_f), sigmoid(z_o)
    c_prev *= f
    c_prev += i * np.tanh(z_c)
    h_next = o * np.tanh(c_prev)
    return h_next, c_prev
"""),
    ],
    "lstm_forward": [
        ("loop over range(T - 1): the last step is left zero",
         [("starts", "last step"), ("transform", "truncated")], """
def lstm_forward(x, h0, c0, W, U, b):
    N, T, _ = x.shape
    h_seq = np.zeros((N, T, h0.shape[1]))
    h, c = h0, c0
    for t in range(T - 1):
        h, c = lstm_cell_forward(x[:, t, :], h, c, W, U, b)
        h_seq[:, t, :] = h
    return h_seq, h, c
"""),
        ("state stored before the step: h_seq[:, t] holds h_(t-1), starting with h0",
         [("transform", "shifted")], """
def lstm_forward(x, h0, c0, W, U, b):
    h, c = h0, c0
    states = []
    for t in range(x.shape[1]):
        states.append(h)
        h, c = lstm_cell_forward(x[:, t], h, c, W, U, b)
    return np.stack(states, axis=1), h, c
"""),
        ("initial states ignored: the loop starts from zeros",
         [("ignores", "h0"), ("ignores", "c0"), ("agrees_when", "zero state")], """
def lstm_forward(x, h0, c0, W, U, b):
    N, T, D = x.shape
    h = np.zeros_like(h0)
    c = np.zeros_like(c0)
    h_seq = []
    for t in range(T):
        h, c = lstm_cell_forward(x[:, t], h, c, W, U, b)
        h_seq.append(h)
    return np.stack(h_seq, axis=1), h, c
"""),
        # Right values, but h0 and c0 are the loop's buffers.
        ("states written into h0 and c0 in place (h[:] = ...)",
         [("in_place", "h0"), ("in_place", "c0")], """
def lstm_forward(x, h0, c0, W, U, b):
    h, c = h0, c0
    states = []
    for t in range(x.shape[1]):
        h_new, c_new = lstm_cell_forward(x[:, t], h, c, W, U, b)
        h[:] = h_new
        c[:] = c_new
        states.append(h.copy())
    return np.stack(states, axis=1), h, c
"""),
    ],
    "gru_cell_forward": [
        ("reset gate not applied: tanh(xw_h + hu_h)",
         [("ignores", "W:r"), ("ignores", "U:r"), ("ignores", "b:r")], """
def gru_cell_forward(x_t, h_prev, W, U, b):
    xw = x_t @ W + b[0]
    hu = h_prev @ U + b[1]
    xw_z, xw_r, xw_h = np.split(xw, 3, axis=-1)
    hu_z, hu_r, hu_h = np.split(hu, 3, axis=-1)
    z = sigmoid(xw_z + hu_z)
    r = sigmoid(xw_r + hu_r)
    h_candidate = np.tanh(xw_h + hu_h)
    return z * h_prev + (1.0 - z) * h_candidate
"""),
        ("update gate read from the reset gate's columns (W[:, H:2H] twice)",
         [("ignores", "W:z"), ("ignores", "U:z"), ("ignores", "b:z")], """
def gru_cell_forward(x_t, h_prev, W, U, b):
    H = h_prev.shape[1]
    xw = x_t @ W + b[0]
    hu = h_prev @ U + b[1]
    z = sigmoid(xw[:, H:2 * H] + hu[:, H:2 * H])
    r = sigmoid(xw[:, H:2 * H] + hu[:, H:2 * H])
    h_tilde = np.tanh(xw[:, 2 * H:] + r * hu[:, 2 * H:])
    return z * h_prev + (1 - z) * h_tilde
"""),
        # Without z * h_prev the old state only reaches h through the gates; with h_prev = 0
        # the term vanishes.
        ("old state dropped from the update: h = (1 - z) * h_candidate",
         [("agrees_when", "zero state")], """
def gru_cell_forward(x_t, h_prev, W, U, b):
    xw = x_t @ W + b[0]
    hu = h_prev @ U + b[1]
    xw_z, xw_r, xw_h = np.split(xw, 3, axis=1)
    hu_z, hu_r, hu_h = np.split(hu, 3, axis=1)
    z = sigmoid(xw_z + hu_z)
    r = sigmoid(xw_r + hu_r)
    h_candidate = np.tanh(xw_h + r * hu_h)
    return (1 - z) * h_candidate
"""),
        # Right values, but the caller's h_prev is overwritten (and returned).
        ("new state written into h_prev in place (h_prev *= z; h_prev += ...)",
         [("in_place", "h_prev")], """
def gru_cell_forward(x_t, h_prev, W, U, b):
    xw = x_t @ W + b[0]
    hu = h_prev @ U + b[1]
    xw_z, xw_r, xw_h = np.split(xw, 3, axis=-1)
    hu_z, hu_r, hu_h = np.split(hu, 3, axis=-1)
    z = sigmoid(xw_z + hu_z)
    r = sigmoid(xw_r + hu_r)
    h_candidate = np.tanh(xw_h + r * hu_h)
    h_prev *= z
    h_prev += (1 - z) * h_candidate
    return h_prev
"""),
    ],
    "gru_forward": [
        ("initial state ignored: the loop starts from zeros",
         [("ignores", "h0"), ("agrees_when", "zero state")], """
def gru_forward(x, h0, W, U, b):
    h = np.zeros(h0.shape)
    states = []
    for t in range(x.shape[1]):
        h = gru_cell_forward(x[:, t], h, W, U, b)
        states.append(h)
    return np.stack(states, axis=1), h
"""),
        # Step 0 reads x[:, -1], the last input; then x[:, 0] ... x[:, T-2].
        ("input read one step late: x[:, t - 1]",
         [("looks_ahead", "x"), ("starts", "every step")], """
def gru_forward(x, h0, W, U, b):
    N, T, D = x.shape
    h = h0
    h_seq = np.zeros((N, T, h0.shape[1]))
    for t in range(T):
        h = gru_cell_forward(x[:, t - 1], h, W, U, b)
        h_seq[:, t] = h
    return h_seq, h
"""),
        # One buffer appended T times: every stored state is the last one.
        ("one buffer updated in place and appended at every step: all states are the last",
         [("looks_ahead", "x"), ("starts", "before the last step"), ("agrees_when", "one step")], """
def gru_forward(x, h0, W, U, b):
    h = h0.copy()
    states = []
    for t in range(x.shape[1]):
        h[:] = gru_cell_forward(x[:, t], h, W, U, b)
        states.append(h)
    return np.stack(states, axis=1), h
"""),
    ],
    "sample_next": [
        # The right distribution, drawn from NumPy's global generator: two runs differ.
        ("np.random.choice instead of the rng given",
         [("nondeterministic", ""), ("ignores", "rng")], """
def sample_next(logits, temperature, rng):
    if temperature == 0:
        return int(np.argmax(logits))
    z = np.asarray(logits, dtype=np.float64) / temperature
    p = np.exp(z - z.max())
    p /= p.sum()
    return int(np.random.choice(len(p), p=p))
"""),
    ],
    "perplexity": [
        ("probability of the most likely token instead of the target's",
         [("ignores", "targets")], """
def perplexity(probs, targets):
    picked = probs.max(axis=-1)
    return float(np.exp(-np.mean(np.log(picked))))
"""),
        # One perplexity per step (averaged over the batch), then their mean.
        ("mean of per-step perplexities (exp per time step, then averaged)",
         [("agrees_when", "one step")], """
def perplexity(probs, targets):
    N, T, V = probs.shape
    per_step = []
    for t in range(T):
        p = probs[np.arange(N), t, targets[:, t]]
        per_step.append(np.exp(-np.mean(np.log(p))))
    return float(np.mean(per_step))
"""),
        # Right value, but the caller's probabilities become log-probabilities.
        ("log taken in place (np.log(probs, out=probs))",
         [("in_place", "probs")], """
def perplexity(probs, targets):
    np.log(probs, out=probs)
    log_picked = np.take_along_axis(probs, targets[..., None], axis=-1)[..., 0]
    return float(np.exp(-np.mean(log_picked)))
"""),
    ],
}

# ----------------------------------------------------------------------------- silent
# exercise -> [(how it differs from the solution, source)]
SILENT = {
    "lstm_cell_forward": [
        ("per-gate slices and einsum instead of @ and np.split", """
def lstm_cell_forward(x_t, h_prev, c_prev, W, U, b):
    H = h_prev.shape[-1]
    z = np.einsum("nd,dk->nk", x_t, W) + np.einsum("nh,hk->nk", h_prev, U) + b
    i = sigmoid(z[:, 0 * H:1 * H])
    f = sigmoid(z[:, 1 * H:2 * H])
    g = np.tanh(z[:, 2 * H:3 * H])
    o = sigmoid(z[:, 3 * H:4 * H])
    c_next = f * c_prev + i * g
    h_next = o * np.tanh(c_next)
    return h_next, c_next
"""),
    ],
    "sample_next": [
        ("inverse-CDF sampling with rng.random and np.searchsorted", """
def sample_next(logits, temperature, rng):
    logits = np.asarray(logits, dtype=np.float64)
    if temperature == 0:
        return int(np.argmax(logits))
    z = logits / temperature
    p = np.exp(z - np.max(z))
    cdf = np.cumsum(p / p.sum())
    k = int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"))
    return min(k, len(p) - 1)
"""),
    ],
    "perplexity": [
        ("float32 arithmetic and fancy indexing", """
def perplexity(probs, targets):
    p = np.asarray(probs, dtype=np.float32)
    N, T = targets.shape
    picked = p[np.arange(N)[:, None], np.arange(T)[None, :], targets]
    return float(np.exp(-np.log(picked).sum() / (N * T)))
"""),
    ],
}
