"""Student-style mutants of 04_lstm_gru: one per catalogued mistake."""

NOTEBOOK = '04_lstm_gru'
GIVEN_HELPERS = ()


# ----------------------------------------------------------------------------- mutants
# exercise name -> [(catalogued mistake name, student source defining that function)].
# A name catalogued twice (different wrong outputs) has one mutant per variant, in catalogue order.
# Mutants are plain NumPy; they may call the notebook's sigmoid and the *correct* cells, as a
# student's notebook would (lstm_forward and gru_forward must call their cell).
MUTANTS = {
    "lstm_cell_forward": [
        ("gate order i, f, o, g", """
def lstm_cell_forward(x_t, h_prev, c_prev, W, U, b):
    z = x_t @ W + h_prev @ U + b
    i, f, o, g = np.split(z, 4, axis=1)
    i, f, o = sigmoid(i), sigmoid(f), sigmoid(o)
    g = np.tanh(g)
    c_next = f * c_prev + i * g
    h_next = o * np.tanh(c_next)
    return h_next, c_next
"""),
        ("tanh on a gate", """
def lstm_cell_forward(x_t, h_prev, c_prev, W, U, b):
    z = x_t @ W + h_prev @ U + b
    i, f, g, o = np.split(np.tanh(z), 4, axis=1)
    c_next = f * c_prev + i * g
    h_next = o * np.tanh(c_next)
    return h_next, c_next
"""),
        ("h = o * c (no tanh)", """
def lstm_cell_forward(x_t, h_prev, c_prev, W, U, b):
    H = h_prev.shape[1]
    z = x_t @ W + h_prev @ U + b
    i = sigmoid(z[:, :H])
    f = sigmoid(z[:, H:2 * H])
    g = np.tanh(z[:, 2 * H:3 * H])
    o = sigmoid(z[:, 3 * H:])
    c_next = f * c_prev + i * g
    h_next = o * c_next
    return h_next, c_next
"""),
        ("forget gate applied to the candidate", """
def lstm_cell_forward(x_t, h_prev, c_prev, W, U, b):
    z = x_t @ W + h_prev @ U + b
    z_i, z_f, z_c, z_o = np.split(z, 4, axis=-1)
    i, f, o = sigmoid(z_i), sigmoid(z_f), sigmoid(z_o)
    g = np.tanh(z_c)
    c_next = i * c_prev + f * g
    return o * np.tanh(c_next), c_next
"""),
        ("sigmoid on the candidate", """
def lstm_cell_forward(x_t, h_prev, c_prev, W, U, b):
    gates = 1 / (1 + np.exp(-(x_t @ W + h_prev @ U + b)))
    i, f, g, o = np.split(gates, 4, axis=1)
    c_next = f * c_prev + i * g
    h_next = o * np.tanh(c_next)
    return h_next, c_next
"""),
        ("c_prev ignored", """
def lstm_cell_forward(x_t, h_prev, c_prev, W, U, b):
    z = x_t @ W + h_prev @ U + b
    z_i, z_f, z_c, z_o = np.split(z, 4, axis=-1)
    i, f, o = sigmoid(z_i), sigmoid(z_f), sigmoid(z_o)
    g = np.tanh(z_c)
    c_next = i * g
    h_next = o * np.tanh(c_next)
    return h_next, c_next
"""),
        ("bias missing", """
def lstm_cell_forward(x_t, h_prev, c_prev, W, U, b):
    z = np.dot(x_t, W) + np.dot(h_prev, U)
    i, f, g, o = np.split(z, 4, axis=1)
    c_next = sigmoid(f) * c_prev + sigmoid(i) * np.tanh(g)
    h_next = sigmoid(o) * np.tanh(c_next)
    return h_next, c_next
"""),
    ],
    "lstm_forward": [
        ("cell state not carried (c0 at every step)", """
def lstm_forward(x, h0, c0, W, U, b):
    h = h0
    states = []
    for t in range(x.shape[1]):
        h, c = lstm_cell_forward(x[:, t], h, c0, W, U, b)
        states.append(h)
    return np.stack(states, axis=1), h, c
"""),
        ("hidden state not carried (h0 at every step)", """
def lstm_forward(x, h0, c0, W, U, b):
    c = c0
    states = []
    for t in range(x.shape[1]):
        h, c = lstm_cell_forward(x[:, t], h0, c, W, U, b)
        states.append(h)
    return np.stack(states, axis=1), h, c
"""),
        ("time reversed", """
def lstm_forward(x, h0, c0, W, U, b):
    N, T, _ = x.shape
    h_seq = np.zeros((N, T, h0.shape[1]), dtype=x.dtype)
    h, c = h0, c0
    for t in range(T - 1, -1, -1):
        h, c = lstm_cell_forward(x[:, t, :], h, c, W, U, b)
        h_seq[:, t, :] = h
    return h_seq, h, c
"""),
        ("cell states returned instead of hidden states", """
def lstm_forward(x, h0, c0, W, U, b):
    h, c = h0, c0
    cs = []
    for t in range(x.shape[1]):
        h, c = lstm_cell_forward(x[:, t], h, c, W, U, b)
        cs.append(c)
    return np.stack(cs, axis=1), h, c
"""),
    ],
    "gru_cell_forward": [
        ("z convention swapped", """
def gru_cell_forward(x_t, h_prev, W, U, b):
    xw = x_t @ W + b[0]
    hu = h_prev @ U + b[1]
    xw_z, xw_r, xw_h = np.split(xw, 3, axis=-1)
    hu_z, hu_r, hu_h = np.split(hu, 3, axis=-1)
    z = sigmoid(xw_z + hu_z)
    r = sigmoid(xw_r + hu_r)
    h_tilde = np.tanh(xw_h + r * hu_h)
    return (1 - z) * h_prev + z * h_tilde
"""),
        ("reset before the matmul", """
def gru_cell_forward(x_t, h_prev, W, U, b):
    H = h_prev.shape[1]
    xw = x_t @ W + b[0]
    z = sigmoid(xw[:, :H] + h_prev @ U[:, :H] + b[1, :H])
    r = sigmoid(xw[:, H:2 * H] + h_prev @ U[:, H:2 * H] + b[1, H:2 * H])
    h_tilde = np.tanh(xw[:, 2 * H:] + (r * h_prev) @ U[:, 2 * H:] + b[1, 2 * H:])
    return z * h_prev + (1 - z) * h_tilde
"""),
        ("recurrent bias row ignored", """
def gru_cell_forward(x_t, h_prev, W, U, b):
    xw = x_t @ W + b[0]
    hu = h_prev @ U
    xw_z, xw_r, xw_h = np.split(xw, 3, axis=-1)
    hu_z, hu_r, hu_h = np.split(hu, 3, axis=-1)
    z = sigmoid(xw_z + hu_z)
    r = sigmoid(xw_r + hu_r)
    return z * h_prev + (1 - z) * np.tanh(xw_h + r * hu_h)
"""),
        ("input bias row ignored", """
def gru_cell_forward(x_t, h_prev, W, U, b):
    b_rec = b[1]
    xw = x_t @ W
    hu = h_prev @ U + b_rec
    xw_z, xw_r, xw_h = np.split(xw, 3, axis=1)
    hu_z, hu_r, hu_h = np.split(hu, 3, axis=1)
    z = sigmoid(xw_z + hu_z)
    r = sigmoid(xw_r + hu_r)
    return z * h_prev + (1 - z) * np.tanh(xw_h + r * hu_h)
"""),
        ("recurrent candidate bias outside the reset", """
def gru_cell_forward(x_t, h_prev, W, U, b):
    H = h_prev.shape[1]
    xw = x_t @ W + b[0]
    hu = h_prev @ U
    z = sigmoid(xw[:, :H] + hu[:, :H] + b[1, :H])
    r = sigmoid(xw[:, H:2 * H] + hu[:, H:2 * H] + b[1, H:2 * H])
    h_tilde = np.tanh(xw[:, 2 * H:] + r * hu[:, 2 * H:] + b[1, 2 * H:])
    return z * h_prev + (1 - z) * h_tilde
"""),
        ("tanh on the update gate", """
def gru_cell_forward(x_t, h_prev, W, U, b):
    xw = x_t @ W + b[0]
    hu = h_prev @ U + b[1]
    xw_z, xw_r, xw_h = np.split(xw, 3, axis=-1)
    hu_z, hu_r, hu_h = np.split(hu, 3, axis=-1)
    z = np.tanh(xw_z + hu_z)
    r = sigmoid(xw_r + hu_r)
    h_tilde = np.tanh(xw_h + r * hu_h)
    return z * h_prev + (1 - z) * h_tilde
"""),
    ],
    "gru_forward": [
        ("state not carried (h0 at every step)", """
def gru_forward(x, h0, W, U, b):
    states = []
    for t in range(x.shape[1]):
        h = gru_cell_forward(x[:, t], h0, W, U, b)
        states.append(h)
    return np.stack(states, axis=1), h
"""),
        ("time reversed", """
def gru_forward(x, h0, W, U, b):
    h = h0
    states = []
    for t in reversed(range(x.shape[1])):
        h = gru_cell_forward(x[:, t], h, W, U, b)
        states.insert(0, h)
    return np.stack(states, axis=1), h
"""),
    ],
    "sample_next": [
        # No special case for 0: multiplying by 0 makes every logit 0 (uniform samples).
        ("temperature multiplied instead of divided", """
def sample_next(logits, temperature, rng):
    z = logits * temperature
    p = np.exp(z - np.max(z))
    p = p / np.sum(p)
    return int(rng.choice(len(logits), p=p))
"""),
        ("temperature ignored", """
def sample_next(logits, temperature, rng):
    p = np.exp(logits - logits.max())
    p /= p.sum()
    return rng.choice(len(p), p=p)
"""),
        # Greedy decoding: by nature it never draws from rng.
        ("always the most likely index (greedy)", """
def sample_next(logits, temperature, rng):
    return int(np.argmax(logits))
"""),
        # p is computed, but not passed to rng.choice.
        ("uniform sampling", """
def sample_next(logits, temperature, rng):
    z = logits / max(temperature, 1e-8)
    p = np.exp(z - z.max())
    p = p / p.sum()
    return int(rng.choice(len(p)))
"""),
    ],
    "perplexity": [
        ("cross-entropy returned (no exp)", """
def perplexity(probs, targets):
    picked = np.take_along_axis(probs, targets[..., None], axis=-1)[..., 0]
    return -np.mean(np.log(picked))
"""),
        ("exp of the summed loss", """
def perplexity(probs, targets):
    N, T = targets.shape
    total = 0.0
    for n in range(N):
        for t in range(T):
            total += -np.log(probs[n, t, targets[n, t]])
    return np.exp(total)
"""),
        ("mean of per-sequence perplexities", """
def perplexity(probs, targets):
    picked = np.take_along_axis(probs, targets[..., None], axis=-1)[..., 0]
    per_sequence = np.exp(-np.mean(np.log(picked), axis=1))
    return float(np.mean(per_sequence))
"""),
        ("entropy of the predictions instead of the targets' probabilities", """
def perplexity(probs, targets):
    entropy = -np.sum(probs * np.log(probs), axis=-1)
    return float(np.exp(entropy.mean()))
"""),
        ("mean of inverse probabilities", """
def perplexity(probs, targets):
    N, T, V = probs.shape
    picked = probs.reshape(N * T, V)[np.arange(N * T), targets.reshape(-1)]
    return np.mean(1.0 / picked)
"""),
    ],
}

# Catalogued mistakes the hidden cases cannot see yet: (exercise, mistake) -> why.
HIDDEN_GAPS = {}
