"""Could a student get full marks by importing the kit? Try everything the student package holds.

Run as a script in a fresh interpreter that sees only the student package (an unpacked wheel) and
the third-party packages of the kit's environment:

    python -S -P tests/leak_scan.py STUDENT_DIR KIT_DIR [--skip PREFIX ...] [--only MODULE ...]

It imports every module under STUDENT_DIR/rnnkit, collects every function and class defined there
and every callable that one of them returns when called without arguments (a factory), and tries
each against every graded exercise whose arguments it accepts, judged as if its code had been
copied into a notebook: the watch (rnnkit.guard) does not count it as the kit's own code, but
still sees what it calls (a Keras layer, TF's automatic differentiation). Only then does it make the
instructor's side importable (KIT_DIR/rnnkit, where the answer keys live) to judge with the visible
and the hidden cases. It prints one JSON object: {"candidates": n, "tried": n, "passing": [...]},
each passing entry naming the callable and the exercise it solves.
"""
import contextlib
import importlib
import inspect
import json
import os
import pkgutil
import signal
import sys
import tempfile
import warnings

CALL_SECONDS = 20


class _TimeUp(Exception):
    pass


@contextlib.contextmanager
def _limited(seconds):
    def up(*_):
        raise _TimeUp()
    old = signal.signal(signal.SIGALRM, up)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@contextlib.contextmanager
def _quiet():
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink), \
            contextlib.redirect_stderr(sink), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def modules(package_dir, skip=(), only=()):
    """Every module of the rnnkit package found under `package_dir`, imported (those named in
    `only`, when given)."""
    import rnnkit
    assert os.path.dirname(os.path.abspath(rnnkit.__file__)) == os.path.join(package_dir, "rnnkit"), \
        f"rnnkit comes from {rnnkit.__file__}, not from {package_dir}"
    found = [] if only else [rnnkit]
    for info in pkgutil.walk_packages(rnnkit.__path__, "rnnkit."):
        if info.name.startswith(tuple(skip)) or (only and info.name not in only):
            continue
        with _quiet():
            found.append(importlib.import_module(info.name))
    return found


def candidates(mods):
    """[(label, callable)]: the functions and classes the modules define, and what their
    no-argument calls return when that is callable."""
    seen, found = set(), []

    def add(label, obj):
        if callable(obj) and id(obj) not in seen:
            seen.add(id(obj))
            found.append((label, obj))

    defined = []
    for module in mods:
        for name, obj in sorted(vars(module).items()):
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and \
                    getattr(obj, "__module__", "") == module.__name__:
                defined.append((f"{module.__name__}.{name}", obj))
    for label, obj in defined:
        add(label, obj)
    with tempfile.TemporaryDirectory() as scratch:
        cwd = os.getcwd()
        os.chdir(scratch)
        try:
            for label, obj in defined:
                try:
                    signature = inspect.signature(obj)
                    signature.bind()
                except (TypeError, ValueError):
                    continue                       # needs arguments: not a factory
                try:
                    with _quiet(), _limited(CALL_SECONDS):
                        made = obj()
                except BaseException:  # noqa: B036 (whatever a factory raises, it made nothing)
                    continue
                add(f"{label}()", made)
        finally:
            os.chdir(cwd)
    return found


def _accepts(fn, args):
    try:
        inspect.signature(fn).bind(*args)
        return True
    except (TypeError, ValueError):
        return False


def passing(found, judge, exercises):
    """[(label, exercise name)] of every candidate that passes `judge(exercise, fn)`."""
    tried, hits = 0, []
    for label, fn in found:
        for exercise in exercises:
            if not _accepts(fn, exercise.args):
                continue
            tried += 1
            try:
                with _quiet(), _limited(4 * CALL_SECONDS):
                    ok = judge(exercise, fn)
            except BaseException:  # noqa: B036
                ok = False
            if ok:
                hits.append((label, exercise.name))
    return tried, hits


def main(argv):
    student_dir, kit_dir = argv[0], argv[1]
    skip = [argv[i + 1] for i, a in enumerate(argv) if a == "--skip"]
    only = [argv[i + 1] for i, a in enumerate(argv) if a == "--only"]
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.path.insert(0, student_dir)
    found = candidates(modules(student_dir, skip, only))
    # Now, and only now, the instructor's side: the answer keys judge with the hidden cases.
    import rnnkit
    rnnkit.__path__.append(os.path.join(kit_dir, "rnnkit"))
    from rnnkit import checks, guard, views
    guard._PACKAGE_DIR = os.path.join(student_dir, "copied into a notebook")

    def judge(exercise, fn):
        return (checks.evaluate(exercise.name, fn).passed
                and checks.evaluate(exercise.name, fn, hidden=True).passed)

    exercises = [views.get(name) for name in views.names()]
    tried, hits = passing(found, judge, exercises)
    print(json.dumps({"candidates": len(found), "tried": tried,
                      "passing": [{"callable": label, "exercise": name} for label, name in hits]}))


if __name__ == "__main__":
    main(sys.argv[1:])
