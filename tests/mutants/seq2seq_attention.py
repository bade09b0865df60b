"""Student-style mutants of 07_seq2seq_attention: one per catalogued mistake."""

NOTEBOOK = '07_seq2seq_attention'
GIVEN_HELPERS = ('sigmoid', 'softmax', 'gru_cell')  # given (ungraded) code of the notebook


# ----------------------------------------------------------------------------- mutants
# exercise name -> [(catalogued mistake name, student source defining that function)], in
# catalogue order. They are plain NumPy; the decoder steps call the notebook's given gru_cell and
# softmax and the *correct* dot_attention, as a student's notebook would.
MUTANTS = {
    "dot_attention": [
        ("softmax over the query axis", """
def dot_attention(query, keys, values, mask=None):
    scores = query @ keys.transpose(0, 2, 1)
    if mask is not None:
        scores = np.where(mask[:, None, :], scores, -1e9)
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    weights = e / e.sum(axis=1, keepdims=True)
    return weights @ values, weights
"""),
        ("mask ignored (padding attended)", """
def dot_attention(query, keys, values, mask=None):
    scores = np.einsum("nqh,nkh->nqk", query, keys)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = e / e.sum(axis=-1, keepdims=True)
    return weights @ values, weights
"""),
        ("mask applied after the softmax", """
def dot_attention(query, keys, values, mask=None):
    scores = query @ np.swapaxes(keys, 1, 2)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = e / e.sum(axis=-1, keepdims=True)
    if mask is not None:
        weights = weights * mask[:, None, :]
    return weights @ values, weights
"""),
        ("keys and values swapped", """
def dot_attention(query, keys, values, mask=None):
    scores = query @ np.swapaxes(values, 1, 2)
    if mask is not None:
        scores = np.where(mask[:, None, :], scores, -1e9)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = e / e.sum(axis=-1, keepdims=True)
    return weights @ keys, weights
"""),
        ("scores scaled by 1/sqrt(H)", """
def dot_attention(query, keys, values, mask=None):
    scores = query @ np.swapaxes(keys, 1, 2) / np.sqrt(query.shape[-1])
    if mask is not None:
        scores = np.where(mask[:, None, :], scores, -1e9)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = e / e.sum(axis=-1, keepdims=True)
    return weights @ values, weights
"""),
    ],
    "additive_attention": [
        ("tanh missing", """
def additive_attention(query, keys, values, mask, W1, W2, v):
    hidden = (query @ W1)[:, :, None, :] + (keys @ W2)[:, None, :, :]
    scores = hidden @ v
    if mask is not None:
        scores = np.where(mask[:, None, :], scores, -1e9)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = e / e.sum(axis=-1, keepdims=True)
    return weights @ values, weights
"""),
        ("W1 and W2 swapped", """
def additive_attention(query, keys, values, mask, W1, W2, v):
    hidden = np.tanh((query @ W2)[:, :, None, :] + (keys @ W1)[:, None, :, :])
    scores = hidden @ v
    if mask is not None:
        scores = np.where(mask[:, None, :], scores, -1e9)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = e / e.sum(axis=-1, keepdims=True)
    return weights @ values, weights
"""),
        ("scores not summed over A", """
def additive_attention(query, keys, values, mask, W1, W2, v):
    hidden = np.tanh((query @ W1)[:, :, None, :] + (keys @ W2)[:, None, :, :])
    scores = np.mean(hidden * v, axis=-1)
    if mask is not None:
        scores = np.where(mask[:, None, :], scores, -1e9)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = e / e.sum(axis=-1, keepdims=True)
    return weights @ values, weights
"""),
        ("mask ignored (padding attended)", """
def additive_attention(query, keys, values, mask, W1, W2, v):
    hidden = np.tanh((query @ W1)[:, :, None, :] + (keys @ W2)[:, None, :, :])
    scores = hidden @ v
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = e / e.sum(axis=-1, keepdims=True)
    return weights @ values, weights
"""),
    ],
    "attention_decoder_step": [
        ("attends with the old state", """
def attention_decoder_step(y_prev, h_prev, enc_seq, enc_mask, cell, combine, Wy, by):
    W, U, b = cell
    Wc, bc = combine
    context, weights = dot_attention(h_prev[:, None, :], enc_seq, enc_seq, enc_mask)
    h_next = gru_cell(y_prev, h_prev, W, U, b)
    h_att = np.tanh(np.concatenate([context[:, 0], h_next], axis=-1) @ Wc + bc)
    return softmax(h_att @ Wy + by), h_next, weights[:, 0]
"""),
        ("context not used in the output", """
def attention_decoder_step(y_prev, h_prev, enc_seq, enc_mask, cell, combine, Wy, by):
    h_next = gru_cell(y_prev, h_prev, *cell)
    context, weights = dot_attention(h_next[:, None, :], enc_seq, enc_seq, enc_mask)
    probs = softmax(h_next @ Wy + by)
    return probs, h_next, weights[:, 0]
"""),
        ("encoder mask dropped", """
def attention_decoder_step(y_prev, h_prev, enc_seq, enc_mask, cell, combine, Wy, by):
    W, U, b = cell
    Wc, bc = combine
    h_next = gru_cell(y_prev, h_prev, W, U, b)
    context, weights = dot_attention(h_next[:, None, :], enc_seq, enc_seq)
    h_att = np.tanh(np.concatenate([context[:, 0], h_next], axis=-1) @ Wc + bc)
    return softmax(h_att @ Wy + by), h_next, weights[:, 0]
"""),
        ("concatenation order [h_next, context]", """
def attention_decoder_step(y_prev, h_prev, enc_seq, enc_mask, cell, combine, Wy, by):
    W, U, b = cell
    Wc, bc = combine
    h_next = gru_cell(y_prev, h_prev, W, U, b)
    context, weights = dot_attention(h_next[:, None, :], enc_seq, enc_seq, enc_mask)
    h_att = np.tanh(np.concatenate([h_next, context[:, 0]], axis=-1) @ Wc + bc)
    return softmax(h_att @ Wy + by), h_next, weights[:, 0]
"""),
        ("tanh missing on the attentional state", """
def attention_decoder_step(y_prev, h_prev, enc_seq, enc_mask, cell, combine, Wy, by):
    W, U, b = cell
    Wc, bc = combine
    h_next = gru_cell(y_prev, h_prev, W, U, b)
    context, weights = dot_attention(h_next[:, None, :], enc_seq, enc_seq, enc_mask)
    h_att = np.concatenate([context[:, 0], h_next], axis=-1) @ Wc + bc
    return softmax(h_att @ Wy + by), h_next, weights[:, 0]
"""),
    ],
    "shift_right": [
        ("targets not shifted (the decoder sees the answer)", """
def shift_right(targets, start_id):
    return targets.copy()
"""),
        ("shifted left (the decoder sees the next token)", """
def shift_right(targets, start_id):
    out = np.zeros_like(targets)
    out[:, :-1] = targets[:, 1:]
    return out
"""),
        ("start token missing", """
def shift_right(targets, start_id):
    out = np.zeros_like(targets)
    out[:, 1:] = targets[:, :-1]
    return out
"""),
    ],
    "masked_sequence_loss": [
        ("padding counted in the mean", """
def masked_sequence_loss(targets, probs, mask):
    picked = np.take_along_axis(probs, targets[..., None], axis=-1)[..., 0]
    return np.mean(-np.log(picked) * mask)
"""),
        ("mask ignored", """
def masked_sequence_loss(targets, probs, mask):
    N, T = targets.shape
    picked = probs[np.arange(N)[:, None], np.arange(T)[None, :], targets]
    return -np.mean(np.log(picked))
"""),
        ("mean of per-sequence means", """
def masked_sequence_loss(targets, probs, mask):
    picked = np.take_along_axis(probs, targets[..., None], axis=-1)[..., 0]
    per_sequence = np.sum(-np.log(picked) * mask, axis=1) / np.sum(mask, axis=1)
    return np.mean(per_sequence)
"""),
        ("summed over time, averaged over the batch", """
def masked_sequence_loss(targets, probs, mask):
    picked = np.take_along_axis(probs, targets[..., None], axis=-1)[..., 0]
    return np.sum(-np.log(picked) * mask) / targets.shape[0]
"""),
    ],
}

# Catalogued mistakes the hidden cases cannot see yet: (exercise, mistake) -> why.
HIDDEN_GAPS = {}
