"""Notebook 09_music_generation: melodies as tokens, an LSTM that writes them, and a synthesizer.

Graded functions (the contract; T grid steps of a sixteenth note, Q notes and rests, V tokens,
S audio samples; tokens REST 0, HOLD 1, onset of MIDI pitch p = 2 + p - LOW, rnnkit.exercises.music):

    encode_melody(events, steps_per_quarter) -> tokens (T,) int
        events: [(MIDI pitch or None for a rest, quarter_length, tie)]; tied notes are one held
        note; the melody is sampled at each step t / steps_per_quarter: REST, the onset token of a
        note starting since the step before, or HOLD; T = ceil(total length * steps_per_quarter).
    decode_tokens(tokens (T,), steps_per_quarter) -> (pitches (Q,) int, -1 a rest; durations (Q,))
    transpose_tokens(tokens (T,), semitones) -> tokens (T,): onsets moved, REST and HOLD kept.
    generate_melody(step_fn, seed_tokens (T0,), length, temperature, rng) -> tokens (length,)
        step_fn(token, state) -> (logits (V,), state); the seed is fed token by token, the state
        carried; each new token is drawn with rng.choice(V, p=softmax(logits / temperature)).
    melody_to_audio(pitches (Q,), durations (Q,), sample_rate, tempo) -> waveform (S,)
        a sine (and quieter harmonics) at 440 * 2 ** ((p - 69) / 12) Hz per note, silence per rest.

The references: music21 (stripTies and the element sounding at each step; Pitch.transpose;
Pitch.frequency, measured by FFT on the waveform) and a Keras LSTMCell + Dense stepped with its
state carried (rnnkit.exercises.music.LSTMStep).
"""
import math

import numpy as np

from rnnkit.exercises import music
from rnnkit.exercises.music import HOLD, LOW, REST, LSTMStep
from rnnkit.grading.keys.catalog import register
from rnnkit.registry import Case, Exercise, Mistake, Output

NOTEBOOK = "09_music_generation"
MUSIC21 = ("music21",)


def _music21():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import music21
    return music21


