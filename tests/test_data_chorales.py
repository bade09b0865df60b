"""The "chorales" dataset of notebook 09_music_generation: soprano lines of the Bach chorales.

What is checked:

* the manifest entry: the recipe, music21 pinned alike in the manifest, pyproject.toml, the
  recipe and the environment (the recipe imports the installed copy), the wheel's sha256, the
  licenses, the skipped files and the counts; the cached file has the manifest's sha256 and size;
  rebuilding it from music21 into another data/ (another time zone) gives the same bytes (about
  40 s: music21 parses 410 scores);
* the file: 409 chorales sorted by corpus path, one JSON line each with the documented fields;
  rests and ties present and well formed (a tie starts, maybe continues, and stops on the same
  pitch), durations exact, positive multiples of 1/8 and not quantised, pitches in a soprano's
  range, keys and time signatures in music21's spelling;
* the recipe's helpers without music21: which corpus files it takes, which part is the soprano,
  how durations are written;
* chorales(): the counts and format its docstring states, its example, no music21 import and
  fast reading; a cached file with the wrong bytes that cannot be rebuilt is reported with its
  path, its sha256 and the manifest's.
"""
import doctest
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from fractions import Fraction

import pytest

from rnnkit import data

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N_CHORALES, N_EVENTS, N_NOTES, N_RESTS, N_TIED = 409, 21_604, 21_211, 393, 98


@pytest.fixture(scope="module")
def entry():
    return data.manifest()["chorales"]


@pytest.fixture(scope="module")
def rows():
    """The lines of the cached file, as parsed JSON (durations still the recipe's text)."""
    with open(data.path("chorales"), encoding="ascii") as f:
        return [json.loads(line) for line in f.read().splitlines()]


@pytest.fixture(scope="module")
def loaded():
    return data.chorales()


