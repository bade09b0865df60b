"""The checks engine: run a student's function on an exercise's cases and say what is wrong.

    check("rnn_cell_forward", rnn_cell_forward)              # visible cases, in a test cell
    check("rnn_cell_forward", rnn_cell_forward, hidden=True) # hidden cases, in the hidden tests

Every case builds its inputs from its own seed (np.random.default_rng), so a student's use of
np.random never changes what is tested. The student's function gets copies of the inputs, runs
with NumPy warnings and stderr captured (nbgrader scores a cell that writes to stderr 0), and its
result is compared with the Keras reference. When it differs, the message says where (case, time
step, batch row, unit), by how much, the tolerance, and — when the result matches a catalogued
mistake — the mistake's name and a hint. Nothing raised inside the checker reaches the student
as a traceback: a failure is one CheckFailed with that message.

While the student's function runs, a watch (rnnkit.guard) records whether it calls what the
exercise is checked against (the Keras layer, the TF op, the library) or the kit's own code: if it
does, the check fails and says so, in the notebook as in the grader's verification run.

In a notebook the visible cases come from the exercise's view (views.get): their inputs, the
Keras reference's outputs and each catalogued mistake's outputs are stored data. The hidden cases
come from the answer keys where they are installed (registry.hidden), and are computed.
"""
import contextlib
import os
import traceback
from dataclasses import dataclass, field

import numpy as np

from rnnkit import diagnosis, guard, registry, views
from rnnkit.runtime import quiet
from rnnkit.registry import AXIS_NAMES, TIME_AXES

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class CheckFailed(AssertionError):
    """A student's function does not match its reference; the message says how."""

    def _render_traceback_(self):
        # IPython shows this instead of a traceback: the message alone, no checker frames.
        return [f"\x1b[0;31mCheckFailed\x1b[0m: {self}"]


@dataclass
class CaseResult:
    case: registry.Case
    inputs: dict
    expected: tuple
    outputs: tuple = ()        # the compared outputs, with listed ones expanded item by item
    got: tuple = None          # None when the function raised or returned something unusable
    problem: str = ""          # why `got` is None, or why it is wrong
    mistake: registry.Mistake = None   # the catalogued mistake a runner's Problem named
    wrong: list = field(default_factory=list)   # indices of outputs that differ
    max_diff: float = 0.0
    calls: list = field(default_factory=list)   # guard.Call: what it called that it may not
    edited: str = ""           # the argument it changed in place

    @property
    def ok(self):
        return (self.got is not None and not self.wrong and not self.problem and not self.calls
                and not self.edited)


@dataclass
class Returned:
    """What a student's function gave back on one case: its value, or why there is none.

    Plain data, so that a verdict can be reached in another process than the one the function ran
    in (judge() reads it; the function itself is not needed).
    """
    value: object = None
    problem: str = ""          # it raised, exited, or a runner refused the result
    mistake: registry.Mistake = None   # the catalogued mistake a runner's Problem named
    calls: list = field(default_factory=list)   # guard.Call: what it called that it may not
    edited: str = ""           # the argument it changed in place (that fails it too)


@dataclass
class Result:
    exercise: registry.Exercise
    passed: bool
    message: str
    mistake: str = ""          # the catalogued mistake's name, when one was recognised
    cases: list = field(default_factory=list)
    findings: list = field(default_factory=list)   # diagnosis.Finding, shown first first


# ----------------------------------------------------------------------------- public API
def check(name, fn, hidden=False):
    """Check `fn` against exercise `name`; print one line if it passes, raise CheckFailed if not."""
    __tracebackhide__ = True  # IPython hides this frame: the student sees the message only
    result = evaluate(name, fn, hidden=hidden)
    if not result.passed:
        raise CheckFailed(result.message) from None
    print(result.message)


