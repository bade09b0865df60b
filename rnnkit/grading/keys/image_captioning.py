"""Notebook 06_image_captioning: CNN + RNN — decoding, BLEU, ConvLSTM and a captioning model.

Graded functions (the contract; V vocabulary, N batch, H channels of the recurrent state):

    greedy_decode(step_fn, start_id, end_id, max_len) -> tokens
    beam_search(step_fn, start_id, end_id, beam_width, max_len) -> (tokens, log_prob)
        step_fn(prefix) -> log-probabilities (V,) of the next token, given the tokens so far
        (prefix starts with start_id). tokens: the generated ids after start_id, ending with
        end_id when it was generated, at most max_len of them; log_prob: their total.
    bleu(candidates, references, max_n=4) -> score in [0, 1]
        candidates: a list of token lists; references: for each candidate, a list of reference
        token lists. Corpus BLEU (Papineni et al. 2002): clipped n-gram precisions summed over
        the corpus, geometric mean, brevity penalty from the closest reference lengths.
    convlstm_cell_forward(x_t, h_prev, c_prev, W, U, b) -> (h_next, c_next)
        x_t (N, R, C, D) frames of R rows and C columns, h and c (N, R, C, H), W (k, k, D, 4H),
        U (k, k, H, 4H), b (4H,): keras.layers.ConvLSTM2D's layout, padding "same".
    build_captioner(image_shape, vocab_size, units) -> keras.Model
        [images (N, *image_shape), tokens (N, L)] -> probabilities (N, L, V): a Conv2D encoder
        whose features start an LSTM decoder trained with teacher forcing.

References: exhaustive search over every caption (beams wide enough to hold them all) and the
beam search defined in the notebook (narrow beams; it keeps finished captions); sacrebleu's corpus
BLEU (tokenize="none", no smoothing); keras.layers.ConvLSTM2D; for the model, probes of its
interface and a short, seeded training run that must beat a stated token-accuracy floor.
"""
import numpy as np

from rnnkit import reference as ref
from rnnkit.exercises.image_captioning import (CAPTIONER_MISTAKES, TOKEN_ACCURACY_FLOOR, StepFunction,
                                               build_seeded, exhaustive_search, train_built,
                                               train_captioner)
from rnnkit.grading.keys.catalog import register
from rnnkit.registry import Case, Exercise, Mistake, Output

NOTEBOOK = "06_image_captioning"


# ----------------------------------------------------------------------------- decoding
def _decoder_inputs(rng, case):
    s = case.sizes
    step_fn = StepFunction(s["V"], int(rng.integers(2 ** 31)), s["end_id"],
                           sharpness=s.get("sharpness", 1.5), typical=s.get("typical", 3))
    inputs = dict(step_fn=step_fn, start_id=s["start_id"], end_id=s["end_id"], max_len=s["max_len"])
    if "beam_width" in s:
        inputs["beam_width"] = s["beam_width"]
    return inputs


def _greedy(stop=True, keep_end=True, keep_start=False, feed="prefix", steps=0):
    """Greedy decoding with switches for the catalogued mistakes."""
    def run(step_fn, start_id, end_id, max_len):
        seq = [start_id]
        for _ in range(max_len + steps):
            prefix = {"prefix": seq, "start": [start_id], "last": seq[-1:]}[feed]
            token = int(np.argmax(step_fn(prefix)))
            if token == end_id and stop:
                if keep_end:
                    seq.append(token)
                break
            seq.append(token)
        return np.array(seq if keep_start else seq[1:], dtype=np.int64)
    return run


