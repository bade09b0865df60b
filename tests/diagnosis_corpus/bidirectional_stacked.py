"""Uncatalogued wrong implementations of 05_bidirectional_stacked, and correct ones written
differently.

See tests/diagnosis_corpus/__init__.py for the format and the vocabulary of findings.
"""

NOTEBOOK = '05_bidirectional_stacked'

# ----------------------------------------------------------------------------- wrong
# exercise -> [(what the student did, acceptable findings, source)]
WRONG = {
    "bidirectional_forward": [
        # [::-1] flips the batch axis: the backward half stays time-reversed and its rows swap.
        ("backward outputs flipped on the batch axis ([::-1] instead of [:, ::-1])",
         [("transform", "reversed"), ("mixes_rows", "y")], """
def bidirectional_forward(x, forward_fn, backward_fn, merge_mode):
    fw = forward_fn(x)
    bw = backward_fn(x[:, ::-1])
    bw = bw[::-1]
    if merge_mode == "concat":
        return np.concatenate([fw, bw], axis=-1)
    elif merge_mode == "sum":
        return fw + bw
    elif merge_mode == "mul":
        return fw * bw
    elif merge_mode == "ave":
        return (fw + bw) / 2
"""),
        # A copy-paste slip in one branch: "sum" returns twice the forward states.
        ("sum mode adds the forward states to themselves (forward + forward)",
         [("ignores", "backward_fn")], """
def bidirectional_forward(x, forward_fn, backward_fn, merge_mode):
    forward = forward_fn(x)
    backward = backward_fn(x[:, ::-1])[:, ::-1]
    if merge_mode == "concat":
        return np.concatenate([forward, backward], axis=-1)
    if merge_mode == "sum":
        return forward + forward
    if merge_mode == "mul":
        return forward * backward
    return (forward + backward) / 2
"""),
        # Right values, but the caller's x is reversed in time for the backward pass.
        ("x reversed in place for the backward pass (x[:] = x[:, ::-1])",
         [("in_place", "x")], """
def bidirectional_forward(x, forward_fn, backward_fn, merge_mode):
    forward = forward_fn(x)
    x[:] = x[:, ::-1]
    backward = backward_fn(x)[:, ::-1]
    if merge_mode == "concat":
        return np.concatenate([forward, backward], axis=-1)
    if merge_mode == "sum":
        return forward + backward
    if merge_mode == "mul":
        return forward * backward
    return (forward + backward) / 2
"""),
    ],
    "stacked_forward": [
        # Time-major habits: each layer runs over the batch axis as if it were time, so a row's
        # states depend on the rows before it and no state is carried over time.
        ("sequence transposed to time-major (T, N, D) before the layers",
         [("mixes_rows", "h_seq"), ("not_carried", "x")], """
def stacked_forward(x, layer_fns):
    h = np.transpose(x, (1, 0, 2))
    for layer in layer_fns:
        h = layer(h)
    return np.transpose(h, (1, 0, 2))
"""),
        # Dropout between layers (as in training), drawn from NumPy's global generator.
        ("dropout between the layers",
         [("nondeterministic", "")], """
def stacked_forward(x, layer_fns):
    h = x
    for k, layer in enumerate(layer_fns):
        h = layer(h)
        if k < len(layer_fns) - 1:
            keep = np.random.rand(*h.shape) > 0.2
            h = h * keep / 0.8
    return h
"""),
        # Right values, but the caller's list of layers is emptied.
        ("layers popped off the caller's list (layer_fns.pop(0))",
         [("in_place", "layer_fns")], """
def stacked_forward(x, layer_fns):
    h_seq = x
    while layer_fns:
        layer = layer_fns.pop(0)
        h_seq = layer(h_seq)
    return h_seq
"""),
    ],
    "masked_rnn_forward": [
        # The output skips the padding; the state runs through it (on one real step, nothing
        # is carried and it agrees).
        ("mask applied to the output but not to the state",
         [("extra", "x"), ("agrees_when", "one step")], """
def masked_rnn_forward(x, mask, h0, Wx, Wh, b):
    h = h0
    out = np.zeros_like(h0)
    outputs = []
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ Wx + h @ Wh + b)
        out = np.where(mask[:, t:t + 1], h, out)
        outputs.append(out)
    return np.stack(outputs, axis=1), h
"""),
        # h_last is the candidate of the last step, computed from the padding too.
        ("last candidate returned as h_last (h_new, not h)",
         [("extra", "x")], """
def masked_rnn_forward(x, mask, h0, Wx, Wh, b):
    h = h0
    out = np.zeros_like(h0)
    outputs = []
    for t in range(x.shape[1]):
        real = mask[:, t][:, None]
        h_new = np.tanh(x[:, t] @ Wx + h @ Wh + b)
        h = np.where(real, h_new, h)
        out = np.where(real, h_new, out)
        outputs.append(out)
    return np.stack(outputs, axis=1), h_new
"""),
        # A Python `if` on the mask column: the batch steps only while every row is real, so
        # once the shortest row ends, no row reads its real steps.
        ("the batch steps only when every row is real (if mask[:, t].all())",
         [("mixes_rows", "h_seq"), ("mixes_rows", "h_last"), ("ignores", "x"),
          ("not_carried", "x")], """
def masked_rnn_forward(x, mask, h0, Wx, Wh, b):
    h = h0
    out = np.zeros_like(h0)
    outputs = []
    for t in range(x.shape[1]):
        if mask[:, t].all():
            h = np.tanh(x[:, t] @ Wx + h @ Wh + b)
            out = h
        outputs.append(out)
    return np.stack(outputs, axis=1), h
"""),
        ("loop over range(T - 1): the last step is left zero",
         [("starts", "last step"), ("transform", "truncated")], """
def masked_rnn_forward(x, mask, h0, Wx, Wh, b):
    N, T, _ = x.shape
    h_seq = np.zeros((N, T, h0.shape[1]))
    h = h0
    out = np.zeros_like(h0)
    for t in range(T - 1):
        m = mask[:, t:t + 1]
        h_new = np.tanh(x[:, t] @ Wx + h @ Wh + b)
        h = np.where(m, h_new, h)
        out = np.where(m, h_new, out)
        h_seq[:, t] = out
    return h_seq, h
"""),
        # Right values (the padding is never read), but the caller's x is zeroed there.
        ("padding zeroed in place (x[~mask] = 0)",
         [("in_place", "x")], """
def masked_rnn_forward(x, mask, h0, Wx, Wh, b):
    x[~mask] = 0
    h = h0
    out = np.zeros_like(h0)
    outputs = []
    for t in range(x.shape[1]):
        real = mask[:, t:t + 1]
        h_new = np.tanh(x[:, t] @ Wx + h @ Wh + b)
        h = np.where(real, h_new, h)
        out = np.where(real, h_new, out)
        outputs.append(out)
    return np.stack(outputs, axis=1), h
"""),
    ],
}

