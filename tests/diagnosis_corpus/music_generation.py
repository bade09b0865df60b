"""Uncatalogued wrong implementations of 09_music_generation, and correct ones written otherwise.

The sources run in the solution namespace: they may use np and the notebook's REST, HOLD, LOW
and HIGH. generate_melody and melody_to_audio are checked through their runners (the step_fn
calls counted; the waveform measured).
"""

NOTEBOOK = "09_music_generation"

WRONG = {
    "encode_melody": [
        ("loop over range(T - 1): the last step never written",
         [("transform", "truncated")], """
def encode_melody(events, steps_per_quarter=4):
    notes, onset = [], 0.0
    for pitch, ql, tie in events:
        if pitch is not None and tie in ("continue", "stop") and notes and notes[-1][0] == pitch:
            notes[-1][2] = onset + ql
        else:
            notes.append([pitch, onset, onset + ql])
        onset += ql
    T = int(np.ceil(onset * steps_per_quarter))
    tokens = []
    for t in range(T - 1):
        time = t / steps_per_quarter
        pitch, start, end = next(n for n in notes if n[1] <= time < n[2])
        if pitch is None:
            tokens.append(REST)
        elif t == 0 or start > (t - 1) / steps_per_quarter:
            tokens.append(2 + pitch - LOW)
        else:
            tokens.append(HOLD)
    return np.array(tokens)
"""),
        ("the end of the melody sampled too (T + 1 steps, the last one a REST)",
         [("transform", "padded")], """
def encode_melody(events, steps_per_quarter=4):
    notes, onset = [], 0.0
    for pitch, ql, tie in events:
        if pitch is not None and tie in ("continue", "stop") and notes and notes[-1][0] == pitch:
            notes[-1][2] = onset + ql
        else:
            notes.append([pitch, onset, onset + ql])
        onset += ql
    tokens = []
    for t in range(int(onset * steps_per_quarter) + 1):
        time = t / steps_per_quarter
        sounding = [n for n in notes if n[1] <= time < n[2]]
        if not sounding or sounding[0][0] is None:
            tokens.append(REST)
        elif t == 0 or sounding[0][1] > (t - 1) / steps_per_quarter:
            tokens.append(2 + sounding[0][0] - LOW)
        else:
            tokens.append(HOLD)
    return np.array(tokens)
"""),
    ],
    "decode_tokens": [
        ("durations multiplied by steps_per_quarter instead of divided",
         [("transform", "scaled")], """
def decode_tokens(tokens, steps_per_quarter=4):
    pitches, steps = [], []
    for tok in tokens:
        tok = int(tok)
        if tok >= 2:
            pitches.append(tok - 2 + LOW)
            steps.append(1)
        elif tok == HOLD and pitches:
            steps[-1] += 1
        elif pitches and pitches[-1] == -1:
            steps[-1] += 1
        else:
            pitches.append(-1)
            steps.append(1)
    return np.array(pitches), np.array(steps, dtype=float) * steps_per_quarter
"""),
        ("each note written when the next one starts; the last one never written",
         [("transform", "truncated")], """
def decode_tokens(tokens, steps_per_quarter=4):
    pitches, durations = [], []
    current, count = None, 0
    for tok in tokens:
        tok = int(tok)
        if tok >= 2:
            pitch = tok - 2 + LOW
        elif tok == REST and current != -1:
            pitch = -1
        else:
            count += 1
            continue
        if current is not None:
            pitches.append(current)
            durations.append(count / steps_per_quarter)
        current, count = pitch, 1
    return np.array(pitches), np.array(durations)
"""),
        ("a HOLD with nothing sounding before it (at the start) dropped",
         [("starts", "first step")], """
def decode_tokens(tokens, steps_per_quarter=4):
    pitches, steps = [], []
    for tok in tokens:
        tok = int(tok)
        if tok >= 2:
            pitches.append(tok - 2 + LOW)
            steps.append(1)
        elif tok == HOLD:
            if pitches:
                steps[-1] += 1
        elif pitches and pitches[-1] == -1:
            steps[-1] += 1
        else:
            pitches.append(-1)
            steps.append(1)
    return np.array(pitches), np.array(steps) / steps_per_quarter
"""),
        ("tokens shifted in place first (tokens -= 2: onsets >= 0, HOLD -1, REST -2)",
         [("in_place", "tokens")], """
def decode_tokens(tokens, steps_per_quarter=4):
    tokens -= 2
    pitches, steps = [], []
    for tok in tokens:
        if tok >= 0:
            pitches.append(int(tok) + LOW)
            steps.append(1)
        elif tok == -1 and pitches:
            steps[-1] += 1
        elif pitches and pitches[-1] == -1:
            steps[-1] += 1
        else:
            pitches.append(-1)
            steps.append(1)
    return np.array(pitches), np.array(steps) / steps_per_quarter
"""),
    ],
    "transpose_tokens": [
        ("onsets moved in place in the tokens array",
         [("in_place", "tokens")], """
def transpose_tokens(tokens, semitones):
    tokens[tokens >= 2] += semitones
    return tokens
"""),
    ],
    "generate_melody": [
        ("np.random.choice instead of the rng argument",
         [("nondeterministic", "")], """
def generate_melody(step_fn, seed_tokens, length, temperature, rng):
    state = None
    for tok in seed_tokens:
        logits, state = step_fn(int(tok), state)
    out = []
    for i in range(length):
        if temperature == 0:
            tok = int(np.argmax(logits))
        else:
            z = logits / temperature
            p = np.exp(z - z.max())
            tok = int(np.random.choice(len(p), p=p / p.sum()))
        out.append(tok)
        if i < length - 1:
            logits, state = step_fn(tok, state)
    return np.array(out)
"""),
        ("always the most likely token (argmax), whatever the temperature",
         [("ignores", "rng"), ("ignores", "temperature")], """
def generate_melody(step_fn, seed_tokens, length, temperature, rng):
    state = None
    for tok in seed_tokens:
        logits, state = step_fn(int(tok), state)
    out = []
    for i in range(length):
        tok = int(np.argmax(logits))
        out.append(tok)
        if i < length - 1:
            logits, state = step_fn(tok, state)
    return np.array(out)
"""),
        ("state not kept from the seed (the generation loop starts from state None)",
         [("not_carried", "seed_tokens"), ("starts", "after step 0")], """
def generate_melody(step_fn, seed_tokens, length, temperature, rng):
    state = None
    for tok in seed_tokens:
        logits, state = step_fn(int(tok), state)
    state = None                       # a fresh state for the new melody
    out = []
    for i in range(length):
        if temperature == 0:
            tok = int(np.argmax(logits))
        else:
            z = np.asarray(logits, dtype=np.float64) / temperature
            p = np.exp(z - z.max())
            tok = int(rng.choice(len(p), p=p / p.sum()))
        out.append(tok)
        if i < length - 1:
            logits, state = step_fn(tok, state)
    return np.array(out)
"""),
    ],
    "melody_to_audio": [
        ("durations taken as seconds (the tempo never used)",
         [("ignores", "tempo")], """
def melody_to_audio(pitches, durations, sample_rate=8000, tempo=120):
    parts = []
    for p, d in zip(pitches, durations):
        n = int(round(d * sample_rate))
        t = np.arange(n) / sample_rate
        if p < 0:
            parts.append(np.zeros(n))
        else:
            parts.append(0.5 * np.sin(2 * np.pi * 440.0 * 2 ** ((p - 69) / 12) * t))
    return np.concatenate(parts)
"""),
    ],
}

