"""The "spoken_digits" dataset of notebook 10_speech_recognition: digit strings spoken by eSpeak NG.

What is checked:

* the manifest entry pins the espeakng-loader wheel (name, sha256), the recipe and its seed, the
  license; `make data` downloads that platform wheel with flags pip accepts; rebuilding from the
  wheel in another process gives the manifest's bytes, the cached file's;
* the recipe's parts: integers drawn from random() alone inside their bounds, distinct choices;
  the voices that breathe (their noise differs per process) left out, and only those; the
  triangle filter and decimation exact on known signals; its .npy writer read back by NumPy;
* the file: 93 voices, 24 of them test voices speaking nothing in training, 8 utterances each,
  2 to 5 digits, every digit and every length used in both splits, rates and pitches in their
  ranges, no utterance silent, clipped or cut (audio at both ends quiet, loud inside), longer
  strings taking longer on average;
* spoken_digits(): counts, shapes, dtypes, the noise (none at 0, seeded, of the asked size), a
  negative noise refused by value, and its docstring example.
"""
import array
import collections
import doctest
import importlib.util
import io
import os
import re
import shutil
import sys

import numpy as np
import pytest

from rnnkit import data

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def entry():
    return data.manifest()["spoken_digits"]


@pytest.fixture(scope="module")
def recipe():
    """data/recipes_speech.py as a module (it loads the library only inside main)."""
    spec = importlib.util.spec_from_file_location(
        "recipes_speech", os.path.join(data.data_dir(), "recipes_speech.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def speech():
    return data.spoken_digits(noise=0)


def build_script():
    sys.path.insert(0, data.data_dir())
    try:
        import build
        return build
    finally:
        sys.path.pop(0)


# ----------------------------------------------------------------------------- manifest and build
def test_manifest_pins_the_wheel_the_recipe_and_the_seed(entry):
    (package, pin), = entry["packages"].items()
    assert package == "espeakng-loader==0.2.4"
    assert pin["wheel"] == "espeakng_loader-0.2.4-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
    assert re.fullmatch(r"[0-9a-f]{64}", pin["sha256"])
    assert entry["recipe"] == "recipes_speech.py" and isinstance(entry["seed"], int)
    assert entry["file"] == "spoken_digits.zip" and entry["used_by"] == ["10_speech_recognition"]
    assert "GPL-3.0" in entry["license"]


def test_the_platform_wheel_is_downloaded_by_its_platform_tags_alone(entry):
    """pip reads --python-version 3 as Python 3.0 and finds nothing: a py3 wheel gets no version."""
    (pin,) = entry["packages"].values()
    assert build_script().download_flags(pin["wheel"]) == [
        "--only-binary=:all:", "--platform", "manylinux_2_17_x86_64", "--platform", "manylinux2014_x86_64"]


def test_rebuilding_from_the_wheel_gives_the_manifests_bytes(tmp_path, monkeypatch, entry):
    """Another process, the same calls in the same order: the same bytes (eSpeak NG's samples
    depend on the calls before them in a process, and breathing voices on the process)."""
    copy = tmp_path / "data"
    (copy / "cache" / "wheels").mkdir(parents=True)
    for f in ("MANIFEST.json", "recipes_speech.py"):
        shutil.copy(os.path.join(data.data_dir(), f), copy)
    for pin in entry["packages"].values():
        shutil.copy(os.path.join(data.cache_dir(), "wheels", pin["wheel"]), copy / "cache" / "wheels")
    monkeypatch.setenv("RNNKIT_DATA", str(copy))
    with open(data.build("spoken_digits"), "rb") as f:
        rebuilt = f.read()
    monkeypatch.delenv("RNNKIT_DATA")
    with open(data.path("spoken_digits"), "rb") as f:
        assert rebuilt == f.read()
    assert data.sha256(rebuilt) == entry["sha256"] and len(rebuilt) == entry["size"]


# ----------------------------------------------------------------------------- the recipe's parts
def test_draws_stay_in_their_bounds_and_choices_are_distinct(recipe):
    import random
    rng = random.Random(3)
    drawn = [recipe.draw(rng, 2, 5) for _ in range(2000)]
    assert set(drawn) == {2, 3, 4, 5}
    chosen = recipe.choose(random.Random(4), range(10), 10)
    assert sorted(chosen) == list(range(10)) and chosen != list(range(10))


def test_only_the_breathing_voices_are_left_out(recipe, tmp_path):
    voices = {"plain": "name plain\npitch 80 120\n",
              "silent_breath": "breath 0 0 0\n",
              "commented": "// breath 0 4 5\nformant 0 100 100 100\n",
              "breathes": "voicing 38\nbreath 0 4 5 2 3 13 3 2\n"}
    for name, text in voices.items():
        (tmp_path / name).write_text(text)
    assert {n for n in voices if recipe.breathes(tmp_path / n)} == {"breathes"}


def test_triangle_filter_and_decimation_are_exact(recipe):
    """Kept sample j is x[3j] filtered by [1, 2, 3, 2, 1] / 9 (zeros beyond the ends), rounded."""
    constant = recipe.decimated(array.array("h", [900] * 30))
    assert list(constant) == [600] + [900] * 9           # taps sum to 9: a DC gain of 1; x[-2:] are 0
    impulse = [0] * 12
    impulse[6] = 9
    # x[6] is kept sample 2's centre (weight 3); kept samples 1 and 3 are 3 samples away: outside
    assert list(recipe.decimated(array.array("h", impulse))) == [0, 0, 3, 0]
    impulse[6], impulse[7] = 0, 9
    assert list(recipe.decimated(array.array("h", impulse))) == [0, 0, 2, 1]
    assert list(recipe.decimated(array.array("h", [32767] * 9))) == [21845, 32767, 32767]


def test_the_npy_writer_is_read_back_by_numpy(recipe):
    values = array.array("h", [-32768, -1, 0, 1, 32767])
    got = np.load(io.BytesIO(recipe.npy(values, "<i2", (5,))))
    assert got.dtype == np.int16 and got.tolist() == values.tolist()
    offsets = array.array("q", [0, 2 ** 40])
    assert np.load(io.BytesIO(recipe.npy(offsets, "<i8", (2,)))).tolist() == [0, 2 ** 40]


# ----------------------------------------------------------------------------- the file
def test_voices_splits_and_counts(speech):
    assert len(speech["voices_train"]) == 69 and len(speech["voices_test"]) == 24
    assert not set(speech["voices_train"]) & set(speech["voices_test"])
    for split in ("train", "test"):
        counts = collections.Counter(speech[f"voice_{split}"].tolist())
        assert set(counts) == set(speech[f"voices_{split}"]) and set(counts.values()) == {8}
    for breathing in ("en+f2", "en+whisper", "en+Alicia"):
        assert breathing not in speech["voices_train"] + speech["voices_test"]


def test_transcripts_rates_and_pitches(speech, recipe):
    for split in ("train", "test"):
        digits = speech[f"digits_{split}"]
        assert all(re.fullmatch(r"[0-9]{2,5}", d) for d in digits)
        assert {len(d) for d in digits} == {2, 3, 4, 5}
        assert set("".join(digits)) == set("0123456789")
        assert speech[f"rate_{split}"].min() >= recipe.RATE[0] and speech[f"rate_{split}"].max() <= recipe.RATE[1]
        assert speech[f"pitch_{split}"].min() >= recipe.PITCH[0] and speech[f"pitch_{split}"].max() <= recipe.PITCH[1]


def test_every_utterance_is_speech_trimmed_to_its_margins(speech, recipe):
    """Loud inside, and no more silence at either end than the recipe's margin (50 ms)."""
    rate = speech["sample_rate"]
    most_silence = int(recipe.MARGIN * rate) + 1
    for wave in speech["waves_train"] + speech["waves_test"]:
        assert wave.dtype == np.float32 and wave.ndim == 1
        assert 0.3 * rate < len(wave) < 3 * rate
        assert 0.1 < np.abs(wave).max() <= 1.0               # the quietest voices (klatt, Hugo) peak at 0.17
        loud = np.flatnonzero(np.abs(wave) >= recipe.SILENCE / 32768)
        assert loud[0] <= most_silence and len(wave) - 1 - loud[-1] <= most_silence
        assert abs(wave[0]) < 0.1 and abs(wave[-1]) < 0.1       # trimmed in a quiet moment


def test_longer_strings_take_longer(speech):
    lengths = np.array([len(d) for d in speech["digits_train"]])
    seconds = np.array([len(w) for w in speech["waves_train"]]) / speech["sample_rate"]
    means = [seconds[lengths == n].mean() for n in (2, 3, 4, 5)]
    assert all(a < b for a, b in zip(means, means[1:])), means


# ----------------------------------------------------------------------------- spoken_digits()
def test_noise_is_seeded_and_of_the_asked_size(speech):
    clean = speech["waves_test"][0]
    a = data.spoken_digits(noise=0.01, seed=1)["waves_test"][0]
    b = data.spoken_digits(noise=0.01, seed=1)["waves_test"][0]
    c = data.spoken_digits(noise=0.01, seed=2)["waves_test"][0]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert (a - clean).std() == pytest.approx(0.01, rel=0.1)
    assert np.all(np.round(clean * 32768) == clean * 32768)    # noise 0: the int16 audio exactly


def test_a_negative_noise_is_refused_by_value():
    with pytest.raises(ValueError, match="got -0.1"):
        data.spoken_digits(noise=-0.1)


def test_docstring_example_of_spoken_digits_passes():
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner()
    for test in finder.find(data.spoken_digits, "spoken_digits", globs={"spoken_digits": data.spoken_digits}):
        runner.run(test)
    assert runner.summarize().failed == 0
