"""The data recipes of notebook 06_image_captioning: digits, digit captions, moving balls.

What is checked:

* digits(): scikit-learn's 1,797 handwritten digits, (1797, 8, 8) float32 in [0, 1], labels 0..9
  (each about a tenth of them); no image of the last fifth equals one of the first four fifths,
  so the split test below can fail;
* digit_captions(): deterministic for a seed (and another seed gives other strips); shapes
  (n, 8, 8 * max_digits, 1) and (n, max_digits + 2), dtypes; every caption is <start>, one word
  per digit, <end>, then pads, with every length 1..max_digits used; every strip is its caption's
  digits side by side in 8-pixel slots at some offset on a black background (so its non-empty
  slots are as many as the caption's words), training strips use digit images of the first four
  fifths only and validation strips of the last fifth only (checked image by image, label by
  label); texts_val and decode agree with caption_text;
* caption_text(): drops <start> and <pad>, stops at <end>, takes any sequence of ids (lists,
  arrays, a (1, L) row);
* moving_ball(): shape and dtype, values in [0, 1] with a full-intensity centre in every frame,
  deterministic for a seed; the ball's centre of mass moves by at most 1.5 pixels per axis per
  frame, visibly moves away from the walls, and stays inside the box;
* the docstring examples of digit_captions and moving_ball pass under doctest.
"""
import doctest

import numpy as np
import pytest

from rnnkit import data

N_DIGITS = 1797
SPLIT = int(N_DIGITS * 0.8)   # validation strips use digit images SPLIT.. only


@pytest.fixture(scope="module")
def digit_set():
    return data.digits()


@pytest.fixture(scope="module")
def caps():
    return data.digit_captions(n_train=300, n_val=200, max_digits=4, seed=3)


def caption_words(caption):
    """The digit labels of one caption (ids between <start> and <end>)."""
    caption = list(caption)
    end = caption.index(data.CAPTION_END)
    return [i - 3 for i in caption[1:end]]


def placements(strip, labels_in_caption, images, labels, pool):
    """Offsets at which `strip` is exactly the caption's digits, each an image of `pool` with that
    label, side by side in 8-pixel slots, on a black background."""
    strip = strip[..., 0]
    flat = images[pool].reshape(len(pool), 64)
    k, width = len(labels_in_caption), strip.shape[1]
    found = []
    for offset in range(width - 8 * k + 1):
        rest = strip.copy()
        for j, label in enumerate(labels_in_caption):
            block = strip[:, offset + 8 * j: offset + 8 * (j + 1)].reshape(64)
            if not ((flat == block).all(axis=1) & (labels[pool] == label)).any():
                break
            rest[:, offset + 8 * j: offset + 8 * (j + 1)] = 0
        else:
            if not rest.any():
                found.append(offset)
    return found


def centres_of_mass(frames):
    """(n, T, 2) rows and columns of the centre of mass of each frame."""
    b = frames[..., 0].astype(np.float64)
    grid = np.arange(b.shape[-1])
    mass = b.sum(axis=(2, 3))
    rows = (b.sum(axis=3) * grid).sum(axis=2) / mass
    cols = (b.sum(axis=2) * grid).sum(axis=2) / mass
    return np.stack([rows, cols], axis=-1)


# ----------------------------------------------------------------------------- digits
def test_digits_shape_range_and_labels(digit_set):
    images, labels = digit_set
    assert images.shape == (N_DIGITS, 8, 8) and images.dtype == np.float32
    assert images.min() == 0.0 and images.max() == 1.0
    assert labels.shape == (N_DIGITS,) and labels.dtype.kind == "i"
    assert set(np.unique(labels)) == set(range(10))
    assert np.bincount(labels).min() >= 170
    assert (images.reshape(N_DIGITS, -1) > 0).any(axis=1).all(), "an empty digit image"


def test_digit_images_of_the_last_fifth_are_new(digit_set):
    """No validation digit image equals a training one, so the split test can tell them apart."""
    images, _ = digit_set
    flat = images.reshape(N_DIGITS, -1)
    train = {row.tobytes() for row in flat[:SPLIT]}
    assert not any(row.tobytes() in train for row in flat[SPLIT:])