def evaluate(name, fn, hidden=False):
    """Run the visible (or hidden) cases of exercise `name` on `fn` and return a Result.

    `name` may be an Exercise instead. The visible cases of a name come from its view; the hidden
    ones from the answer keys (registry.hidden), drawn for the grading batch.
    """
    try:
        if isinstance(name, str):
            exercise = registry.hidden(name) if hidden else views.get(name)
        else:
            exercise = name
        return _evaluate(exercise, fn, exercise.select(hidden))
    except registry.NoAnswerKeys as exc:
        return Result(exercise=None, passed=False, message=f"{name}: {exc}.")
    except Exception as exc:  # a bug in the checker must not look like a student traceback
        return Result(exercise=None, passed=False,
                      message=f"The checker itself failed on {name!r} ({type(exc).__name__}: {exc}). "
                              "This is not your fault: tell your instructor.")


# ----------------------------------------------------------------------------- running cases
_quiet = quiet      # NumPy warnings, Python warnings and stray stderr writes kept out of the cell


def make_inputs(exercise, case):
    """The inputs of one case, from its own seed (independent of any global RNG state); in a
    view, a fresh copy of the stored ones."""
    example = _example(exercise, case)
    if example is not None:
        return {k: _cast(v, case.dtype) for k, v in views.decode(example.inputs, example.arrays).items()}
    rng = np.random.default_rng(case.seed)
    return {k: _cast(v, case.dtype) for k, v in exercise.make_inputs(rng, case).items()}


def _example(exercise, case):
    """The stored Example of a view's case, or None (computed from the declaration)."""
    if exercise.examples is None or case.hidden:
        return None
    return exercise.examples.get(case.label)


def _cast(value, dtype):
    if isinstance(value, np.ndarray):
        return value.astype(dtype) if value.dtype.kind == "f" else value
    if isinstance(value, (tuple, list)):
        return type(value)(_cast(v, dtype) for v in value)
    return value


def _copy(value):
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (tuple, list)):
        return type(value)(_copy(v) for v in value)
    return value


def _student_frames(tb):
    """The frames of a traceback that belong to the student's code (not numpy, not rnnkit)."""
    # Compiled library code reports relative names (numpy/random/_generator.pyx): not the student's.
    frames = [f for f in traceback.extract_tb(tb)
              if (f.filename.startswith("<") or os.path.isabs(f.filename))
              and not f.filename.startswith(_PACKAGE_DIR) and "site-packages" not in f.filename
              and "/lib/python" not in f.filename]
    return frames


def _describe_exception(exc):
    kind = type(exc).__name__
    if isinstance(exc, NotImplementedError):
        return "it raises NotImplementedError: it is not implemented yet"
    text = f"it raised {kind}: {exc}".rstrip(": ")
    frames = _student_frames(exc.__traceback__)
    if frames:
        f = frames[-1]
        text += f" (in {f.name}, line {f.lineno}: {(f.line or '').strip()})"
    return text


def _to_array(name, item):
    """A plain float64 ndarray made from `item`, or (None, why not)."""
    try:
        with _quiet():
            if np.iscomplexobj(item):
                return None, f"{name} holds complex numbers; expected real values"
            return np.array(item, dtype=np.float64, subok=False), ""
    except Exception:
        return None, f"{name} is not a numeric array (got {type(item).__name__})"


