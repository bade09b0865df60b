"""Notebook 04_lstm_gru: how sample_next(logits, temperature, rng) is run and judged.

Its samples are counted: DRAWS of them per case. The first AGAIN are drawn once more, from a
generator seeded alike, so that the check can tell that the function draws from the rng it is
given. The verification pass draws them beside the student's code (draw_samples) and counts them
in the grader (frequencies).
"""
import numpy as np

from rnnkit.registry import Problem

DRAWS = 5000          # samples per case: a frequency's standard deviation is at most 0.007
AGAIN = 500           # of them drawn a second time, to show that the function draws from rng


def draw_samples(fn, logits, temperature, rng):
    """Where the student's function runs: DRAWS samples, and the first AGAIN of them once more,
    from generators seeded alike.

    `rng` is the seed of the case: the student's function receives np.random.default_rng(rng)
    and must draw from it, so that the two runs agree sample for sample.

    Returns:
        (samples (DRAWS,) int64, again (AGAIN,) int64, 1 if the second run's generator was never
        drawn from else 0)
    """
    V = len(logits)
    runs, untouched = [], False
    for draws in (DRAWS, AGAIN):
        generator = np.random.default_rng(rng)
        before = generator.bit_generator.state
        samples = []
        for _ in range(draws):
            value = fn(logits.copy(), temperature, generator)
            if isinstance(value, np.ndarray) and value.size == 1:
                value = value.reshape(())[()]
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
                raise Problem(f"it returned {value!r} ({type(value).__name__}); expected an int "
                              f"index in [0, {V})")
            if not 0 <= value < V:
                raise Problem(f"it returned {value}, outside [0, {V})")
            samples.append(int(value))
        runs.append(np.array(samples, dtype=np.int64))
        untouched = generator.bit_generator.state == before
    return runs[0], runs[1], int(untouched)


def frequencies(collected, logits, temperature, rng):
    """The frequencies (V,) of the samples, once both runs are shown to use rng."""
    V = len(logits)
    samples, again, untouched = collected
    samples, again = np.asarray(samples), np.asarray(again)
    # What comes back from the sandbox is checked again: it is data, not the function's word.
    for got, n in ((samples, DRAWS), (again, AGAIN)):
        if got.shape != (n,) or got.dtype.kind not in "iu" or ((got < 0) | (got >= V)).any():
            raise Problem(f"its samples came back as {got.dtype} {got.shape}; expected ({n},) "
                          f"ints in [0, {V})")
    if not np.array_equal(samples[:AGAIN], again):
        raise Problem("it does not draw from its rng argument: two runs with generators seeded "
                      "alike gave different samples (use rng.choice or rng.random, not np.random)")
    greedy = np.all(samples == np.argmax(logits))
    if temperature > 0 and untouched and not greedy:
        # Same samples twice, yet rng was never used: it reseeds a generator of its own.
        raise Problem("it never draws from its rng argument (it seems to seed a generator of its "
                      "own at every call); draw with the rng it is given")
    return np.bincount(samples, minlength=V) / DRAWS


def sample_frequencies(fn, logits, temperature, rng):
    """Draw DRAWS samples (AGAIN of them twice); return the frequencies (V,)."""
    return frequencies(draw_samples(fn, logits, temperature, rng), logits, temperature, rng)
