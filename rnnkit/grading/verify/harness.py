"""Inside the sandbox: run a submission's solution code, call each graded function on every case,
write down what came back. Nothing here decides a grade (verifier.py does, outside), and nothing
here knows an answer: the cases arrive as data (their inputs only), and the answer keys are neither
loaded nor readable in the sandbox.

Each cell and each call fails alone: it gets CELL_SECONDS, its prints are dropped, os._exit
raises, and afterwards what it started is killed and the modules the agent relies on (builtins,
NumPy, json) are put back as they were. Each call is watched (rnnkit.guard): what the function
calls that it may not (its exercise's reference, the kit's own code) is written down with it.

What crosses into and out of the sandbox, and how: protocol.py.
"""
import contextlib
import io
import itertools
import json
import sys

import numpy as np

from rnnkit.grading.verify import protocol


_MODEL_NUMBERS = itertools.count()
_OUT = ["."]                # the output folder, made absolute before any cell runs


def _encode_model(model):
    """Save a keras.Model as model<k>.keras beside returned.npz; its encoding says where, or why not."""
    import os
    name = protocol.model_file(next(_MODEL_NUMBERS))
    path = os.path.join(_OUT[0], name)     # not the working directory: a cell may have changed it
    try:
        model.save(path)
    except Exception as exc:
        return {"t": "model", "error": f"{type(exc).__name__}: {exc}"[:300]}
    if os.path.getsize(path) > protocol.MODEL_BYTES:
        os.remove(path)
        return {"t": "model", "error": f"its .keras file is over {protocol.MODEL_BYTES >> 20} MB"}
    return {"t": "model", "k": name}


def _encode(value, arrays, depth=0):
    if "keras" in sys.modules and isinstance(value, sys.modules["keras"].Model):
        return _encode_model(value)
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


def _problem(returned):
    """A Returned's problem, with the name of the catalogued mistake it reveals (if any)."""
    encoded = {"t": "problem", "problem": returned.problem}
    if returned.mistake is not None:
        encoded["mistake"] = returned.mistake.name
    return encoded


CELL_SECONDS = 20      # real time one cell, or one call of a graded function, may take here


class _TimeUp(RuntimeError):
    """Raised in a cell or a call that ran past CELL_SECONDS: it fails alone."""


@contextlib.contextmanager
def _bounded(restore=None, seconds=CELL_SECONDS):
    """Interrupt the block after `seconds` (time_limit) and keep what it prints: the sandbox's
    output cap is for the whole run, and a cell's prints matter nowhere here. Afterwards end
    what it left running, and `restore()` the modules."""
    try:
        with protocol.time_limit(seconds, _TimeUp(f"over {seconds} s")), \
                contextlib.redirect_stdout(_Sink()), contextlib.redirect_stderr(_Sink()):
            yield
    finally:
        _end_leftovers()
        if restore is not None:
            restore()


class _Sink(io.TextIOBase):
    """A text stream that forgets what is written to it."""

    def write(self, text):
        return len(text)


class _Restore:
    """The attributes of the modules the agent itself relies on, and of the classes they define,
    put back after each cell and call: a cell that replaces builtins.all, numpy.asarray or a
    method of the watch (rnnkit.guard) must not break the run for the other functions, nor change
    how they run or are watched."""

    def __init__(self):
        import builtins
        from rnnkit import checks, guard, registry, views
        modules = (builtins, np, np.testing, np.linalg, json, checks, guard, registry, views)
        classes = [c for m in modules[5:] for c in vars(m).values()
                   if isinstance(c, type) and c.__module__ == m.__name__]
        self.saved = [(o, dict(vars(o))) for o in (*modules, *classes)]

    def __call__(self):
        for owner, attrs in self.saved:
            for name in [n for n in vars(owner) if n not in attrs]:
                delattr(owner, name)
            for name, value in attrs.items():
                if vars(owner).get(name) is not value:
                    setattr(owner, name, value)