# ----------------------------------------------------------------------------- silent
# exercise -> [(how it differs from the solution, source)]
SILENT = {
    "bidirectional_forward": [
        ("np.flip(axis=1) and a dict of merge functions", """
def bidirectional_forward(x, forward_fn, backward_fn, merge_mode):
    forward = forward_fn(x)
    backward = np.flip(backward_fn(np.flip(x, axis=1)), axis=1)
    merges = {
        "concat": lambda a, c: np.concatenate([a, c], axis=2),
        "sum": lambda a, c: a + c,
        "mul": lambda a, c: a * c,
        "ave": lambda a, c: 0.5 * (a + c),
    }
    return merges[merge_mode](forward, backward)
"""),
    ],
    "stacked_forward": [
        ("functools.reduce over the layers", """
import functools

def stacked_forward(x, layer_fns):
    return functools.reduce(lambda h, layer: layer(h), layer_fns, x)
"""),
    ],
    "masked_rnn_forward": [
        ("float mask blended arithmetically in float32, outputs preallocated", """
def masked_rnn_forward(x, mask, h0, Wx, Wh, b):
    N, T, _ = x.shape
    x, h0, Wx, Wh, b = (np.asarray(a, np.float32) for a in (x, h0, Wx, Wh, b))
    m = mask.astype(np.float32)[:, :, None]
    h = h0
    out = np.zeros_like(h0)
    h_seq = np.empty((N, T, h0.shape[1]), dtype=np.float32)
    for t in range(T):
        h_new = np.tanh(x[:, t] @ Wx + h @ Wh + b)
        h = m[:, t] * h_new + (1.0 - m[:, t]) * h
        out = m[:, t] * h_new + (1.0 - m[:, t]) * out
        h_seq[:, t] = out
    return h_seq, h
"""),
    ],
}
