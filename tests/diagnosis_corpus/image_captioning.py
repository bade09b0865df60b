"""Uncatalogued wrong implementations of 06_image_captioning, and correct ones written
differently (build_captioner is left out: checking it trains a model).

See tests/diagnosis_corpus/__init__.py for the format and the vocabulary of findings.
"""

NOTEBOOK = '06_image_captioning'

# ----------------------------------------------------------------------------- wrong
# exercise -> [(what the student did, acceptable findings, source)]
WRONG = {
    "greedy_decode": [
        # Sampling where greedy decoding takes the argmax, from NumPy's global generator.
        ("next token sampled from the distribution instead of the argmax",
         [("nondeterministic", "")], """
def greedy_decode(step_fn, start_id, end_id, max_len):
    seq = [start_id]
    for _ in range(max_len):
        probs = np.exp(step_fn(seq))
        token = int(np.random.choice(len(probs), p=probs / probs.sum()))
        seq.append(token)
        if token == end_id:
            break
    return seq[1:]
"""),
        ("loop over range(max_len + 1): a caption that never ends gets one token too many",
         [("transform", "padded")], """
def greedy_decode(step_fn, start_id, end_id, max_len):
    tokens = [start_id]
    for _ in range(max_len + 1):
        next_id = int(np.argmax(step_fn(tokens)))
        tokens.append(next_id)
        if next_id == end_id:
            break
    return tokens[1:]
"""),
        # Strips start and end as if every caption ended with end_id: a caption cut at max_len
        # loses its last real token.
        ("last token always dropped (seq[1:-1])",
         [("transform", "truncated")], """
def greedy_decode(step_fn, start_id, end_id, max_len):
    seq = [start_id]
    for _ in range(max_len):
        token = int(np.argmax(step_fn(seq)))
        seq.append(token)
        if token == end_id:
            break
    return seq[1:-1]
"""),
    ],
    "beam_search": [
        ("loop over range(max_len - 1): captions one token short",
         [("transform", "truncated")], """
def beam_search(step_fn, start_id, end_id, beam_width, max_len):
    live = [([start_id], 0.0)]
    finished = []
    for _ in range(max_len - 1):
        candidates = []
        for seq, score in live:
            log_probs = step_fn(seq)
            for token, lp in enumerate(log_probs):
                candidates.append((seq + [token], score + lp))
        candidates.sort(key=lambda c: c[1], reverse=True)
        live = []
        for seq, score in candidates[:beam_width]:
            if seq[-1] == end_id:
                finished.append((seq, score))
            else:
                live.append((seq, score))
        if not live:
            break
    finished.extend(live)
    seq, score = max(finished, key=lambda c: c[1])
    return seq[1:], score
"""),
        # Minimises the cost -log p (the right caption) and returns the cost as the log_prob.
        ("negative log-likelihood (cost) returned instead of the log-probability",
         [("transform", "negated")], """
def beam_search(step_fn, start_id, end_id, beam_width, max_len):
    beams = [([start_id], 0.0)]          # (tokens, cost = -log p)
    done = []
    for _ in range(max_len):
        candidates = []
        for seq, cost in beams:
            log_probs = step_fn(seq)
            for token in range(len(log_probs)):
                candidates.append((seq + [token], cost - log_probs[token]))
        candidates.sort(key=lambda c: c[1])
        beams = []
        for seq, cost in candidates[:beam_width]:
            if seq[-1] == end_id:
                done.append((seq, cost))
            else:
                beams.append((seq, cost))
        if not beams:
            break
    done += beams
    best, cost = min(done, key=lambda c: c[1])
    return best[1:], cost
"""),
    ],
    "bleu": [
        # range(len - n) drops every sentence's last n-gram (for n = 1, its last word).
        ("n-grams off by one: range(len(tokens) - n) drops the last n-gram",
         [("transform", "truncated")], """
from collections import Counter


def ngrams(tokens, n):
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n))


def bleu(candidates, references, max_n=4):
    matches = np.zeros(max_n)
    totals = np.zeros(max_n)
    c, r = 0, 0
    for cand, refs in zip(candidates, references):
        for n in range(1, max_n + 1):
            counts = ngrams(cand, n)
            max_ref = Counter()
            for ref in refs:
                max_ref |= ngrams(ref, n)
            matches[n - 1] += sum(min(k, max_ref[g]) for g, k in counts.items())
            totals[n - 1] += max(0, len(cand) - n + 1)
        c += len(cand)
        r += min((len(ref) for ref in refs), key=lambda L: (abs(L - len(cand)), L))
    if c == 0 or (matches == 0).any():
        return 0.0
    precision = np.exp(np.mean(np.log(matches / totals)))
    brevity = 1.0 if c >= r else np.exp(1 - r / c)
    return float(brevity * precision)
"""),
        # exp(1 - r / c) is above 1 when the candidates are longer: the score is scaled up.
        ("brevity penalty applied to long candidates too (no c >= r test)",
         [("transform", "scaled")], """
from collections import Counter


def ngrams(tokens, n):
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def bleu(candidates, references, max_n=4):
    matches = np.zeros(max_n)
    totals = np.zeros(max_n)
    c, r = 0, 0
    for cand, refs in zip(candidates, references):
        for n in range(1, max_n + 1):
            counts = ngrams(cand, n)
            max_ref = Counter()
            for ref in refs:
                max_ref |= ngrams(ref, n)
            matches[n - 1] += sum(min(k, max_ref[g]) for g, k in counts.items())
            totals[n - 1] += max(0, len(cand) - n + 1)
        c += len(cand)
        r += min((len(ref) for ref in refs), key=lambda L: (abs(L - len(cand)), L))
    if c == 0 or (matches == 0).any():
        return 0.0
    precision = np.exp(np.mean(np.log(matches / totals)))
    return float(np.exp(1 - r / c) * precision)
"""),
        # Right value (sorted by length, the first closest is the shorter on a tie), but each
        # candidate's list of references is reordered in place.
        ("each candidate's references sorted in place by length (refs.sort(key=len))",
         [("in_place", "references")], """
from collections import Counter


def ngrams(tokens, n):
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def bleu(candidates, references, max_n=4):
    matches = np.zeros(max_n)
    totals = np.zeros(max_n)
    c, r = 0, 0
    for cand, refs in zip(candidates, references):
        refs.sort(key=len)
        for n in range(1, max_n + 1):
            counts = ngrams(cand, n)
            max_ref = Counter()
            for ref in refs:
                max_ref |= ngrams(ref, n)
            matches[n - 1] += sum(min(k, max_ref[g]) for g, k in counts.items())
            totals[n - 1] += max(0, len(cand) - n + 1)
        c += len(cand)
        r += len(min(refs, key=lambda ref: abs(len(ref) - len(cand))))
    if c == 0 or (matches == 0).any():
        return 0.0
    precision = np.exp(np.mean(np.log(matches / totals)))
    brevity = 1.0 if c >= r else np.exp(1 - r / c)
    return float(brevity * precision)
"""),
    ],
    "convlstm_cell_forward": [
        ("input gate forgotten: c = f * c_prev + g",
         [("ignores", "W:i"), ("ignores", "U:i"), ("ignores", "b:i")], """
def convlstm_cell_forward(x_t, h_prev, c_prev, W, U, b):
    z = conv2d_same(x_t, W) + conv2d_same(h_prev, U) + b
    i, f, g, o = np.split(z, 4, axis=-1)
    c_next = sigmoid(f) * c_prev + np.tanh(g)
    h_next = sigmoid(o) * np.tanh(c_next)
    return h_next, c_next
"""),
        ("output gate read from the forget gate's channels (z[..., H:2H] twice)",
         [("ignores", "W:o"), ("ignores", "U:o"), ("ignores", "b:o")], """
def convlstm_cell_forward(x_t, h_prev, c_prev, W, U, b):
    H = h_prev.shape[-1]
    z = conv2d_same(x_t, W) + conv2d_same(h_prev, U) + b
    i = sigmoid(z[..., :H])
    f = sigmoid(z[..., H:2 * H])
    g = np.tanh(z[..., 2 * H:3 * H])
    o = sigmoid(z[..., H:2 * H])
    c_next = f * c_prev + i * g
    h_next = o * np.tanh(c_next)
    return h_next, c_next
"""),
        # With h_prev = c_prev = 0 both products vanish.
        ("h_prev where c_prev belongs: c = f * h_prev + i * g",
         [("ignores", "c_prev"), ("agrees_when", "zero state")], """
def convlstm_cell_forward(x_t, h_prev, c_prev, W, U, b):
    z = conv2d_same(x_t, W) + conv2d_same(h_prev, U) + b
    i, f, g, o = np.split(z, 4, axis=-1)
    c_next = sigmoid(f) * h_prev + sigmoid(i) * np.tanh(g)
    h_next = sigmoid(o) * np.tanh(c_next)
    return h_next, c_next
"""),
        # Right values, but the caller's c_prev is overwritten (and returned).
        ("cell state updated in place: c_prev *= f; c_prev += i * g",
         [("in_place", "c_prev")], """
def convlstm_cell_forward(x_t, h_prev, c_prev, W, U, b):
    z = conv2d_same(x_t, W) + conv2d_same(h_prev, U) + b
    i, f, g, o = np.split(z, 4, axis=-1)
    c_prev *= sigmoid(f)
    c_prev += sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c_prev), c_prev
"""),
    ],
}

