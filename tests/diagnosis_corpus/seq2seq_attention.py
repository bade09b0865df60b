"""Uncatalogued wrong implementations of 07_seq2seq_attention, and correct ones written otherwise.

The sources run in the solution namespace: they may call np and the notebook's given sigmoid,
softmax and gru_cell, and the correct dot_attention.
"""

NOTEBOOK = "07_seq2seq_attention"

WRONG = {
    "dot_attention": [
        ("padding masked by multiplying the scores by the mask (a padded key scores 0, not -inf)",
         [("extra", "values")], """
def dot_attention(query, keys, values, mask=None):
    scores = query @ np.swapaxes(keys, 1, 2)
    if mask is not None:
        scores = scores * mask[:, None, :]
    scores = scores - scores.max(axis=-1, keepdims=True)
    weights = np.exp(scores)
    weights = weights / weights.sum(axis=-1, keepdims=True)
    return weights @ values, weights
"""),
        ("mask read the Transformer way (1 = padding): -1e9 added where the mask is True",
         [("extra", "keys"), ("extra", "values"), ("ignores", "keys"), ("ignores", "values")], """
def dot_attention(query, keys, values, mask=None):
    scores = query @ np.swapaxes(keys, 1, 2)
    if mask is not None:
        scores = scores + mask[:, None, :] * -1e9
    scores = scores - scores.max(axis=-1, keepdims=True)
    weights = np.exp(scores)
    weights = weights / weights.sum(axis=-1, keepdims=True)
    return weights @ values, weights
"""),
        ("softmax normalised over the whole batch (the sum has no axis)",
         [("mixes_rows", "context"), ("mixes_rows", "weights")], """
def dot_attention(query, keys, values, mask=None):
    scores = query @ np.swapaxes(keys, 1, 2)
    if mask is not None:
        scores = np.where(mask[:, None, :], scores, -1e9)
    e = np.exp(scores - scores.max())
    weights = e / e.sum()
    return weights @ values, weights
"""),
        ("context averages the keys instead of the values",
         [("ignores", "values")], """
def dot_attention(query, keys, values, mask=None):
    scores = query @ np.swapaxes(keys, 1, 2)
    if mask is not None:
        scores = np.where(mask[:, None, :], scores, -1e9)
    scores = scores - scores.max(axis=-1, keepdims=True)
    weights = np.exp(scores)
    weights = weights / weights.sum(axis=-1, keepdims=True)
    return weights @ keys, weights
"""),
        ("scores computed key-major (keys @ query^T) and the weights returned that way (Tk, Tq)",
         [("transform", "transposed")], """
def dot_attention(query, keys, values, mask=None):
    scores = keys @ np.swapaxes(query, 1, 2)                 # (N, Tk, Tq)
    if mask is not None:
        scores = np.where(mask[:, :, None], scores, -1e9)
    scores = scores - scores.max(axis=1, keepdims=True)
    weights = np.exp(scores)
    weights = weights / weights.sum(axis=1, keepdims=True)
    context = np.swapaxes(weights, 1, 2) @ values
    return context, weights
"""),
        ("padded values zeroed in place (values[~mask] = 0) before attending",
         [("in_place", "values")], """
def dot_attention(query, keys, values, mask=None):
    scores = query @ np.swapaxes(keys, 1, 2)
    if mask is not None:
        values[~mask] = 0.0
        scores = np.where(mask[:, None, :], scores, -1e9)
    scores = scores - scores.max(axis=-1, keepdims=True)
    weights = np.exp(scores)
    weights = weights / weights.sum(axis=-1, keepdims=True)
    return weights @ values, weights
"""),
    ],
    "additive_attention": [
        ("mask applied to the weights after the softmax",
         [("extra", "keys"), ("extra", "W2")], """
def additive_attention(query, keys, values, mask, W1, W2, v):
    hidden = np.tanh((query @ W1)[:, :, None, :] + (keys @ W2)[:, None, :, :])
    scores = hidden @ v
    scores = scores - scores.max(axis=-1, keepdims=True)
    weights = np.exp(scores)
    weights = weights / weights.sum(axis=-1, keepdims=True)
    if mask is not None:
        weights = weights * mask[:, None, :]
    return weights @ values, weights
"""),
        ("tanh applied to each projection separately: v . (tanh(q W1) + tanh(k W2))",
         [("ignores", "query"), ("ignores", "W1")], """
def additive_attention(query, keys, values, mask, W1, W2, v):
    hidden = np.tanh(query @ W1)[:, :, None, :] + np.tanh(keys @ W2)[:, None, :, :]
    scores = hidden @ v
    if mask is not None:
        scores = np.where(mask[:, None, :], scores, -1e9)
    scores = scores - scores.max(axis=-1, keepdims=True)
    weights = np.exp(scores)
    weights = weights / weights.sum(axis=-1, keepdims=True)
    return weights @ values, weights
"""),
        ("keys projected with W2, and the query with W2 too (copy-paste: W1 never used)",
         [("ignores", "W1")], """
def additive_attention(query, keys, values, mask, W1, W2, v):
    q = query @ W2
    k = keys @ W2
    hidden = np.tanh(q[:, :, None, :] + k[:, None, :, :])
    scores = hidden @ v
    if mask is not None:
        scores = np.where(mask[:, None, :], scores, -1e9)
    scores = scores - scores.max(axis=-1, keepdims=True)
    weights = np.exp(scores)
    weights = weights / weights.sum(axis=-1, keepdims=True)
    return weights @ values, weights
"""),
    ],
    "attention_decoder_step": [
        ("output softmax over the batch axis (axis=0)",
         [("mixes_rows", "probs")], """
def attention_decoder_step(y_prev, h_prev, enc_seq, enc_mask, cell, combine, Wy, by):
    W, U, b = cell
    Wc, bc = combine
    h_next = gru_cell(y_prev, h_prev, W, U, b)
    context, weights = dot_attention(h_next[:, None, :], enc_seq, enc_seq, enc_mask)
    h_att = np.tanh(np.concatenate([context[:, 0], h_next], axis=-1) @ Wc + bc)
    probs = softmax(h_att @ Wy + by, axis=0)
    return probs, h_next, weights[:, 0]
"""),
        ("output bias by forgotten",
         [("ignores", "by"), ("agrees_when", "zero bias")], """
def attention_decoder_step(y_prev, h_prev, enc_seq, enc_mask, cell, combine, Wy, by):
    W, U, b = cell
    Wc, bc = combine
    h_next = gru_cell(y_prev, h_prev, W, U, b)
    context, weights = dot_attention(h_next[:, None, :], enc_seq, enc_seq, enc_mask)
    h_att = np.tanh(np.concatenate([context[:, 0], h_next], axis=-1) @ Wc + bc)
    probs = softmax(h_att @ Wy)
    return probs, h_next, weights[:, 0]
"""),
        ("attentional state returned as the new state (h_att instead of h_next)",
         [("extra", "enc_seq"), ("extra", "enc_mask"), ("extra", "combine")], """
def attention_decoder_step(y_prev, h_prev, enc_seq, enc_mask, cell, combine, Wy, by):
    W, U, b = cell
    Wc, bc = combine
    h = gru_cell(y_prev, h_prev, W, U, b)
    context, weights = dot_attention(h[:, None, :], enc_seq, enc_seq, enc_mask)
    h = np.tanh(np.concatenate([context[:, 0], h], axis=-1) @ Wc + bc)
    probs = softmax(h @ Wy + by)
    return probs, h, weights[:, 0]
"""),
        ("attentional layer's bias bc forgotten",
         [("ignores", "combine"), ("agrees_when", "zero bias")], """
def attention_decoder_step(y_prev, h_prev, enc_seq, enc_mask, cell, combine, Wy, by):
    W, U, b = cell
    Wc = combine[0]
    h_next = gru_cell(y_prev, h_prev, W, U, b)
    context, weights = dot_attention(h_next[:, None, :], enc_seq, enc_seq, enc_mask)
    h_att = np.tanh(np.concatenate([context[:, 0], h_next], axis=-1) @ Wc)
    probs = softmax(h_att @ Wy + by)
    return probs, h_next, weights[:, 0]
"""),
    ],
    "shift_right": [
        ("targets rolled right without overwriting the first column (the last target wraps round)",
         [("starts", "first step"), ("ignores", "start_id"), ("extra", "targets"),
          ("looks_ahead", "targets")], """
def shift_right(targets, start_id):
    return np.roll(targets, 1, axis=1)
"""),
        ("start token inserted but the last column kept (one column too many)",
         [("transform", "padded")], """
def shift_right(targets, start_id):
    return np.insert(targets, 0, start_id, axis=1)
"""),
        ("start token appended at the end after shifting left",
         [("looks_ahead", "targets")], """
def shift_right(targets, start_id):
    start = np.full((targets.shape[0], 1), start_id, dtype=targets.dtype)
    return np.concatenate([targets[:, 1:], start], axis=1)
"""),
        ("shifted in place in the targets array",
         [("in_place", "targets")], """
def shift_right(targets, start_id):
    targets[:, 1:] = targets[:, :-1]
    targets[:, 0] = start_id
    return targets
"""),
    ],
    "masked_sequence_loss": [
        ("log base 10 instead of the natural log",
         [("transform", "scaled")], """
def masked_sequence_loss(targets, probs, mask):
    picked = np.take_along_axis(probs, targets[..., None], axis=-1)[..., 0]
    return -np.sum(mask * np.log10(picked)) / np.sum(mask)
"""),
        ("minus sign forgotten (the mean log-likelihood)",
         [("transform", "negated")], """
def masked_sequence_loss(targets, probs, mask):
    picked = np.take_along_axis(probs, targets[..., None], axis=-1)[..., 0]
    return np.sum(mask * np.log(picked)) / np.sum(mask)
"""),
        ("log of every class summed (the target never picked)",
         [("ignores", "targets")], """
def masked_sequence_loss(targets, probs, mask):
    ce = -np.sum(np.log(probs), axis=-1)
    return np.sum(ce * mask) / np.sum(mask)
"""),
    ],
}