def recipe():
    """data/recipes_chorales.py as a module (it imports music21 only inside main)."""
    spec = importlib.util.spec_from_file_location(
        "recipes_chorales", os.path.join(data.data_dir(), "recipes_chorales.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ----------------------------------------------------------------------------- manifest and build
def test_manifest_entry_is_complete(entry):
    for key in ("description", "license", "recipe", "seed", "packages", "installed", "skipped",
                "grace_notes_dropped", "counts", "file", "size", "sha256", "used_by"):
        assert key in entry, key
    assert entry["recipe"] == "recipes_chorales.py" and isinstance(entry["seed"], int)
    assert entry["packages"] == {}                  # no wheel unpacked: music21 comes installed
    assert entry["file"] == "chorales.jsonl" and entry["used_by"] == ["09_music_generation"]
    assert re.fullmatch(r"[0-9a-f]{64}", entry["sha256"])
    assert "BSD-3-Clause" in entry["license"] and "public domain" in entry["license"]
    assert entry["counts"] == {"chorales": N_CHORALES, "events": N_EVENTS, "notes": N_NOTES,
                               "rests": N_RESTS, "tied": N_TIED}
    for fact in ("409", "21,604", "393", "not quantised", "music21", "installed"):
        assert fact in entry["description"], fact


def test_music21_is_pinned_alike_everywhere(entry):
    """The manifest, pyproject.toml, the recipe and the environment name one music21."""
    (pin, wheel), = ((p, w) for p, w in entry["installed"].items())
    assert pin == "music21==10.5.0" and wheel["wheel"] == "music21-10.5.0-py3-none-any.whl"
    assert re.fullmatch(r"[0-9a-f]{64}", wheel["sha256"])
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        dependencies = tomllib.load(f)["project"]["dependencies"]
    assert pin in dependencies
    assert recipe().PINNED == "10.5.0" == importlib.metadata.version("music21")


def test_cached_file_has_the_manifests_sha256_and_size(entry):
    with open(data.path("chorales"), "rb") as f:
        cached = f.read()
    assert data.is_cached("chorales")
    assert data.sha256(cached) == entry["sha256"] and len(cached) == entry["size"]


def test_rebuilding_from_music21_gives_the_manifests_bytes(tmp_path, monkeypatch, entry):
    copy = tmp_path / "data"
    copy.mkdir()
    for f in ("MANIFEST.json", "recipes_chorales.py"):
        shutil.copy(os.path.join(data.data_dir(), f), copy)
    monkeypatch.setenv("RNNKIT_DATA", str(copy))
    monkeypatch.setenv("TZ", "Pacific/Chatham")       # the recipe must not read local time
    monkeypatch.chdir(tmp_path)
    built = data.build("chorales")
    assert built == str(copy / "cache" / "chorales.jsonl")
    with open(built, "rb") as f:
        rebuilt = f.read()
    monkeypatch.delenv("RNNKIT_DATA")
    with open(data.path("chorales"), "rb") as f:
        assert rebuilt == f.read()
    assert data.sha256(rebuilt) == entry["sha256"] and len(rebuilt) == entry["size"]


# ----------------------------------------------------------------------------- the file
def test_one_line_per_chorale_sorted_by_corpus_path(rows, entry):
    assert len(rows) == N_CHORALES
    assert [tuple(r) for r in rows] == [data.CHORALE_FIELDS] * N_CHORALES
    paths = [r["path"] for r in rows]
    assert paths == sorted(paths) and len(set(paths)) == N_CHORALES
    for r in rows:
        assert re.fullmatch(r"bach/bwv[0-9][0-9a-z.-]*\.(mxl|xml)", r["path"]), r["path"]
        assert r["path"] == f"bach/{r['id']}.{r['path'].rsplit('.', 1)[1]}"
    skipped = " ".join(entry["skipped"])
    for left_out in ("bach/bwv846.mxl", "bach/bwv277.krn", "bach/bwv281.krn", "bach/bwv366.krn",
                     "choraleAnalyses"):
        assert left_out in skipped and left_out not in paths
    assert {"bwv277", "bwv281", "bwv366"} <= {r["id"] for r in rows}   # from their MusicXML


def test_keys_signatures_and_parts(rows):
    key = re.compile(r"[A-G][#-]{0,2} (major|minor)")
    for r in rows:
        assert key.fullmatch(r["key"]) and key.fullmatch(r["melody_key"]), r["id"]
        assert isinstance(r["key_signature"], int) and -7 <= r["key_signature"] <= 7
        assert r["part"].startswith("Soprano"), r["id"]
    assert {r["time_signature"] for r in rows} == {"4/4", "3/4", "3/2", "12/8"}
    assert sum(r["time_signature"] == "4/4" for r in rows) == 364
    assert sum(r["key"] == r["melody_key"] for r in rows) > N_CHORALES // 2


def test_events_counts_rests_and_ties(rows):
    events = [e for r in rows for e in r["events"]]
    assert len(events) == N_EVENTS
    assert sum(e[0] is None for e in events) == N_RESTS
    assert sum(e[2] is not None for e in events) == N_TIED
    assert {e[2] for e in events} == {None, *data.TIE_TYPES}
    assert sum(any(e[0] is None for e in r["events"]) for r in rows) > 50


def test_ties_start_maybe_continue_and_stop_on_one_pitch(rows):
    held = 0
    for r in rows:
        open_pitch = None
        for pitch, _, tie in r["events"]:
            if tie in ("continue", "stop"):
                assert open_pitch is not None and pitch == open_pitch, r["id"]
            else:
                assert open_pitch is None, r["id"]            # a tie left open: split notes
            if tie == "start":
                assert pitch is not None
                held += 1
            open_pitch = pitch if tie in ("start", "continue") else None
        assert open_pitch is None, r["id"]
    assert held == 47


def test_durations_are_exact_positive_multiples_of_an_eighth_of_a_quarter(rows):
    texts = {e[1] for r in rows for e in r["events"]}
    for text in texts:
        assert re.fullmatch(r"[0-9]+(\.[0-9]+)?|[0-9]+/[0-9]+", text), text
        q = Fraction(text)
        assert q > 0 and (q * 8).denominator == 1, text
    values = {Fraction(t) for t in texts}
    assert min(values) == Fraction(1, 8) and max(values) == 8
    assert Fraction(3, 4) in values and Fraction(3, 2) in values     # dotted: kept as they are
    assert any((v * 4).denominator != 1 for v in values)            # finer than a sixteenth


def test_pitches_are_in_a_sopranos_range(rows):
    pitches = [e[0] for r in rows for e in r["events"] if e[0] is not None]
    assert all(isinstance(p, int) for p in pitches)
    assert min(pitches) == 57 and max(pitches) == 81           # A3 (once) .. A5
    low = [(r["id"], e[0]) for r in rows for e in r["events"] if e[0] is not None and e[0] < 60]
    assert low == [("bwv254", 57)]
    pitches.sort()
    assert 69 <= pitches[len(pitches) // 2] <= 72             # the median near B4


# ----------------------------------------------------------------------------- the recipe's helpers
def test_chosen_takes_scores_once_and_says_why_it_leaves_files_out():
    kept, skipped = recipe().chosen(["bach/bwv2.mxl", "bach/bwv2.krn", "bach/bwv1.krn",
                                     "bach/choraleAnalyses/riemenschneider001.rntxt",
                                     "bach/bwv10.xml"])
    assert kept == ["bach/bwv1.krn", "bach/bwv10.xml", "bach/bwv2.mxl"]
    assert [p for p, _ in skipped] == ["bach/bwv2.krn",
                                       "bach/choraleAnalyses/riemenschneider001.rntxt"]
    assert "MusicXML" in skipped[0][1] and "Roman-numeral" in skipped[1][1]


def test_soprano_is_found_by_name_not_by_place():
    index = recipe().soprano_index
    assert index(["Horn 1", "Horn 2", "Soprano", "Alto", "Tenor", "Bass"]) == 2
    assert index(["Soprano 1", "Soprano 2", "Alto"]) == 0
    assert index(["Soprano\rOboe 1,2\rViolin1", "Alto"]) == 0
    assert index(["Piano", None]) is None


def test_durations_are_written_exactly():
    text = recipe().quarter_length_text
    assert [text(q) for q in (1.0, 0.5, 1.5, 0.125, 8.0)] == ["1", "0.5", "1.5", "0.125", "8"]
    assert text(Fraction(1, 3)) == "1/3" and text(Fraction(2, 3)) == "2/3"
    for q in (0.75, 0.0625, Fraction(1, 6), Fraction(5, 12)):
        assert Fraction(text(q)) == Fraction(q)


# ----------------------------------------------------------------------------- the loader
def test_chorales_counts_and_format_are_the_docstrings(loaded, rows):
    assert (loaded["n_chorales"], loaded["n_events"], loaded["n_notes"], loaded["n_rests"],
            loaded["n_tied"]) == (N_CHORALES, N_EVENTS, N_NOTES, N_RESTS, N_TIED)
    for doc in ("409", "21,604", "21,211", "393", "98", "23 to 187", "57 to 81"):
        assert doc in data.chorales.__doc__, doc
    lengths = [len(c["events"]) for c in loaded["chorales"]]
    assert min(lengths) == 23 and max(lengths) == 187
    for c, r in zip(loaded["chorales"], rows):
        assert {k: v for k, v in c.items() if k != "events"} == \
               {k: v for k, v in r.items() if k != "events"}
        for (pitch, ql, tie), raw in zip(c["events"], r["events"]):
            assert (pitch, tie) == (raw[0], raw[2]) and type(ql) is float
            assert Fraction(ql) == Fraction(raw[1])          # float, and still exact
        assert len(c["events"]) == len(r["events"])


def test_docstring_example_of_chorales_passes():
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner()
    for test in finder.find(data.chorales, "chorales", globs={"chorales": data.chorales}):
        runner.run(test)
    assert runner.summarize().failed == 0 and runner.tries >= 5


def test_chorales_reads_fast_without_music21():
    data.path("chorales")
    code = ("import sys, time\nfrom rnnkit import data\nstart = time.perf_counter()\n"
            "data.chorales()\nprint(time.perf_counter() - start, 'music21' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=ROOT)
    seconds, imported = proc.stdout.split()
    assert float(seconds) < 0.5 and imported == "False"


def test_a_cached_file_with_wrong_bytes_is_named_with_both_digests(tmp_path, monkeypatch, entry):
    """When it cannot be rebuilt (here its recipe is missing), the error names the file, its
    sha256 and the manifest's."""
    copy = tmp_path / "data"
    (copy / "cache").mkdir(parents=True)
    shutil.copy(os.path.join(data.data_dir(), "MANIFEST.json"), copy)
    cached = copy / "cache" / "chorales.jsonl"
    shutil.copy(data.path("chorales"), cached)
    body = bytearray(cached.read_bytes())
    body[len(body) // 2] ^= 0x01                                  # one bit
    cached.write_bytes(bytes(body))
    monkeypatch.setenv("RNNKIT_DATA", str(copy))
    assert not data.is_cached("chorales")
    with pytest.raises(data.DataMissing) as error:
        data.chorales()
    message = str(error.value)
    assert str(cached) in message and "recipes_chorales.py" in message
    assert data.sha256(bytes(body)) in message and entry["sha256"] in message
