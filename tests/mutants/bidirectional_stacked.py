"""Student-style mutants of 05_bidirectional_stacked: one per catalogued mistake."""

NOTEBOOK = '05_bidirectional_stacked'
GIVEN_HELPERS = ('rnn_forward', 'simple_rnn_fn')  # given (ungraded) code of the notebook


# ----------------------------------------------------------------------------- mutants
# exercise name -> [(catalogued mistake name, student source defining that function)].
# A name catalogued twice (different wrong outputs) has one mutant per variant, in catalogue order.
# Mutants are plain NumPy; they call forward_fn, backward_fn and the layer functions as they are
# given, and may call the notebook's given rnn_forward, as a student's notebook would.
MUTANTS = {
    "bidirectional_forward": [
        ("backward outputs not re-reversed", """
def bidirectional_forward(x, forward_fn, backward_fn, merge_mode):
    fw = forward_fn(x)
    bw = backward_fn(np.flip(x, axis=1))
    if merge_mode == "concat":
        return np.concatenate((fw, bw), axis=2)
    elif merge_mode == "sum":
        return fw + bw
    elif merge_mode == "mul":
        return fw * bw
    else:
        return (fw + bw) / 2
"""),
        ("concat order (backward first)", """
def bidirectional_forward(x, forward_fn, backward_fn, merge_mode):
    h_fw = forward_fn(x)
    h_bw = backward_fn(x[:, ::-1])[:, ::-1]
    if merge_mode == "concat":
        return np.concatenate([h_bw, h_fw], axis=-1)
    if merge_mode == "sum":
        return h_fw + h_bw
    if merge_mode == "mul":
        return h_fw * h_bw
    return (h_fw + h_bw) / 2
"""),
        ("backward RNN reads the sequence forwards", """
def bidirectional_forward(x, forward_fn, backward_fn, merge_mode):
    forward = forward_fn(x)
    backward = backward_fn(x)
    merges = {
        "concat": lambda a, b: np.concatenate([a, b], axis=-1),
        "sum": lambda a, b: a + b,
        "mul": lambda a, b: a * b,
        "ave": lambda a, b: (a + b) / 2,
    }
    return merges[merge_mode](forward, backward)
"""),
        ("forward_fn used for both directions", """
def bidirectional_forward(x, forward_fn, backward_fn, merge_mode):
    forward = forward_fn(x)
    backward = forward_fn(x[:, ::-1])[:, ::-1]
    if merge_mode == "concat":
        return np.concatenate([forward, backward], axis=-1)
    if merge_mode == "sum":
        return forward + backward
    if merge_mode == "mul":
        return forward * backward
    return 0.5 * (forward + backward)
"""),
        ("ave computed as a sum", """
def bidirectional_forward(x, forward_fn, backward_fn, merge_mode):
    forward = forward_fn(x)
    backward = backward_fn(x[:, ::-1])[:, ::-1]
    if merge_mode == "concat":
        return np.concatenate([forward, backward], axis=-1)
    if merge_mode == "mul":
        return forward * backward
    return forward + backward           # "sum" and "ave" share this branch
"""),
    ],
    "stacked_forward": [
        ("x fed to every layer", """
def stacked_forward(x, layer_fns):
    for layer in layer_fns:
        h_seq = layer(x)
    return h_seq
"""),
        ("first layer's output returned", """
def stacked_forward(x, layer_fns):
    outputs = []
    h = x
    for layer in layer_fns:
        h = layer(h)
        outputs.append(h)
    return outputs[0]
"""),
        ("layers applied top first", """
def stacked_forward(x, layer_fns):
    h_seq = x
    for layer in reversed(layer_fns):
        h_seq = layer(h_seq)
    return h_seq
"""),
        ("residual connections added", """
def stacked_forward(x, layer_fns):
    h = x
    for layer in layer_fns:
        out = layer(h)
        h = out + h if out.shape == h.shape else out
    return h
"""),
    ],
    "masked_rnn_forward": [
        # The given rnn_forward: the padding is read like any other step.
        ("mask ignored", """
def masked_rnn_forward(x, mask, h0, Wx, Wh, b):
    return rnn_forward(x, h0, Wx, Wh, b)
"""),
        ("state reset to zeros at padded steps", """
def masked_rnn_forward(x, mask, h0, Wx, Wh, b):
    h = h0
    out = np.zeros_like(h0)
    outputs = []
    for t in range(x.shape[1]):
        m = mask[:, t:t + 1]
        h_new = np.tanh(x[:, t] @ Wx + h @ Wh + b)
        out = np.where(m, h_new, out)
        h = h_new * m
        outputs.append(out)
    return np.stack(outputs, axis=1), h
"""),
        ("zero output at padded steps", """
def masked_rnn_forward(x, mask, h0, Wx, Wh, b):
    h = h0
    h_seq = np.zeros((x.shape[0], x.shape[1], h0.shape[1]), dtype=x.dtype)
    for t in range(x.shape[1]):
        m = mask[:, t:t + 1]
        h = np.where(m, np.tanh(x[:, t] @ Wx + h @ Wh + b), h)
        h_seq[:, t] = h * m
    return h_seq, h
"""),
        # The state is returned as the output, so leading padded steps show h0.
        ("outputs start from h0 at leading padded steps", """
def masked_rnn_forward(x, mask, h0, Wx, Wh, b):
    h = h0
    states = []
    for t in range(x.shape[1]):
        h_new = np.tanh(x[:, t] @ Wx + h @ Wh + b)
        h = np.where(mask[:, t:t + 1], h_new, h)
        states.append(h)
    return np.stack(states, axis=1), h
"""),
        ("mask inverted", """
def masked_rnn_forward(x, mask, h0, Wx, Wh, b):
    N, T, _ = x.shape
    h = h0
    out = np.zeros_like(h0)
    h_seq = []
    for t in range(T):
        padded = mask[:, t:t + 1]
        h_new = np.tanh(x[:, t] @ Wx + h @ Wh + b)
        h = np.where(padded, h, h_new)
        out = np.where(padded, out, h_new)
        h_seq.append(out)
    return np.stack(h_seq, axis=1), h
"""),
    ],
}

# Catalogued mistakes that the hidden cases cannot see yet (a gap in the shared cases, not in the
# mutant): (exercise, mistake) -> why.
HIDDEN_GAPS = {}
