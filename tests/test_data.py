"""The data recipe: manifest, sha256 verification, and the deterministic 'order matters' dataset."""
import json
import os
import shutil

import numpy as np
import pytest

from rnnkit import data


def test_manifest_declares_source_license_size_and_sha256():
    for name, entry in data.manifest().items():
        for key in ("description", "license", "size", "sha256", "file"):
            assert key in entry, f"{name} lacks {key}"
        assert len(entry["sha256"]) == 64


def test_cached_hamlet_is_verified_and_has_the_declared_size():
    path = data.path("hamlet")
    assert os.path.getsize(path) == data.manifest()["hamlet"]["size"]
    assert data.is_cached("hamlet")


def test_tampered_cache_is_detected_and_rebuilt(tmp_path, monkeypatch):
    shutil.copytree(data.data_dir(), tmp_path / "data")
    monkeypatch.setenv("RNNKIT_DATA", str(tmp_path / "data"))
    target = tmp_path / "data" / "cache" / "hamlet.txt"
    target.write_text("not hamlet")
    assert not data.is_cached("hamlet")
    data.path("hamlet")                      # rebuilt from the pinned wheel
    assert data.is_cached("hamlet")


def test_missing_wheel_and_cache_gives_a_clear_message(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    shutil.copy(os.path.join(data.data_dir(), "MANIFEST.json"), tmp_path / "data")
    monkeypatch.setenv("RNNKIT_DATA", str(tmp_path / "data"))
    with pytest.raises(data.DataMissing, match="make data"):
        data.path("hamlet")


def test_wrong_checksum_is_refused(tmp_path, monkeypatch):
    shutil.copytree(data.data_dir(), tmp_path / "data")
    manifest = json.loads((tmp_path / "data" / "MANIFEST.json").read_text())
    manifest["hamlet"]["sha256"] = "0" * 64
    (tmp_path / "data" / "MANIFEST.json").write_text(json.dumps(manifest))
    monkeypatch.setenv("RNNKIT_DATA", str(tmp_path / "data"))
    with pytest.raises(ValueError, match="sha256"):
        data.build("hamlet")


def test_hamlet_lines_are_spoken_lines_without_speakers_or_directions():
    lines = data.hamlet_lines()
    assert len(lines) > 3000
    assert all(4 <= len(words) <= 12 for words in lines)
    flat = {" ".join(w) for w in lines}
    assert "to be or not to be that is the question" in flat
    assert not any(words[0] in {"enter", "exit", "exeunt"} for words in lines)


def test_tokenize_keeps_apostrophes_inside_words():
    assert data.tokenize("'Tis now struck twelve; get thee to bed!") == ["'tis", "now", "struck", "twelve", "get", "thee", "to", "bed"]


def test_vocabulary_pre_pads_and_marks_rare_words():
    vocab = data.Vocabulary([["a", "b", "a"]], max_size=10)
    ids = vocab.encode(["b", "zzz"], 4)
    assert ids.tolist() == [data.PAD, data.PAD, vocab.index["b"], data.OOV]
    assert vocab.decode(ids) == "b <unk>"


def test_shuffled_lines_dataset_is_deterministic_balanced_and_really_shuffled():
    a = data.shuffled_lines_dataset(seed=0)
    b = data.shuffled_lines_dataset(seed=0)
    np.testing.assert_array_equal(a["x_train"], b["x_train"])
    np.testing.assert_array_equal(a["y_val"], b["y_val"])
    assert abs(a["y_train"].mean() - 0.5) < 1e-9
    # every shuffled sequence holds the same words as a real one, in another order
    real = {tuple(sorted(x)) for x, y in zip(a["x_train"], a["y_train"]) if y == 1}
    fake = [x for x, y in zip(a["x_train"], a["y_train"]) if y == 0]
    assert all(tuple(sorted(x)) in real for x in fake[:200])
    c = data.shuffled_lines_dataset(seed=1)
    assert not np.array_equal(a["x_train"], c["x_train"])


def test_every_dataset_of_the_manifest_is_cached_and_verified():
    for name, entry in data.manifest().items():
        path = data.path(name)
        assert os.path.getsize(path) == entry["size"], name
        assert data.is_cached(name), name


def test_rotten_tomatoes_splits_by_film_and_is_deterministic():
    a = data.rotten_tomatoes(seed=0)
    b = data.rotten_tomatoes(seed=0)
    np.testing.assert_array_equal(a["x_train"], b["x_train"])
    np.testing.assert_array_equal(a["y_val"], b["y_val"])
    assert a["x_train"].shape[1] == 40 and a["x_train"].dtype == np.int32
    assert len(a["x_train"]) + len(a["x_val"]) == 12808          # plot summaries dropped
    assert set(np.unique(a["y_train"])) == {0, 1} and 0.5 < a["y_train"].mean() < 0.65
    assert len(a["val_texts"]) == len(a["x_val"])
    # pre-padded: a short review's ids sit at the end, zeros before
    short = [i for i, t in enumerate(a["val_texts"]) if len(data.tokenize(t)) < 10][0]
    assert a["x_val"][short][0] == data.PAD and a["x_val"][short][-1] != data.PAD
    assert a["vocab"].decode(a["x_val"][short]).split()[-1] in {*data.tokenize(a["val_texts"][short]), "<unk>"}


def test_word_segmentation_tags_the_last_letter_of_every_word():
    seg = data.word_segmentation(T=12)
    x, y = seg["x_train"], seg["y_train"]
    assert x.shape == y.shape and x.shape[1] == 12 and x.min() >= 1
    first_words = " ".join(" ".join(w) for w in data.hamlet_lines(min_words=1, max_words=1000))[:200].split()
    letters = seg["decode"](x[:3].ravel())
    rebuilt, k = [], 0
    for word in first_words:
        if k + len(word) > len(letters):
            break
        assert letters[k:k + len(word)] == word
        assert y.ravel()[k + len(word) - 1] == 1 and not y.ravel()[k:k + len(word) - 1].any()
        k += len(word)
    assert k > 20
    np.testing.assert_array_equal(seg["encode"]("to be"), seg["encode"]("tobe"))
    assert seg["decode"](seg["encode"]("to be")) == "tobe"
    assert 0.15 < y.mean() < 0.35 and len(seg["x_val"]) > 100