# ----------------------------------------------------------------------------- digit_captions
def test_digit_captions_are_deterministic():
    a = data.digit_captions(n_train=40, n_val=30, max_digits=3, seed=11)
    b = data.digit_captions(n_train=40, n_val=30, max_digits=3, seed=11)
    c = data.digit_captions(n_train=40, n_val=30, max_digits=3, seed=12)
    for key in ("x_train", "y_train", "x_val", "y_val"):
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
        assert not np.array_equal(a[key], c[key]), key
    assert a["texts_val"] == b["texts_val"]


def test_digit_captions_do_not_depend_on_the_global_rng():
    np.random.seed(0)
    a = data.digit_captions(n_train=10, n_val=10, seed=1)
    np.random.seed(1)
    np.random.rand(3)
    b = data.digit_captions(n_train=10, n_val=10, seed=1)
    np.testing.assert_array_equal(a["x_val"], b["x_val"])


@pytest.mark.parametrize("max_digits", [1, 2, 4, 5])
def test_digit_captions_shapes_and_dtypes(max_digits):
    caps = data.digit_captions(n_train=12, n_val=7, max_digits=max_digits, seed=0)
    L = max_digits + 2
    assert caps["x_train"].shape == (12, 8, 8 * max_digits, 1)
    assert caps["x_val"].shape == (7, 8, 8 * max_digits, 1)
    assert caps["y_train"].shape == (12, L) and caps["y_val"].shape == (7, L)
    assert caps["x_train"].dtype == caps["x_val"].dtype == np.float32
    assert caps["y_train"].dtype == caps["y_val"].dtype == np.int32
    assert 0.0 <= caps["x_train"].min() and caps["x_train"].max() <= 1.0
    assert caps["words"] == data.CAPTION_WORDS and len(caps["words"]) == 13
    assert len(caps["texts_val"]) == 7


def test_caption_vocabulary():
    assert data.CAPTION_WORDS[:3] == ("<pad>", "<start>", "<end>")
    assert (data.CAPTION_PAD, data.CAPTION_START, data.CAPTION_END) == (0, 1, 2)
    assert data.CAPTION_WORDS[3:] == data.DIGIT_WORDS
    assert data.DIGIT_WORDS[7] == "seven"


@pytest.mark.parametrize("split", ["train", "val"])
def test_every_caption_is_start_words_end_then_pads(caps, split):
    y = caps[f"y_{split}"]
    lengths = []
    for caption in y:
        assert caption[0] == data.CAPTION_START
        k = list(caption).index(data.CAPTION_END) - 1
        assert 1 <= k <= 4
        assert np.all((caption[1:k + 1] >= 3) & (caption[1:k + 1] <= 12)), caption
        assert np.all(caption[k + 2:] == data.CAPTION_PAD), caption
        lengths.append(k)
    assert set(lengths) == {1, 2, 3, 4}


@pytest.mark.parametrize("split, pool", [("train", np.arange(SPLIT)), ("val", np.arange(SPLIT, N_DIGITS))],
                         ids=["train: first four fifths", "val: last fifth"])
