"""The checks of notebook 09_music_generation, exercised the way students will exercise them.

What is checked:

* that the solutions pass, that every catalogued mistake's mutant (tests/mutants/) is named on
  the visible and the hidden cases, and that nothing a student hands a check makes it raise:
  tests/test_contract.py, for every notebook at once; here, that each mutant returns what its
  catalogue entry returns (through the exercise's runner where it has one);
* on real chorales, the solutions' tokens are music21's (the contract holds on the data, not only
  on the made-up cases) and decoding gives back the quantised melody;
* other correct versions pass (rng.choice(V, ...) with V taken from the logits, a synthesizer with
  harmonics and fades), a generator that draws from np.random instead of its rng does not;
* the cases show what the mistakes need: rests, ties and off-grid notes, HOLD after a rest and at
  the start, temperatures of 0, 1 and neither;
* the step function and the audio measurement handed to the checks behave as documented.
"""

import numpy as np
import pytest

from rnnkit import checks, data
from rnnkit.checks import evaluate
from rnnkit.exercises import music
from rnnkit.exercises.music import HOLD, REST, LSTMStep
from rnnkit.grading import keys
from rnnkit.grading.keys import music_generation as key
from tests import mutants
from tests.mutation import assert_reproduces, student

NOTEBOOK = "09_music_generation"
EXERCISES = keys.for_notebook(NOTEBOOK)
EXERCISE_NAMES = [e.name for e in EXERCISES]


@pytest.fixture(scope="module")
def nb09():
    """The solution cells of 09_music_generation, with the token constants its setup imports."""
    return mutants.namespace(NOTEBOOK)


def test_notebook_declares_the_five_exercises():
    assert EXERCISE_NAMES == ["encode_melody", "decode_tokens", "transpose_tokens", "generate_melody",
                              "melody_to_audio"]
    assert [e.points for e in EXERCISES] == [2, 2, 1, 3, 3]
    for exercise in EXERCISES:
        assert exercise.select(hidden=False) and exercise.select(hidden=True), exercise.name


def test_catalogues_never_shrink():
    """Catalogues grow; these are the sizes they have reached."""
    floors = {"encode_melody": 4, "decode_tokens": 4, "transpose_tokens": 3, "generate_melody": 5,
              "melody_to_audio": 4}
    for e in EXERCISES:
        assert len(e.mistakes) >= floors[e.name], e.name


@pytest.mark.parametrize("exercise_name, mistake, occurrence, source", mutants.params(NOTEBOOK))
def test_mutant_reproduces_its_catalogue_entry(nb09, exercise_name, mistake, occurrence, source):
    assert_reproduces(nb09, exercise_name, mistake, occurrence, source)


@pytest.fixture(scope="module")
def chorales():
    return data.chorales()["chorales"]


def test_on_real_chorales_the_tokens_are_music21s(nb09, chorales):
    """Ties, rests, 1/8 notes: the first 40 chorales encode as music21 reads them, and decoding
    gives back notes whose total length is the sampled length."""
    for chorale in chorales[:40]:
        events = chorale["events"]
        tokens = nb09["encode_melody"](events, 4)
        np.testing.assert_array_equal(tokens, key._music21_encode(events, 4), err_msg=chorale["id"])
        pitches, durations = nb09["decode_tokens"](tokens, 4)
        assert durations.sum() == pytest.approx(len(tokens) / 4)
        np.testing.assert_array_equal(pitches, key._music21_decode(tokens, 4)[0])
        sounding = sorted({p for p, _, _ in events if p is not None})
        assert set(pitches[pitches >= 0]) <= set(sounding), chorale["id"]


def test_transposing_a_chorale_moves_its_notes_only(nb09, chorales):
    tokens = nb09["encode_melody"](chorales[0]["events"], 4)
    up = nb09["transpose_tokens"](tokens, 5)
    np.testing.assert_array_equal(up[tokens < 2], tokens[tokens < 2])
    np.testing.assert_array_equal(up[tokens >= 2], tokens[tokens >= 2] + 5)
    np.testing.assert_array_equal(nb09["transpose_tokens"](up, -5), tokens)


