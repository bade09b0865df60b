"""What the verifier (outside) and the harness (inside the sandbox) share: the files between them,
their formats, and the limits both keep. Plain data only: the sandbox reads nothing else.

Into the inputs folder (written by the verifier, read by the harness):
    cells.json   the code cells to run, in order: [source, ...]
    cases.json + cases.npz
        {"assignment": name, "exercises": [{"name", "args", "forbidden", "must_call",
          "collect": "rnnkit.exercises.<topic>:<function>" or null,
          "cases": [{"label", "hidden", "inputs": encoded (rnnkit.views)}]}]}
Into the outputs folder (written by the harness, read by the verifier):
    returned.npz (every array returned, no pickles) and returned.json:
        {"cells": [error or "" per cell],
         "exercises": {name: {"returned": [value encoding per case], "calls": {helper: n}}}}
A value encoding is {"t": "none"}, {"t": "number", "v": n}, {"t": "array", "k": key in returned.npz},
{"t": "tuple"|"list", "items": [...]}, {"t": "other", "type": type name},
{"t": "model", "k": "model<n>.keras"} (a keras.Model, saved beside them) or {"t": "model", "error":
why it could not be saved}, or {"t": "problem", "problem": text, "mistake": name (if one is named)};
each also carries "forbidden": [[label, kind], ...], what that call reached that it may not.
Exercises checked by a runner return what their `collect` returns, not the runner's value.
"""
import contextlib
import re
import signal

CELLS, CASES, CASE_ARRAYS = "cells.json", "cases.json", "cases.npz"
RETURNED, RETURNED_ARRAYS = "returned.json", "returned.npz"
MODEL_BYTES = 64 << 20                              # a larger .keras file is not handed over
MODEL_FILE = re.compile(r"model\d{1,4}\.keras")     # a model's file: model<n>.keras
CALL_KINDS = ("reference", "kit", "watch", "process")   # guard.Call kinds a "forbidden" names


def model_file(number):
    """The name of the `number`th model's .keras file (MODEL_FILE)."""
    return f"model{number}.keras"


@contextlib.contextmanager
def time_limit(seconds, error):
    """Raise `error` (an exception) in the block once `seconds` of real time have passed.

    SIGALRM: it interrupts Python code (a loop, Keras's training steps), not a single long C
    call, and only in the main thread; elsewhere (a Dask worker's thread) the block is unbounded.
    """
    import threading
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def time_up(*_):
        raise error

    old = signal.signal(signal.SIGALRM, time_up)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