# ----------------------------------------------------------------------------- random melodies
def _events(rng, M, rests=True, ties=True, fine=False):
    """M events (or a few more) of a soprano-like line: pitches 60..79 by small steps, durations
    on the sixteenth grid, at least one rest of two steps or more and one tied note; with `fine`,
    also a 1/8 and a 3/8 of a quarter note (off the grid)."""
    grid = [0.25, 0.5, 0.5, 0.75, 1.0, 1.0, 1.5, 2.0]
    events, pitch = [], int(rng.integers(62, 76))
    for k in range(M):
        pitch = int(np.clip(pitch + rng.integers(-4, 5), 60, 79))
        if fine and k == M // 2:
            events += [(pitch, 0.125, None), (int(np.clip(pitch + 2, 60, 79)), 0.375, None)]
        elif rests and (k == 2 * M // 3 or rng.random() < 0.1) and events and events[-1][0] is not None:
            events.append((None, float(rng.choice([0.5, 1.0])), None))
        elif ties and (k == M // 3 or rng.random() < 0.1):
            events.append((pitch, float(rng.choice([0.5, 1.0])), "start"))
            events.append((pitch, float(rng.choice([0.25, 0.5, 1.0])), "stop"))
        else:
            events.append((pitch, float(rng.choice(grid)), None))
    return events


def _encode_inputs(rng, case):
    s = case.sizes
    return dict(events=_events(rng, s["events"], fine="fine" in case.note), steps_per_quarter=4)


# ----------------------------------------------------------------------------- encode_melody
def _music21_stream(events):
    m21 = _music21()
    s = m21.stream.Stream()
    for pitch, ql, tie in events:
        el = m21.note.Rest(quarterLength=ql) if pitch is None else m21.note.Note(int(pitch), quarterLength=ql)
        if pitch is not None and tie is not None:
            el.tie = m21.tie.Tie(tie)
        s.append(el)
    return s


def _music21_encode(events, steps_per_quarter=4):
    """Tokens read off music21: stripTies() merges the tied notes, then the element sounding at
    each step's time (getElementAtOrBefore) gives REST, an onset or HOLD."""
    from fractions import Fraction
    m21 = _music21()
    merged = _music21_stream(events).stripTies()
    total = merged.highestTime
    T = math.ceil(Fraction(total) * steps_per_quarter)
    tokens = np.zeros(T, dtype=np.int64)
    for t in range(T):
        time = Fraction(t, steps_per_quarter)
        el = merged.getElementAtOrBefore(time, [m21.note.Note, m21.note.Rest])
        if isinstance(el, m21.note.Rest):
            tokens[t] = REST
        elif t == 0 or el.offset > Fraction(t - 1, steps_per_quarter):
            tokens[t] = 2 + el.pitch.midi - LOW
        else:
            tokens[t] = HOLD
    return tokens


def _sampled(notes, total, spq, hold=True):
    """Tokens of (pitch or None, onset, end) notes sampled on the grid."""
    T = math.ceil(total * spq - 1e-9)
    tokens, k = np.zeros(T, dtype=np.int64), 0
    for t in range(T):
        time = t / spq
        while notes[k][2] <= time + 1e-12:
            k += 1
        pitch, start, _ = notes[k]
        if pitch is None:
            tokens[t] = REST
        elif t == 0 or start > (t - 1) / spq + 1e-12 or not hold:
            tokens[t] = 2 + pitch - LOW
        else:
            tokens[t] = HOLD
    return tokens


def _encode(drop_rests=False, merge_ties=True, hold=True, per_event=False):
    """NumPy encoding with switches for the catalogued mistakes."""
    def run(events, steps_per_quarter=4):
        spq = steps_per_quarter
        if per_event:
            out = []
            for pitch, ql, tie in events:
                n = round(ql * spq)
                if pitch is None:
                    out += [REST] * n
                elif tie in ("continue", "stop"):
                    out += [HOLD] * n
                elif n:
                    out += [2 + pitch - LOW] + [HOLD] * (n - 1)
            return np.array(out, dtype=np.int64)
        notes, onset = [], 0.0
        for pitch, ql, tie in events:
            end = onset + ql
            if pitch is None and drop_rests:
                continue
            if merge_ties and pitch is not None and tie in ("continue", "stop") and notes \
                    and notes[-1][0] == pitch:
                notes[-1] = (pitch, notes[-1][1], end)
            else:
                notes.append((pitch, onset, end))
            onset = end
        if drop_rests:                          # the notes close up: each starts where the last ended
            shifted, at = [], 0.0
            for pitch, start, end in notes:
                shifted.append((pitch, at, at + end - start))
                at += end - start
            notes, onset = shifted, at
        return _sampled(notes, onset, spq, hold=hold)
    return run


TOKENS = Output("tokens", ("T",), sequence=True)

register(Exercise(
    name="encode_melody", notebook=NOTEBOOK, points=2,
    args=("events", "steps_per_quarter"),
    outputs=(TOKENS,),
    reference_name="music21's stripTies() and the note sounding at each sixteenth",
    forbidden=MUSIC21,
    reference=_music21_encode,
    make_inputs=_encode_inputs,
    atol=0.0, rtol=0.0,
    cases=[
        Case("visible tied and rests", 901, dict(events=8)),
        Case("visible off the grid", 902, dict(events=8), note="fine durations"),
        Case("hidden long", 1901, dict(events=24), hidden=True, note="fine durations",
             vary=dict(events=(18, 30))),
        Case("hidden on the grid", 1902, dict(events=14), hidden=True),
    ],
    mistakes=[
        Mistake("rests dropped", "a rest is time too: it gets a REST token at every step it "
                "covers.", _encode(drop_rests=True)),
        Mistake("ties split (a tied note restarts)", "a note tied from the one before (tie "
                "'continue' or 'stop') continues it: HOLD, not a new onset.", _encode(merge_ties=False)),
        Mistake("each duration rounded on its own (the grid drifts)", "sample the melody at each "
                "step's time t / steps_per_quarter instead of rounding every duration: rounding "
                "errors add up and later notes slip off the beat.", _encode(per_event=True)),
        Mistake("notes not held (an onset at every step)", "a note longer than a step starts once; "
                "the steps after its onset are HOLD.", _encode(hold=False)),
    ],
))


# ----------------------------------------------------------------------------- decode_tokens
def _decode_inputs(rng, case):
    s = case.sizes
    tokens = _encode()(_events(rng, s["events"]), 4)
    if "generated" in case.note:       # what a generator can write: HOLD after a rest, at the start
        tokens = np.concatenate([[HOLD, REST], tokens, [REST, HOLD, HOLD]])
    return dict(tokens=tokens, steps_per_quarter=4)


def _music21_decode(tokens, steps_per_quarter=4):
    """One music21 note or rest per step, the held steps tied to the note before; stripTies()
    merges each held note, and neighbouring rests are joined."""
    m21 = _music21()
    s, ql = m21.stream.Stream(), 1.0 / steps_per_quarter
    previous = None
    for tok in np.asarray(tokens).ravel():
        tok = int(tok)
        if tok >= 2:
            el = m21.note.Note(tok - 2 + LOW, quarterLength=ql)
        elif tok == HOLD and isinstance(previous, m21.note.Note):
            el = m21.note.Note(previous.pitch.midi, quarterLength=ql)
            previous.tie = m21.tie.Tie("start" if previous.tie is None else "continue")
            el.tie = m21.tie.Tie("stop")
        else:
            el = m21.note.Rest(quarterLength=ql)
        s.append(el)
        previous = el
    pitches, durations = [], []
    for el in s.stripTies().notesAndRests:
        if isinstance(el, m21.note.Rest) and pitches and pitches[-1] == -1:
            durations[-1] += float(el.quarterLength)
        else:
            pitches.append(-1 if isinstance(el, m21.note.Rest) else el.pitch.midi)
            durations.append(float(el.quarterLength))
    return np.array(pitches, dtype=np.int64), np.array(durations)


def _decode(holds=True, merge_rests=True, per_step=False, offset=LOW):
    def run(tokens, steps_per_quarter=4):
        pitches, steps = [], []
        for tok in np.asarray(tokens).ravel():
            tok = int(tok)
            if tok >= 2:
                pitches.append(tok - 2 + offset)
                steps.append(1)
            elif tok == HOLD and not holds:
                continue
            elif tok == HOLD and pitches:
                steps[-1] += 1
            elif pitches and pitches[-1] == -1 and (merge_rests or tok == HOLD):
                steps[-1] += 1
            else:
                pitches.append(-1)
                steps.append(1)
        scale = 1.0 if per_step else 1.0 / steps_per_quarter
        return np.array(pitches, dtype=np.int64), np.array(steps, dtype=np.float64) * scale
    return run


register(Exercise(
    name="decode_tokens", notebook=NOTEBOOK, points=2,
    args=("tokens", "steps_per_quarter"),
    outputs=(Output("pitches", ("Q",), sequence=True), Output("durations", ("Q",))),
    reference_name="music21 notes of a sixteenth, tied where held, merged by stripTies()",
    forbidden=MUSIC21,
    reference=_music21_decode,
    make_inputs=_decode_inputs,
    cases=[
        Case("visible 1", 911, dict(events=8)),
        Case("visible as generated", 912, dict(events=6), note="generated"),
        Case("hidden long", 1911, dict(events=20), hidden=True, note="generated",
             vary=dict(events=(15, 26))),
        Case("hidden 2", 1912, dict(events=12), hidden=True),
    ],
    mistakes=[
        Mistake("holds ignored (every note one step long)", "HOLD extends the note (or rest) "
                "sounding: add a step to its duration.", _decode(holds=False)),
        Mistake("consecutive rests not merged", "neighbouring REST steps are one rest: add a "
                "step to it rather than starting another.", _decode(merge_rests=False)),
        Mistake("durations in steps, not quarter notes", "a step is 1 / steps_per_quarter of a "
                "quarter note: divide the step counts by steps_per_quarter.", _decode(per_step=True)),
        Mistake("the token index returned, not the MIDI pitch", "an onset token 2 + p - LOW "
                "stands for MIDI pitch p = token - 2 + LOW.", _decode(offset=0)),
    ],
))


# ----------------------------------------------------------------------------- transpose_tokens
def _transpose_inputs(rng, case):
    s = case.sizes
    return dict(tokens=_encode()(_events(rng, s["events"]), 4), semitones=s["shift"])


def _music21_transpose(tokens, semitones):
    """Each onset's music21 Pitch transposed (Pitch.transpose), back to its token."""
    m21 = _music21()
    out = np.array(tokens, dtype=np.int64, copy=True)
    for t, tok in enumerate(out):
        if tok >= 2:
            out[t] = 2 + m21.pitch.Pitch(midi=int(tok) - 2 + LOW).transpose(int(semitones)).midi - LOW
    return out


def _transpose(everything=False, sign=1, factor=1):
    def run(tokens, semitones):
        tokens = np.asarray(tokens, dtype=np.int64)
        moved = tokens + sign * factor * int(semitones)
        return moved if everything else np.where(tokens >= 2, moved, tokens)
    return run


register(Exercise(
    name="transpose_tokens", notebook=NOTEBOOK, points=1,
    args=("tokens", "semitones"),
    outputs=(TOKENS,),
    reference_name="music21.pitch.Pitch.transpose on every onset",
    forbidden=MUSIC21,
    reference=_music21_transpose,
    make_inputs=_transpose_inputs,
    atol=0.0, rtol=0.0,
    cases=[
        Case("visible up a third", 921, dict(events=8, shift=4)),
        Case("visible down a fifth", 922, dict(events=8, shift=-7)),
        Case("hidden up a fifth", 1921, dict(events=16, shift=7), hidden=True, vary=dict(events=(10, 20))),
        Case("hidden down a semitone", 1922, dict(events=10, shift=-1), hidden=True),
    ],
    mistakes=[
        Mistake("rests and holds shifted too", "only onset tokens (>= 2) stand for pitches: REST "
                "(0) and HOLD (1) stay as they are.", _transpose(everything=True)),
        Mistake("transposed the wrong way", "a positive number of semitones moves the melody up: "
                "add it to the onset tokens.", _transpose(sign=-1)),
        Mistake("semitones taken as whole tones", "one token step is one semitone (one MIDI "
                "number): add `semitones`, not twice it.", _transpose(factor=2)),
    ],
))


# ----------------------------------------------------------------------------- generate_melody
def _generate_inputs(rng, case):
    s = case.sizes
    step_fn = LSTMStep(V=s["V"], H=s["H"], seed=int(rng.integers(2 ** 31)))
    return dict(step_fn=step_fn, seed_tokens=rng.integers(0, s["V"], size=s["T0"]),
                length=s["L"], temperature=float(case.note.split("=")[1]), rng=case.seed)


def _generate(reset=False, seed="all", with_seed=False, use_temperature=True):
    """The loop of the contract on music.LSTMStep (a Keras LSTMCell + Dense), with switches for
    the catalogued mistakes; returns what generate_runner returns."""
    def run(step_fn, seed_tokens, length, temperature, rng):
        draw = np.random.default_rng(rng)
        state, logits = None, None
        fed = list(seed_tokens) if seed == "all" else list(seed_tokens)[-1:]
        for tok in fed:
            logits, state = step_fn(int(tok), None if reset else state)
        out = []
        for i in range(int(length)):
            if temperature == 0:
                tok = int(np.argmax(logits))
            else:
                z = np.asarray(logits, np.float64) / (temperature if use_temperature else 1.0)
                p = np.exp(z - z.max())
                p /= p.sum()
                tok = int(draw.choice(len(p), p=p))
            out.append(tok)
            if i < length - 1:
                logits, state = step_fn(tok, None if reset else state)
        out = np.array(out, dtype=np.int64)
        return np.concatenate([np.asarray(seed_tokens, np.int64), out]) if with_seed else out
    return run


register(Exercise(
    name="generate_melody", notebook=NOTEBOOK, points=3,
    args=("step_fn", "seed_tokens", "length", "temperature", "rng"),
    outputs=(Output("tokens", ("L",), sequence=True),),
    reference_name="a keras.layers.LSTMCell + Dense stepped with its state carried",
    reference=_generate(),
    make_inputs=_generate_inputs,
    runner=music.generate_runner, collect=music.generate_collect, finish=music.generate_finish,
    atol=0.0, rtol=0.0,
    cases=[
        Case("visible temperature 1", 931, dict(V=8, H=6, T0=4, L=6), note="temperature=1.0"),
        Case("visible temperature 0.5", 932, dict(V=7, H=5, T0=3, L=8), note="temperature=0.5"),
        Case("visible greedy", 933, dict(V=6, H=4, T0=5, L=5), note="temperature=0.0"),
        Case("hidden long", 1931, dict(V=10, H=8, T0=6, L=16), hidden=True, note="temperature=1.5"),
        Case("hidden one seed token", 1932, dict(V=9, H=5, T0=1, L=7), hidden=True, note="temperature=0.8"),
        Case("hidden greedy", 1933, dict(V=8, H=6, T0=7, L=9), hidden=True, note="temperature=0.0"),
    ],
    mistakes=[
        Mistake("state reset every step", "pass the state step_fn returned to its next call: a "
                "fresh state forgets everything before the last token.", _generate(reset=True)),
        Mistake("only the seed's last token fed (the rest of the seed ignored)", "feed every seed "
                "token, in order, carrying the state: the melody continues the whole seed.",
                _generate(seed="last")),
        Mistake("the seed returned with the melody", "return the `length` new tokens only.",
                _generate(with_seed=True)),
        music.PREFIX_RERUN,
        Mistake("temperature ignored", "divide the logits by the temperature before the softmax "
                "(notebook 04): p = softmax(logits / temperature).", _generate(use_temperature=False)),
    ],
))


# ----------------------------------------------------------------------------- melody_to_audio
def _audio_inputs(rng, case):
    s = case.sizes
    pitches, durations = _decode()(_encode()(_events(rng, s["events"], ties=False), 4), 4)
    if -1 not in pitches:                             # every case has a rest
        pitches, durations = np.append(pitches, -1), np.append(durations, 0.5)
    return dict(pitches=pitches, durations=durations, sample_rate=s["rate"], tempo=s["tempo"])


def _music21_frequencies(pitches, durations, sample_rate, tempo):
    """What the measurement of a right waveform gives: music21's Pitch.frequency of each note
    (0 for a rest), sounding 1 for notes, and the total length in samples."""
    m21 = _music21()
    pitches = np.asarray(pitches)
    freqs = np.array([0.0 if p < 0 else m21.pitch.Pitch(midi=int(p)).frequency for p in pitches])
    _, ends = music.audio_segments(durations, sample_rate, tempo)
    return freqs, (pitches >= 0).astype(np.float64), np.asarray(float(ends[-1]))


def _synth(reference_midi=69, octave=1.0, same_length=False, rests_sound=False):
    """A sine synthesizer with switches for the catalogued mistakes, measured as the checks measure."""
    def run(pitches, durations, sample_rate, tempo):
        out = []
        for p, d in zip(np.asarray(pitches), np.asarray(durations, np.float64)):
            n = int(round((1.0 if same_length else d) * 60.0 / tempo * sample_rate))
            t = np.arange(n) / sample_rate
            if p < 0 and not rests_sound:
                out.append(np.zeros(n))
                continue
            f = octave * 440.0 * 2.0 ** ((p - reference_midi) / 12.0)
            out.append(0.5 * np.sin(2 * np.pi * f * t))
        wave = np.concatenate(out) if out else np.zeros(0)
        return music.measure_audio(wave, durations, sample_rate, tempo)
    return run


register(Exercise(
    name="melody_to_audio", notebook=NOTEBOOK, points=3,
    args=("pitches", "durations", "sample_rate", "tempo"),
    outputs=(Output("frequency", ("Q",)), Output("sounding", ("Q",)), Output("length", ())),
    reference_name="music21's Pitch.frequency, measured by FFT on each note of the waveform",
    forbidden=MUSIC21,
    reference=_music21_frequencies,
    make_inputs=_audio_inputs,
    runner=music.audio_runner, collect=music.audio_collect, finish=music.audio_finish,
    atol=0.5, rtol=0.01,
    cases=[
        Case("visible 8 kHz", 941, dict(events=6, rate=8000, tempo=120)),
        Case("visible slow", 942, dict(events=5, rate=8000, tempo=90)),
        Case("hidden 16 kHz", 1941, dict(events=10, rate=16000, tempo=132), hidden=True),
        Case("hidden fast", 1942, dict(events=8, rate=8000, tempo=160), hidden=True),
    ],
    mistakes=[
        Mistake("off by an octave", "f = 440 * 2 ** ((p - 69) / 12): MIDI 69 is A4 at 440 Hz, and "
                "12 semitones double the frequency.", _synth(octave=2.0)),
        Mistake("A4 is not MIDI 69 (pitches counted from C4 = 60 at 440 Hz)", "440 Hz is A4, MIDI "
                "69; middle C (60) is about 261.6 Hz.", _synth(reference_midi=60)),
        Mistake("durations ignored (every note the same length)", "a note lasts duration * 60 / "
                "tempo seconds: round(duration * 60 / tempo * sample_rate) samples.",
                _synth(same_length=True)),
        Mistake("rests sounded", "a rest (pitch -1) is silence: zeros for its samples.",
                _synth(rests_sound=True)),
    ],
))
