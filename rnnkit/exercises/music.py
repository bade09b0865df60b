"""Notebook 09_music_generation: the token vocabulary, and what the checks hand to the functions.

    REST, HOLD, LOW, HIGH, V, STEPS_PER_QUARTER
                  the melody tokens: REST 0, HOLD 1, the onset of MIDI pitch p is 2 + (p - LOW)
                  for LOW <= p <= HIGH; a step of the grid is a sixteenth note
    LSTMStep      a small Keras language model over the tokens with fixed, seeded weights (an
                  LSTMCell and a Dense layer): step_fn(token, state) -> (logits (V,), state)
    generate_runner (collect, finish)
                  runs a generator with a generator seeded by the case and counts its step_fn
                  calls: a generator that re-runs the whole prefix is named
    audio_runner (collect, finish), measure_audio
                  what the checks measure of a synthesized melody: each note's frequency (the
                  strongest FFT peak of its segment), whether it sounds, the length in samples
"""
import numpy as np

from rnnkit.reference import float_dtype, to_numpy
from rnnkit.registry import Mistake, Problem
from rnnkit.runtime import import_keras

REST, HOLD = 0, 1
LOW, HIGH = 48, 96                    # C3 .. C7: a soprano's range, with room to transpose
V = 2 + HIGH - LOW + 1                # 51 tokens
STEPS_PER_QUARTER = 4                 # a sixteenth-note grid


class LSTMStep:
    """One step of a token language model: an Embedding-like lookup (a row of E), a
    keras.layers.LSTMCell and a keras.layers.Dense, in float64, with weights drawn from `seed`.

    step_fn(token, state) -> (logits (V,), new_state): `token` an int in [0, V); `state` None at
    the start, then whatever the previous call returned (the LSTM's [h (1, H), c (1, H)]). It
    counts its calls in `calls`, so that a check can tell a generator that carries the state from
    one that re-runs the whole prefix.

    Example:
        >>> step_fn = LSTMStep(V=6, H=4, seed=1)
        >>> logits, state = step_fn(2, None)
        >>> logits.shape, step_fn.calls
        ((6,), 1)
    """

    def __init__(self, V, H, seed, sharpness=4.0, name="step_fn"):
        self.V, self.H, self.seed, self.sharpness, self.name = int(V), int(H), int(seed), float(sharpness), name
        self.calls = 0
        self._layers = None
        import_keras()   # now, not inside the function it is handed to (importing starts processes)

    def _build(self):
        keras = import_keras()
        rng = np.random.default_rng(self.seed)
        V, H = self.V, self.H
        E = rng.normal(0.0, 1.0, size=(V, H))
        cell = keras.layers.LSTMCell(H, dtype=float_dtype())
        cell.build((None, H))
        bias = rng.uniform(-0.5, 0.5, size=4 * H)
        bias[H:2 * H] += 2.0             # forget gates mostly open: the state remembers the seed
        cell.set_weights([rng.normal(0.0, 1.5 / np.sqrt(H), size=(H, 4 * H)),
                          rng.normal(0.0, 1.5 / np.sqrt(H), size=(H, 4 * H)), bias])
        dense = keras.layers.Dense(V, dtype=float_dtype())
        dense.build((None, H))
        dense.set_weights([rng.normal(0.0, self.sharpness / np.sqrt(H), size=(H, V)),
                           rng.uniform(-0.5, 0.5, size=V)])
        self._layers = (E, cell, dense)

    def __call__(self, token, state):
        if isinstance(token, (bool, np.bool_)) or not isinstance(token, (int, np.integer)) \
                or not 0 <= int(token) < self.V:
            raise ValueError(f"{self.name} takes one token id, an int in 0..{self.V - 1}, got {token!r}")
        if self._layers is None:
            self._build()
        E, cell, dense = self._layers
        if state is None:
            state = [np.zeros((1, self.H)), np.zeros((1, self.H))]
        self.calls += 1
        h, new_state = cell(E[int(token)][None, :], [np.asarray(s, np.float64) for s in state])
        logits = np.array(to_numpy(dense(h)), dtype=np.float64)[0]
        return logits, [np.array(to_numpy(s), dtype=np.float64) for s in new_state]

    def __repr__(self):
        return f"<{self.name}: an LSTM language model over {self.V} tokens, {self.H} units>"

    def to_state(self):
        return {"V": self.V, "H": self.H, "seed": self.seed, "sharpness": self.sharpness, "name": self.name}

    @classmethod
    def from_state(cls, state):
        return cls(**state)


