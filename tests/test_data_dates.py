"""The "dates" dataset of notebook 07_seq2seq_attention: written dates -> ISO 8601.

What is checked:

* the manifest entry pins Faker and Babel (wheel names, sha256), the recipe and its seed, the
  licenses; rebuilding from the wheels (with another time zone) gives the manifest's bytes, the
  same as the cached file (slow: the recipe writes 36,525 days in every format);
* the file: 40,000 training and 4,000 test rows, seven locales of six languages (English as
  en_US and en_GB, German, French, Spanish, Italian, Portuguese), no source string with two
  targets, no test day in training, held-out (locale, format) combinations in test only (half
  the test rows) and the manifest's list of them, every word and character of a held-out
  source in some training source, the manifest's ambiguous combinations absent;
* unambiguous() of the recipe drops a combination whose strings name another day in an earlier
  one ("3/4/21") or in itself, and keeps the rest in order;
* every target is a valid ISO date of the window, whose day and year are numbers of its
  source; a sample of rows (every combination) is written again by Babel from the pinned
  wheels, and the numeric ones are read back by Babel's parse_date; on its own test days each
  held-out combination writes some day unlike each training combination (so it is new to a
  model that reads strings, not locales);
* dates(): shapes and dtypes, <start> ... <end> targets, encode/decode round trip on every
  example, no <unk> in the test split, deterministic shuffling, CharVocabulary's errors, and
  its docstring example.
"""
import collections
import datetime
import doctest
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from rnnkit import data

START, END = datetime.date(1950, 1, 1), datetime.date(2049, 12, 31)


@pytest.fixture(scope="module")
def rows():
    """The rows of the built file, as dicts of its columns."""
    with open(data.path("dates"), encoding="utf-8") as f:
        header, *lines = f.read().splitlines()
    return [dict(zip(header.split("\t"), line.split("\t"))) for line in lines]


@pytest.fixture(scope="module")
def entry():
    return data.manifest()["dates"]


