"""Helpers shared by the mutation tests (tests/test_contract.py, tests/test_checks_<notebook>.py).

A mutation test defines a student's function from source text, as a notebook cell would, runs the
checks on it and asserts what the student is told. These helpers do the defining and the common
assertions; the mutants themselves are in tests/mutants/, one module per notebook.
"""
import contextlib
import itertools
import linecache
import sys
import warnings

import numpy as np

from rnnkit import checks
from rnnkit.grading import keys

_cell_numbers = itertools.count(1)


def student(namespace, source, name=None):
    """Define the function in `source` as a notebook cell would, in a copy of the solution namespace.

    The source is registered with linecache (as IPython does for cells), so a traceback can show
    the student's line. Returns the function called `name` (default: the first one defined).
    """
    solution = namespace
    namespace = dict(solution)
    filename = f"<student cell {next(_cell_numbers)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    before = set(namespace)
    exec(compile(source, filename, "exec"), namespace)
    if name is None:
        defined = [k for k in namespace if k not in before or namespace[k] is not solution.get(k)]
        name = next(k for k in defined if callable(namespace[k]))
    return namespace[name]


def catalogued(exercise_name, mistake_name, occurrence=1):
    """The `occurrence`-th catalogue entry called `mistake_name` of exercise `exercise_name`."""
    entries = [m for m in keys.get(exercise_name).mistakes if m.name == mistake_name]
    return entries[occurrence - 1]


@contextlib.contextmanager
def warnings_to_stderr():
    """Show every warning on stderr, as a notebook kernel does (pytest would record them)."""
    def show(message, category, filename, lineno, file=None, line=None):
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))
    with warnings.catch_warnings(), np.errstate(all="warn"):
        warnings.simplefilter("always")
        warnings.showwarning = show
        yield


def assert_fails_naming(result, mistake_name):
    """The check failed and named exactly this catalogued mistake."""
    assert not result.passed, result.message
    assert result.mistake == mistake_name, result.message
    assert f"Recognised mistake: {mistake_name}." in result.message, result.message


def _outputs(value):
    return value if isinstance(value, tuple) else (value,)


def _run(exercise, fn, inputs):
    """What a check compares for `fn` on `inputs`: its runner's result, or fn called in args order."""
    copies = {k: checks._copy(v) for k, v in inputs.items()}
    if exercise.runner is not None:
        return _outputs(exercise.runner(fn, **copies))
    return _outputs(fn(*[copies[a] for a in exercise.args]))


def assert_reproduces(namespace, exercise_name, mistake_name, occurrence, source):
    """The mutant in `source` returns what its catalogue entry says the mistake returns, on every
    case (so the mutant is faithful): where both raise ValueError they agree; a mistake that a
    runner names (no model) must be named by the runner on every case."""
    import pytest
    from rnnkit.registry import Problem
    exercise = keys.get(exercise_name)
    entry = catalogued(exercise_name, mistake_name, occurrence)
    fn = student(namespace, source, exercise_name)
    compared = 0
    for case in exercise.cases:
        inputs = checks.make_inputs(exercise, case)
        if entry.output is None:
            with pytest.raises(Problem) as raised:
                _run(exercise, fn, inputs)
            assert raised.value.mistake is entry, case.label
            compared += 1
            continue
        try:
            with np.errstate(all="ignore"):
                expected = _outputs(entry.output(**{k: checks._copy(v) for k, v in inputs.items()}))
        except ValueError:
            with pytest.raises(ValueError):
                _run(exercise, fn, inputs)
            continue
        with np.errstate(all="ignore"):
            got = _run(exercise, fn, checks.make_inputs(exercise, case))
        assert len(got) == len(expected), case.label
        for g, e in zip(got, expected):
            np.testing.assert_allclose(np.asarray(g, np.float64), np.asarray(e, np.float64),
                                       atol=max(exercise.atol, 1e-6), rtol=exercise.rtol,
                                       err_msg=f"case {case.label}")
        compared += 1
    assert compared >= 1, f"{mistake_name}: no case where both return"
