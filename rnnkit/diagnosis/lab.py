"""The laboratory of diagnosis: the failing case, what the experiments run (a Subject the checks
engine hands over), how an input is changed and how outputs are compared. A change counts only
beyond the check's tolerance; the reference's only far beyond it."""
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from rnnkit.registry import AXIS_NAMES, TIME_AXES

# What an argument is, by its usual name (Exercise.roles adds to it).
ROLES = {"b": "bias", "by": "bias", "bias": "bias",
         "h0": "state", "c0": "state", "h_prev": "state", "c_prev": "state",
         "dh_seq": "upstream", "dout": "upstream", "dy": "upstream",
         "mask": "mask", "enc_mask": "mask"}
# A reference's output "clearly moves" when it changes by this many tolerances somewhere; the
# student's by _MOVES (far above float32 noise either way). "Still" is within one tolerance.
_CLEARLY = 50.0
_MOVES = 5.0


@dataclass(frozen=True)
class Finding:
    """What an experiment showed. `kind` and `subject` say it as data (counted in the class
    report, compared in the tests), `text` as a sentence for the student; `rank` orders findings,
    the most specific first."""
    kind: str
    subject: str
    text: str
    rank: int = 5


@dataclass
class Subject:
    """What the experiments run, as the checks engine (rnnkit.checks) hands it over.

    student(inputs): the student's flattened outputs on `inputs` (a dict like the case's), or
        None where it raised or returned something of another form; None: the function ran
        elsewhere, and only the probes that look at the failing case run.
    reference(inputs): the reference's flattened outputs, or None where it refuses the inputs;
        None: no reference at hand (a view whose reference stays with the answer keys).
    inputs_of(case): the inputs of another case of the exercise.
    fn: the student's function itself (the global variables it reads).
    """
    student: Callable = None
    reference: Callable = None
    inputs_of: Callable = None
    fn: Callable = None


class _Lab:
    """The failing case, the student's function, the reference, and how to run them."""

    def __init__(self, exercise, result, subject, budget):
        self.exercise = exercise
        self.subject = subject
        self.fn = subject.fn
        self.result = result
        self.budget = budget
        self.deadline = time.monotonic() + 3 * budget   # the first reference call resets it
        self.warm = False
        self.case = result.case
        self.inputs = result.inputs
        self.outputs = result.outputs
        self.got = result.got
        self.expected = result.expected
        self.ref_name = exercise.reference_name
        self.dims = _arg_dims(exercise, self.case, self.inputs, subject.inputs_of)
        self.roles = {a: r for a, r in ROLES.items() if a in exercise.args}
        self.roles.update(exercise.roles or {})
        self.rng = np.random.default_rng(20261207)

    def out_of_time(self):
        return time.monotonic() > self.deadline

    @property
    def can_run(self):
        return self.subject.student is not None and self.got is not None

    @property
    def can_compare(self):
        return self.can_run and self.subject.reference is not None

    def student(self, inputs):
        """The student's flattened outputs on `inputs`, or None."""
        got = self.subject.student(inputs)
        return got if got is not None and len(got) == len(self.got) else None

    def reference(self, inputs):
        """The reference's flattened outputs on `inputs`, or None. The budget counts from the
        end of the first call: building the first Keras layer of a process costs once what a
        hundred later calls cost."""
        try:
            return self.subject.reference(inputs)
        finally:
            if not self.warm:
                self.warm = True
                self.deadline = time.monotonic() + self.budget

    def tolerance(self, expected):
        return self.exercise.atol + self.exercise.rtol * np.abs(expected)

    def agrees(self, got, expected):
        """Whether every output of `got` is within the check's tolerance of `expected`."""
        return all(_same_shape(g, e) and _within(g, e, self.tolerance(e)) for g, e in zip(got, expected))

    def perturbed(self, name, where=Ellipsis, item=None):
        """A copy of the inputs with argument `name` changed at `where` (an index), or None.

        An argument that holds arrays (a list of gradients, a tuple of weights, an object of the
        kit such as an RNN as a function) has each of them changed, or only the `item`-th."""
        value = self.inputs[name]
        changed = self._changed(value, where, item)
        if changed is None:
            return None
        return dict(self.inputs, **{name: changed})

    def _changed(self, value, where=Ellipsis, item=None):
        if isinstance(value, np.ndarray):
            return self._changed_array(value, where) if _perturbable(value) else None
        if isinstance(value, (list, tuple)) and value and item is None:
            parts = [self._changed(v) for v in value]
            if all(p is None for p in parts):
                return None
            return type(value)(v if p is None else p for v, p in zip(value, parts))
        if isinstance(value, (list, tuple)) and item is not None and item < len(value):
            part = self._changed(value[item])
            return None if part is None else type(value)(part if k == item else v for k, v in enumerate(value))
        if hasattr(value, "to_state") and hasattr(type(value), "from_state") and item is None:
            try:
                state = self._changed(_listed(value.to_state()))
                return None if state is None else type(value).from_state(_unlisted(state, value.to_state()))
            except Exception:
                return None
        return None

    def _changed_array(self, value, where):
        changed = np.array(value, dtype=value.dtype)
        part = changed[where]
        if value.dtype.kind in "iu":                 # ids: others of the ids it holds
            changed[where] = self.rng.choice(np.unique(value), size=np.shape(part))
            return changed
        noise = self.rng.normal(size=np.shape(part))
        spread = float(np.std(value)) or 1.0
        if (value > 0).all():                        # probabilities, scales: stay positive
            changed[where] = part * np.exp(0.4 * noise)
            if value.ndim and np.allclose(value.sum(axis=-1), 1.0, atol=1e-6):
                changed /= changed.sum(axis=-1, keepdims=True)    # and distributions sum to 1
        else:
            changed[where] = part + 0.5 * spread * noise
        return changed