def _end_leftovers():
    """As the init of the sandbox's PID namespace: kill and reap what a cell or call left running.
    Nowhere else: kill(-1) would reach other processes."""
    import os
    from rnnkit.grading.isolation.processes import kill_and_reap_all
    if os.getpid() == 1:
        kill_and_reap_all()


class _ExitRefused(RuntimeError):
    """Raised in place of os._exit: a cell or a function that calls it fails alone."""


def _refuse_exit(*args, **kwargs):
    raise _ExitRefused(f"os._exit{args} is refused while grading")


def main(inputs_dir, out_dir):
    """Run the cells, call every graded function on its cases, write what they returned."""
    import os
    import posix
    saved = os._exit
    os._exit = posix._exit = _refuse_exit       # the process must live to write its results
    try:
        _main(inputs_dir, out_dir)
    finally:
        os._exit = posix._exit = saved


def read_cases(inputs_dir):
    """[(an Exercise with the contract the calls need, [(Case, inputs)])] from cases.json/.npz."""
    import os
    from rnnkit import views
    from rnnkit.registry import Case, Exercise
    with open(os.path.join(inputs_dir, protocol.CASES), encoding="utf-8") as f:
        doc = json.load(f)
    with np.load(os.path.join(inputs_dir, protocol.CASE_ARRAYS), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    found = []
    for entry in doc["exercises"]:
        exercise = Exercise(name=entry["name"], notebook=doc["assignment"], args=tuple(entry["args"]),
                            outputs=(), reference_name="", must_call=tuple(entry["must_call"]),
                            forbidden=tuple(entry["forbidden"]),
                            collect=views.function(entry["collect"]))
        cases = [(Case(c["label"], 0, {}, hidden=c["hidden"]), views.decode(c["inputs"], arrays))
                 for c in entry["cases"]]
        found.append((exercise, cases))
    return found


def _main(inputs_dir, out_dir):
    import os
    from rnnkit import checks
    _OUT[0] = os.path.abspath(out_dir)
    with open(os.path.join(inputs_dir, protocol.CELLS), encoding="utf-8") as f:
        cells = json.load(f)
    exercises = read_cases(inputs_dir)
    restore = _Restore()
    namespace = {"__name__": "__main__"}
    errors = []
    for i, source in enumerate(cells):          # as a kernel runs them: an error stops one cell
        try:
            with _bounded(restore):
                exec(compile(source, f"<cell {i}>", "exec"), namespace)
            errors.append("")
        except BaseException as exc:  # noqa: B036 (sys.exit in a cell must not end the run)
            errors.append(f"{type(exc).__name__}: {exc}"[:200])
    arrays, report = {}, {"cells": errors, "exercises": {}}
    for e, cases in exercises:
        fn = namespace.get(e.name)
        entry = {"returned": [], "calls": {}}
        if callable(fn):
            with checks._spy(fn, e.must_call) as counts:
                for case, inputs in cases:
                    try:
                        with _bounded(restore):
                            r = checks.call_case(e, fn, case, inputs, collect=e.collect is not None)
                            encoded = (_problem(r) if r.problem else _encode(r.value, arrays))
                            encoded["forbidden"] = [[c.label, c.kind] for c in r.calls]
                            encoded["edited"] = r.edited
                    except _TimeUp as exc:           # between call_case's own handlers
                        encoded = _problem(checks.Returned(problem=f"it ran {exc}"))
                    entry["returned"].append(encoded)
            entry["calls"] = dict(counts)
        else:
            problem = f"no function called {e.name} is defined"
            entry["returned"] = [{"t": "problem", "problem": problem}] * len(cases)
        report["exercises"][e.name] = entry
    np.savez(os.path.join(_OUT[0], protocol.RETURNED_ARRAYS), **arrays)
    with open(os.path.join(_OUT[0], protocol.RETURNED), "w", encoding="utf-8") as f:
        json.dump(report, f)


if __name__ == "__main__":
    main(*sys.argv[1:3])