def _normalise(exercise, value, lengths=None):
    """Turn what the student returned into a flat tuple of float64 ndarrays, or explain why not.

    `lengths` gives, per listed output, how many arrays the reference returned.
    """
    n = len(exercise.outputs)
    names = ", ".join(o.name for o in exercise.outputs)
    if value is None:
        return None, "it returned None: is the `return` statement missing?"
    if n == 1:
        if (not exercise.outputs[0].listed and isinstance(value, (tuple, list)) and len(value) != 0
                and all(isinstance(v, np.ndarray) for v in value)):
            return None, f"it returned a {type(value).__name__} of {len(value)} arrays; return {names} itself"
        items = (value,)
    else:
        if not isinstance(value, (tuple, list)) or len(value) != n:
            got = f"a {type(value).__name__}" + (f" of length {len(value)}" if isinstance(value, (tuple, list)) else "")
            return None, f"it returned {got}; expected a tuple ({names})"
        items = tuple(value)
    arrays = []
    for k, (out, item) in enumerate(zip(exercise.outputs, items)):
        if out.listed:
            expected = (lengths or {}).get(k)
            if not isinstance(item, (tuple, list)):
                return None, f"{out.name} is a {type(item).__name__}; expected a list of {expected} arrays"
            if expected is not None and len(item) != expected:
                return None, f"{out.name} holds {len(item)} arrays; expected {expected}, one per input array"
            parts = [(f"{out.name}[{i}]", x) for i, x in enumerate(item)]
        else:
            parts = [(out.name, item)]
        for part_name, x in parts:
            arr, problem = _to_array(part_name, x)
            if problem:
                return None, problem
            arrays.append(arr)
    return tuple(arrays), ""


def _flatten(exercise, value):
    """(flat outputs, flat float64 arrays, lengths of listed outputs) of a reference's result."""
    items = value if isinstance(value, tuple) else (value,)
    outputs, arrays, lengths = [], [], {}
    for k, (out, item) in enumerate(zip(exercise.outputs, items)):
        if out.listed:
            lengths[k] = len(item)
            for i, x in enumerate(item):
                outputs.append(registry.Output(f"{out.name}[{i}]", None))
                arrays.append(np.asarray(x, dtype=np.float64))
        else:
            outputs.append(out)
            arrays.append(np.asarray(item, dtype=np.float64))
    return tuple(outputs), tuple(arrays), lengths


def call_case(exercise, fn, case, inputs=None, collect=False):
    """Run the student's function on one case (copies of its inputs); never raises.

    collect=True runs the exercise's `collect` instead of its runner (the verification pass).
    The function runs watched (guard.Watch): what it calls that it may not is in Returned.calls.
    """
    inputs = make_inputs(exercise, case) if inputs is None else inputs
    copies = {k: _copy(v) for k, v in inputs.items()}
    watch = guard.Watch(exercise.forbidden, allowed=_objects(copies))
    watched = watch.wrap(fn)         # each call of it, not the runner: that is the check's
    if collect:
        returned = capture(lambda: exercise.collect(watched, **copies))
    elif exercise.runner is not None:
        returned = capture(lambda: exercise.runner(watched, **copies))
    else:
        returned = capture(lambda: watched(*[copies[a] for a in exercise.args]))
    returned.calls = list(watch.calls)
    returned.edited = diagnosis.in_place_edit(inputs, copies, exercise.args)[0]
    return returned


def _in_place_text(name):
    """Why a function that changes its argument in place fails, even with the right values."""
    return (f"it changes its argument {name} in place: work on a copy ({name} = {name} - m, "
            f"not {name} -= m), or your later cells will see {name} changed")


def _objects(value):
    """The objects among a case's inputs (what the function is given and may call)."""
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (tuple, list)):
        return [o for v in value for o in _objects(v)]
    if isinstance(value, (np.ndarray, np.generic, int, float, str, bool, type(None))):
        return []
    return [value]


def capture(thunk):
    """Returned(thunk()), or Returned(problem=...) naming what it raised (an Exception or
    SystemExit; other BaseExceptions, such as KeyboardInterrupt, pass). Quiet."""
    with _quiet():
        try:
            return Returned(thunk())
        except registry.Problem as exc:
            return Returned(problem=str(exc), mistake=exc.mistake)
        except SystemExit as exc:
            return Returned(problem=f"it called sys.exit({exc.code!r}); a graded function must return its result")
        except Exception as exc:
            return Returned(problem=_describe_exception(exc))


def _reference(exercise, inputs):
    with _quiet():
        return _flatten(exercise, exercise.reference(**_copy(inputs)))


def _violations(got, expected, atol, rtol):
    """Boolean mask of entries outside tolerance (NaN and inf count as outside)."""
    with np.errstate(all="ignore"):
        bad = ~(np.abs(got - expected) <= atol + rtol * np.abs(expected))
    return bad