def _beam(finished="keep", expand="global", score="sum", rank="sum", keep_start=False):
    """Beam search as the notebook defines it, with switches for the catalogued mistakes.

    At each of max_len steps every live hypothesis is extended by every token, and the beam_width
    best candidates over all hypotheses are kept; a candidate that ends with end_id is finished
    (kept aside, not extended). Live hypotheses left after max_len steps are finished too. The
    best finished hypothesis by total log-probability is returned.
    """
    def run(step_fn, start_id, end_id, beam_width, max_len):
        live, done = [((start_id,), 0.0)], []
        for step in range(max_len):
            candidates = []
            for seq, total in live:
                log_probs = np.asarray(step_fn(seq), dtype=np.float64)
                children = [(seq + (v,), (total if score == "sum" else 0.0) + log_probs[v])
                            for v in range(len(log_probs))]
                if expand == "own best" and step > 0:
                    children = sorted(children, key=lambda c: -c[1])[:1]
                elif expand == "per hypothesis":
                    children = sorted(children, key=lambda c: -c[1])[:beam_width]
                candidates.extend(children)
            if expand != "per hypothesis":
                candidates = sorted(candidates, key=lambda c: -c[1])[:beam_width]
            live = []
            for seq, total in candidates:
                if seq[-1] == end_id and finished != "expand":
                    if finished == "keep":
                        done.append((seq, total))
                else:
                    live.append((seq, total))
            if not live:
                break
        done.extend(live)
        if not done:
            return np.array([], dtype=np.int64), -np.inf
        key = (lambda c: c[1]) if rank == "sum" else (lambda c: c[1] / (len(c[0]) - 1))
        seq, total = max(done, key=key)
        return np.array(seq if keep_start else seq[1:], dtype=np.int64), float(total)
    return run


def _reference_beam(step_fn, start_id, end_id, beam_width, max_len):
    # A beam that can hold every caption searches them all: the answer is the exhaustive one.
    if beam_width >= step_fn.V ** max_len:
        return exhaustive_search(step_fn, start_id, end_id, max_len)
    return _beam()(step_fn, start_id, end_id, beam_width, max_len)


def _decode_case(label, seed, hidden=False, vary=None, **sizes):
    sizes = dict(dict(start_id=1, end_id=2), **sizes)
    return Case(label, seed, sizes, hidden=hidden, vary=vary)


register(Exercise(
    name="greedy_decode", notebook=NOTEBOOK, points=2,
    args=("step_fn", "start_id", "end_id", "max_len"),
    outputs=(Output("tokens", None, sequence=True),),
    reference_name="the most likely token at every step",
    reference=_greedy(),
    make_inputs=_decoder_inputs,
    atol=0.0, rtol=0.0,
    cases=[
        _decode_case("visible ends early", 10601, V=6, max_len=8),
        _decode_case("visible stops at max_len", 602, V=5, max_len=3, sharpness=0.3),
        _decode_case("hidden start and end elsewhere", 1601, True, V=7, max_len=6, start_id=0,
                     end_id=4),
        _decode_case("hidden one step", 1602, True, V=4, max_len=1),
        _decode_case("hidden long", 1603, True, V=9, max_len=12, vary=dict(V=(7, 11), max_len=(10, 14))),
        _decode_case("hidden flat distribution", 1604, True, V=5, max_len=5, sharpness=0.2),
    ],
    mistakes=[
        Mistake("does not stop at end_id", "stop as soon as end_id is chosen (after adding it): "
                "nothing follows the end of a caption.", _greedy(stop=False)),
        Mistake("end_id left out", "append end_id to the caption before stopping: the tokens "
                "end with end_id when it was chosen.", _greedy(keep_end=False)),
        Mistake("start_id included", "return the generated tokens only, without the start_id "
                "that began the prefix.", _greedy(keep_start=True)),
        Mistake("step_fn always given [start_id]", "feed the whole prefix so far: step_fn(seq) "
                "with seq = [start_id, first token, ...].", _greedy(feed="start")),
        Mistake("step_fn given the last token only", "step_fn reads the whole prefix, starting "
                "with start_id, not only the last token.", _greedy(feed="last")),
        Mistake("one step short of max_len", "run up to max_len steps: a caption that never "
                "ends has exactly max_len tokens.", _greedy(steps=-1)),
    ],
))

