"""Inside the sandbox: run a submission's solution code, call each graded function on every case,
write down what came back. Nothing here decides a grade (verify.py does, outside).

Written to OUT/: returned.npz (every array returned, no pickles) and returned.json:
    {"cells": [error or "" per cell],
     "exercises": {name: {"returned": [value encoding per case], "calls": {helper: n},
                          "trapped": ["keras.layers.SimpleRNNCell", ...]}}}
A value encoding is {"t": "none"}, {"t": "number", "v": n}, {"t": "array", "k": key in returned.npz},
{"t": "tuple"|"list", "items": [...]}, {"t": "other", "type": type name} or
{"t": "problem", "problem": text}.
"""
import json
import re
import sys

import numpy as np

_TRAPPED = re.compile(r"^(keras\.layers|tf)\.(\w+)")


class _Trap:
    """Stands in for a Keras layer or TF op a function must not call; counts the calls."""

    def __init__(self, original, label, hits):
        self.original, self.label, self.hits = original, label, hits

    def __call__(self, *args, **kwargs):
        self.hits.add(self.label)
        return self.original(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.original, name)


def _set_traps(exercises, hits):
    """Replace the reference layer or op of each implement-by-hand exercise with a _Trap that
    records into `hits`; returns {exercise name: the label its calls are recorded under}."""
    import keras
    import tensorflow as tf
    labels = {}
    for e in exercises:
        m = _TRAPPED.match(e.reference_name or "")
        if e.runner is not None or not m:
            continue
        module = keras.layers if m.group(1) == "keras.layers" else tf
        label = f"{m.group(1)}.{m.group(2)}"
        original = getattr(module, m.group(2), None)
        if original is None:
            continue
        if not isinstance(original, _Trap):   # one trap serves every exercise checked against it
            setattr(module, m.group(2), _Trap(original, label, hits))
        labels[e.name] = label
    return labels


def _encode(value, arrays, depth=0):
    if value is None:
        return {"t": "none"}
    if isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating)):
        # A number, not an array: judged as the kernel judges it (a list of ints is not arrays).
        number = value.item() if isinstance(value, np.generic) else value
        return {"t": "number", "v": int(number) if isinstance(number, bool) else number}
    if isinstance(value, (tuple, list)) and depth < 3:
        return {"t": type(value).__name__ if type(value) in (tuple, list) else "list",
                "items": [_encode(v, arrays, depth + 1) for v in value]}
    try:
        arr = np.asarray(value)
    except Exception:
        arr = None
    if arr is None or arr.dtype.kind not in "biuf":
        return {"t": "other", "type": type(value).__name__[:40]}
    key = f"a{len(arrays)}"
    arrays[key] = np.array(arr, dtype=np.float64 if arr.dtype.kind == "f" else arr.dtype)
    return {"t": "array", "k": key}


def main(cells_path, out_dir, assignment):
    from rnnkit import checks, registry
    with open(cells_path, encoding="utf-8") as f:
        cells = json.load(f)
    exercises = registry.for_notebook(assignment)
    hits = set()
    labels = _set_traps(exercises, hits)
    namespace = {"__name__": "__main__"}
    errors = []
    for i, source in enumerate(cells):          # as a kernel runs them: an error stops one cell
        try:
            exec(compile(source, f"<cell {i}>", "exec"), namespace)
            errors.append("")
        except BaseException as exc:  # noqa: B036 (sys.exit in a cell must not end the run)
            errors.append(f"{type(exc).__name__}: {exc}"[:200])
    arrays, report = {}, {"cells": errors, "exercises": {}}
    for e in exercises:
        if e.runner is not None:
            continue
        fn = namespace.get(e.name)
        hits.clear()
        entry = {"returned": [], "calls": {}, "trapped": []}
        if callable(fn):
            with checks._spy(fn, e.must_call) as counts:
                for case in e.cases:
                    r = checks.call_case(e, fn, case)
                    entry["returned"].append({"t": "problem", "problem": r.problem} if r.problem
                                             else _encode(r.value, arrays))
            entry["calls"] = dict(counts)
        else:
            problem = f"no function called {e.name} is defined"
            entry["returned"] = [{"t": "problem", "problem": problem}] * len(e.cases)
        entry["trapped"] = [labels[e.name]] if labels.get(e.name) in hits else []
        report["exercises"][e.name] = entry
    np.savez(f"{out_dir}/returned.npz", **arrays)
    with open(f"{out_dir}/returned.json", "w", encoding="utf-8") as f:
        json.dump(report, f)


if __name__ == "__main__":
    main(*sys.argv[1:4])
