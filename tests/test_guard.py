"""The watch over a graded function (rnnkit.guard): what it calls that it may not, however named.

A call is recognised by where its code lives, so importing the layer under another name, through
importlib or from Keras's private modules changes nothing; the inputs a check hands over may be
called; turning the watch off, or starting a process, is itself recorded.
"""
import importlib
import sys
import threading

import numpy as np
import pytest

from rnnkit import checks, guard
from rnnkit.exercises.image_captioning import StepFunction
from rnnkit.runtime import import_tf

tf, keras = import_tf()
CELL = ("keras.layers.SimpleRNNCell",)
LAYER = guard.Call("keras.layers.SimpleRNNCell", "reference")
X, H = np.ones((2, 3)), np.zeros((2, 4))
WX, WH, B = np.full((3, 4), 0.1), np.eye(4), np.zeros(4)


def _calls(fn, forbidden=CELL, allowed=(), *args):
    watch = guard.Watch(forbidden, allowed=allowed)
    watch.wrap(fn)(*args)
    return watch.calls


def _keras_cell(x_t, h_prev, Wx, Wh, b, make=lambda: keras.layers.SimpleRNNCell):
    cell = make()(Wx.shape[1], dtype="float64")
    cell.build((None, Wx.shape[0]))
    cell.set_weights([Wx, Wh, b])
    return np.asarray(cell(x_t, [h_prev])[0])


def test_numpy_alone_is_not_recorded():
    assert _calls(lambda: np.tanh(X @ WX + H @ WH + B)) == []


@pytest.mark.parametrize("make", [
    lambda: keras.layers.SimpleRNNCell,
    lambda: importlib.import_module("keras.src.layers.rnn.simple_rnn").SimpleRNNCell,
    lambda: getattr(importlib.import_module("keras").layers, "Simple" + "RNNCell"),
], ids=["keras.layers", "private module", "importlib and getattr"])
def test_the_reference_is_recorded_however_it_is_reached(make):
    assert _calls(lambda: _keras_cell(X, H, WX, WH, B, make)) == [LAYER]


def test_the_kits_own_code_is_recorded():
    from rnnkit import reference
    calls = _calls(lambda: reference.run_simple_rnn_cell(X, H, WX, WH, B))
    assert guard.Call("rnnkit.reference", "kit") in calls
    assert LAYER in calls


def test_what_a_notebook_uses_openly_is_not_recorded():
    from rnnkit import runtime
    assert _calls(lambda: runtime.is_fast()) == []


def test_the_inputs_it_is_given_may_be_called_but_not_made():
    given = StepFunction(V=5, seed=1, end_id=2)
    assert _calls(lambda: given([1, 3]), (), [given]) == []
    assert _calls(lambda: StepFunction(V=5, seed=1, end_id=2)([1, 3]), (), [given]) == \
        [guard.Call("rnnkit.exercises.image_captioning", "kit")]


def test_automatic_differentiation_and_libraries_by_name():
    def differentiate():
        x = tf.constant(2.0)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = x * x
        return tape.gradient(y, x)
    assert _calls(differentiate, ("tf.GradientTape",)) == [guard.Call("tf.GradientTape", "reference")]
    import sacrebleu
    assert _calls(lambda: sacrebleu.corpus_bleu(["a b"], [["a b"]]), ("sacrebleu",)) == \
        [guard.Call("sacrebleu", "reference")]


def test_a_name_not_installed_is_ignored_without_importing_anything():
    before = set(sys.modules)
    assert guard.where("nothing_installed_by_that_name.grad") is None
    assert set(sys.modules) == before
    assert _calls(lambda: None, ("nothing_installed_by_that_name",)) == []


def test_turning_the_watch_off_is_recorded():
    def silence():
        sys.setprofile(None)
        return _keras_cell(X, H, WX, WH, B)
    assert guard.Call("sys.setprofile", "watch") in _calls(silence)

    def threads_too():
        threading.setprofile(None)
    assert guard.Call("threading.setprofile", "watch") in _calls(threads_too)