OTHER_CORRECT = {
    "generate_melody": """
def generate_melody(step_fn, seed_tokens, length, temperature, rng):
    state = None
    for tok in seed_tokens:
        logits, state = step_fn(int(tok), state)
    V = logits.shape[0]
    out = np.empty(length, dtype=np.int32)
    for i in range(length):
        if temperature == 0:
            out[i] = np.argmax(logits)
        else:
            z = logits / temperature
            p = np.exp(z - np.max(z))
            out[i] = rng.choice(V, p=p / np.sum(p))
        if i + 1 < length:
            logits, state = step_fn(int(out[i]), state)
    return out
""",
    "melody_to_audio": """
def melody_to_audio(pitches, durations, sample_rate=8000, tempo=120):
    seconds = 60.0 / tempo
    wave = []
    for p, d in zip(pitches, durations):
        n = int(round(d * seconds * sample_rate))
        if p == -1:
            wave.append(np.zeros(n))
            continue
        t = np.arange(n) / sample_rate
        f = 440.0 * 2.0 ** ((p - 69) / 12.0)
        tone = sum(np.sin(2 * np.pi * k * f * t) / k ** 2 for k in (1, 2, 3))
        attack = np.minimum(1.0, t / 0.02)
        wave.append(0.6 * tone * attack * np.exp(-2.0 * t))
    return np.concatenate(wave) / 1.5
""",
}


@pytest.mark.parametrize("name", sorted(OTHER_CORRECT))
def test_other_correct_versions_pass(nb09, name):
    fn = student(nb09, OTHER_CORRECT[name], name)
    for hidden in (False, True):
        result = evaluate(name, fn, hidden=hidden)
        assert result.passed, result.message


def test_a_generator_that_draws_from_numpy_global_state_fails(nb09):
    fn = student(nb09, OTHER_CORRECT["generate_melody"].replace("rng.choice(V", "np.random.choice(V"),
                 "generate_melody")
    result = evaluate("generate_melody", fn)
    assert not result.passed


def test_cases_show_what_the_mistakes_need():
    def inputs(name):
        e = keys.get(name)
        return [(c, checks.make_inputs(e, c)) for c in e.cases]

    for c, x in inputs("encode_melody"):
        events = x["events"]
        assert any(p is None for p, _, _ in events), c.label
        assert any(tie == "stop" for _, _, tie in events), c.label
    off_grid = [c for c, x in inputs("encode_melody") if any((ql * 4) % 1 for _, ql, _ in x["events"])]
    assert {c.hidden for c in off_grid} == {False, True}
    generated = [x["tokens"] for c, x in inputs("decode_tokens") if "generated" in c.note]
    assert generated and all(t[0] == HOLD and HOLD in t[np.flatnonzero(t == REST) + 1] for t in generated)
    temperatures = {x["temperature"] for _, x in inputs("generate_melody")}
    assert 0.0 in temperatures and 1.0 in temperatures and temperatures - {0.0, 1.0}
    for c, x in inputs("melody_to_audio"):
        assert (x["pitches"] < 0).any() and (x["pitches"] >= 0).any(), c.label


def test_the_step_function_counts_its_calls_and_names_a_bad_token():
    step_fn = LSTMStep(V=6, H=4, seed=3)
    logits, state = step_fn(2, None)
    logits2, _ = step_fn(5, state)
    assert logits.shape == (6,) and step_fn.calls == 2 and not np.allclose(logits, logits2)
    with pytest.raises(ValueError, match=r"takes one token id, an int in 0\.\.5, got 6"):
        step_fn(6, None)
    with pytest.raises(ValueError, match="got array"):
        step_fn(np.array([1, 2]), None)
    again = LSTMStep.from_state(step_fn.to_state())
    np.testing.assert_array_equal(again(2, None)[0], logits)


def test_the_audio_measurement_hears_pitch_silence_and_length():
    rate, tempo = 8000, 120
    durations = np.array([1.0, 0.5, 0.25])
    t = np.arange(4000) / rate
    wave = np.concatenate([0.5 * np.sin(2 * np.pi * 261.6256 * t), np.zeros(2000),
                           0.3 * np.sin(2 * np.pi * 880.0 * np.arange(1000) / rate)])
    freqs, sounding, length = music.measure_audio(wave, durations, rate, tempo)
    np.testing.assert_allclose(freqs, [261.6256, 0.0, 880.0], rtol=1e-3)
    np.testing.assert_array_equal(sounding, [1.0, 0.0, 1.0])
    assert float(length) == 7000.0