def test_strips_are_the_captions_digits_from_their_pool(caps, digit_set, split, pool):
    images, labels = digit_set
    x, y = caps[f"x_{split}"], caps[f"y_{split}"]
    for i, (strip, caption) in enumerate(zip(x, y)):
        words = caption_words(caption)
        offsets = placements(strip, words, images, labels, pool)
        assert offsets, f"{split} strip {i} ({data.caption_text(caption)!r}) is not made of its digits"
        offset = offsets[0]
        # Its non-empty 8-pixel slots are as many as its words, all inside the strip.
        columns = np.flatnonzero(strip[..., 0].any(axis=0))
        slots = set((columns - offset) // 8)
        assert slots == set(range(len(words))), (split, i, slots)
        assert columns[-1] - columns[0] < 8 * len(words)


def test_validation_strips_are_not_made_of_training_digits(caps, digit_set):
    """The same check with the wrong pool fails: the placement search can tell the pools apart."""
    images, labels = digit_set
    strip, caption = caps["x_val"][0], caps["y_val"][0]
    assert not placements(strip, caption_words(caption), images, labels, np.arange(SPLIT))
    strip, caption = caps["x_train"][0], caps["y_train"][0]
    assert not placements(strip, caption_words(caption), images, labels, np.arange(SPLIT, N_DIGITS))


def test_strips_use_various_offsets(caps):
    first = [np.flatnonzero(s[..., 0].any(axis=0))[0] for s in caps["x_train"]]
    assert len(set(first)) > 10


def test_texts_val_and_decode_agree_with_caption_text(caps):
    assert caps["decode"] is data.caption_text
    assert caps["texts_val"] == [data.caption_text(c) for c in caps["y_val"]]
    for text, caption in zip(caps["texts_val"], caps["y_val"]):
        assert text.split() == [data.DIGIT_WORDS[d] for d in caption_words(caption)]


# ----------------------------------------------------------------------------- caption_text
@pytest.mark.parametrize("ids, text", [
    ([1, 10, 3, 2, 0, 0], "seven zero"),
    ([1, 2, 5, 6], ""),
    ([1, 4, 0, 5, 2, 6], "one two"),
    ([4, 5, 6], "one two three"),
    ([1, 12, 2, 12], "nine"),
    (np.array([1, 7, 8, 2, 0], dtype=np.int32), "four five"),
    (np.array([[1, 4, 2, 0]]), "one"),
    ((1, 3, 2), "zero"),
    ([], ""),
], ids=["stops at end", "empty caption", "pads dropped", "no start", "nothing after end",
        "int32 array", "(1, L) row", "tuple", "no ids"])
def test_caption_text(ids, text):
    assert data.caption_text(ids) == text


# ----------------------------------------------------------------------------- moving_ball
def test_moving_ball_shape_range_and_determinism():
    frames = data.moving_ball(20, T=9, size=16, seed=4)
    assert frames.shape == (20, 9, 16, 16, 1) and frames.dtype == np.float32
    assert frames.min() >= 0.0 and frames.max() <= 1.0
    assert np.all(frames.max(axis=(2, 3, 4)) == 1.0), "every frame shows the ball"
    np.testing.assert_array_equal(frames, data.moving_ball(20, T=9, size=16, seed=4))
    assert not np.array_equal(frames, data.moving_ball(20, T=9, size=16, seed=5))
    np.testing.assert_array_equal(frames[:, :4], data.moving_ball(20, T=4, size=16, seed=4))


@pytest.mark.parametrize("size, radius", [(16, 1.6), (24, 2.5)])
def test_moving_ball_moves_smoothly_inside_the_box(size, radius):
    frames = data.moving_ball(200, T=30, size=size, radius=radius, seed=7)
    com = centres_of_mass(frames)
    step = np.abs(np.diff(com, axis=1))
    assert step.max() <= 1.5, step.max()
    assert com.min() >= radius - 0.5 and com.max() <= size - 1 - radius + 0.5
    # Away from the walls the ball visibly moves on both axes every frame (0.6 to 1.4 px).
    margin = radius + 2
    inner = ((com > margin) & (com < size - 1 - margin)).all(axis=-1)
    both = inner[:, :-1] & inner[:, 1:]
    assert both.sum() > 1000
    assert step[both].min() >= 0.4, step[both].min()
    # And it reaches every side of the box.
    assert com.min() < margin and com.max() > size - 1 - margin


# ----------------------------------------------------------------------------- doctests
@pytest.mark.parametrize("name", ["digit_captions", "moving_ball"])
def test_docstring_examples_run(name):
    fn = getattr(data, name)
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner()
    tests = finder.find(fn, name, globs={name: fn})
    assert tests
    for test in tests:
        runner.run(test)
    assert runner.failures == 0 and runner.tries >= 1