def test_a_thread_it_starts_is_watched_too():
    def in_a_thread():
        worker = threading.Thread(target=lambda: _keras_cell(X, H, WX, WH, B))
        worker.start()
        worker.join()
    assert LAYER in _calls(in_a_thread)


def test_starting_a_process_is_recorded():
    import subprocess
    calls = _calls(lambda: subprocess.run(["true"], check=True))
    assert [c.kind for c in calls] == ["process"], calls


def test_the_watch_gives_back_the_profiler_it_found():
    seen = []

    def mine(frame, event, arg):
        seen.append(event)
    sys.setprofile(mine)
    try:
        _calls(lambda: np.tanh(X))
        assert sys.getprofile() is mine
    finally:
        sys.setprofile(None)


def test_describe_says_what_and_why():
    text = guard.describe("rnn_backward", [guard.Call("tf.GradientTape", "reference"),
                                           guard.Call("rnnkit.reference", "kit")])
    assert text == ("rnn_backward calls tf.GradientTape, what it is checked against: implement it "
                    "by hand. rnn_backward calls rnnkit.reference, the kit's own code: implement it "
                    "by hand.")


def test_a_students_check_fails_a_function_that_calls_the_layer():
    """In the notebook as in the grader: the values are right, the check still fails, and says why."""
    result = checks.evaluate("rnn_cell_forward", lambda x_t, h_prev, Wx, Wh, b: _keras_cell(
        np.asarray(x_t, np.float64), np.asarray(h_prev, np.float64), Wx, Wh, b))
    assert not result.passed
    assert result.message == ("rnn_cell_forward calls keras.layers.SimpleRNNCell, what it is checked "
                              "against: implement it by hand.")


def test_an_input_computes_unwatched_but_what_it_is_given_is_watched():
    """RNNFunction runs its Keras layer with the watch off, after turning its argument into an
    array with the watch on: a caller's object whose conversion calls a layer is seen."""
    from rnnkit.exercises.bidirectional_stacked import RNNFunction
    fn = RNNFunction("SimpleRNN", (np.full((3, 4), 0.1), np.eye(4), np.zeros(4)), "forward_fn")
    x = np.ones((2, 5, 3))
    assert _calls(lambda: fn(x), ("keras.layers.SimpleRNN",), [fn]) == []

    class Sneaky:
        def __array__(self, dtype=None, copy=None):
            _keras_cell(X, H, WX, WH, B)
            return x
    assert _calls(lambda: fn(Sneaky()), CELL, [fn]) == [LAYER]
    assert _calls(lambda: guard.unwatched(_keras_cell, X, H, WX, WH, B)) == [guard.Call("rnnkit.guard", "kit")]


def test_a_name_is_placed_again_once_its_module_is_imported(tmp_path, monkeypatch):
    """Keras's public names live in an API folder that re-exports code from elsewhere
    (keras.metrics.MeanAbsoluteError is in keras/src/metrics/): a watch made before the import
    knows only the folder, and a watch made after it must find the code's own file."""
    package = tmp_path / "fakeapi_pkg"
    (package / "api").mkdir(parents=True)
    (package / "src").mkdir()
    (package / "__init__.py").write_text("")
    (package / "src" / "__init__.py").write_text("")
    (package / "src" / "impl.py").write_text("def mean_error(a, b):\n    return abs(a - b)\n")
    (package / "api" / "__init__.py").write_text("from fakeapi_pkg.src.impl import mean_error\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    forbidden = ("fakeapi_pkg.api.mean_error",)

    def student(a, b):
        from fakeapi_pkg.api import mean_error
        return mean_error(a, b)

    before = guard.Watch(forbidden)                  # placed while the module is not imported
    assert "fakeapi_pkg" not in sys.modules
    importlib.import_module("fakeapi_pkg.api")
    after = guard.Watch(forbidden)
    after.wrap(student)(3, 1)
    assert [c.label for c in after.calls] == ["fakeapi_pkg.api.mean_error"]
    assert before.calls == []