def _close(a, b, atol, rtol, equal_nan=False):
    if a.shape != b.shape:
        return False
    if equal_nan:
        both_nan = np.isnan(a) & np.isnan(b)
        a, b = np.where(both_nan, 0.0, a), np.where(both_nan, 0.0, b)
        same_inf = np.isinf(a) & (a == b)
        a, b = np.where(same_inf, 0.0, a), np.where(same_inf, 0.0, b)
    return not _violations(a, b, atol, rtol).any()


def _max_diff(got, expected):
    with np.errstate(all="ignore"):
        d = np.abs(got - expected)
    return float(np.nanmax(np.where(np.isfinite(d), d, np.inf))) if d.size else 0.0


def judge_case(exercise, case, returned, inputs=None, reference=None):
    """Compare what the function returned on `case` with the reference: a CaseResult.

    `inputs` and `reference` (_reference's result) are computed from the case when not given.
    """
    inputs = make_inputs(exercise, case) if inputs is None else inputs
    outputs, expected, lengths = _reference(exercise, inputs) if reference is None else reference
    result = CaseResult(case=case, inputs=inputs, expected=expected, outputs=outputs)
    result.mistake = returned.mistake
    result.calls = list(returned.calls)
    result.edited = returned.edited or ""
    if returned.problem:
        result.problem = returned.problem
        return result
    got, problem = _normalise(exercise, returned.value, lengths)
    if problem:
        result.problem = problem
        return result
    result.got = got
    for i, (out, g, e) in enumerate(zip(outputs, got, result.expected)):
        if out.at_least:
            if g.shape != e.shape or not (g >= e - exercise.atol).all():
                result.wrong.append(i)
        elif g.shape != e.shape:
            result.wrong.append(i)
            result.max_diff = float("inf")
        elif _violations(g, e, exercise.atol, exercise.rtol).any():
            result.wrong.append(i)
            result.max_diff = max(result.max_diff, _max_diff(g, e))
        else:
            result.max_diff = max(result.max_diff, _max_diff(g, e))
    return result


def _run_case(exercise, fn, case):
    inputs, reference = _prepared(exercise, case)   # the reference before the student's code runs
    return judge_case(exercise, case, call_case(exercise, fn, case, inputs), inputs, reference)


@contextlib.contextmanager
def _spy(fn, helpers):
    """Count calls of the helper functions that `fn` looks up in its module's globals."""
    namespace = getattr(fn, "__globals__", None)
    counts, originals = {}, {}
    if namespace is not None:
        for name in helpers:
            original = namespace.get(name)
            if callable(original):
                originals[name] = original
                counts[name] = 0

                def spy(*a, _name=name, _original=original, **k):
                    counts[_name] += 1
                    return _original(*a, **k)
                guard.see_through(spy.__code__)
                namespace[name] = spy
    try:
        yield counts
    finally:
        for name, original in originals.items():
            namespace[name] = original


# ----------------------------------------------------------------------------- diagnosis
def _locate(out, got, expected, exercise):
    """Text naming the first position (earliest time step first) where got differs."""
    bad = _violations(got, expected, exercise.atol, exercise.rtol)
    idx = np.argwhere(bad)
    if len(idx) == 0:
        return ""
    if out.dims is None:
        first = tuple(int(i) for i in idx[0])
        where = f" at index {first}" if first else ""
        return (f"{out.name} differs{where}: yours {got[first]:.6g}, {exercise.reference_name} "
                f"{expected[first]:.6g}")
    time_axes = [i for i, d in enumerate(out.dims) if d in TIME_AXES]
    order = time_axes + [i for i in range(len(out.dims)) if i not in time_axes]
    first = min(map(tuple, idx), key=lambda p: tuple(p[i] for i in order))
    parts = [f"{AXIS_NAMES.get(out.dims[i], out.dims[i])}{'=' if out.dims[i] in TIME_AXES else ' '}{first[i]}"
             for i in order]
    where = f" at {', '.join(parts)}" if parts else ""
    return (f"{out.name} differs{where}: yours {got[first]:.6g}, {exercise.reference_name} "
            f"{expected[first]:.6g}")


