"""Notebook 06_image_captioning: what the checks hand to the decoders, and how a captioner is judged.

    StepFunction       the toy decoder step given to greedy_decode and beam_search
    exhaustive_search  the most likely caption of all, by branch and bound: what the notebook
                       compares beam search with (a different question from beam_search's)
    build_seeded, train_built, train_captioner
                       build_captioner's runner: the student's model is built under the case's
                       seed, probed (probe_captioner), trained on a fixed budget and scored by its
                       token accuracy against TOKEN_ACCURACY_FLOOR
"""
import contextlib

import numpy as np

from rnnkit.registry import Mistake, Problem
from rnnkit.runtime import import_keras


class StepFunction:
    """A toy decoder with fixed, made-up weights: step_fn(prefix) -> log-probabilities (V,).

    The distribution of the next token depends on the whole prefix (a sequence of token ids that
    starts with start_id) and on nothing else, so every decoder gets the same answers for the
    same question. end_id is unlikely in a short prefix and grows likelier past `typical` tokens,
    so captions end.
    """

    def __init__(self, V, seed, end_id, sharpness=1.5, typical=3, end_push=0.8, name="step_fn"):
        self.V, self.seed, self.end_id = V, seed, end_id
        self.sharpness, self.typical, self.end_push, self.name = sharpness, typical, end_push, name

    def __call__(self, prefix):
        ids = [int(i) for i in np.asarray(prefix).ravel()]
        if not ids:
            raise ValueError(f"{self.name} needs a prefix that starts with the start token, got an empty one")
        bad = [i for i in ids if not 0 <= i < self.V]
        if bad:
            raise ValueError(f"{self.name} got token id {bad[0]}; ids are 0..{self.V - 1}")
        rng = np.random.default_rng([self.seed, len(ids), *ids])
        logits = rng.normal(size=self.V) * self.sharpness
        logits[self.end_id] += self.end_push * (len(ids) - 1 - self.typical)
        log_probs = logits - (logits.max() + np.log(np.exp(logits - logits.max()).sum()))
        log_probs.setflags(write=False)
        return log_probs

    def __repr__(self):
        return f"<{self.name}: a decoder step over {self.V} tokens>"

    def to_state(self):
        return {"V": self.V, "seed": self.seed, "end_id": self.end_id, "sharpness": self.sharpness,
                "typical": self.typical, "end_push": self.end_push, "name": self.name}

    @classmethod
    def from_state(cls, state):
        return cls(**state)


def exhaustive_search(step_fn, start_id, end_id, max_len):
    """The most likely caption of all: every token sequence that ends with end_id or reaches
    max_len, scored by its total log-probability. Returns (tokens, log_prob).

    Exact, and faster than listing all V ** max_len captions: log-probabilities are <= 0, so a
    prefix already less likely than the best finished caption cannot lead to a better one.
    """
    best, best_total = None, -np.inf
    stack = [((start_id,), 0.0)]
    while stack:
        seq, total = stack.pop()
        if total <= best_total:
            continue
        log_probs = np.asarray(step_fn(seq), dtype=np.float64)
        for v in np.argsort(log_probs):          # the likeliest token is explored first
            cand, cand_total = seq + (int(v),), total + log_probs[v]
            if cand_total <= best_total:
                continue
            if v == end_id or len(cand) - 1 == max_len:
                best, best_total = cand, cand_total
            else:
                stack.append((cand, cand_total))
    return np.array(best[1:], dtype=np.int64), float(best_total)


# ----------------------------------------------------------------------------- build_captioner
TOKEN_ACCURACY_FLOOR = 0.45
TRAINING = dict(learning_rate=3e-3, batch_size=64)   # Adam


def _model_layers(model):
    return [type(layer).__name__ for layer in model._flatten_layers(include_self=False, recursive=True)]


def _probs(model, images, tokens):
    ops = import_keras().ops        # convert_to_numpy: on PyTorch, detached from autograd
    return np.asarray(ops.convert_to_numpy(model([images, tokens], training=False)), dtype=np.float64)


CAPTIONER_MISTAKES = [
    Mistake("decoder sees later tokens", "the prediction at step t may only read tokens 0..t: "
            "a unidirectional LSTM over caption[:, :-1], no Bidirectional and nothing that mixes "
            "time steps backwards.", None),
    Mistake("image ignored", "feed the encoder's features to the decoder, e.g. as the LSTM's "
            "initial_state=[h0, c0] made by Dense layers from the flattened feature map.", None),
    Mistake("logits returned", "end with Dense(vocab_size, activation='softmax'): the model "
            "returns probabilities.", None),
    Mistake("last step only", "the decoder predicts a token at every step: "
            "LSTM(units, return_sequences=True).", None),
    Mistake("no Conv2D encoder", "encode the image with keras.layers.Conv2D layers.", None),
    Mistake("no LSTM decoder", "decode with keras.layers.LSTM.", None),
]
_MISTAKE = {m.name: m for m in CAPTIONER_MISTAKES}   # what the probes name