# ----------------------------------------------------------------------------- generate_melody's runner
PREFIX_RERUN = Mistake(
    "the whole prefix re-run at every step", "feed each token once and keep the state step_fn "
    "returns: one call per token (len(seed) + length - 1 calls), not a fresh run over the whole "
    "prefix for every new token.")


def generate_collect(fn, step_fn, seed_tokens, length, temperature, rng):
    """Where the student's generator runs: it gets np.random.default_rng(rng) (`rng` is the case's
    seed). Returns (tokens, the number of step_fn calls it made)."""
    before = step_fn.calls
    tokens = fn(step_fn, seed_tokens, length, temperature, np.random.default_rng(rng))
    if tokens is None:
        raise Problem("it returned None: is the `return` statement missing?")
    return np.asarray(tokens), step_fn.calls - before


def generate_finish(collected, step_fn, seed_tokens, length, temperature, rng):
    """The tokens, once the calls show that the state was carried."""
    tokens, calls = collected
    needed = len(seed_tokens) + int(length) - 1
    if int(calls) > needed:
        raise Problem(f"it calls step_fn {int(calls)} times for {len(seed_tokens)} seed tokens and "
                      f"{int(length)} new ones; carrying the state needs {needed}", mistake=PREFIX_RERUN)
    return np.asarray(tokens)


def generate_runner(fn, **inputs):
    return generate_finish(generate_collect(fn, **inputs), **inputs)


# ----------------------------------------------------------------------------- melody_to_audio's runner
SOUNDING = 0.02          # a segment whose RMS is below this is silence


def audio_segments(durations, sample_rate, tempo):
    """The sample index where each note starts and ends: (starts (M,), ends (M,))."""
    lengths = np.round(np.asarray(durations, np.float64) * 60.0 / tempo * sample_rate).astype(int)
    ends = np.cumsum(lengths)
    return ends - lengths, ends


def measure_audio(waveform, durations, sample_rate, tempo):
    """What an ear would check of a synthesized melody, measured on the waveform (S,) cut where the
    notes should start and end (the middle 80 % of each): (frequency (Q,) of each segment's
    strongest FFT peak, 0 for silence; sounding (Q,) 1.0 where the segment's RMS is at least
    SOUNDING; the length S)."""
    w = np.asarray(waveform, np.float64).ravel()
    starts, ends = audio_segments(durations, sample_rate, tempo)
    freqs, sounding = np.zeros(len(starts)), np.zeros(len(starts))
    for i, (a, b) in enumerate(zip(starts, ends)):
        margin = (b - a) // 10                             # the middle 80 %: fades do not count
        seg = w[a + margin:min(b - margin, len(w))]
        if len(seg) < 8 or np.sqrt(np.mean(seg ** 2)) < SOUNDING:
            continue
        sounding[i] = 1.0
        n = 16 * len(seg)                                  # zero-padded: a fine frequency grid
        spectrum = np.abs(np.fft.rfft(seg * np.hanning(len(seg)), n=n))
        k = int(np.argmax(spectrum[1:])) + 1
        if 1 <= k < len(spectrum) - 1:                     # parabolic interpolation of the peak
            a0, a1, a2 = np.log(spectrum[k - 1:k + 2] + 1e-300)
            k = k + 0.5 * (a0 - a2) / (a0 - 2 * a1 + a2)
        freqs[i] = k * sample_rate / n
    return freqs, sounding, np.asarray(float(len(w)))


def audio_collect(fn, pitches, durations, sample_rate, tempo):
    """Where the student's synthesizer runs: the waveform it returns, as float64 (S,)."""
    w = fn(pitches, durations, sample_rate, tempo)
    if w is None:
        raise Problem("it returned None: is the `return` statement missing?")
    w = np.asarray(w)
    if w.ndim != 1 or w.dtype.kind not in "fiu":
        raise Problem(f"it returned an array of {w.dtype} {w.shape}; expected a 1-D float waveform (S,)")
    return w.astype(np.float64)


def audio_finish(waveform, pitches, durations, sample_rate, tempo):
    w = np.asarray(waveform, np.float64)
    if not np.isfinite(w).all() or np.abs(w).max(initial=0.0) > 1.0 + 1e-9:
        raise Problem(f"its samples reach {np.abs(w).max():.3g}; a waveform stays within [-1, 1] "
                      "(and has no NaN)")
    return measure_audio(w, durations, sample_rate, tempo)


def audio_runner(fn, **inputs):
    return audio_finish(audio_collect(fn, **inputs), **inputs)