def _fmt(value):
    value = np.asarray(value)
    return f"{float(value):.3g}" if value.size == 1 else str(value)


def _compare_sequences(out, got, expected):
    """'tokens are [3, 5], expected [3, 5, 2] (first difference at position 2)'."""
    g = [int(v) if float(v).is_integer() else float(v) for v in got.ravel()]
    e = [int(v) for v in expected.ravel()]
    if got.ndim != expected.ndim:
        return f"{out.name} has shape {got.shape}; expected a flat sequence like {e}"
    first = next((k for k, (a, b) in enumerate(zip(g, e)) if a != b), min(len(g), len(e)))
    return f"{out.name} are {g}, expected {e} (first difference at position {first})"


# What a catalogued mistake returns on a case depends on nothing else, and a class makes the same
# mistakes again and again: each is computed once per process.
_MISTAKE_OUTPUTS = {}


def _mistake_output(exercise, index, result):
    """The flattened outputs of catalogue entry `index` on the result's case, or None if it
    cannot happen there (stored in a view, computed from the declaration otherwise)."""
    mistake = exercise.mistakes[index]
    example = _example(exercise, result.case)
    if example is not None:
        stored = example.mistakes[index]
        return None if stored is None else _flatten(exercise, views.decode(stored, example.arrays))[1]
    key = (_case_key(exercise, result.case), mistake)    # names repeat: variants of one mistake
    if key not in _MISTAKE_OUTPUTS:
        try:
            with _quiet():
                _MISTAKE_OUTPUTS[key] = _flatten(exercise, mistake.output(**_copy(result.inputs)))[1]
        except Exception:
            _MISTAKE_OUTPUTS[key] = None
    return _MISTAKE_OUTPUTS[key]


def _can_output(exercise, index):
    """Whether catalogue entry `index` has outputs to compare (a runner names the others)."""
    if exercise.examples is not None:
        return any(e.mistakes[index] is not None for e in exercise.examples.values())
    return exercise.mistakes[index].output is not None


def _recognise(exercise, results):
    """The first catalogued mistake that reproduces every output the student got wrong (and right)."""
    for index, mistake in enumerate(exercise.mistakes):
        if not _can_output(exercise, index):
            continue  # a runner names this one itself (Problem.mistake)
        explained = 0
        consistent = True
        for r in results:
            if r.got is None or not r.wrong:
                continue
            m_out = _mistake_output(exercise, index, r)
            if m_out is None:
                continue  # the mistake cannot happen with these shapes
            if len(m_out) != len(r.got):
                consistent = False
                break
            for i in range(len(r.got)):
                # The mistake must explain the wrong outputs and leave the right ones right.
                same = _close(r.got[i], m_out[i], exercise.atol, exercise.rtol, equal_nan=True)
                if same and i in r.wrong:
                    explained += 1
                elif not same:
                    consistent = False
            if not consistent:
                break
        if consistent and explained:
            return mistake
    return None


