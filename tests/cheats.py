"""Cheating submissions of 02_bptt, as data: each is the full-marks example with some cells changed.

Every cheat targets softmax_cross_entropy (2 points), whose test no other exercise depends on,
except `keras_reference` and `kit_reference`, which target rnn_backward (truncated_bptt_grads
calls it, so it falls too). A cheat's `edits` are (grade_id, action, source): "replace" a cell's
source, "delete" the cell, "twice" paste a copy with `source` after it, "markdown" turn it into a
Markdown cell with `source`. `{solutions}`, `{gradebook}` and `{rnnkit}` in a source are filled in
by the test with the paths a cheater would guess. `zero`: the exercises that must score 0;
`kernel_error`: the error the jail or a limit makes the cheated cell raise in the notebook (None:
any or none); `seen_in_notebook`: what the notebook's own check says it called.
"""
import dataclasses

ASSIGNMENT = "02_bptt"
TARGET = "softmax_cross_entropy"
SOLUTION, TEST = f"{TARGET}_code", f"{TARGET}_matches_keras"

# A wrong answer with the right shapes: what each cheat tries to have accepted.
WRONG = ("def softmax_cross_entropy(logits, targets):\n"
         "    return 0.0, np.zeros_like(logits)\n")
# What the test cell prints when it passes.
PASSES = "print('softmax_cross_entropy matches the Keras reference.')"
# What edits_rnnkit appends to the installed rnnkit/checks.py: the test removes exactly this if
# a failed defence let it through (and fails).
RNNKIT_EDIT = '\ncheck = lambda *a, **k: print("every check passes")  # written by a submission\n'


@dataclasses.dataclass(frozen=True)
class Cheat:
    name: str
    edits: tuple
    zero: tuple = (TARGET,)
    kernel_error: str = None
    # The notebook's own check already fails it and says why (the watch saw what it called):
    # no difference between in-notebook and verified points to flag, the note names the call.
    seen_in_notebook: str = None


def _solution(source):
    return ((SOLUTION, "replace", source),)


