"""Student-style mutants of 01_rnn_fundamentals: one per catalogued mistake."""

NOTEBOOK = '01_rnn_fundamentals'
GIVEN_HELPERS = ()


# ----------------------------------------------------------------------------- mutants
# exercise name -> [(catalogued mistake name, student source defining that function)].
# A name catalogued twice (different wrong outputs) has one mutant per variant, in catalogue order.
# Mutants are plain NumPy; they may call the *correct* helpers of the notebook (rnn_cell_forward,
# rnn_forward, dense_softmax, one_to_many), as a student's notebook would.
MUTANTS = {
    "rnn_cell_forward": [
        ("sigmoid instead of tanh", """
def rnn_cell_forward(x_t, h_prev, Wx, Wh, b):
    z = x_t @ Wx + h_prev @ Wh + b
    return 1 / (1 + np.exp(-z))
"""),
        ("relu instead of tanh", """
def rnn_cell_forward(x_t, h_prev, Wx, Wh, b):
    z = x_t @ Wx + h_prev @ Wh + b
    return np.maximum(z, 0)
"""),
        ("no activation", """
def rnn_cell_forward(x_t, h_prev, Wx, Wh, b):
    h_next = x_t @ Wx + h_prev @ Wh + b
    return h_next
"""),
        ("bias missing", """
def rnn_cell_forward(x_t, h_prev, Wx, Wh, b):
    return np.tanh(np.dot(x_t, Wx) + np.dot(h_prev, Wh))
"""),
        # Only computable when D == H ("visible 2"); on "visible 1" the product raises.
        ("Wx and Wh swapped", """
def rnn_cell_forward(x_t, h_prev, Wx, Wh, b):
    return np.tanh(x_t @ Wh + h_prev @ Wx + b)
"""),
        ("Wh transposed", """
def rnn_cell_forward(x_t, h_prev, Wx, Wh, b):
    return np.tanh(x_t @ Wx + (Wh @ h_prev.T).T + b)
"""),
        ("recurrent term missing", """
def rnn_cell_forward(x_t, h_prev, Wx, Wh, b):
    return np.tanh(x_t @ Wx + b)
"""),
        ("input term missing", """
def rnn_cell_forward(x_t, h_prev, Wx, Wh, b):
    return np.tanh(h_prev @ Wh + b)
"""),
    ],
    "rnn_forward": [
        ("state not carried (h0 at every step)", """
def rnn_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    h_seq = np.zeros((N, T, h0.shape[1]))
    for t in range(T):
        h_seq[:, t] = rnn_cell_forward(x[:, t], h0, Wx, Wh, b)
    return h_seq, h_seq[:, -1]
"""),
        ("sequence shifted by one (h_seq starts with h0)", """
def rnn_forward(x, h0, Wx, Wh, b):
    h = h0
    states = []
    for t in range(x.shape[1]):
        states.append(h)
        h = rnn_cell_forward(x[:, t], h, Wx, Wh, b)
    return np.stack(states, axis=1), h
"""),
        # Variant 1: the loop runs backwards and the states are stored in the order they are made.
        ("time reversed (go_backwards)", """
def rnn_forward(x, h0, Wx, Wh, b):
    h = h0
    states = []
    for t in reversed(range(x.shape[1])):
        h = rnn_cell_forward(x[:, t], h, Wx, Wh, b)
        states.append(h)
    return np.stack(states, axis=1), h
"""),
        # Variant 2: the loop runs backwards and each state is stored at the index it read.
        ("time reversed (go_backwards)", """
def rnn_forward(x, h0, Wx, Wh, b):
    N, T, _ = x.shape
    h_seq = np.zeros((N, T, h0.shape[1]))
    h = h0
    for t in range(T - 1, -1, -1):
        h = rnn_cell_forward(x[:, t], h, Wx, Wh, b)
        h_seq[:, t] = h
    return h_seq, h
"""),
        ("h_last is the first state", """
def rnn_forward(x, h0, Wx, Wh, b):
    h = h0
    states = []
    for t in range(x.shape[1]):
        h = rnn_cell_forward(x[:, t], h, Wx, Wh, b)
        states.append(h)
    return np.stack(states, axis=1), states[0]
"""),
        ("h_seq is time-major (T, N, H)", """
def rnn_forward(x, h0, Wx, Wh, b):
    h = h0
    states = []
    for t in range(x.shape[1]):
        h = rnn_cell_forward(x[:, t], h, Wx, Wh, b)
        states.append(h)
    return np.array(states), h
"""),
        ("h_seq includes h0 (T + 1 states)", """
def rnn_forward(x, h0, Wx, Wh, b):
    states = [h0]
    for t in range(x.shape[1]):
        states.append(rnn_cell_forward(x[:, t], states[-1], Wx, Wh, b))
    return np.stack(states, axis=1), states[-1]
"""),
        ("h0 ignored (starts from zeros)", """
def rnn_forward(x, h0, Wx, Wh, b):
    h = np.zeros(h0.shape)
    states = []
    for t in range(x.shape[1]):
        h = rnn_cell_forward(x[:, t], h, Wx, Wh, b)
        states.append(h)
    return np.stack(states, axis=1), h
"""),
    ],
    "dense_softmax": [
        ("softmax over the wrong axis (time)", """
def dense_softmax(h_seq, Wy, by):
    logits = h_seq @ Wy + by
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
"""),
        ("softmax over the wrong axis (batch)", """
def dense_softmax(h_seq, Wy, by):
    logits = h_seq @ Wy + by
    e = np.exp(logits - np.max(logits, axis=0))
    return e / np.sum(e, axis=0)
"""),
        ("overflow on large logits (no max shift)", """
def dense_softmax(h_seq, Wy, by):
    e = np.exp(h_seq @ Wy + by)
    return e / e.sum(axis=-1, keepdims=True)
"""),
        ("bias missing", """
def dense_softmax(h_seq, Wy, by):
    logits = h_seq @ Wy
    logits = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=-1, keepdims=True)
"""),
        ("logits returned (no softmax)", """
def dense_softmax(h_seq, Wy, by):
    logits = h_seq @ Wy + by
    return logits
"""),
        ("sigmoid instead of softmax", """
def dense_softmax(h_seq, Wy, by):
    logits = h_seq @ Wy + by
    return 1.0 / (1.0 + np.exp(-logits))
"""),
        # Only computable when H == V ("visible large logits"); on "visible 1" the product raises.
        ("Wy transposed", """
def dense_softmax(h_seq, Wy, by):
    logits = h_seq @ Wy.T + by
    logits = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=-1, keepdims=True)
"""),
    ],
    "many_to_one": [
        ("classifies the first state", """
def many_to_one(x, h0, Wx, Wh, b, Wy, by):
    h_seq, h_last = rnn_forward(x, h0, Wx, Wh, b)
    return dense_softmax(h_seq[:, 0], Wy, by)
"""),
        ("classifies the mean of the states", """
def many_to_one(x, h0, Wx, Wh, b, Wy, by):
    h_seq, _ = rnn_forward(x, h0, Wx, Wh, b)
    return dense_softmax(np.mean(h_seq, axis=1), Wy, by)
"""),
        ("logits returned (no softmax)", """
def many_to_one(x, h0, Wx, Wh, b, Wy, by):
    _, h_last = rnn_forward(x, h0, Wx, Wh, b)
    return h_last @ Wy + by
"""),
        ("h0 ignored (starts from zeros)", """
def many_to_one(x, h0, Wx, Wh, b, Wy, by):
    _, h_last = rnn_forward(x, np.zeros_like(h0), Wx, Wh, b)
    return dense_softmax(h_last, Wy, by)
"""),
    ],
    "one_to_many": [
        ("output not fed back (x0 at every step)", """
def one_to_many(x0, h0, Wx, Wh, b, Wy, by, T):
    h = h0
    outputs = []
    for _ in range(T):
        h = rnn_cell_forward(x0, h, Wx, Wh, b)
        outputs.append(dense_softmax(h, Wy, by))
    return np.stack(outputs, axis=1)
"""),
        ("state reset to h0 at every step", """
def one_to_many(x0, h0, Wx, Wh, b, Wy, by, T):
    x = x0
    outputs = []
    for _ in range(T):
        h = rnn_cell_forward(x, h0, Wx, Wh, b)
        x = dense_softmax(h, Wy, by)
        outputs.append(x)
    return np.stack(outputs, axis=1)
"""),
        ("x0 not used (first input zeros)", """
def one_to_many(x0, h0, Wx, Wh, b, Wy, by, T):
    N, V = x0.shape
    x, h = np.zeros((N, V)), h0
    outputs = []
    for _ in range(T):
        h = rnn_cell_forward(x, h, Wx, Wh, b)
        x = dense_softmax(h, Wy, by)
        outputs.append(x)
    return np.stack(outputs, axis=1)
"""),
    ],
    "encoder_decoder": [
        ("decoder ignores the encoder (starts from h0)", """
def encoder_decoder(x, h0, enc, dec, Wy, by, Ty):
    _, h_enc = rnn_forward(x, h0, *enc)
    start = np.zeros((x.shape[0], Wy.shape[1]))
    return one_to_many(start, h0, *dec, Wy, by, Ty)
"""),
        ("decoder uses the encoder's weights", """
def encoder_decoder(x, h0, enc, dec, Wy, by, Ty):
    Wx, Wh, b = enc
    _, h_enc = rnn_forward(x, h0, Wx, Wh, b)
    start = np.zeros((x.shape[0], Wy.shape[1]))
    return one_to_many(start, h_enc, Wx, Wh, b, Wy, by, Ty)
"""),
        ("output length follows the input (Tx instead of Ty)", """
def encoder_decoder(x, h0, enc, dec, Wy, by, Ty):
    N, Tx, D = x.shape
    _, h_enc = rnn_forward(x, h0, *enc)
    start = np.zeros((N, Wy.shape[1]))
    return one_to_many(start, h_enc, *dec, Wy, by, Tx)
"""),
        ("decoder output not fed back (zero input at every step)", """
def encoder_decoder(x, h0, enc, dec, Wy, by, Ty):
    _, h = rnn_forward(x, h0, *enc)
    zeros = np.zeros((x.shape[0], Wy.shape[1]))
    probs = []
    for _ in range(Ty):
        h = rnn_cell_forward(zeros, h, *dec)
        probs.append(dense_softmax(h, Wy, by))
    return np.stack(probs, axis=1)
"""),
    ],
}

# Catalogued mistakes the hidden cases cannot see yet: (exercise, mistake) -> why.
HIDDEN_GAPS = {}
