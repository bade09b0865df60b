"""Student-style mutants of 06_image_captioning: one per catalogued mistake."""

NOTEBOOK = '06_image_captioning'
GIVEN_HELPERS = ('conv2d_same', 'sigmoid')  # given (ungraded) code of the notebook
USES_KERAS = True      # build_captioner reads `keras` from the notebook's setup cell


# ----------------------------------------------------------------------------- mutant sources
def variant(source, *replacements):
    """`source` with each (old, new) replaced; every `old` must occur exactly once."""
    for old, new in replacements:
        assert source.count(old) == 1, old
        source = source.replace(old, new)
    return source


BEAM = """
def beam_search(step_fn, start_id, end_id, beam_width, max_len):
    beams = [([start_id], 0.0)]
    finished = []
    for step in range(max_len):
        candidates = []
        for seq, score in beams:
            log_probs = step_fn(seq)
            for token in range(len(log_probs)):
                candidates.append((seq + [token], score + log_probs[token]))
        candidates = sorted(candidates, key=lambda c: c[1], reverse=True)[:beam_width]
        beams = []
        for seq, score in candidates:
            if seq[-1] == end_id:
                finished.append((seq, score))
            else:
                beams.append((seq, score))
        if not beams:
            break
    finished += beams
    best_seq, best_score = max(finished, key=lambda c: c[1])
    return best_seq[1:], best_score
"""

BLEU = """
from collections import Counter

def ngram_counts(tokens, n):
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))

def bleu(candidates, references, max_n=4):
    matches, totals = np.zeros(max_n), np.zeros(max_n)
    c = r = 0
    for cand, refs in zip(candidates, references):
        for n in range(1, max_n + 1):
            counts = ngram_counts(cand, n)
            max_ref = Counter()
            for ref in refs:
                for gram, k in ngram_counts(ref, n).items():
                    max_ref[gram] = max(max_ref[gram], k)
            matches[n - 1] += sum(min(k, max_ref[gram]) for gram, k in counts.items())
            totals[n - 1] += max(0, len(cand) - n + 1)
        c += len(cand)
        r += min((len(ref) for ref in refs), key=lambda length: (abs(length - len(cand)), length))
    if c == 0 or (matches == 0).any():
        return 0.0
    precision = np.exp(np.mean(np.log(matches / totals)))
    bp = 1.0 if c >= r else np.exp(1 - r / c)
    return bp * precision
"""

CONVLSTM = """
def convlstm_cell_forward(x_t, h_prev, c_prev, W, U, b):
    z = conv2d_same(x_t, W) + conv2d_same(h_prev, U) + b
    i, f, g, o = np.split(z, 4, axis=-1)
    c_next = sigmoid(f) * c_prev + sigmoid(i) * np.tanh(g)
    h_next = sigmoid(o) * np.tanh(c_next)
    return h_next, c_next
"""

# A working captioner, to be varied; {decoder} turns the embedded tokens `e` and the initial
# state [h0, c0] into `seq`, and {head} turns `seq` into `probs`.
CAPTIONER = """
import keras
from keras import layers

def build_captioner(image_shape, vocab_size, units):
    images = keras.Input(image_shape, name="images")
    tokens = keras.Input((None,), dtype="int32", name="tokens")
    f = layers.Conv2D(8, 3, padding="same", activation="relu")(images)
    f = layers.MaxPooling2D(2)(f)
    f = layers.Flatten()(f)
    h0 = layers.Dense(units, activation="tanh")(f)
    c0 = layers.Dense(units)(f)
    e = layers.Embedding(vocab_size, 8)(tokens)
    seq = layers.LSTM(units, return_sequences=True)(e, initial_state=[h0, c0])
    probs = layers.Dense(vocab_size, activation="softmax")(seq)
    return keras.Model([images, tokens], probs)
"""
LSTM_LINE = "    seq = layers.LSTM(units, return_sequences=True)(e, initial_state=[h0, c0])\n"
HEAD_LINE = "    probs = layers.Dense(vocab_size, activation=\"softmax\")(seq)\n"
ENCODER_LINES = """\
    f = layers.Conv2D(8, 3, padding="same", activation="relu")(images)
    f = layers.MaxPooling2D(2)(f)
    f = layers.Flatten()(f)
"""