def recipe():
    """data/recipes_dates.py as a module (it imports Faker and Babel only inside main)."""
    spec = importlib.util.spec_from_file_location(
        "recipes_dates", os.path.join(data.data_dir(), "recipes_dates.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def combo(row):
    return row["locale"], row["format"]


def named(text):
    """'es_ES d/M/y' or 'es_ES short (why)' -> ('es_ES', 'd/M/y' or 'short')."""
    locale, rest = text.split(" ", 1)
    return locale, rest.split(" (")[0]


# ----------------------------------------------------------------------------- manifest and build
def test_manifest_pins_the_wheels_the_recipe_and_the_seed(entry):
    wheels = {package: pin["wheel"] for package, pin in entry["packages"].items()}
    assert wheels == {"Faker==40.63.0": "faker-40.63.0-py3-none-any.whl",
                      "babel==2.19.0": "babel-2.19.0-py3-none-any.whl"}
    assert all(re.fullmatch(r"[0-9a-f]{64}", pin["sha256"]) for pin in entry["packages"].values())
    assert entry["recipe"] == "recipes_dates.py" and isinstance(entry["seed"], int)
    assert entry["file"] == "dates.tsv" and entry["used_by"] == ["07_seq2seq_attention"]
    for license in ("MIT", "BSD-3-Clause", "Unicode"):
        assert license in entry["license"]


@pytest.mark.slow
def test_rebuilding_from_the_wheels_gives_the_manifests_bytes(tmp_path, monkeypatch, entry):
    copy = tmp_path / "data"
    (copy / "cache" / "wheels").mkdir(parents=True)
    for f in ("MANIFEST.json", "recipes_dates.py"):
        shutil.copy(os.path.join(data.data_dir(), f), copy)
    for pin in entry["packages"].values():
        shutil.copy(os.path.join(data.cache_dir(), "wheels", pin["wheel"]),
                    copy / "cache" / "wheels")
    monkeypatch.setenv("RNNKIT_DATA", str(copy))
    monkeypatch.setenv("TZ", "Pacific/Chatham")       # the recipe must not read local time
    built = data.build("dates")
    with open(built, "rb") as f:
        rebuilt = f.read()
    monkeypatch.delenv("RNNKIT_DATA")
    with open(data.path("dates"), "rb") as f:
        assert rebuilt == f.read()
    assert data.sha256(rebuilt) == entry["sha256"] and len(rebuilt) == entry["size"]


# ----------------------------------------------------------------------------- the file
def test_splits_and_languages(rows):
    splits = collections.Counter(r["split"] for r in rows)
    assert splits == {"train": 40_000, "test": 4_000}
    locales = {r["locale"] for r in rows}
    assert {"en_US", "en_GB", "de_DE", "fr_FR", "es_ES"} <= locales
    assert {loc.split("_")[0] for loc in locales} == {"en", "de", "fr", "es", "it", "pt"}
    for split in ("train", "test"):
        per_locale = collections.Counter(r["locale"] for r in rows if r["split"] == split)
        assert set(per_locale) == locales and min(per_locale.values()) > splits[split] / 20


def test_no_source_names_two_days(rows):
    targets = collections.defaultdict(set)
    for r in rows:
        targets[r["source"]].add(r["target"])
    clashes = {s: t for s, t in targets.items() if len(t) > 1}
    assert not clashes


def test_test_days_never_occur_in_training(rows):
    train = {r["target"] for r in rows if r["split"] == "train"}
    test = {r["target"] for r in rows if r["split"] == "test"}
    assert len(test) > 3000 and not train & test


def test_held_out_formats_are_test_only_and_readable_from_training(rows, entry):
    train = [r for r in rows if r["split"] == "train"]
    test = [r for r in rows if r["split"] == "test"]
    assert {r["held_out"] for r in train} == {"0"}
    held = {combo(r) for r in test if r["held_out"] == "1"}
    seen = {combo(r) for r in test if r["held_out"] == "0"}
    train_combos = {combo(r) for r in train}
    assert held == {named(h) for h in entry["held_out"]}
    assert not held & train_combos and seen == train_combos
    assert sum(r["held_out"] == "1" for r in test) == 2_000
    words = {w for r in train for w in re.findall(r"[^\W\d_]+", r["source"])}
    chars = {c for r in train for c in r["source"]}
    for r in test:
        assert set(re.findall(r"[^\W\d_]+", r["source"])) <= words, r
        assert set(r["source"]) <= chars, r


def test_ambiguous_combinations_are_absent(rows, entry):
    present = {combo(r) for r in rows}
    dropped = {named(d) for d in entry["dropped_as_ambiguous"]}
    assert dropped and not dropped & present
    assert dropped.isdisjoint(recipe().HELD_OUT)


def test_unambiguous_drops_clashing_combinations_in_order():
    days = [datetime.date(2021, 3, 4), datetime.date(2021, 4, 3), datetime.date(2021, 4, 13)]
    patterns = {"us": "{m}/{d}/{yy}", "es": "{d}/{m}/{yy}", "de": "{d}.{m}.{yy}",
                "no_year": "{d}/{m}"}

    def render(c, day):
        return patterns[c].format(d=day.day, m=day.month, yy=day.year % 100)

    kept, dropped = recipe().unambiguous(["us", "es", "de", "no_year"], render, days)
    assert kept == ["us", "de", "no_year"]
    assert dropped == [("es", "4/3/21", datetime.date(2021, 3, 4), datetime.date(2021, 4, 3))]
    days.append(datetime.date(2022, 3, 4))                  # "4/3" now names two days by itself
    kept, dropped = recipe().unambiguous(["no_year"], render, days)
    assert kept == [] and dropped[0][2:] == (datetime.date(2022, 3, 4), datetime.date(2021, 3, 4))


def test_targets_are_iso_dates_whose_numbers_the_source_shows(rows):
    for r in rows:
        day = datetime.date.fromisoformat(r["target"])
        assert day.isoformat() == r["target"] and START <= day <= END
        numbers = {int(n) for n in re.findall(r"\d+", r["source"])}
        assert day.day in numbers and (day.year in numbers or "yy" in r["pattern"]), r
        assert day.year % 100 in numbers or day.year in numbers, r


BABEL = r"""
import json, sys
from datetime import date
sys.path[:0] = sys.argv[1:]
from babel.dates import format_date, parse_date
job = json.load(sys.stdin)
written = [format_date(date.fromisoformat(iso), format=fmt, locale=locale)
           for locale, fmt, iso in job["write"]]
read = [parse_date(text, locale=locale, format=pattern).isoformat()
        for locale, pattern, text in job["read"]]
json.dump({"written": written, "read": read}, sys.stdout)
"""


@pytest.fixture(scope="module")
def babel(tmp_path_factory):
    """write [(locale, format, iso)], read [(locale, pattern, text)] -> (texts, isos), by the
    pinned Babel wheel in a clean interpreter (never an installed Babel)."""
    folders = data.recipe_wheels("dates", str(tmp_path_factory.mktemp("wheels")))

    def run(write=(), read=()):
        job = json.dumps({"write": list(write), "read": list(read)})
        proc = subprocess.run([sys.executable, "-I", "-S", "-c", BABEL, *folders], input=job,
                              capture_output=True, text=True, check=True)
        out = json.loads(proc.stdout)
        return out["written"], out["read"]
    return run


def is_numeric(pattern):
    """Only day, month number and year fields: what Babel's parse_date can read."""
    return not any(c.isalpha() and c not in "dMy" for c in pattern) and "MMM" not in pattern


def test_babel_writes_the_target_as_the_source_and_reads_numeric_ones_back(rows, babel):
    rng = np.random.default_rng(0)
    by_combo = collections.defaultdict(list)
    for r in rows:
        by_combo[combo(r)].append(r)
    sample = [r for group in by_combo.values() for r in group[:5]]
    sample += [rows[i] for i in rng.choice(len(rows), size=300, replace=False)]
    numeric = [r for r in sample if is_numeric(r["pattern"])]
    written, read = babel(write=[(r["locale"], r["format"], r["target"]) for r in sample],
                          read=[(r["locale"], r["pattern"], r["source"]) for r in numeric])
    assert written == [r["source"] for r in sample]
    assert len(numeric) > 50
    for r, iso in zip(numeric, read):
        if "yy" in r["pattern"]:        # Babel places two-digit years around today: compare mod 100
            iso, target = iso[2:], r["target"][2:]
        else:
            target = r["target"]
        assert iso == target, r


def test_each_held_out_format_writes_unlike_every_training_format(rows, babel):
    """On its own test days, a held-out combination differs somewhere from each training one."""
    train_combos = sorted({combo(r) for r in rows if r["split"] == "train"})
    held = collections.defaultdict(list)
    for r in rows:
        if r["held_out"] == "1":
            held[combo(r)].append(r)
    job = [(locale, fmt, r["target"]) for group in held.values() for r in group[:40]
           for locale, fmt in train_combos]
    written, _ = babel(write=job)
    k = 0
    for group in held.values():
        same = {c: True for c in train_combos}
        for r in group[:40]:
            for c in train_combos:
                same[c] &= written[k] == r["source"]
                k += 1
        assert not any(same.values()), (combo(group[0]), [c for c, s in same.items() if s])


# ----------------------------------------------------------------------------- the loader
def test_dates_loader_shapes_and_round_trip():
    d = data.dates()
    sv, tv = d["source_vocab"], d["target_vocab"]
    assert sv.tokens[:2] == ["<pad>", "<unk>"] and (sv.unk, sv.start, sv.end) == (1, None, None)
    assert tv.tokens == ["<pad>", "<start>", "<end>", "-", *"0123456789"]
    for split, n in (("train", 40_000), ("test", 4_000)):
        x, y = d[f"x_{split}"], d[f"y_{split}"]
        assert x.shape == (n, d["Tx"]) and y.shape == (n, 12)
        assert x.dtype == y.dtype == np.int32
        assert (y[:, 0] == tv.start).all() and (y[:, -1] == tv.end).all()
        for key in ("source", "target", "locale", "format", "held_out"):
            assert d[f"{key}_{split}"].shape == (n,)
        assert [tv.decode(row) for row in y] == list(d[f"target_{split}"])
        assert [sv.decode(row) for row in x] == list(d[f"source_{split}"])
    assert not (d["x_test"] == sv.unk).any()
    assert d["held_out_test"].dtype == bool and d["held_out_test"].sum() == 2_000
    assert not d["held_out_train"].any()
    assert d["Tx"] == max(len(s) for s in [*d["source_train"], *d["source_test"]])


def test_dates_loader_shuffles_by_seed_only():
    a, b, c = data.dates(seed=0), data.dates(seed=0), data.dates(seed=1)
    np.testing.assert_array_equal(a["x_train"], b["x_train"])
    np.testing.assert_array_equal(a["held_out_test"], b["held_out_test"])
    assert not np.array_equal(a["x_train"], c["x_train"])
    pairs = [collections.Counter(zip(d["source_test"], d["held_out_test"])) for d in (a, c)]
    assert pairs[0] == pairs[1]           # the same examples, marks attached, in another order


def test_char_vocabulary_unknowns_and_errors():
    vocab = data.CharVocabulary(["ab"])
    np.testing.assert_array_equal(vocab.encode(["ba", "a?"], 3), [[3, 2, 0], [2, 1, 0]])
    assert vocab.decode([3, 1, 0]) == "b?"
    with pytest.raises(ValueError, match="length"):
        vocab.encode(["abab"], 3)
    target = data.CharVocabulary(["12"], specials=("<pad>", "<start>", "<end>"))
    np.testing.assert_array_equal(target.encode(["21"], 5, start_end=True), [[1, 4, 3, 2, 0]])
    assert target.decode([1, 4, 2, 3]) == "2"
    with pytest.raises(KeyError):
        target.encode(["9"], 3)


def test_docstring_example_of_dates_passes():
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner()
    for test in finder.find(data.dates, "dates", globs={"dates": data.dates}):
        runner.run(test)
    assert runner.summarize().failed == 0