def _listed(state):
    """An object's state as a list of its values (a dict's values in order), for _changed."""
    return list(state.values()) if isinstance(state, dict) else state


def _unlisted(values, like):
    return dict(zip(like.keys(), values)) if isinstance(like, dict) else values


def _changeable(value):
    """Whether an experiment can change the argument (see _Lab.perturbed)."""
    if isinstance(value, np.ndarray):
        return _perturbable(value)
    if isinstance(value, (list, tuple)):
        return any(_changeable(v) for v in value)
    return hasattr(value, "to_state") and hasattr(type(value), "from_state")


def _perturbable(value):
    """Arrays an experiment may change: real numbers (not a 0/1 mask or one-hot rows, whose
    meaning a change would break) and integer ids with at least two distinct values."""
    if not isinstance(value, np.ndarray) or value.size == 0:
        return False
    if value.dtype.kind == "f":
        return not np.isin(value, (0.0, 1.0)).all()
    return value.dtype.kind in "iu" and len(np.unique(value)) > 1


def _same_shape(a, b):
    return a is not None and b is not None and np.shape(a) == np.shape(b)


def _within(a, b, tol):
    with np.errstate(all="ignore"):
        return bool((np.abs(a - b) <= tol).all())


def _moves(before, after, tol, factor=1.0):
    """Whether an output moved by more than `factor` tolerances somewhere (a change of shape is
    a move)."""
    if not _same_shape(before, after):
        return True
    with np.errstate(all="ignore"):
        return bool((np.abs(after - before) > factor * tol).any())


def _arg_dims(exercise, case, inputs, inputs_of=None):
    """{argument: its axes as dimension letters (None where unknown, "G" for an axis of gates)}:
    each axis's letter is the one size of the case it equals; where two sizes are equal, another
    case of the exercise whose sizes differ decides (its inputs from `inputs_of(case)`)."""
    dims = {}
    others = None
    for name in exercise.args:
        value = inputs.get(name)
        if not isinstance(value, np.ndarray):
            continue
        letters = _letters(exercise, name, value, case.sizes)
        if None in letters:
            if others is None:
                others = []
                for c in exercise.cases:
                    if c is not case and c.label != case.label and inputs_of is not None:
                        try:
                            others.append((c, inputs_of(c)))
                        except Exception:
                            continue
            for c, other in others:
                if isinstance(other.get(name), np.ndarray) and other[name].ndim == value.ndim:
                    candidate = _letters(exercise, name, other[name], c.sizes)
                    if None not in candidate:
                        letters = candidate
                        break
        dims[name] = tuple(letters)
    return dims


def _letters(exercise, name, value, sizes):
    """The letter of each axis of `value` (None where no single one fits), "G" for its gates."""
    gates = (exercise.gates or {}).get(name)
    candidates = []
    for k, n in enumerate(value.shape):
        if gates and k == value.ndim - 1 and n == len(gates) * sizes.get("H", -1):
            candidates.append(["G"])
            continue
        found = [d for d, s in sizes.items() if s == n and d in AXIS_NAMES]
        if len(found) > 1 and k == 0 and "N" in found and value.ndim > 1:
            found = ["N"]                   # arrays are batch-major
        candidates.append(found)
    # An axis that two sizes fit takes the one no other axis of the array has.
    taken = {found[0] for found in candidates if len(found) == 1}
    letters = []
    for found in candidates:
        left = found if len(found) <= 1 else [d for d in found if d not in taken]
        letters.append(left[0] if len(left) == 1 else None)
    return letters


def _time_axis(dims):
    hits = [k for k, d in enumerate(dims or ()) if d in TIME_AXES]
    return hits[0] if len(hits) == 1 else None


def _axis_of(dims, letter):
    hits = [k for k, d in enumerate(dims or ()) if d == letter]
    return hits[0] if len(hits) == 1 else None


def _output_dims(lab, i):
    out = lab.outputs[i]
    return out.dims if out.dims is not None and len(out.dims) == np.ndim(lab.expected[i]) else None


def _take(a, axis, where):
    index = [slice(None)] * a.ndim
    index[axis] = where
    return a[tuple(index)]


def _comparable(lab, i, got, expected):
    """Whether output i has one shape in all four results (the student's and the reference's,
    before and after the change): only then do positions correspond."""
    return _same_shape(got[i], lab.got[i]) and _same_shape(expected[i], lab.expected[i]) \
        and _same_shape(lab.got[i], lab.expected[i])


def _moved_steps(before, after, tol, axis, factor):
    with np.errstate(all="ignore"):
        moved = np.abs(after - before) > factor * tol
    other = tuple(k for k in range(moved.ndim) if k != axis)
    return [int(s) for s in np.flatnonzero(moved.any(axis=other) if other else moved)]


def _finding(kind, subject, text, rank):
    return Finding(kind, subject, text[0].upper() + text[1:], rank)