register(Exercise(
    name="beam_search", notebook=NOTEBOOK, points=3,
    args=("step_fn", "start_id", "end_id", "beam_width", "max_len"),
    outputs=(Output("tokens", None, sequence=True), Output("log_prob", ())),
    reference_name="exhaustive search (wide beams) and the reference beam search",
    reference=_reference_beam,
    make_inputs=_decoder_inputs,
    atol=1e-9, rtol=1e-9,
    cases=[
        _decode_case("visible width 2", 2310611, V=5, max_len=5, beam_width=2),
        _decode_case("visible wide beam = exhaustive search", 120612, V=4, max_len=4, beam_width=256),
        _decode_case("visible width 3", 613, V=6, max_len=6, beam_width=3, sharpness=0.8),
        _decode_case("hidden width 1 = greedy", 11611, True, V=6, max_len=6, beam_width=1),
        _decode_case("hidden exhaustive, start and end elsewhere", 261612, True, V=3, max_len=5,
                     beam_width=243, start_id=0, end_id=1),
        _decode_case("hidden width 4, long", 11613, True, V=8, max_len=10, beam_width=4,
                     sharpness=0.7),
        _decode_case("hidden width 2, one step", 1614, True, V=5, max_len=1, beam_width=2),
        _decode_case("hidden width 3, flat", 1615, True, V=5, max_len=7, beam_width=3,
                     sharpness=0.3),
    ],
    mistakes=[
        Mistake("finished hypotheses dropped", "a candidate that ends with end_id is a finished "
                "caption: keep it aside (with its score) and pick the best of all finished ones at "
                "the end.", _beam(finished="drop")),
        Mistake("hypotheses expanded past end_id", "once a candidate ends with end_id, stop "
                "extending it; only live hypotheses get new tokens.", _beam(finished="expand")),
        Mistake("each hypothesis extended by its best token only", "pool the candidates of "
                "every hypothesis and keep the beam_width best of them all.",
                _beam(expand="own best")),
        Mistake("beam_width kept per hypothesis", "keep beam_width candidates in total, the best "
                "over all hypotheses, not beam_width for each one.", _beam(expand="per hypothesis")),
        Mistake("scores not accumulated", "a hypothesis's score is the sum of the log-probabilities "
                "of all its tokens, not the last one's.", _beam(score="last")),
        Mistake("finished captions ranked by average log-probability", "this beam search ranks "
                "captions by their total log-probability (no length normalisation).",
                _beam(rank="mean")),
        Mistake("start_id included", "return the tokens after start_id.", _beam(keep_start=True)),
    ],
))


# ----------------------------------------------------------------------------- bleu
_BLEU_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def _perturb(rng, seq, words):
    """A noisy copy of a caption: words substituted, dropped, repeated or appended."""
    out = []
    for w in seq:
        u = rng.random()
        if u < 0.12:
            continue
        if u < 0.24:
            out.append(str(rng.choice(words)))
        elif u < 0.34:
            out.extend([w, w])
        else:
            out.append(w)
    if rng.random() < 0.3:
        out.append(str(rng.choice(words)))
    return out or [seq[0]]