# ----------------------------------------------------------------------------- silent
# exercise -> [(how it differs from the solution, source)]
SILENT = {
    "greedy_decode": [
        ("end tested at the top of the loop, before the next step", """
def greedy_decode(step_fn, start_id, end_id, max_len):
    seq = [start_id]
    while len(seq) <= max_len:
        if len(seq) > 1 and seq[-1] == end_id:
            break
        seq.append(int(np.argmax(step_fn(seq))))
    return seq[1:]
"""),
    ],
    "beam_search": [
        ("scores kept as probabilities (products), the log taken at the end", """
def beam_search(step_fn, start_id, end_id, beam_width, max_len):
    live = [((start_id,), 1.0)]
    finished = []
    for _ in range(max_len):
        pool = []
        for seq, p in live:
            probs = np.exp(np.asarray(step_fn(list(seq)), dtype=np.float64))
            pool.extend((seq + (v,), p * probs[v]) for v in range(len(probs)))
        pool.sort(key=lambda c: -c[1])
        live = []
        for seq, p in pool[:beam_width]:
            (finished if seq[-1] == end_id else live).append((seq, p))
        if not live:
            break
    best, p = max(finished + live, key=lambda c: c[1])
    return list(best[1:]), float(np.log(p))
"""),
    ],
    "convlstm_cell_forward": [
        ("one convolution over [x_t, h_prev] stacked on the channel axis, per-gate slices", """
def convlstm_cell_forward(x_t, h_prev, c_prev, W, U, b):
    H = h_prev.shape[-1]
    z = conv2d_same(np.concatenate([x_t, h_prev], axis=-1), np.concatenate([W, U], axis=2)) + b
    i = sigmoid(z[..., 0 * H:1 * H])
    f = sigmoid(z[..., 1 * H:2 * H])
    g = np.tanh(z[..., 2 * H:3 * H])
    o = sigmoid(z[..., 3 * H:4 * H])
    c_next = f * c_prev + i * g
    return o * np.tanh(c_next), c_next
"""),
    ],
}
