"""Notebook 04_lstm_gru: how sample_next(logits, temperature, rng) is run and judged.

Its samples are counted: DRAWS of them per case, twice, with generators seeded alike, so that the
check can tell that the function draws from the rng it is given. The verification pass draws them
beside the student's code (draw_samples) and counts them in the grader (frequencies).
"""
import numpy as np

from rnnkit.registry import Problem

DRAWS = 5000          # samples per case: a frequency's standard deviation is at most 0.007


def draw_samples(fn, logits, temperature, rng):
    """Where the student's function runs: DRAWS samples twice, with generators seeded alike.

    `rng` is the seed of the case: the student's function receives np.random.default_rng(rng)
    and must draw from it, so that the two runs agree sample for sample.

    Returns:
        (samples (2, DRAWS) int64, 1 if the second run's generator was never drawn from else 0)
    """
    V = len(logits)
    runs, untouched = [], False
    for _ in range(2):
        generator = np.random.default_rng(rng)
        before = generator.bit_generator.state
        samples = []
        for _ in range(DRAWS):
            value = fn(logits.copy(), temperature, generator)
            if isinstance(value, np.ndarray) and value.size == 1:
                value = value.reshape(())[()]
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
                raise Problem(f"it returned {value!r} ({type(value).__name__}); expected an int "
                              f"index in [0, {V})")
            if not 0 <= value < V:
                raise Problem(f"it returned {value}, outside [0, {V})")
            samples.append(int(value))
        runs.append(samples)
        untouched = generator.bit_generator.state == before
    return np.array(runs, dtype=np.int64), int(untouched)


def frequencies(collected, logits, temperature, rng):
    """The frequencies (V,) of the first run's samples, once both runs are shown to use rng."""
    V = len(logits)
    runs, untouched = collected
    runs = np.asarray(runs)
    # What comes back from the sandbox is checked again: it is data, not the function's word.
    if runs.shape != (2, DRAWS) or runs.dtype.kind not in "iu" or ((runs < 0) | (runs >= V)).any():
        raise Problem(f"its samples came back as {runs.dtype} {runs.shape}; expected (2, {DRAWS}) "
                      f"ints in [0, {V})")
    if not np.array_equal(runs[0], runs[1]):
        raise Problem("it does not draw from its rng argument: two runs with generators seeded "
                      "alike gave different samples (use rng.choice or rng.random, not np.random)")
    greedy = np.all(runs[0] == np.argmax(logits))
    if temperature > 0 and untouched and not greedy:
        # Same samples twice, yet rng was never used: it reseeds a generator of its own.
        raise Problem("it never draws from its rng argument (it seems to seed a generator of its "
                      "own at every call); draw with the rng it is given")
    return np.bincount(runs[0], minlength=V) / DRAWS


def sample_frequencies(fn, logits, temperature, rng):
    """Draw DRAWS samples twice with generators seeded alike; return the frequencies (V,)."""
    return frequencies(draw_samples(fn, logits, temperature, rng), logits, temperature, rng)