CHEATS = [
    Cheat("numpy_testing", _solution(
        WRONG + "import numpy.testing\n"
        "numpy.testing.assert_allclose = numpy.testing.assert_array_almost_equal = lambda *a, **k: None\n")),
    Cheat("np_allclose", _solution(
        WRONG + "np.allclose = lambda *a, **k: True\n"
        "np.isclose = lambda a, b, *r, **k: np.ones(np.shape(a), bool)\n")),
    Cheat("np_abs", _solution(
        WRONG + "np.abs = np.absolute = lambda x, *a, **k: np.zeros(np.shape(x))\n")),
    Cheat("builtins", _solution(
        WRONG + "import builtins\nbuiltins.all = lambda *a, **k: True\nbuiltins.any = lambda *a, **k: False\n")),
    Cheat("set_custom_exc", _solution(
        WRONG + "get_ipython().set_custom_exc((Exception,), lambda shell, etype, value, tb, tb_offset=None: "
        f"{PASSES})\n")),
    Cheat("input_transformer", _solution(
        WRONG + "get_ipython().input_transformers_cleanup.append(lambda lines: [])\n")),
    Cheat("sys_exit", _solution(WRONG + "import sys\nsys.exit(0)\n"), kernel_error="SystemExit"),
    Cheat("os_exit", _solution(WRONG + "import os\nos._exit(0)\n"), kernel_error="DeadKernelError"),
    Cheat("edited_test", _solution(WRONG) + ((TEST, "replace", PASSES),)),
    Cheat("deleted_test", _solution(WRONG) + ((TEST, "delete", None),)),
    Cheat("duplicated_test", _solution(WRONG) + ((TEST, "twice", PASSES),)),
    Cheat("retyped_test", _solution(WRONG) + ((TEST, "markdown", "Checked by hand: all good."),)),
    Cheat("eq_always_true", _solution(
        "class Anything:\n    def __eq__(self, other):\n        return True\n    __array_priority__ = 1000\n"
        "    def __sub__(self, other):\n        return 0.0\n    __rsub__ = __sub__\n\n"
        "def softmax_cross_entropy(logits, targets):\n    return Anything(), Anything()\n")),
    Cheat("ndarray_subclass", _solution(
        "class Agreeable(np.ndarray):\n"
        "    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):\n"
        "        return np.zeros(np.broadcast_shapes(*[np.shape(i) for i in inputs]))\n\n"
        "def softmax_cross_entropy(logits, targets):\n"
        "    return np.zeros(()).view(Agreeable), np.zeros(logits.shape).view(Agreeable)\n")),
    Cheat("keras_reference", (("rnn_backward_code", "replace",
        "import tensorflow as tf\n\n"
        "def rnn_backward(dh_seq, x, h0, Wx, Wh, b):\n"
        "    v = [tf.Variable(np.asarray(a, dtype=np.float64)) for a in (x, h0, Wx, Wh, b)]\n"
        "    with tf.GradientTape() as tape:\n"
        "        h, hs = v[1], []\n"
        "        for t in range(x.shape[1]):\n"
        "            h = tf.tanh(v[0][:, t] @ v[2] + h @ v[3] + v[4])\n"
        "            hs.append(h)\n"
        "        loss = tf.reduce_sum(tf.stack(hs, axis=1) * dh_seq)\n"
        "    return tuple(g.numpy() for g in tape.gradient(loss, v))\n"),),
        zero=("rnn_backward", "truncated_bptt_grads"), seen_in_notebook="calls tf.GradientTape"),
    Cheat("kit_reference", (("rnn_backward_code", "replace",
        "import importlib\n\n"
        "def rnn_backward(dh_seq, x, h0, Wx, Wh, b):\n"
        "    kit = importlib.import_module('rnn' + 'kit.reference')   # however it is imported\n"
        "    return getattr(kit, 'simple_rnn_gradients')(dh_seq, x, h0, Wx, Wh, b)\n"),),
        zero=("rnn_backward", "truncated_bptt_grads"), seen_in_notebook="calls rnnkit.reference"),
    Cheat("answer_keys", _solution(
        "import rnnkit.guard\n"
        "rnnkit.guard.Watch.wrap = lambda self, fn: fn      # the notebook's check sees nothing\n"
        "from rnnkit.grading.keys.bptt import _cross_entropy as softmax_cross_entropy\n")),
    Cheat("reads_solutions", _solution(
        "import json\n"
        "for _c in json.load(open('{solutions}'))['cells']:\n"
        "    if 'def softmax_cross_entropy' in ''.join(_c['source']):\n"
        "        exec(''.join(_c['source']))\n"), kernel_error="PermissionError"),
    Cheat("writes_gradebook", _solution(
        WRONG + "import sqlite3\n_db = sqlite3.connect('{gradebook}')\n"
        "_db.execute('create table cheat_was_here (x)')\n"
        "_db.execute('update grade set auto_score = 100')\n_db.commit()\n"), kernel_error="OperationalError"),
    Cheat("edits_rnnkit", _solution(
        WRONG + f"with open('{{rnnkit}}/checks.py', 'a') as _f:\n    _f.write({RNNKIT_EDIT!r})\n"),
        kernel_error="PermissionError"),
    Cheat("infinite_loop", _solution(WRONG + "while True:\n    pass\n"),
          kernel_error="KeyboardInterrupt|CellTimeoutError"),
    Cheat("memory_bomb", _solution(
        WRONG + "def _hog(n=20):\n    kept = []\n    for _ in range(n):\n"
        "        kept.append(np.ones(256 << 17))  # 256 MB each, touched: 5 GB at most\n_hog()\n"),
        kernel_error="MemoryError"),
    Cheat("fork_bomb", _solution(
        WRONG + "import subprocess\n_children = []\n"
        "for _ in range(1000):  # bounded: 1000 sleeping processes at most\n"
        "    _children.append(subprocess.Popen(['sleep', '313']))\n"), kernel_error="BlockingIOError"),
    Cheat("output_flood", _solution(
        WRONG + "for _ in range(100):\n    print('x' * (1 << 20))  # 100 MB in all\n")),
]