def _failure_message(exercise, fn, results, counts):
    name = exercise.name
    head = f"{name} does not match {exercise.reference_name} yet."
    failing = [r for r in results if not r.ok]
    lines = [head]
    mistake = None
    edited = next((r for r in failing if r.edited), None)
    if failing:
        # A case whose values are wrong says more than one whose only fault is an edited argument.
        r = next((r for r in failing if r.got is None or r.wrong), failing[0])
        if r.got is not None and not r.wrong:
            lines.append(f"  On case {r.case.describe()} {_in_place_text(r.edited)}.")
        elif r.got is None:
            lines.append(f"  On case {r.case.describe()} {r.problem}.")
            mistake = r.mistake
        else:
            reported = {}                      # a listed output reports its first wrong item
            for i in r.wrong:
                out = r.outputs[i]
                base = out.name.split("[")[0]
                if "[" in out.name and base in reported:
                    reported[base] += 1
                    continue
                reported[base] = 0
                g, e = r.got[i], r.expected[i]
                if out.sequence:
                    lines.append(f"  On case {r.case.describe()}: {_compare_sequences(out, g, e)}.")
                elif out.at_least:
                    lines.append(f"  On case {r.case.describe()}: {out.name} is {_fmt(g)}, below "
                                 f"the floor {_fmt(e)}.")
                elif g.shape != e.shape:
                    lines.append(f"  On case {r.case.describe()}: {out.name} has shape {g.shape}, "
                                 f"expected {out.shape_text(r.case.sizes, e.shape)}.")
                else:
                    lines.append(f"  On case {r.case.describe()}: {_locate(out, g, e, exercise)}; "
                                 f"largest difference {_max_diff(g, e):.3g} "
                                 f"(tolerance {exercise.atol:g} + {exercise.rtol:g} x |reference|).")
                    if not np.isfinite(g).all() and np.isfinite(e).all():
                        lines.append(f"  {out.name} contains NaN or inf where the reference is finite.")
            for base, more in reported.items():
                if more:
                    lines.append(f"  {more} more array{'s' * (more > 1)} of {base} differ{'s' * (more == 1)} too.")
        mistake = mistake or _recognise(exercise, results)
    findings = []
    if mistake is None and edited is not None:
        # An argument changed in place fails the check on its own, whatever the values.
        findings = [diagnosis.Finding("in_place", edited.edited, f"{name} changes its argument "
                                      f"{edited.edited} in place.", 0)]
        if edited is not r:
            lines.append(f"  On case {edited.case.describe()} {_in_place_text(edited.edited)}.")
    elif mistake is None and failing:
        findings = _diagnose(exercise, fn, failing)
        lines += [f"  Diagnosis: {f.text}" for f in diagnosis.shown(findings)]
    missing_calls = [h for h in exercise.must_call if counts.get(h, 0) == 0]
    if mistake is None and missing_calls and not failing:
        helper = missing_calls[0]
        mistake = registry.Mistake(
            name=f"does not use {helper}",
            hint=f"build {name} from your own {helper}, calling it once per time step.",
            output=None)
        lines.append(f"  The values are right, but {name} never calls {helper}.")
    if mistake is not None:
        lines.append(f"  Recognised mistake: {mistake.name}. Hint: {mistake.hint}")
    for helper in exercise.must_call if fn is not None else ():
        helper_fn = getattr(fn, "__globals__", {}).get(helper)
        if callable(helper_fn) and failing:
            if not evaluate(helper, helper_fn).passed:
                lines.append(f"  Note: your {helper} does not pass its own check yet; fix it first.")
    return "\n".join(lines), (mistake.name if mistake else ""), findings


def _diagnose(exercise, fn, failing):
    """The findings of experiments on the first failing case that returned something (a
    function that ran elsewhere, fn None, is only looked at)."""
    for r in failing:
        if r.got is not None and r.wrong and not r.calls:
            return diagnosis.diagnose(exercise, r, _subject(exercise, fn, r))
    return []


def _subject(exercise, fn, result):
    """What diagnosis experiments with: the student's function run as the check runs it, and the
    exercise's reference where it is at hand (diagnosis.Subject)."""
    lengths = {}
    for k, out in enumerate(exercise.outputs):
        if out.listed:
            lengths[k] = sum(o.name.startswith(f"{out.name}[") for o in result.outputs)

    def student(inputs):
        returned = call_case(exercise, fn, result.case, inputs)
        if returned.problem:
            return None
        got, problem = _normalise(exercise, returned.value, lengths)
        return None if problem else got

    def reference(inputs):
        try:
            return _reference(exercise, inputs)[1]
        except Exception:
            return None

    return diagnosis.Subject(student=student if fn is not None else None,
                             reference=reference if exercise.reference is not None else None,
                             inputs_of=lambda case: make_inputs(exercise, case), fn=fn)