# ----------------------------------------------------------------------------- mutants
# exercise name -> [(catalogued mistake name, student source defining that function)], in
# catalogue order. The numeric mutants are plain Python/NumPy and call step_fn, conv2d_same and
# sigmoid as they are given; the captioner mutants are Keras builders.
MUTANTS = {
    "greedy_decode": [
        ("does not stop at end_id", """
def greedy_decode(step_fn, start_id, end_id, max_len):
    tokens = [start_id]
    for _ in range(max_len):
        tokens.append(int(np.argmax(step_fn(tokens))))
    return tokens[1:]
"""),
        ("end_id left out", """
def greedy_decode(step_fn, start_id, end_id, max_len):
    seq = [start_id]
    while len(seq) <= max_len:
        token = np.argmax(step_fn(seq))
        if token == end_id:
            break
        seq.append(token)
    return np.array(seq[1:])
"""),
        ("start_id included", """
def greedy_decode(step_fn, start_id, end_id, max_len):
    seq = [start_id]
    for _ in range(max_len):
        token = int(np.argmax(step_fn(seq)))
        seq.append(token)
        if token == end_id:
            break
    return seq
"""),
        ("step_fn always given [start_id]", """
def greedy_decode(step_fn, start_id, end_id, max_len):
    out = []
    for t in range(max_len):
        token = int(np.argmax(step_fn([start_id])))
        out.append(token)
        if token == end_id:
            break
    return out
"""),
        ("step_fn given the last token only", """
def greedy_decode(step_fn, start_id, end_id, max_len):
    prev, out = start_id, []
    for _ in range(max_len):
        prev = int(np.argmax(step_fn([prev])))
        out.append(prev)
        if prev == end_id:
            break
    return out
"""),
        # The prefix holds start_id, so it stops one token early.
        ("one step short of max_len", """
def greedy_decode(step_fn, start_id, end_id, max_len):
    seq = [start_id]
    while len(seq) < max_len:
        token = int(np.argmax(step_fn(seq)))
        seq.append(token)
        if token == end_id:
            break
    return seq[1:]
"""),
    ],
    "beam_search": [
        ("finished hypotheses dropped", variant(
            BEAM,
            ("""        beams = []
        for seq, score in candidates:
            if seq[-1] == end_id:
                finished.append((seq, score))
            else:
                beams.append((seq, score))
        if not beams:
            break
    finished += beams
    best_seq, best_score = max(finished, key=lambda c: c[1])
""", """        beams = [(seq, score) for seq, score in candidates if seq[-1] != end_id]
    best_seq, best_score = [start_id], -np.inf
    for seq, score in beams:
        if score > best_score:
            best_seq, best_score = seq, score
"""))),
        ("hypotheses expanded past end_id", """
def beam_search(step_fn, start_id, end_id, beam_width, max_len):
    beams = [([start_id], 0.0)]
    for _ in range(max_len):
        candidates = []
        for seq, score in beams:
            log_probs = step_fn(seq)
            for token, lp in enumerate(log_probs):
                candidates.append((seq + [token], score + lp))
        beams = sorted(candidates, key=lambda c: c[1], reverse=True)[:beam_width]
    seq, score = beams[0]
    return seq[1:], score
"""),
        # The first step opens the beam; then every beam follows its own best token.
        ("each hypothesis extended by its best token only", variant(
            BEAM,
            ("            for token in range(len(log_probs)):\n",
             "            tokens = range(len(log_probs)) if step == 0 else [int(np.argmax(log_probs))]\n"
             "            for token in tokens:\n"))),
        ("beam_width kept per hypothesis", variant(
            BEAM,
            ("""            for token in range(len(log_probs)):
                candidates.append((seq + [token], score + log_probs[token]))
        candidates = sorted(candidates, key=lambda c: c[1], reverse=True)[:beam_width]
""", """            for token in np.argsort(log_probs)[::-1][:beam_width]:
                candidates.append((seq + [int(token)], score + log_probs[token]))
"""))),
        ("scores not accumulated", variant(
            BEAM, ("(seq + [token], score + log_probs[token])",
                   "(seq + [token], log_probs[token])"))),
        ("finished captions ranked by average log-probability", variant(
            BEAM, ("max(finished, key=lambda c: c[1])",
                   "max(finished, key=lambda c: c[1] / (len(c[0]) - 1))"))),
        ("start_id included", variant(
            BEAM, ("return best_seq[1:], best_score", "return best_seq, best_score"))),
    ],
    "bleu": [
        ("no brevity penalty", variant(
            BLEU, ("    bp = 1.0 if c >= r else np.exp(1 - r / c)\n    return bp * precision",
                   "    return precision"))),
        ("n-gram counts not clipped", variant(
            BLEU, ("sum(min(k, max_ref[gram]) for gram, k in counts.items())",
                   "sum(k for gram, k in counts.items() if gram in max_ref)"))),
        ("brevity penalty from the shortest reference", variant(
            BLEU, ("        r += min((len(ref) for ref in refs), "
                   "key=lambda length: (abs(length - len(cand)), length))\n",
                   "        r += min(len(ref) for ref in refs)\n"))),
        ("sentence BLEU averaged", """
from collections import Counter

def ngram_counts(tokens, n):
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))

def sentence_bleu(cand, refs, max_n):
    precisions = []
    for n in range(1, max_n + 1):
        counts = ngram_counts(cand, n)
        max_ref = Counter()
        for ref in refs:
            max_ref |= ngram_counts(ref, n)
        matched = sum(min(k, max_ref[gram]) for gram, k in counts.items())
        if matched == 0:
            return 0.0
        precisions.append(matched / (len(cand) - n + 1))
    r = min((len(ref) for ref in refs), key=lambda length: (abs(length - len(cand)), length))
    bp = 1.0 if len(cand) >= r else np.exp(1 - r / len(cand))
    return bp * np.exp(np.mean(np.log(precisions)))

def bleu(candidates, references, max_n=4):
    return np.mean([sentence_bleu(c, refs, max_n) for c, refs in zip(candidates, references)])
"""),
        ("arithmetic mean of the precisions", variant(
            BLEU, ("np.exp(np.mean(np.log(matches / totals)))", "np.mean(matches / totals)"))),
        ("brevity penalty exp(1 - c / r)", variant(BLEU, ("np.exp(1 - r / c)", "np.exp(1 - c / r)"))),
        ("max_n ignored (always 4)", variant(
            BLEU, ("np.zeros(max_n), np.zeros(max_n)", "np.zeros(4), np.zeros(4)"),
            ("for n in range(1, max_n + 1):", "for n in range(1, 5):"))),
    ],
    "convlstm_cell_forward": [
        ("gate order i, f, o, c", variant(CONVLSTM, ("i, f, g, o = ", "i, f, o, g = "))),
        # "A convolution flips its kernel", the student remembers from signal processing.
        ("kernel flipped (a true convolution)", variant(
            CONVLSTM, ("conv2d_same(x_t, W) + conv2d_same(h_prev, U)",
                       "conv2d_same(x_t, np.flip(W, (0, 1)))"
                       " + conv2d_same(h_prev, np.flip(U, (0, 1)))"))),
        ("h = o * c (tanh missing)", variant(
            CONVLSTM, ("sigmoid(o) * np.tanh(c_next)", "sigmoid(o) * c_next"))),
        ("forget gate applied to the candidate", variant(
            CONVLSTM, ("sigmoid(f) * c_prev + sigmoid(i) * np.tanh(g)",
                       "sigmoid(i) * c_prev + sigmoid(f) * np.tanh(g)"))),
        ("sigmoid on the candidate", variant(
            CONVLSTM, ("sigmoid(i) * np.tanh(g)", "sigmoid(i) * sigmoid(g)"))),
        # Its own unpadded convolution; c_prev cropped to the valid region so the shapes agree.
        ("'valid' padding", """
def conv2d_valid(x, kernel):
    k = kernel.shape[0]
    N, R, C, _ = x.shape
    out = np.zeros((N, R - k + 1, C - k + 1, kernel.shape[-1]))
    for i in range(k):
        for j in range(k):
            out += x[:, i:i + R - k + 1, j:j + C - k + 1] @ kernel[i, j]
    return out

def convlstm_cell_forward(x_t, h_prev, c_prev, W, U, b):
    z = conv2d_valid(x_t, W) + conv2d_valid(h_prev, U) + b
    i, f, g, o = np.split(z, 4, axis=-1)
    p = W.shape[0] // 2
    c_prev = c_prev[:, p:c_prev.shape[1] - p, p:c_prev.shape[2] - p]
    c_next = sigmoid(f) * c_prev + sigmoid(i) * np.tanh(g)
    h_next = sigmoid(o) * np.tanh(c_next)
    return h_next, c_next
"""),
    ],
    "build_captioner": [
        ("decoder sees later tokens", variant(
            CAPTIONER, (LSTM_LINE,
                        "    lstm = layers.LSTM(units, return_sequences=True)\n"
                        "    seq = layers.Bidirectional(lstm)(e, initial_state=[h0, c0, h0, c0])\n"))),
        # A decoder layer that takes the features but never uses them.
        ("image ignored", """
import keras
from keras import layers

class Decoder(layers.Layer):
    def __init__(self, vocab_size, units):
        super().__init__()
        self.embed = layers.Embedding(vocab_size, 8)
        self.lstm = layers.LSTM(units, return_sequences=True)
        self.out = layers.Dense(vocab_size, activation="softmax")

    def call(self, features, tokens):
        # TODO: start the LSTM from the features
        return self.out(self.lstm(self.embed(tokens)))

def build_captioner(image_shape, vocab_size, units):
    images = keras.Input(image_shape)
    tokens = keras.Input((None,), dtype="int32")
    f = layers.Conv2D(8, 3, padding="same", activation="relu")(images)
    f = layers.Flatten()(f)
    return keras.Model([images, tokens], Decoder(vocab_size, units)(f, tokens))
"""),
        ("logits returned", variant(CAPTIONER, (HEAD_LINE, "    probs = layers.Dense(vocab_size)(seq)\n"))),
        ("last step only", variant(
            CAPTIONER, (LSTM_LINE, "    seq = layers.LSTM(units)(e, initial_state=[h0, c0])\n"))),
        ("no Conv2D encoder", variant(
            CAPTIONER, (ENCODER_LINES, "    f = layers.Flatten()(images)\n"
                                       "    f = layers.Dense(64, activation=\"relu\")(f)\n"))),
        ("no LSTM decoder", variant(
            CAPTIONER, (LSTM_LINE,
                        "    seq = layers.GRU(units, return_sequences=True)(e, initial_state=h0)\n"))),
    ],
}

# Catalogued mistakes the hidden cases cannot see yet: (exercise, mistake) -> why.
HIDDEN_GAPS = {}
