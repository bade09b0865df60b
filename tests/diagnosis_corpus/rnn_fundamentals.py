"""Uncatalogued wrong implementations of 01_rnn_fundamentals, and what diagnosis should find."""

NOTEBOOK = '01_rnn_fundamentals'

# exercise name -> [(what the student did, acceptable findings, student source)].
# Sources may call the notebook's correct helpers (rnn_cell_forward, rnn_forward, dense_softmax,
# one_to_many); rnn_forward must call rnn_cell_forward.
WRONG = {
    "rnn_cell_forward": [
        ("bias added twice (once per product)",
         [("agrees_when", "zero bias")], """
def rnn_cell_forward(x_t, h_prev, Wx, Wh, b):
    a_x = x_t @ Wx + b
    a_h = h_prev @ Wh + b
    return np.tanh(a_x + a_h)
"""),
        ("recurrent term subtracted", [("agrees_when", "zero state")], """
def rnn_cell_forward(x_t, h_prev, Wx, Wh, b):
    return np.tanh(x_t @ Wx - h_prev @ Wh + b)
"""),
        ("bias added after the tanh", [("agrees_when", "zero bias")], """
def rnn_cell_forward(x_t, h_prev, Wx, Wh, b):
    h_next = np.tanh(np.dot(x_t, Wx) + np.dot(h_prev, Wh))
    return h_next + b
"""),
        ("h_prev overwritten in place with the new state", [("in_place", "h_prev")], """
def rnn_cell_forward(x_t, h_prev, Wx, Wh, b):
    h_prev[:] = np.tanh(x_t @ Wx + h_prev @ Wh + b)
    return h_prev
"""),
    ],
    "rnn_forward": [
        ("loop runs range(T - 1): the last state is left zero",
         [("starts", "last step"), ("ignores", "x")], """
def rnn_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    h_seq = np.zeros((N, T, h0.shape[1]))
    h = h0
    for t in range(T - 1):
        h = rnn_cell_forward(x[:, t], h, Wx, Wh, b)
        h_seq[:, t] = h
    return h_seq, h
"""),
        ("loop runs range(1, T): x[:, 0] never read, h_seq[:, 0] left zero",
         [("starts", "every step"), ("not_carried", "x"), ("ignores", "x")], """
def rnn_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    h_seq = np.zeros((N, T, h0.shape[1]))
    h = h0
    for t in range(1, T):
        h = rnn_cell_forward(x[:, t], h, Wx, Wh, b)
        h_seq[:, t] = h
    return h_seq, h
"""),
        ("reads the input of the previous step (x[:, t - 1]; step 0 reads x[:, -1])",
         [("looks_ahead", "x"), ("agrees_when", "one step"), ("starts", "every step")], """
def rnn_forward(x, h0, Wx, Wh, b):
    h = h0
    states = []
    for t in range(x.shape[1]):
        h = rnn_cell_forward(x[:, t - 1], h, Wx, Wh, b)
        states.append(h)
    return np.stack(states, axis=1), h
"""),
        ("state kept in h0's buffer (h[:] = ..., h0 overwritten)", [("in_place", "h0")], """
def rnn_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    h_seq = np.zeros((N, T, h0.shape[1]), dtype=h0.dtype)
    h = h0
    for t in range(T):
        h[:] = rnn_cell_forward(x[:, t], h, Wx, Wh, b)
        h_seq[:, t] = h
    return h_seq, h_seq[:, -1]
"""),
    ],
    "dense_softmax": [
        ("normalised by the sum over the whole array (no axis)",
         [("mixes_rows", "probs"), ("looks_ahead", "h_seq")], """
def dense_softmax(h_seq, Wy, by):
    logits = h_seq @ Wy + by
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum()
"""),
        ("bias shifted in place to keep the logits small (by -= by.max())",
         [("in_place", "by")], """
def dense_softmax(h_seq, Wy, by):
    by -= by.max()
    logits = h_seq @ Wy + by
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
"""),
    ],
    "many_to_one": [
        ("classifies the sum of the states", [("agrees_when", "one step")], """
def many_to_one(x, h0, Wx, Wh, b, Wy, by):
    h_seq, _ = rnn_forward(x, h0, Wx, Wh, b)
    return dense_softmax(h_seq.sum(axis=1), Wy, by)
"""),
        ("averages the probabilities of every step", [("agrees_when", "one step")], """
def many_to_one(x, h0, Wx, Wh, b, Wy, by):
    h_seq, _ = rnn_forward(x, h0, Wx, Wh, b)
    probs = dense_softmax(h_seq, Wy, by)
    return probs.mean(axis=1)
"""),
        ("softmax taken over the batch axis", [("mixes_rows", "probs"), ("ignores", "by")], """
def many_to_one(x, h0, Wx, Wh, b, Wy, by):
    _, h_last = rnn_forward(x, h0, Wx, Wh, b)
    logits = h_last @ Wy + by
    e = np.exp(logits - logits.max(axis=0))
    return e / e.sum(axis=0)
"""),
    ],
    "one_to_many": [
        ("feeds back the logits instead of the probabilities",
         [("agrees_when", "one step"), ("starts", "after step 0")], """
def one_to_many(x0, h0, Wx, Wh, b, Wy, by, T):
    x, h = x0, h0
    outputs = []
    for _ in range(T):
        h = rnn_cell_forward(x, h, Wx, Wh, b)
        logits = h @ Wy + by
        outputs.append(dense_softmax(h, Wy, by))
        x = logits
    return np.stack(outputs, axis=1)
"""),
        ("feeds back the one-hot argmax (greedy) instead of the probabilities",
         [("agrees_when", "one step"), ("starts", "after step 0")], """
def one_to_many(x0, h0, Wx, Wh, b, Wy, by, T):
    x, h = x0, h0
    V = Wy.shape[1]
    outputs = []
    for _ in range(T):
        h = rnn_cell_forward(x, h, Wx, Wh, b)
        y = dense_softmax(h, Wy, by)
        outputs.append(y)
        x = np.eye(V)[y.argmax(axis=-1)]
    return np.stack(outputs, axis=1)
"""),
        ("stores the step's input, not its output (x0 first)",
         [("transform", "shifted"), ("starts", "every step"), ("ignores", "h0"), ("ignores", "Wx"),
          ("ignores", "Wh"), ("ignores", "b"), ("ignores", "Wy"), ("ignores", "by")], """
def one_to_many(x0, h0, Wx, Wh, b, Wy, by, T):
    x, h = x0, h0
    outputs = []
    for _ in range(T):
        outputs.append(x)
        h = rnn_cell_forward(x, h, Wx, Wh, b)
        x = dense_softmax(h, Wy, by)
    return np.stack(outputs, axis=1)
"""),
    ],
    "encoder_decoder": [
        ("decoder starts from the encoder's first state",
         [("agrees_when", "one step"), ("starts", "every step")], """
def encoder_decoder(x, h0, enc, dec, Wy, by, Ty):
    h_seq, _ = rnn_forward(x, h0, *enc)
    start = np.zeros((x.shape[0], Wy.shape[1]))
    return one_to_many(start, h_seq[:, 0], *dec, Wy, by, Ty)
"""),
        ("encoder starts from zeros instead of h0",
         [("ignores", "h0"), ("agrees_when", "zero state")], """
def encoder_decoder(x, h0, enc, dec, Wy, by, Ty):
    _, h_enc = rnn_forward(x, np.zeros_like(h0), *enc)
    start = np.zeros((x.shape[0], Wy.shape[1]))
    return one_to_many(start, h_enc, *dec, Wy, by, Ty)
"""),
        ("encoder reads the input reversed (x[:, ::-1])",
         [("agrees_when", "one step"), ("starts", "every step")], """
def encoder_decoder(x, h0, enc, dec, Wy, by, Ty):
    _, h_enc = rnn_forward(x[:, ::-1], h0, *enc)
    start = np.zeros((x.shape[0], Wy.shape[1]))
    return one_to_many(start, h_enc, *dec, Wy, by, Ty)
"""),
    ],
}