def _evaluate(exercise, fn, cases):
    if not callable(fn):
        return Result(exercise, False, f"{exercise.name}: expected a function, got {type(fn).__name__}.")
    with _spy(fn, exercise.must_call) as counts:
        results = [_run_case(exercise, fn, case) for case in cases]
    return _verdict(exercise, results, counts, fn)


# Every check in a notebook, and the grader for every submission, meets the same cases: the
# reference of a case (the Keras computation, the slow part) is made once per process, keyed by
# the case's fields, which determine it; or it is adopted ready-made from another process
# (prepare, adopt: the grading zygote computes them once for all the kernels it forks). Inputs
# are cheap, and made afresh for every use.
_REFERENCES = {}


def _case_key(exercise, case):
    return (exercise.name, case.label, case.hidden, case.seed, repr(case.sizes), case.dtype, case.note)


def _prepared(exercise, case):
    """(the case's inputs, a copy of its reference), the reference computed on first use (or
    read from a view)."""
    inputs = make_inputs(exercise, case)
    key = _case_key(exercise, case)
    if key not in _REFERENCES:
        example = _example(exercise, case)
        if example is not None:
            _REFERENCES[key] = _flatten(exercise, views.decode(example.reference, example.arrays))
        else:
            _REFERENCES[key] = _reference(exercise, inputs)
    outputs, expected, lengths = _REFERENCES[key]
    return inputs, (outputs, _copy(expected), dict(lengths))


def prepare(exercises):
    """Compute the reference of every hidden case of `exercises` (declarations; the views hold
    the visible ones); return them as bytes for adopt() in another process of the same
    installation."""
    import pickle
    for exercise in exercises:
        for case in exercise.select(hidden=True):
            _prepared(exercise, case)
    return pickle.dumps(_REFERENCES, protocol=pickle.HIGHEST_PROTOCOL)


def adopt(blob):
    """Use the references prepare() returned (where this process has none of its own)."""
    import pickle
    for key, reference in pickle.loads(blob).items():
        _REFERENCES.setdefault(key, reference)


def judge(exercise, cases, returned, calls=None):
    """The Result of `exercise` from what a function returned on `cases` (one Returned each).

    `calls` counts the calls of the exercise's must_call helpers (None: not counted, taken as made).
    Used where the function ran elsewhere; evaluate() is this with the function run here.
    """
    results = [judge_case(exercise, case, r, *_prepared(exercise, case)) for case, r in zip(cases, returned)]
    counts = calls if calls is not None else {h: 1 for h in exercise.must_call}
    return _verdict(exercise, results, counts, None)


def _verdict(exercise, results, counts, fn):
    cases = [r.case for r in results]
    calls = list(dict.fromkeys(c for r in results for c in r.calls))
    if calls:
        return Result(exercise, False, guard.describe(exercise.name, calls), cases=results)
    if all(r.ok for r in results) and all(counts.get(h, 0) > 0 for h in exercise.must_call):
        kind = "hidden" if cases and cases[0].hidden else "visible"
        worst = max((r.max_diff for r in results), default=0.0)
        plural = "s" if len(results) != 1 else ""
        floors = [(o.name, r.got[i]) for r in results for i, o in enumerate(r.outputs) if o.at_least]
        if floors:
            values = ", ".join(f"{name} {_fmt(v)}" for name, v in floors)
            message = (f"{exercise.name} meets {exercise.reference_name} on {len(results)} {kind} "
                       f"case{plural} ({values}).")
        else:
            message = (f"{exercise.name} matches {exercise.reference_name} on {len(results)} {kind} "
                       f"case{plural} (largest difference {worst:.1e}).")
        return Result(exercise, True, message, cases=results)
    message, mistake, findings = _failure_message(exercise, fn, results, counts)
    return Result(exercise, False, message, mistake=mistake, cases=results, findings=findings)