SILENT = {
    "decode_tokens": [
        ("a while loop over runs: each run is an onset or REST and the steps that continue it", """
def decode_tokens(tokens, steps_per_quarter=4):
    tokens = [int(t) for t in tokens]
    pitches, durations = [], []
    t = 0
    while t < len(tokens):
        pitch = tokens[t] - 2 + LOW if tokens[t] >= 2 else -1
        end = t + 1
        while end < len(tokens) and (tokens[end] == HOLD or (pitch == -1 and tokens[end] == REST)):
            end += 1
        pitches.append(pitch)
        durations.append((end - t) / steps_per_quarter)
        t = end
    return np.array(pitches, dtype=np.int64), np.array(durations)
"""),
    ],
    "transpose_tokens": [
        ("the shift multiplied by an onset indicator", """
def transpose_tokens(tokens, semitones):
    tokens = np.asarray(tokens)
    return tokens + semitones * (tokens >= 2).astype(tokens.dtype)
"""),
    ],
    "generate_melody": [
        ("inverse-CDF sampling with rng.random() and searchsorted (what rng.choice does)", """
def generate_melody(step_fn, seed_tokens, length, temperature, rng):
    state = None
    for tok in seed_tokens:
        logits, state = step_fn(int(tok), state)
    out = np.zeros(length, dtype=np.int64)
    for i in range(length):
        if temperature == 0:
            out[i] = np.argmax(logits)
        else:
            z = np.asarray(logits, dtype=np.float64) / temperature
            p = np.exp(z - z.max())
            cdf = np.cumsum(p / p.sum())
            cdf /= cdf[-1]
            out[i] = np.searchsorted(cdf, rng.random(), side="right")
        if i < length - 1:
            logits, state = step_fn(int(out[i]), state)
    return out
"""),
    ],
}