# exercise name -> [(how it differs from the solution, a correct student source)].
SILENT = {
    "rnn_cell_forward": [
        ("einsum instead of @", """
def rnn_cell_forward(x_t, h_prev, Wx, Wh, b):
    a = np.einsum("nd,dh->nh", x_t, Wx) + np.einsum("nk,kh->nh", h_prev, Wh)
    return np.tanh(a + b[None, :])
"""),
    ],
    "rnn_forward": [
        ("preallocated h_seq, written step by step; h_last read back from it", """
def rnn_forward(x, h0, Wx, Wh, b):
    N, T, _ = x.shape
    h_seq = np.empty((N, T, h0.shape[1]), dtype=np.result_type(x, h0))
    h_prev = h0
    t = 0
    while t < T:
        h_seq[:, t] = rnn_cell_forward(x[:, t], h_prev, Wx, Wh, b)
        h_prev = h_seq[:, t]
        t += 1
    return h_seq, h_seq[:, T - 1]
"""),
    ],
    "dense_softmax": [
        ("float32 log-softmax, exponentiated", """
def dense_softmax(h_seq, Wy, by):
    logits = (h_seq.astype(np.float32) @ Wy.astype(np.float32) + by.astype(np.float32))
    z = logits - logits.max(axis=-1, keepdims=True)
    log_probs = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    return np.exp(log_probs)
"""),
    ],
}