def probe_captioner(model, images, tokens, vocab_size):
    """Check a captioning model's interface and wiring; raise Problem naming what is wrong.

    What it computes is probed first (shape, probabilities, causality, use of the image), then
    which layers compute it: an encoder that is built but never connected to the output is an
    ignored image, not a missing encoder.
    """
    keras = import_keras()
    if model is None:
        raise Problem("it returned None: is the `return` statement missing?")
    if not isinstance(model, keras.Model):
        raise Problem(f"it returned {type(model).__name__}; expected a keras.Model")
    try:
        declared = model.inputs            # functional and Sequential models; not subclassed ones
    except AttributeError:
        declared = None
    if declared is not None and len(declared) != 2:
        raise Problem(f"its model takes {len(declared)} input(s); expected two, [images, tokens]")
    N, L = tokens.shape
    try:
        probs = _probs(model, images, tokens)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise Problem(f"its model fails when called on [images {images.shape}, tokens {tokens.shape}] "
                      f"({type(exc).__name__}: {first})") from None
    if probs.shape == (N, vocab_size):
        raise Problem(f"its model returns one prediction per caption {probs.shape}; expected one per "
                      f"token, (N, L, V) = {(N, L, vocab_size)}", mistake=_MISTAKE["last step only"])
    if probs.shape != (N, L, vocab_size):
        raise Problem(f"its model returns shape {probs.shape}; expected (N, L, V) = {(N, L, vocab_size)}")
    sums = probs.sum(axis=-1)
    if (probs < -1e-6).any() or not np.allclose(sums, 1.0, atol=1e-3):
        raise Problem(f"its outputs are not probabilities (the sums over the vocabulary range from "
                      f"{sums.min():.3g} to {sums.max():.3g})", mistake=_MISTAKE["logits returned"])
    # Teacher forcing: the prediction at t may read tokens 0..t only.
    changed = tokens.copy()
    t = L // 2
    changed[:, t + 1:] = (changed[:, t + 1:] + 1 + np.arange(L - t - 1)) % vocab_size
    early = _probs(model, images, changed)[:, :t + 1]
    if not np.allclose(early, probs[:, :t + 1], atol=1e-5):
        raise Problem(f"the prediction at t={t} changes when the tokens after t change",
                      mistake=_MISTAKE["decoder sees later tokens"])
    other = images[::-1].copy() if N > 1 else 1.0 - images
    if np.allclose(_probs(model, other, tokens), probs, atol=1e-6):
        raise Problem("its predictions do not change when the image changes",
                      mistake=_MISTAKE["image ignored"])
    layers = _model_layers(model)
    if not any(n in ("Conv2D", "SeparableConv2D") for n in layers):
        raise Problem("its model has no Conv2D layer: the encoder must be convolutional",
                      mistake=_MISTAKE["no Conv2D encoder"])
    if "LSTM" not in layers and "LSTMCell" not in layers:
        raise Problem("its model has no LSTM layer: the decoder must be an LSTM",
                      mistake=_MISTAKE["no LSTM decoder"])
    return probs


def token_accuracy(probs, targets):
    """Fraction of the non-padding target tokens that are the most likely prediction."""
    keep = np.asarray(targets) != 0
    hits = (np.argmax(probs, axis=-1) == np.asarray(targets)) & keep
    return float(hits.sum() / max(1, keep.sum()))


@contextlib.contextmanager
def _seeded(seed):
    """Keras, TF, NumPy and Python seeded with `seed`; the student's Python and NumPy generators
    are given back as they were."""
    import random
    keras = import_keras()
    saved = random.getstate(), np.random.get_state()
    try:
        keras.utils.set_random_seed(seed)
        yield
    finally:
        random.setstate(saved[0])
        np.random.set_state(saved[1])


def build_seeded(fn, image_shape, vocab_size, units, training):
    """Where the student's function runs: the model it builds, its weights drawn from the seed."""
    with _seeded(training["seed"]):
        return fn(image_shape, vocab_size, units)


def train_built(model, image_shape, vocab_size, units, training):
    """Probe a built captioner, train it on a seeded budget, return its token accuracy.

    The budget is fixed (training: seed, n_train, n_val, max_digits, epochs; Adam at
    TRAINING["learning_rate"], batch TRAINING["batch_size"]), so a score does not depend on how
    long a notebook trained its own model. Seeded again here, so that a model built in one
    process and trained in another (the verification pass) scores as one built and trained in
    the notebook.
    """
    from rnnkit import data
    keras = import_keras()
    with _seeded(training["seed"]):
        caps = data.digit_captions(n_train=training["n_train"], n_val=training["n_val"],
                                   max_digits=training["max_digits"], seed=training["seed"])
        probe_captioner(model, caps["x_val"][:8], caps["y_val"][:8, :-1], vocab_size)
        model.compile(optimizer=keras.optimizers.Adam(TRAINING["learning_rate"]),
                      loss="sparse_categorical_crossentropy")
        model.fit([caps["x_train"], caps["y_train"][:, :-1]], caps["y_train"][:, 1:],
                  batch_size=TRAINING["batch_size"], epochs=training["epochs"], verbose=0, shuffle=True)
        probs = _probs(model, caps["x_val"], caps["y_val"][:, :-1])   # eager: no second graph to trace
    return token_accuracy(probs, caps["y_val"][:, 1:])


def train_captioner(fn, image_shape, vocab_size, units, training):
    """Build the student's model, probe it, train it on a seeded budget, return token accuracy."""
    model = build_seeded(fn, image_shape, vocab_size, units, training)
    return train_built(model, image_shape, vocab_size, units, training)