def _bleu_inputs(rng, case):
    s = case.sizes
    words = _BLEU_WORDS[:s["W"]]
    candidates, references = [], []
    for _ in range(s["S"]):
        base = [str(w) for w in rng.choice(words, size=rng.integers(s["min_len"], s["max_len"] + 1))]
        refs = [base] + [_perturb(rng, base, words) for _ in range(rng.integers(0, s["R"]))]
        cand = _perturb(rng, base, words)
        if case.note == "short candidates":
            cand = cand[:max(1, len(cand) // 2)]
        candidates.append(cand)
        references.append(refs)
    return dict(candidates=candidates, references=references, max_n=s["max_n"])


def _sacrebleu(candidates, references, max_n=4):
    from sacrebleu.metrics import BLEU
    streams = max(len(r) for r in references)
    ref_streams = [[" ".join(r[k]) if k < len(r) else None for r in references] for k in range(streams)]
    metric = BLEU(tokenize="none", smooth_method="none", max_ngram_order=max_n, effective_order=False)
    return metric.corpus_score([" ".join(c) for c in candidates], ref_streams).score / 100.0


def _ngrams(seq, n):
    return [tuple(seq[i:i + n]) for i in range(len(seq) - n + 1)]


def _bleu(clip=True, brevity="closest", mean="geometric", level="corpus", fixed_n=None):
    """Corpus BLEU in NumPy with switches for the catalogued mistakes."""
    from collections import Counter

    def corpus(candidates, references, max_n=4):
        n_max = fixed_n or max_n
        matches, totals = np.zeros(n_max), np.zeros(n_max)
        c_len = r_len = 0
        for cand, refs in zip(candidates, references):
            for n in range(1, n_max + 1):
                counts = Counter(_ngrams(cand, n))
                most = Counter()
                for r in refs:
                    for g, k in Counter(_ngrams(r, n)).items():
                        most[g] = max(most[g], k)
                matches[n - 1] += sum(min(k, most[g]) if clip else (k if most[g] else 0)
                                      for g, k in counts.items())
                totals[n - 1] += max(0, len(cand) - n + 1)
            lengths = [len(r) for r in refs]
            c_len += len(cand)
            if brevity == "shortest":
                r_len += min(lengths)
            else:
                r_len += min(lengths, key=lambda r: (abs(r - len(cand)), r))
        if not matches.all():
            return 0.0
        precisions = matches / totals
        if mean == "geometric":
            score = float(np.exp(np.mean(np.log(precisions))))
        else:
            score = float(np.mean(precisions))
        if brevity == "none" or c_len >= r_len:
            return score
        if c_len == 0:
            return 0.0
        if brevity == "swapped":
            return score * float(np.exp(1 - c_len / r_len))
        return score * float(np.exp(1 - r_len / c_len))

    if level == "sentence":
        return lambda candidates, references, max_n=4: float(np.mean(
            [corpus([c], [r], max_n) for c, r in zip(candidates, references)]))
    return corpus


def _bleu_case(label, seed, hidden=False, note="", vary=None, **sizes):
    sizes = dict(dict(S=6, W=6, R=3, min_len=4, max_len=8, max_n=4), **sizes)
    return Case(label, seed, sizes, hidden=hidden, note=note, vary=vary)


register(Exercise(
    name="bleu", notebook=NOTEBOOK, points=2,
    args=("candidates", "references", "max_n"),
    outputs=(Output("score", ()),),
    reference_name="sacrebleu's corpus BLEU",
    forbidden=("sacrebleu", "nltk.translate.bleu_score", "torchmetrics", "evaluate"),
    probes_on=("substitute",),
    reference=_sacrebleu,
    make_inputs=_bleu_inputs,
    atol=1e-9, rtol=1e-7,
    cases=[
        _bleu_case("visible captions", 140621, S=8, W=4),
        _bleu_case("visible short candidates, trigrams", 622, note="short candidates", S=10, W=3,
                   min_len=6, max_len=10, max_n=3),
        _bleu_case("hidden bigrams", 141621, True, max_n=2, S=5, W=8, min_len=2, max_len=5),
        _bleu_case("hidden one reference each", 1622, True, R=1, S=12, W=3),
        _bleu_case("hidden unigrams, short", 1623, True, note="short candidates", max_n=1, S=4, W=5),
        _bleu_case("hidden many words", 1624, True, S=20, W=4, min_len=6, max_len=12, R=4,
                   vary=dict(S=(15, 25))),
    ],
    mistakes=[
        Mistake("no brevity penalty", "multiply by exp(1 - r / c) when the candidates are shorter "
                "(c words in all) than their closest references (r words in all).",
                _bleu(brevity="none")),
        Mistake("n-gram counts not clipped", "count an n-gram of a candidate at most as many times "
                "as it appears in a single reference (the most in any one of them).",
                _bleu(clip=False)),
        Mistake("brevity penalty from the shortest reference", "r adds, for each candidate, the "
                "length of the reference closest to the candidate's length (the shorter on a tie).",
                _bleu(brevity="shortest")),
        Mistake("sentence BLEU averaged", "corpus BLEU sums the clipped matches and the n-gram "
                "counts over all sentences before dividing, then applies one brevity penalty.",
                _bleu(level="sentence")),
        Mistake("arithmetic mean of the precisions", "BLEU takes the geometric mean: "
                "exp(mean(log p_n)).", _bleu(mean="arithmetic")),
        Mistake("brevity penalty exp(1 - c / r)", "the penalty is exp(1 - r / c) with c the "
                "candidates' length and r the references'.", _bleu(brevity="swapped")),
        Mistake("max_n ignored (always 4)", "use n-grams of orders 1..max_n.", _bleu(fixed_n=4)),
    ],
))


# ----------------------------------------------------------------------------- convlstm
def conv2d_same(x, kernel):
    """2-D cross-correlation with "same" padding, as Keras's Conv2D computes it (no flip).

    x (N, R, C, D), kernel (k_r, k_c, D, F) -> (N, R, C, F).
    """
    k_r, k_c = kernel.shape[:2]
    top, left = (k_r - 1) // 2, (k_c - 1) // 2
    return _conv_valid(np.pad(x, ((0, 0), (top, k_r - 1 - top), (left, k_c - 1 - left), (0, 0))),
                       kernel)


def _conv_valid(x, kernel):
    """2-D cross-correlation without padding: (N, R, C, D) -> (N, R - k_r + 1, C - k_c + 1, F)."""
    k_r, k_c = kernel.shape[:2]
    R, C = x.shape[1] - k_r + 1, x.shape[2] - k_c + 1
    out = np.zeros((x.shape[0], R, C, kernel.shape[-1]), dtype=np.result_type(x, kernel))
    for i in range(k_r):
        for j in range(k_c):
            out += x[:, i:i + R, j:j + C] @ kernel[i, j]
    return out


def _convlstm_inputs(rng, case):
    s = case.sizes
    N, R, C, D, H, k = (s[key] for key in ("N", "R", "C", "D", "H", "k"))
    fan = k * k
    return dict(x_t=rng.normal(size=(N, R, C, D)),
                h_prev=rng.uniform(-0.9, 0.9, size=(N, R, C, H)),
                c_prev=rng.normal(size=(N, R, C, H)),
                W=rng.normal(0.0, 1.0 / np.sqrt(fan * D), size=(k, k, D, 4 * H)),
                U=rng.normal(0.0, 1.0 / np.sqrt(fan * H), size=(k, k, H, 4 * H)),
                b=rng.uniform(-0.5, 0.5, size=4 * H))


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def _convlstm(order="ifco", flip=False, h_tanh=True, forget_on="c_prev", candidate="tanh",
              padding="same"):
    """NumPy ConvLSTM step with switches for the catalogued mistakes."""
    def run(x_t, h_prev, c_prev, W, U, b):
        x_t, h_prev, c_prev, W, U, b = (np.asarray(a, np.float64) for a in (x_t, h_prev, c_prev, W, U, b))
        if flip:
            W, U = W[::-1, ::-1], U[::-1, ::-1]
        conv = conv2d_same if padding == "same" else _conv_valid
        z = conv(x_t, W) + conv(h_prev, U) + b
        gates = dict(zip(order, np.split(z, 4, axis=-1)))
        i, f, o = _sigmoid(gates["i"]), _sigmoid(gates["f"]), _sigmoid(gates["o"])
        g = np.tanh(gates["c"]) if candidate == "tanh" else _sigmoid(gates["c"])
        if padding != "same":
            k = W.shape[0] // 2
            c_prev = c_prev[:, k:c_prev.shape[1] - k, k:c_prev.shape[2] - k]
        c = f * c_prev + i * g if forget_on == "c_prev" else i * c_prev + f * g
        h = o * np.tanh(c) if h_tanh else o * c
        return h, c
    return run


def _convlstm_case(label, seed, hidden=False, dtype="float32", vary=None, **sizes):
    return Case(label, seed, dict(dict(k=3), **sizes), hidden=hidden, dtype=dtype, vary=vary)


register(Exercise(
    name="convlstm_cell_forward", notebook=NOTEBOOK, points=3,
    args=("x_t", "h_prev", "c_prev", "W", "U", "b"),
    outputs=(Output("h_next", ("N", "R", "C", "H")), Output("c_next", ("N", "R", "C", "H"))),
    reference_name="keras.layers.ConvLSTM2D(padding='same')",
    gates=dict(W=ref.LSTM_GATES, U=ref.LSTM_GATES, b=ref.LSTM_GATES),
    forbidden=("keras.layers.ConvLSTM2D", "keras.src.layers.rnn.conv_lstm.ConvLSTMCell"),
    reference=ref.run_conv_lstm2d_cell,
    make_inputs=_convlstm_inputs,
    cases=[
        _convlstm_case("visible 3x3 kernel", 631, N=2, R=5, C=6, D=2, H=3),
        _convlstm_case("visible one channel", 632, N=1, R=4, C=4, D=1, H=2),
        _convlstm_case("hidden 1x1 kernel", 1631, True, k=1, N=2, R=3, C=5, D=3, H=2),
        _convlstm_case("hidden 5x5 kernel", 1632, True, k=5, N=2, R=6, C=7, D=2, H=3),
        _convlstm_case("hidden float64", 1633, True, "float64", N=3, R=5, C=4, D=3, H=4,
                       vary=dict(R=(4, 7), C=(3, 6))),
        _convlstm_case("hidden one row", 1634, True, N=1, R=1, C=8, D=2, H=2),
    ],
    mistakes=[
        Mistake("gate order i, f, o, c", "ConvLSTM2D keeps the LSTM's column order [i, f, c, o]: "
                "the third block of 4H columns is the candidate, the fourth the output gate.",
                _convlstm(order="ifoc")),
        Mistake("kernel flipped (a true convolution)", "Keras convolutions are cross-correlations: "
                "out[r, c] sums x[r + i - k//2, c + j - k//2] * kernel[i, j], no flipping.",
                _convlstm(flip=True)),
        Mistake("h = o * c (tanh missing)", "h_next = o * tanh(c_next).", _convlstm(h_tanh=False)),
        Mistake("forget gate applied to the candidate", "c_next = f * c_prev + i * g: the forget "
                "gate scales the old cell state.", _convlstm(forget_on="candidate")),
        Mistake("sigmoid on the candidate", "the candidate g uses tanh; only i, f and o are "
                "sigmoid gates.", _convlstm(candidate="sigmoid")),
        Mistake("'valid' padding", "pad so that every output keeps the frame's size (padding "
                "'same'): k // 2 zeros on each side for an odd k.", _convlstm(padding="valid")),
    ],
))


# ----------------------------------------------------------------------------- build_captioner
def _captioner_inputs(rng, case):
    s = case.sizes
    training = {k: s[k] for k in ("seed", "n_train", "n_val", "max_digits", "epochs")}
    return dict(image_shape=(8, 8 * s["max_digits"], 1), vocab_size=13, units=s["units"],
                training=training)


def _captioner_reference(image_shape, vocab_size, units, training):
    return TOKEN_ACCURACY_FLOOR


def _captioner_case(label, seed, hidden=False, **sizes):
    sizes = dict(dict(seed=seed, n_val=300, units=64), **sizes)
    return Case(label, seed, sizes, hidden=hidden)


register(Exercise(
    name="build_captioner", notebook=NOTEBOOK, points=3,
    args=("image_shape", "vocab_size", "units"),
    outputs=(Output("token_accuracy", (), at_least=True),),
    reference_name=f"the captioning contract (token accuracy at least {TOKEN_ACCURACY_FLOOR})",
    reference=_captioner_reference,
    make_inputs=_captioner_inputs,
    runner=train_captioner, collect=build_seeded, finish=train_built,
    probes_off=("all",),            # every experiment would train a model again
    cases=[
        _captioner_case("visible strips of 1-4 digits", 641, max_digits=4, n_train=4000, epochs=3),
        _captioner_case("hidden strips of 1-3 digits", 1641, True, max_digits=3, n_train=3000,
                        epochs=3, units=48),
    ],
    mistakes=CAPTIONER_MISTAKES,
))
