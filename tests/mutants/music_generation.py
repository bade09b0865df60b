"""Student-style mutants of 09_music_generation: one per catalogued mistake."""

NOTEBOOK = '09_music_generation'
GIVEN_HELPERS = ()  # the graded functions need no given code (the token constants are imported)


# ----------------------------------------------------------------------------- mutants
# exercise name -> [(catalogued mistake name, student source defining that function)], in
# catalogue order; NumPy, with the notebook's REST, HOLD and LOW.
MUTANTS = {
    "encode_melody": [
        ("rests dropped", """
def encode_melody(events, steps_per_quarter=4):
    notes, onset = [], 0.0
    for pitch, ql, tie in events:
        if pitch is None:
            continue
        if tie in ("continue", "stop") and notes and notes[-1][0] == pitch:
            notes[-1][2] = onset + ql
        else:
            notes.append([pitch, onset, onset + ql])
        onset += ql
    tokens = []
    for t in range(int(np.ceil(onset * steps_per_quarter))):
        time = t / steps_per_quarter
        pitch, start, end = next(n for n in notes if n[2] > time)
        new = t == 0 or start > (t - 1) / steps_per_quarter
        tokens.append(2 + pitch - LOW if new else HOLD)
    return np.array(tokens)
"""),
        ("ties split (a tied note restarts)", """
def encode_melody(events, steps_per_quarter=4):
    notes, onset = [], 0.0
    for pitch, ql, tie in events:
        notes.append((pitch, onset, onset + ql))
        onset += ql
    tokens = []
    for t in range(int(np.ceil(onset * steps_per_quarter))):
        time = t / steps_per_quarter
        pitch, start, end = [n for n in notes if n[1] <= time < n[2]][0]
        if pitch is None:
            tokens.append(REST)
        elif t == 0 or start > (t - 1) / steps_per_quarter:
            tokens.append(2 + pitch - LOW)
        else:
            tokens.append(HOLD)
    return np.array(tokens)
"""),
        ("each duration rounded on its own (the grid drifts)", """
def encode_melody(events, steps_per_quarter=4):
    tokens = []
    for pitch, ql, tie in events:
        n = round(ql * steps_per_quarter)
        if pitch is None:
            tokens += [REST] * n
        elif tie in ("continue", "stop"):
            tokens += [HOLD] * n
        elif n > 0:
            tokens += [2 + pitch - LOW] + [HOLD] * (n - 1)
    return np.array(tokens)
"""),
        ("notes not held (an onset at every step)", """
def encode_melody(events, steps_per_quarter=4):
    merged, onset = [], 0.0
    for pitch, ql, tie in events:
        if tie in ("continue", "stop") and merged and merged[-1][0] == pitch:
            merged[-1][2] += ql
        else:
            merged.append([pitch, onset, onset + ql])
        onset += ql
    T = int(np.ceil(onset * steps_per_quarter))
    tokens = np.zeros(T, dtype=int)
    for t in range(T):
        for pitch, start, end in merged:
            if start <= t / steps_per_quarter < end:
                tokens[t] = REST if pitch is None else 2 + pitch - LOW
    return tokens
"""),
    ],
    "decode_tokens": [
        ("holds ignored (every note one step long)", """
def decode_tokens(tokens, steps_per_quarter=4):
    pitches, steps = [], []
    for tok in tokens:
        if tok >= 2:
            pitches.append(tok - 2 + LOW)
            steps.append(1)
        elif tok == REST:
            if pitches and pitches[-1] == -1:
                steps[-1] += 1
            else:
                pitches.append(-1)
                steps.append(1)
    return np.array(pitches), np.array(steps) / steps_per_quarter
"""),
        ("consecutive rests not merged", """
def decode_tokens(tokens, steps_per_quarter=4):
    pitches, steps = [], []
    for tok in tokens:
        if tok == REST:
            pitches.append(-1)
            steps.append(1)
        elif tok == HOLD:
            if pitches:
                steps[-1] += 1
            else:
                pitches.append(-1)
                steps.append(1)
        else:
            pitches.append(int(tok) - 2 + LOW)
            steps.append(1)
    return np.array(pitches), np.array(steps) / steps_per_quarter
"""),
        ("durations in steps, not quarter notes", """
def decode_tokens(tokens, steps_per_quarter=4):
    pitches, durations = [], []
    for tok in tokens:
        if tok >= 2:
            pitches.append(tok - 2 + LOW)
            durations.append(1.0)
        elif (tok == HOLD and pitches) or (pitches and pitches[-1] == -1):
            durations[-1] += 1
        else:
            pitches.append(-1)
            durations.append(1.0)
    return np.array(pitches), np.array(durations)
"""),
        ("the token index returned, not the MIDI pitch", """
def decode_tokens(tokens, steps_per_quarter=4):
    pitches, steps = [], []
    for tok in tokens:
        if tok >= 2:
            pitches.append(tok - 2)
            steps.append(1)
        elif (tok == HOLD and pitches) or (pitches and pitches[-1] == -1):
            steps[-1] += 1
        else:
            pitches.append(-1)
            steps.append(1)
    return np.array(pitches), np.array(steps) / steps_per_quarter
"""),
    ],
    "transpose_tokens": [
        ("rests and holds shifted too", """
def transpose_tokens(tokens, semitones):
    return tokens + semitones
"""),
        ("transposed the wrong way", """
def transpose_tokens(tokens, semitones):
    out = tokens.copy()
    out[tokens >= 2] -= semitones
    return out
"""),
        ("semitones taken as whole tones", """
def transpose_tokens(tokens, semitones):
    return np.where(tokens >= 2, tokens + 2 * semitones, tokens)
"""),
    ],
    "generate_melody": [
        ("state reset every step", """
def generate_melody(step_fn, seed_tokens, length, temperature, rng):
    for tok in seed_tokens:
        logits, _ = step_fn(int(tok), None)
    out = []
    for i in range(length):
        if temperature == 0:
            tok = int(np.argmax(logits))
        else:
            p = np.exp((logits - logits.max()) / temperature)
            tok = int(rng.choice(len(p), p=p / p.sum()))
        out.append(tok)
        if i < length - 1:
            logits, _ = step_fn(tok, None)
    return np.array(out)
"""),
        ("only the seed's last token fed (the rest of the seed ignored)", """
def generate_melody(step_fn, seed_tokens, length, temperature, rng):
    logits, state = step_fn(int(seed_tokens[-1]), None)
    out = []
    for i in range(length):
        if temperature == 0:
            tok = int(np.argmax(logits))
        else:
            p = np.exp((logits - logits.max()) / temperature)
            tok = int(rng.choice(len(p), p=p / p.sum()))
        out.append(tok)
        if i < length - 1:
            logits, state = step_fn(tok, state)
    return np.array(out)
"""),
        ("the seed returned with the melody", """
def generate_melody(step_fn, seed_tokens, length, temperature, rng):
    tokens = [int(t) for t in seed_tokens]
    state = None
    for tok in tokens:
        logits, state = step_fn(tok, state)
    for i in range(length):
        if temperature == 0:
            tok = int(np.argmax(logits))
        else:
            p = np.exp((logits - logits.max()) / temperature)
            tok = int(rng.choice(len(p), p=p / p.sum()))
        tokens.append(tok)
        if i < length - 1:
            logits, state = step_fn(tok, state)
    return np.array(tokens)
"""),
        ("the whole prefix re-run at every step", """
def generate_melody(step_fn, seed_tokens, length, temperature, rng):
    prefix = [int(t) for t in seed_tokens]
    out = []
    for i in range(length):
        state = None
        for tok in prefix:
            logits, state = step_fn(tok, state)
        if temperature == 0:
            tok = int(np.argmax(logits))
        else:
            p = np.exp((logits - logits.max()) / temperature)
            tok = int(rng.choice(len(p), p=p / p.sum()))
        out.append(tok)
        prefix.append(tok)
    return np.array(out)
"""),
        ("temperature ignored", """
def generate_melody(step_fn, seed_tokens, length, temperature, rng):
    state = None
    for tok in seed_tokens:
        logits, state = step_fn(int(tok), state)
    out = []
    for i in range(length):
        if temperature == 0:
            tok = int(np.argmax(logits))
        else:
            p = np.exp(logits - logits.max())
            tok = int(rng.choice(len(p), p=p / p.sum()))
        out.append(tok)
        if i < length - 1:
            logits, state = step_fn(tok, state)
    return np.array(out)
"""),
    ],
    "melody_to_audio": [
        ("off by an octave", """
def melody_to_audio(pitches, durations, sample_rate=8000, tempo=120):
    parts = []
    for p, d in zip(pitches, durations):
        n = int(round(d * 60 / tempo * sample_rate))
        t = np.arange(n) / sample_rate
        f = 440 * 2 ** ((p - 57) / 12)
        parts.append(np.zeros(n) if p < 0 else 0.5 * np.sin(2 * np.pi * f * t))
    return np.concatenate(parts)
"""),
        ("A4 is not MIDI 69 (pitches counted from C4 = 60 at 440 Hz)", """
def melody_to_audio(pitches, durations, sample_rate=8000, tempo=120):
    parts = []
    for p, d in zip(pitches, durations):
        n = int(round(d * 60 / tempo * sample_rate))
        t = np.arange(n) / sample_rate
        f = 440 * 2 ** ((p - 60) / 12)
        parts.append(np.zeros(n) if p < 0 else 0.5 * np.sin(2 * np.pi * f * t))
    return np.concatenate(parts)
"""),
        ("durations ignored (every note the same length)", """
def melody_to_audio(pitches, durations, sample_rate=8000, tempo=120):
    n = int(round(60 / tempo * sample_rate))
    t = np.arange(n) / sample_rate
    parts = [np.zeros(n) if p < 0 else 0.5 * np.sin(2 * np.pi * 440 * 2 ** ((p - 69) / 12) * t)
             for p in pitches]
    return np.concatenate(parts)
"""),
        ("rests sounded", """
def melody_to_audio(pitches, durations, sample_rate=8000, tempo=120):
    parts = []
    for p, d in zip(pitches, durations):
        n = int(round(d * 60 / tempo * sample_rate))
        t = np.arange(n) / sample_rate
        parts.append(0.5 * np.sin(2 * np.pi * 440 * 2 ** ((p - 69) / 12) * t))
    return np.concatenate(parts)
"""),
    ],
}

# Catalogued mistakes the hidden cases cannot see yet: (exercise, mistake) -> why.
HIDDEN_GAPS = {}
