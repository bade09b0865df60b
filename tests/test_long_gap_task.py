"""The long-gap task "i grew up in <country> ... i speak fluent <language>" (data.long_gap_task)."""
import collections
import doctest

import numpy as np
import pytest

from rnnkit import data


def _words(task, i):
    return task["vocab"].decode(task["x"][i]).split()


def test_shapes_and_types():
    task = data.long_gap_task(n=50, gap=7, seed=0)
    assert task["T"] == 7 + 8
    assert task["x"].shape == (50, 15) and task["x"].dtype == np.int32
    assert task["y"].shape == (50,) and task["y"].dtype == np.int32
    assert isinstance(task["vocab"], data.Vocabulary)
    assert task["gap"] == 7 and task["cue_position"] == 4
    assert task["countries"] == ["france", "germany", "spain", "italy"]
    assert task["languages"] == ["french", "german", "spanish", "italian"]
    assert (task["x"] != data.PAD).all(), "every sequence fills all T steps"
    assert set(np.unique(task["y"])) <= set(range(4))


def test_same_seed_same_task_other_seed_other_task():
    a = data.long_gap_task(n=40, gap=12, seed=3)
    b = data.long_gap_task(n=40, gap=12, seed=3)
    c = data.long_gap_task(n=40, gap=12, seed=4)
    np.testing.assert_array_equal(a["x"], b["x"])
    np.testing.assert_array_equal(a["y"], b["y"])
    assert a["vocab"].words == b["vocab"].words
    assert not np.array_equal(a["x"], c["x"])
    assert not np.array_equal(a["y"], c["y"])


def test_global_rng_does_not_matter():
    np.random.seed(0)
    a = data.long_gap_task(n=30, gap=5, seed=1)
    np.random.seed(99)
    np.random.rand(10)
    b = data.long_gap_task(n=30, gap=5, seed=1)
    np.testing.assert_array_equal(a["x"], b["x"])


@pytest.mark.parametrize("n_countries", [2, 4, 8])
def test_labels_are_balanced(n_countries):
    n = 1000
    task = data.long_gap_task(n=n, gap=3, seed=0, n_countries=n_countries)
    counts = collections.Counter(task["y"].tolist())
    assert sorted(counts) == list(range(n_countries))
    for c in counts.values():
        assert abs(c - n / n_countries) <= 1
    # Shuffled, not in blocks: both halves hold every class.
    assert set(task["y"][: n // 2]) == set(task["y"][n // 2:]) == set(range(n_countries))


def test_template_and_cue_token():
    task = data.long_gap_task(n=200, gap=9, seed=2)
    for i in range(200):
        words = _words(task, i)
        assert words[:4] == ["i", "grew", "up", "in"]
        assert words[-3:] == ["i", "speak", "fluent"]
        assert words[4] == task["countries"][task["y"][i]]
        assert len(words) == task["T"]


def test_answer_is_recoverable_from_the_cue_token_only():
    """The country token at cue_position decides the label: the task is solvable, and by it alone."""
    task = data.long_gap_task(n=500, gap=20, seed=5, n_countries=6)
    cue = task["x"][:, task["cue_position"]]
    label_of = {}
    for token, label in zip(cue.tolist(), task["y"].tolist()):
        assert label_of.setdefault(token, label) == label, "one cue token, one label"
    assert len(label_of) == 6
    # No other position carries the country: country tokens appear only at the cue.
    country_ids = set(label_of)
    others = np.delete(task["x"], task["cue_position"], axis=1)
    assert not np.isin(others, list(country_ids)).any()
    # A "classifier" that reads the cue token only is always right.
    predicted = np.array([label_of[t] for t in cue.tolist()])
    np.testing.assert_array_equal(predicted, task["y"])


def test_filler_is_consecutive_hamlet_text_without_countries_or_languages():
    task = data.long_gap_task(n=100, gap=15, seed=0, vocab_size=100_000)   # no word out of vocabulary
    stream = " " + " ".join(w for words in data.hamlet_lines(min_words=1, max_words=100) for w in words) + " "
    banned = {w for pair in data.COUNTRIES for w in pair}
    for i in range(100):
        filler = _words(task, i)[5:-3]
        assert len(filler) == 15
        assert not banned & set(filler)
        assert " " + " ".join(filler) + " " in stream, filler
    fillers = {" ".join(_words(task, i)[5:-3]) for i in range(100)}
    assert len(fillers) > 90, "fillers come from many places in the play"


def test_rare_words_are_out_of_vocabulary():
    task = data.long_gap_task(n=300, gap=30, seed=0, vocab_size=60)
    assert len(task["vocab"]) <= 60
    assert (task["x"] == data.OOV).any()
    for word in ("grew", "speak", "fluent", *task["countries"]):
        assert word in task["vocab"].index


def test_gap_zero():
    task = data.long_gap_task(n=8, gap=0, seed=0)
    assert task["T"] == 8
    assert _words(task, 0)[5:] == ["i", "speak", "fluent"]


@pytest.mark.parametrize("kwargs, match", [
    (dict(n=0, gap=3), "positive number of sequences"),
    (dict(n=10, gap=-1), "gap of 0 or more"),
    (dict(n=10, gap=2.5), "gap of 0 or more"),
    (dict(n=10, gap=3, n_countries=1), "n_countries between 2 and 8"),
    (dict(n=10, gap=3, n_countries=9), "n_countries between 2 and 8"),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        data.long_gap_task(**kwargs)


def test_docstring_example_runs():
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner()
    for test in finder.find(data.long_gap_task, "long_gap_task", globs={"long_gap_task": data.long_gap_task}):
        runner.run(test)
    assert runner.failures == 0 and runner.tries >= 4