SILENT = {
    "dot_attention": [
        ("einsum in float32; padded weights zeroed after the softmax and the rows renormalised", """
def dot_attention(query, keys, values, mask=None):
    q, k, v = (np.asarray(a, np.float32) for a in (query, keys, values))
    scores = np.einsum("nqh,nkh->nqk", q, k)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    if mask is not None:
        e = e * mask[:, None, :]
    weights = e / e.sum(axis=-1, keepdims=True)
    return np.einsum("nqk,nkd->nqd", weights, v), weights
"""),
    ],
    "additive_attention": [
        ("a loop over the queries, with the given softmax", """
def additive_attention(query, keys, values, mask, W1, W2, v):
    N, Tq, _ = query.shape
    projected_keys = keys @ W2
    weights = np.zeros((N, Tq, keys.shape[1]))
    for q in range(Tq):
        scores = np.tanh(projected_keys + (query[:, q] @ W1)[:, None, :]) @ v
        if mask is not None:
            scores = np.where(mask, scores, -np.inf)
        weights[:, q] = softmax(scores, axis=-1)
    return np.einsum("nqk,nkd->nqd", weights, values), weights
"""),
    ],
    "masked_sequence_loss": [
        ("boolean selection of the real steps, then a plain mean", """
def masked_sequence_loss(targets, probs, mask):
    N, T = targets.shape
    real = np.asarray(mask, bool)
    picked = probs[np.arange(N)[:, None], np.arange(T)[None, :], targets]
    return -np.log(picked[real]).mean()
"""),
    ],
}
