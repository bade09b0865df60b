"""Diagnosis by experiment: what a failing function does wrong, found by trying things.

When a check fails and no catalogued mistake explains it, a teacher beside the student would not
compare numbers: they would change one input and watch which outputs move, zero the bias and see
whether the function then agrees, look for the first time step that goes wrong. These probes do
that with two things only: the student's function and the exercise's Keras reference. No NumPy
solution and no mistake model is used, so diagnosis works wherever the check runs.

    findings = diagnose(exercise, result, subject)   # the failing case's checks.CaseResult, and
                                                     # the student's function and the reference
    findings[0].text   # "Changing the input gate's columns W[:, 0:5] does not change your
                       #  c_next; in keras.layers.LSTMCell it does."

The probes, each one experiment or a look at what the failing case returned:

    transform     the student's output equals the reference's reversed in time, shifted by one
                  step, scaled, negated, rounded to float16, transposed, one step short or long,
                  or another output's (swapped)
    repeat        two identical calls give different results
    global        the result moves when a global variable of the notebook that the function
                  reads is changed
    restrict      with the bias zero, the initial state zero, one time step only, or the
                  upstream gradient only at the last step, the student agrees with the reference
    dependence    one argument (one gate's block of columns of a weight, one time step of a
                  sequence, one batch row) changed at a time: which outputs move for the student
                  and which for the reference
    starts        the first time step of an output over time that differs, and what it points to
    substitute    (where an exercise turns it on) the student's result is the reference's with
                  another value of an integer argument (a window, a step count, an n-gram order)

What the probes know of an exercise comes from its declaration (registry.Exercise): the argument
names, the outputs' dimension letters, the gates of a fused weight (Exercise.gates), what an
argument is where its name does not say (Exercise.roles), the probes that do not fit it
(Exercise.probes_off) and the optional ones that do (Exercise.probes_on). The letters of an
argument's axes are read off the cases' sizes.

A wrong finding is worse than none: an output "moves" only beyond the check's tolerance and the
reference's "moves" only far beyond it, and a finding is only made when the student's function and
the reference disagree about it. Findings never change a score. Diagnosis stops starting
experiments BUDGET_SECONDS after the reference's first call (which, the first time in a process,
builds Keras's first layer).
"""
import time
from dataclasses import dataclass

from typing import Callable

import numpy as np

from rnnkit.registry import AXIS_NAMES, TIME_AXES
from rnnkit.runtime import quiet

# Seconds after which no new experiment starts (a failing check's diagnosis costs about this).
BUDGET_SECONDS = 1.5
# What an argument is, by its usual name (Exercise.roles adds to it).
ROLES = {"b": "bias", "by": "bias", "bias": "bias",
         "h0": "state", "c0": "state", "h_prev": "state", "c_prev": "state",
         "dh_seq": "upstream", "dout": "upstream", "dy": "upstream",
         "mask": "mask", "enc_mask": "mask"}
PROBES = ("transform", "repeat", "global", "restrict", "dependence", "starts")
# Probes an exercise turns on in its declaration (Exercise.probes_on), where they fit.
OPTIONAL_PROBES = ("substitute",)
# A reference's output "clearly moves" when it changes by this many tolerances somewhere; the
# student's by _MOVES (far above float32 noise either way). "Still" is within one tolerance.
_CLEARLY = 50.0
_MOVES = 5.0
# The most time steps a dependence probe changes one at a time.
_MAX_STEPS = 5


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


# ----------------------------------------------------------------------------- public API
def diagnose(exercise, result, subject, budget=BUDGET_SECONDS, probes=None):
    """Findings from experiments on the failing case `result` (a checks.CaseResult) with what
    `subject` runs, most specific first, at most one per kind and subject. `probes` narrows the
    probes run (names in PROBES). Never raises.
    """
    try:
        off = set(exercise.probes_off or ())
        if "all" in off:
            return []
        lab = _Lab(exercise, result, subject, budget)
        default = PROBES + tuple(p for p in exercise.probes_on or () if p in OPTIONAL_PROBES)
        chosen = [p for p in (probes or default) if p not in off]
        found = []
        with quiet():                        # nothing of the experiments reaches stderr
            for name in chosen:
                if lab.out_of_time():
                    break
                found += _PROBE_FUNCTIONS[name](lab)
    except Exception:          # diagnosis must never break a check
        return []
    unique = {}
    for f in sorted(found, key=lambda f: f.rank):
        unique.setdefault((f.kind, f.subject), f)
    return list(unique.values())


def shown(findings, most=2):
    """The findings a message shows: the most specific, at most `most`, of different kinds."""
    picked, kinds = [], set()
    for f in findings:
        if f.kind in kinds:
            continue
        picked.append(f)
        kinds.add(f.kind)
        if len(picked) == most:
            break
    return picked


def in_place_edit(before, after, args):
    """(the first argument that `after` holds changed from `before`, the index of its first
    changed entry), or ("", None): `before` and `after` are {arg: value}, as the function was
    given them and as they are after its call. Only arrays count (lists of them too): an rng or
    a model passed in changes by being used."""
    for name in args:
        where = _changed_at(before.get(name), after.get(name))
        if where is not None:
            return name, where
    return "", None


def _changed_at(a, b):
    """The first index at which array a and b differ (recursively in lists), or None."""
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        if a.shape != b.shape or a.dtype != b.dtype:
            return ()
        same = (a == b) | (np.isnan(a) & np.isnan(b)) if a.dtype.kind in "fc" else (a == b)
        if same.all():
            return None
        return tuple(int(i) for i in np.argwhere(~same)[0])
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b):
            return ()
        for k, (x, y) in enumerate(zip(a, b)):
            where = _changed_at(x, y)
            if where is not None:
                return (k,) + where
    return None


# ----------------------------------------------------------------------------- the laboratory
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


# ----------------------------------------------------------------------------- axes of arguments
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
    gates = (exercise.gates or {}).get(name)
    letters = []
    for k, n in enumerate(value.shape):
        if gates and k == value.ndim - 1 and n == len(gates) * sizes.get("H", -1):
            letters.append("G")
            continue
        found = [d for d, s in sizes.items() if s == n and d in AXIS_NAMES]
        if len(found) > 1 and k == 0 and "N" in found and value.ndim > 1:
            found = ["N"]                   # arrays are batch-major
        letters.append(found if len(found) != 1 else found[0])
    # An axis that two sizes fit takes the one no other axis of the array has.
    taken = {d for d in letters if isinstance(d, str)}
    return [d if isinstance(d, str) or d is None
            else (lambda left: left[0] if len(left) == 1 else None)([x for x in d if x not in taken])
            for d in letters]


def _time_axis(dims):
    hits = [k for k, d in enumerate(dims or ()) if d in TIME_AXES]
    return hits[0] if len(hits) == 1 else None


def _axis_of(dims, letter):
    hits = [k for k, d in enumerate(dims or ()) if d == letter]
    return hits[0] if len(hits) == 1 else None


def _output_dims(lab, i):
    out = lab.outputs[i]
    return out.dims if out.dims is not None and len(out.dims) == np.ndim(lab.expected[i]) else None


# ----------------------------------------------------------------------------- probe: transform
def _probe_transform(lab):
    """Is the student's output the reference's, transformed? Looks at the failing case only."""
    if lab.got is None:
        return []
    found = []
    wrong = list(lab.result.wrong)
    for i in wrong:
        g, e, out = lab.got[i], lab.expected[i], lab.outputs[i]
        tol = lab.tolerance(e)
        if _same_shape(g, e) and _within(g, e, tol):
            continue                                 # right after all
        dims = _output_dims(lab, i)
        name = out.name
        yours, theirs = f"what you return as {name}", f"{lab.ref_name}'s"
        # Two outputs swapped, or one output in another's place.
        for j, e2 in enumerate(lab.expected):
            if j != i and _same_shape(g, e2) and _within(g, e2, lab.tolerance(e2)):
                other = lab.outputs[j].name
                if j in wrong and _same_shape(lab.got[j], e) and _within(lab.got[j], e, tol):
                    text = (f"your {name} and {other} are swapped: what you return as {name} is "
                            f"{lab.ref_name}'s {other}.")
                else:
                    text = f"what you return as {name} equals {lab.ref_name}'s {other}."
                found.append(_finding("transform", "swapped", text, 1))
                break
        if g.shape != e.shape:
            found += _shape_transforms(lab, name, g, e, dims)
            continue
        t = _time_axis(dims)
        if t is not None and e.shape[t] > 1:
            flipped = np.flip(e, axis=t)
            if not _within(e, flipped, tol) and _within(g, flipped, lab.tolerance(flipped)):
                found.append(_finding("transform", "reversed",
                                      f"{yours} is {theirs} reversed in time.", 1))
                continue
            later = _take(g, t, slice(1, None)), _take(e, t, slice(None, -1))
            earlier = _take(g, t, slice(None, -1)), _take(e, t, slice(1, None))
            late = _within(*later, lab.tolerance(later[1]))
            early = _within(*earlier, lab.tolerance(earlier[1]))
            if late and not early:
                found.append(_finding("transform", "shifted", f"{yours} is {theirs} "
                                      "shifted one step later: yours at t equals its at t-1.", 1))
                continue
            if early and not late:
                found.append(_finding("transform", "shifted", f"{yours} is {theirs} "
                                      "shifted one step earlier: yours at t equals its at t+1.", 1))
                continue
        swapped = _swapped_axes(g, e, lab)
        if swapped:
            a, b = swapped
            letters = dims or [str(k) for k in range(e.ndim)]
            found.append(_finding("transform", "transposed", f"{yours} is {theirs} "
                                  f"with its axes {letters[a]} and {letters[b]} swapped: "
                                  "transposed.", 1))
            continue
        scale = _scale(g, e, lab.case.sizes)
        if scale is not None:
            if abs(scale + 1) < 1e-6:
                found.append(_finding("transform", "negated",
                                      f"{yours} is {theirs} with the opposite sign.", 1))
            else:
                found.append(_finding("transform", "scaled", f"{yours} is {theirs} "
                                      f"times {_factor_text(scale, lab.case.sizes)}.", 1))
            continue
        if _float16(g, e):
            found.append(_finding("transform", "float16", f"{yours} agrees with "
                                  f"{lab.ref_name}'s only to float16 precision (3 digits): "
                                  "something is computed in float16.", 1))
    return found


def _swapped_axes(g, e, lab):
    """(a, b): two axes of one length whose swap turns e into g (and changes e), or None."""
    for a in range(e.ndim):
        for b in range(a + 1, e.ndim):
            if e.shape[a] != e.shape[b] or e.shape[a] < 2:
                continue
            moved = np.swapaxes(e, a, b)
            tol = lab.tolerance(moved)
            if not _within(e, moved, tol) and _within(g, moved, tol):
                return a, b
    return None


def _take(a, axis, where):
    index = [slice(None)] * a.ndim
    index[axis] = where
    return a[tuple(index)]


def _scale(g, e, sizes):
    """The factor c (not 1) with g = c * e to 1e-6 relative, or None. One number is a multiple
    of any other: a result of fewer than 3 values counts only with -1 or a factor that a size
    explains (divided by N, multiplied by T)."""
    denominator = float(np.sum(e * e))
    if not np.isfinite(g).all() or denominator < 1e-24:
        return None
    c = float(np.sum(g * e)) / denominator
    if not np.isfinite(c) or c == 0 or abs(c - 1) < 1e-3:
        return None
    if np.linalg.norm(g - c * e) > 1e-6 * np.linalg.norm(g) + 1e-12:
        return None
    if e.size < 3 and abs(c + 1) > 1e-6 and "(" not in _factor_text(c, sizes):
        return None
    return c


def _factor_text(c, sizes):
    """'0.333 (divided by N=3)', '2 (multiplied by T=2)', '0.75 ((T - 1)/T with T=4)' or '0.5':
    the factor, and a size or a constant that explains it."""
    text = f"{c:.3g}"
    for why, value in _explanations(sizes):
        if abs(c - value) < 1e-6 * max(1.0, abs(value)):
            return f"{text} ({why})"
    return text


def _explanations(sizes):
    """(words, factor) for the factors a mistake of counting or of logarithms gives."""
    import math
    found = [("a log in base 10, not the natural log", 1 / math.log(10)),
             ("a log in base 2, not the natural log", 1 / math.log(2))]
    n = {k: v for k, v in sizes.items() if isinstance(v, int) and v >= 2}
    for a, x in n.items():
        found += [(f"divided by {a}={x}", 1 / x), (f"multiplied by {a}={x}", x),
                  (f"(T - 1)/T with T={x}".replace("T", a), (x - 1) / x),
                  (f"T/(T - 1) with T={x}".replace("T", a), x / (x - 1))]
        for b, y in n.items():
            if a != b:
                found += [(f"divided by {a}*{b}={x * y}", 1 / (x * y)), (f"{a}/{b} = {x}/{y}", x / y)]
                if x > y:
                    found.append((f"({a} - {b})/{a} with {a}={x}, {b}={y}", (x - y) / x))
                    found.append((f"{a}/({a} - {b}) with {a}={x}, {b}={y}", x / (x - y)))
    return found


def _float16(g, e):
    """g is e rounded to float16: g holds float16 values, e does not (ids and counts do)."""
    if not np.isfinite(g).all() or not np.isfinite(e).all() or np.abs(e).max(initial=0) > 6e4:
        return False
    if np.array_equal(e.astype(np.float16).astype(np.float64), e):
        return False
    as16 = g.astype(np.float16).astype(np.float64)
    if not np.array_equal(as16, g):
        return False
    return _within(g, e, 2e-3 * np.abs(e) + 1e-4)


def _shape_transforms(lab, name, g, e, dims):
    """A transposed output, or one a step (window, row) short or long."""
    found = []
    yours, theirs = f"what you return as {name}", f"{lab.ref_name}'s"
    if g.ndim == e.ndim and sorted(g.shape) == sorted(e.shape) and g.ndim >= 2:
        import itertools
        for order in itertools.permutations(range(e.ndim)):
            if order == tuple(range(e.ndim)):
                continue
            moved = np.transpose(e, order)
            if moved.shape == g.shape and _within(g, moved, lab.tolerance(moved)):
                axes = [(dims or "?" * e.ndim)[k] for k in order]
                found.append(_finding("transform", "transposed", f"{yours} is "
                                      f"{lab.ref_name}'s with its axes in the order "
                                      f"({', '.join(map(str, axes))}): transposed.", 1))
                return found
    if g.ndim == e.ndim:
        diff = [k for k in range(e.ndim) if g.shape[k] != e.shape[k]]
        if len(diff) == 1:
            k = diff[0]
            axis = AXIS_NAMES.get(dims[k], "entry") if dims else "entry"
            axis = {"t": "time step", "step ahead k": "step ahead"}.get(axis, axis)
            n = abs(g.shape[k] - e.shape[k])
            some = f"{n} {axis}{'s' * (n > 1)}" if n > 1 else f"one {axis}"
            few = g.shape[k] < e.shape[k]
            kind = "truncated" if few else "padded"
            short, long_ = (g, e) if few else (e, g)
            ends = ((slice(None, short.shape[k]), "last"), (slice(-short.shape[k], None), "first"))
            for part, which in ends:
                cut = _take(long_, k, part)
                if short.shape[k] and _within(short, cut, lab.tolerance(cut)):
                    what = (f"without its {which} {some}" if few else f"with {some} more at the "
                            f"{'end' if which == 'last' else 'start'}")
                    found.append(_finding("transform", kind, f"{yours} is {theirs} "
                                          f"{what}: {some} too {'few' if few else 'many'} (a loop "
                                          "or slice off by one?).", 1))
                    return found
            if n == 1:
                found.append(_finding("transform", kind, f"{yours} has one {axis} "
                                      f"{'fewer' if few else 'more'} than {lab.ref_name}'s "
                                      f"({g.shape[k]}, not {e.shape[k]}): a loop or slice off "
                                      "by one?", 3))
    return found


# ----------------------------------------------------------------------------- probe: repeat
def _probe_repeat(lab):
    """Two calls with the same inputs: the same results?"""
    if not lab.can_run:
        return []
    again = lab.student(lab.inputs)
    if again is None:
        return []
    for i, (a, b) in enumerate(zip(lab.got, again)):
        if _moves(a, b, lab.tolerance(a)):
            name = lab.outputs[i].name
            return [_finding("nondeterministic", "", f"two calls with the same inputs give "
                             f"different {name}: draw random numbers only from the rng you are "
                             "given, and keep no state between calls.", 1)]
    return []


# ----------------------------------------------------------------------------- probe: global
def _probe_global(lab):
    """Change each global variable of the notebook that the function reads: does it move?"""
    if not lab.can_run:
        return []
    namespace = getattr(lab.fn, "__globals__", None)
    if namespace is None:
        return []
    found = []
    for name in _global_names(lab.fn):
        if lab.out_of_time() or name not in namespace:
            continue
        value = namespace[name]
        changed = _changed_global(value)
        if changed is None or _given_constant(name, value) or _constant_name(name):
            continue
        namespace[name] = changed
        try:
            got = lab.student(lab.inputs)
        finally:
            namespace[name] = value
        if got is not None and any(_moves(a, b, lab.tolerance(a)) for a, b in zip(lab.got, got)):
            shown = f" (now {value})" if np.ndim(value) == 0 else ""
            found.append(_finding("global", name, f"your result changes when the notebook's "
                                  f"variable {name}{shown} changes: a graded function should use "
                                  "its arguments only.", 2))
    return found


def _constant_name(name):
    """EPS, MAX_LEN: a constant by its name, which a function may read. A single capital (H, T)
    is a size the notebook happened to use, which the arguments' shapes give."""
    return len(name) > 1 and name.isupper()


def _global_names(fn):
    code = getattr(fn, "__code__", None)
    names, stack = [], [code] if code is not None else []
    while stack:
        c = stack.pop()
        names += [n for n in c.co_names if n not in names]
        stack += [k for k in c.co_consts if hasattr(k, "co_names")]
    return names


def _changed_global(value):
    if isinstance(value, bool) or isinstance(value, np.bool_):
        return None
    if isinstance(value, (int, np.integer)):
        return value + 1
    if isinstance(value, (float, np.floating)):
        return value * 1.5 + 0.5
    if isinstance(value, np.ndarray) and value.dtype.kind in "fi" and value.size:
        return value + 1
    return None


def _given_constant(name, value):
    """A constant the notebook imported from the kit (the token ids of 09): reading it is right."""
    import sys
    for module_name, module in list(sys.modules.items()):
        if module_name.startswith("rnnkit.exercises.") and module is not None:
            if name in vars(module) and vars(module)[name] is value:
                return True
    return False


# ----------------------------------------------------------------------------- probe: restrict
def _probe_restrict(lab):
    """Rerun with part of the inputs zeroed or cut: does the student agree then?"""
    if not lab.can_compare or lab.agrees(lab.got, lab.expected):
        return []                  # agreeing on less says something only of what disagreed
    found = []
    for what, inputs, text in _restrictions(lab):
        if lab.out_of_time():
            break
        expected = lab.reference(inputs)
        if expected is None:
            continue
        if not any(np.any(e) for e in expected):
            continue                     # everything is zero then: agreeing would tell nothing
        got = lab.student(inputs)
        if got is not None and lab.agrees(got, expected):
            # Cutting to one step removes whatever joins the steps: a wide hint, shown after
            # the narrower ones.
            found.append(_finding("agrees_when", what, text, 4 if what == "one step" else 2))
    return found


def _restrictions(lab):
    """(what, inputs, sentence) for each restriction that fits the exercise."""
    by_role = {}
    for name, role in lab.roles.items():
        if _perturbable(lab.inputs.get(name)) or isinstance(lab.inputs.get(name), np.ndarray):
            by_role.setdefault(role, []).append(name)
    ref = lab.ref_name
    if by_role.get("bias"):
        names = by_role["bias"]
        inputs = dict(lab.inputs, **{n: np.zeros_like(lab.inputs[n]) for n in names})
        if any(np.any(lab.inputs[n]) for n in names):
            yield ("zero bias", inputs, f"with {_and(names)} set to zero yours agrees with {ref}: "
                   "look at how the bias is added.")
    if by_role.get("state"):
        names = by_role["state"]
        inputs = dict(lab.inputs, **{n: np.zeros_like(lab.inputs[n]) for n in names})
        if any(np.any(lab.inputs[n]) for n in names):
            yield ("zero state", inputs, f"with {_and(names)} set to zero yours agrees with "
                   f"{ref}: look at how the initial state is used.")
    for name in by_role.get("upstream", ()):
        t = _time_axis(lab.dims.get(name))
        value = lab.inputs[name]
        if t is not None and value.shape[t] > 1:
            cut = np.zeros_like(value)
            index = [slice(None)] * value.ndim
            index[t] = -1
            cut[tuple(index)] = value[tuple(index)]
            yield ("upstream at last step", dict(lab.inputs, **{name: cut}),
                   f"with {name} zero except at the last step yours agrees with {ref}: the "
                   "gradients that arrive at the earlier steps are lost.")
    steps = {n: _time_axis(d) for n, d in lab.dims.items() if _time_axis(d) is not None}
    outputs = {d for o in lab.outputs for d in (o.dims or ()) if d in TIME_AXES}
    for letter in sorted({lab.dims[n][t] for n, t in steps.items()}):
        cut = {n: t for n, t in steps.items() if lab.dims[n][t] == letter}
        lengths = {lab.inputs[n].shape[t] for n, t in cut.items()}
        if len(lengths) != 1 or lengths.pop() < 2 or (letter in outputs and outputs != {letter}):
            continue                      # cut, the outputs over time would no longer match up
        inputs = dict(lab.inputs)
        for n, t in cut.items():
            inputs[n] = _take(lab.inputs[n], t, slice(0, 1)).copy()
        names = _and(sorted(cut))
        yield ("one step", inputs, f"with {names} cut to its first time step yours agrees with "
               f"{ref}: look at what joins the steps (the state carried from one to the next, "
               "or how they are combined).")


def _and(names):
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


# ----------------------------------------------------------------------------- probe: dependence
def _probe_dependence(lab):
    """Change one thing at a time; compare which outputs move for the student and the reference."""
    if not lab.can_compare:
        return []
    found = []
    for experiment in _experiments(lab):
        if lab.out_of_time():
            break
        found += experiment()
    return found


def _experiments(lab):
    """Thunks, each one experiment returning findings, in order of how much they tell."""
    for name in lab.exercise.args:
        if lab.roles.get(name) == "fixed" or not _perturbable(lab.inputs.get(name)):
            continue
        gates = (lab.exercise.gates or {}).get(name)
        dims = lab.dims.get(name) or ()
        if gates and dims and dims[-1] == "G":
            for k, gate in enumerate(gates):
                yield lambda name=name, k=k, gate=gate, n=len(gates): _gate_experiment(lab, name, k, gate, n)
    for name in lab.exercise.args:
        value = lab.inputs.get(name)
        if lab.roles.get(name) != "fixed" and _changeable(value):
            yield lambda name=name: _argument_experiment(lab, name)
            if isinstance(value, tuple) and 1 < len(value) <= 4:     # a tuple of weights
                for k in range(len(value)):
                    yield lambda name=name, k=k: _item_experiment(lab, name, k)
    for name in lab.exercise.args:
        t = _time_axis(lab.dims.get(name))
        if t is None or lab.roles.get(name) == "fixed" or not _perturbable(lab.inputs.get(name)):
            continue
        T = lab.inputs[name].shape[t]
        if T > 1:
            yield lambda name=name, t=t, T=T: _time_experiment(lab, name, t, T)
    for mask in (n for n, role in lab.roles.items() if role == "mask"):
        for name in lab.exercise.args:
            if name != mask and lab.roles.get(name) != "fixed" and _perturbable(lab.inputs.get(name)):
                yield lambda mask=mask, name=name: _masked_experiment(lab, mask, name)
    if any(_axis_of(d, "N") is not None for d in lab.dims.values()) and lab.case.sizes.get("N", 1) > 1:
        yield lambda: _batch_experiment(lab)


def _run_both(lab, inputs):
    if inputs is None:
        return None, None
    expected = lab.reference(inputs)
    if expected is None:
        return None, None
    return lab.student(inputs), expected


def _compare(lab, got, expected, subject, what, rank):
    """Findings from one changed input: outputs that move for one side only."""
    found = []
    if got is None or expected is None:
        return found
    for i, out in enumerate(lab.outputs):
        if not _comparable(lab, i, got, expected):
            continue
        tol = lab.tolerance(lab.expected[i])
        ref_moves = _moves(lab.expected[i], expected[i], tol, _CLEARLY)
        ref_still = not _moves(lab.expected[i], expected[i], tol)
        yours_moves = _moves(lab.got[i], got[i], tol, _MOVES)
        yours_still = not _moves(lab.got[i], got[i], tol)
        if ref_moves and yours_still:
            found.append(_finding("ignores", subject, f"changing {what} does not change your "
                                  f"{out.name}; in {lab.ref_name} it does.", rank))
        elif ref_still and yours_moves:
            found.append(_finding("extra", subject, f"changing {what} changes your {out.name}; "
                                  f"in {lab.ref_name} it does not.", rank))
    return found


def _comparable(lab, i, got, expected):
    """Whether output i has one shape in all four results (the student's and the reference's,
    before and after the change): only then do positions correspond."""
    return _same_shape(got[i], lab.got[i]) and _same_shape(expected[i], lab.expected[i]) \
        and _same_shape(lab.got[i], lab.expected[i])


def _gate_experiment(lab, name, k, gate, n):
    from rnnkit.reference import GATE_NAMES
    value = lab.inputs[name]
    width = value.shape[-1] // n
    columns = slice(k * width, (k + 1) * width)
    where = (Ellipsis, columns)
    got, expected = _run_both(lab, lab.perturbed(name, where))
    index = ", ".join([":"] * (value.ndim - 1) + [f"{k * width}:{(k + 1) * width}"])
    what = f"the {GATE_NAMES.get(gate, gate)}'s columns {name}[{index}]"
    return _compare(lab, got, expected, f"{name}:{gate}", what, 2)


def _argument_experiment(lab, name):
    got, expected = _run_both(lab, lab.perturbed(name))
    return _compare(lab, got, expected, name, name, 4)


def _item_experiment(lab, name, k):
    got, expected = _run_both(lab, lab.perturbed(name, item=k))
    return _compare(lab, got, expected, f"{name}[{k}]", f"{name}[{k}]", 3)


def _steps(T):
    chosen = sorted({0, 1, T // 2, T - 2, T - 1})
    return [t for t in chosen if 0 <= t < T][:_MAX_STEPS]


def _time_experiment(lab, name, axis, T):
    """Change the argument at one time step: which steps of each output over time move?"""
    letter = lab.dims[name][axis]
    found = []
    for t in _steps(T):
        if lab.out_of_time():
            break
        where = tuple([slice(None)] * axis + [t])
        got, expected = _run_both(lab, lab.perturbed(name, where))
        if got is None or expected is None:
            continue
        for i, out in enumerate(lab.outputs):
            dims = _output_dims(lab, i)
            s_axis = _axis_of(dims, letter)
            if s_axis is None or not _comparable(lab, i, got, expected):
                continue
            tol = lab.tolerance(lab.expected[i])
            yours = _moved_steps(lab.got[i], got[i], tol, s_axis, 1.0)
            yours_clearly = _moved_steps(lab.got[i], got[i], tol, s_axis, _MOVES)
            theirs = _moved_steps(lab.expected[i], expected[i], tol, s_axis, 1.0)
            theirs_clearly = _moved_steps(lab.expected[i], expected[i], tol, s_axis, _CLEARLY)
            ahead = [s for s in yours_clearly if s < t and s not in theirs]
            if ahead and not any(s < t for s in theirs):
                found.append(_finding("looks_ahead", name, f"changing {name} at t={t} changes "
                                      f"your {out.name} at t={ahead[0]}: a step looks ahead.", 3))
            later = [s for s in theirs_clearly if s > t and s not in yours]
            if later and not any(s > t for s in yours):
                text = (f"changing {name} at t={t} does not change your {out.name} at "
                        f"t={later[0]}; in {lab.ref_name} it does")
                if "state" in lab.roles.values():
                    found.append(_finding("not_carried", name, text + ": the state is not carried "
                                          "from step to step.", 3))
                else:
                    found.append(_finding("ignores", name, text + ".", 3))
        # An output that does not run over this time axis (the last state, a gradient, a
        # forecast over the steps ahead): does it see this step at all?
        upstream = lab.roles.get(name) == "upstream"
        recurrent = "state" in lab.roles.values()
        for i, out in enumerate(lab.outputs):
            dims = _output_dims(lab, i)
            if dims is None or letter in dims or not _comparable(lab, i, got, expected):
                continue
            tol = lab.tolerance(lab.expected[i])
            text = f"changing {name} at t={t} does not change your {out.name}; in {lab.ref_name} it does"
            if _moves(lab.expected[i], expected[i], tol, _CLEARLY) and not _moves(lab.got[i], got[i], tol):
                if upstream:
                    found.append(_finding("ignores", name, text + f": the gradient arriving at t={t} is lost.", 3))
                elif recurrent and t < T - 1 and not any(d in TIME_AXES for d in dims):
                    found.append(_finding("not_carried", name, text + ": the state is not carried to the end.", 3))
                else:
                    found.append(_finding("ignores", name, text + ".", 3))
            elif not _moves(lab.expected[i], expected[i], tol) and _moves(lab.got[i], got[i], tol, _MOVES):
                found.append(_finding("extra", name, f"changing {name} at t={t} changes your "
                                      f"{out.name}; in {lab.ref_name} it does not.", 3))
    return found


def _moved_steps(before, after, tol, axis, factor):
    with np.errstate(all="ignore"):
        moved = np.abs(after - before) > factor * tol
    other = tuple(k for k in range(moved.ndim) if k != axis)
    return [int(s) for s in np.flatnonzero(moved.any(axis=other) if other else moved)]


def _masked_experiment(lab, mask, name):
    """Change `name` only where `mask` is 0 (padding): the reference must not notice."""
    m, dims, mask_dims = lab.inputs.get(mask), lab.dims.get(name), lab.dims.get(mask)
    if not isinstance(m, np.ndarray) or not dims or not mask_dims or None in mask_dims \
            or not set(mask_dims) <= set(dims) or m.all():
        return []
    # The mask's axes, in the argument's order, broadcast over the argument's other axes.
    order = [dims.index(d) for d in mask_dims]          # the argument's axis of each mask axis
    shape = [1] * len(dims)
    for axis, n in zip(order, m.shape):
        shape[axis] = n
    padded = np.broadcast_to(np.transpose(m == 0, np.argsort(order)).reshape(shape),
                             lab.inputs[name].shape)
    inputs = lab.perturbed(name)
    if inputs is None:
        return []
    inputs[name] = np.where(padded, inputs[name], lab.inputs[name])
    got, expected = _run_both(lab, inputs)
    found = []
    if got is None or expected is None:
        return found
    for i, out in enumerate(lab.outputs):
        if not _comparable(lab, i, got, expected):
            continue
        tol = lab.tolerance(lab.expected[i])
        if not _moves(lab.expected[i], expected[i], tol) and _moves(lab.got[i], got[i], tol, _MOVES):
            found.append(_finding("extra", name, f"changing {name} where {mask} is 0 changes "
                                  f"your {out.name}; in {lab.ref_name} it does not: the padded "
                                  "positions still count.", 2))
    return found


def _batch_experiment(lab):
    """Change batch row 0 of every input: do other rows of the student's outputs move?"""
    inputs = dict(lab.inputs)
    changed = False
    for name, dims in lab.dims.items():
        n = _axis_of(dims, "N")
        if n is None or lab.roles.get(name) == "fixed" or not _perturbable(lab.inputs.get(name)):
            continue
        where = tuple([slice(None)] * n + [0])
        new = dict(lab.perturbed(name, where) or {})
        if new:
            inputs[name] = new[name]
            changed = True
    if not changed:
        return []
    got, expected = _run_both(lab, inputs)
    if got is None or expected is None:
        return []
    found = []
    for i, out in enumerate(lab.outputs):
        n = _axis_of(_output_dims(lab, i), "N")
        if n is None or not _comparable(lab, i, got, expected):
            continue
        tol = lab.tolerance(lab.expected[i])
        yours = _moved_steps(lab.got[i], got[i], tol, n, _MOVES)
        theirs = _moved_steps(lab.expected[i], expected[i], tol, n, 1.0)
        others = [r for r in yours if r != 0 and r not in theirs]
        if others and theirs == [0]:
            found.append(_finding("mixes_rows", out.name, f"changing batch row 0 of the inputs "
                                  f"changes row {others[0]} of your {out.name}: the rows of a "
                                  "batch must not mix.", 3))
    return found


# ----------------------------------------------------------------------------- probe: starts
def _probe_starts(lab):
    """Where over time the outputs start to differ, and what that points to."""
    if lab.got is None:
        return []
    found = []
    for i in lab.result.wrong:
        g, e, out = lab.got[i], lab.expected[i], lab.outputs[i]
        dims = _output_dims(lab, i)
        t = _time_axis(dims)
        if t is None or g.shape != e.shape or e.shape[t] < 3:
            continue
        T = e.shape[t]
        with np.errstate(all="ignore"):
            bad = ~(np.abs(g - e) <= lab.tolerance(e))
        other = tuple(k for k in range(bad.ndim) if k != t)
        steps = [int(s) for s in np.flatnonzero(bad.any(axis=other) if other else bad)]
        name = out.name
        zero = [s for s in steps if not _take(g, t, s).any() and _take(e, t, s).any()]
        if zero and zero == steps and (zero[-1] == T - 1 or zero[0] == 0) \
                and zero == list(range(zero[0], zero[-1] + 1)):
            where = f"t={zero[0]}" if len(zero) == 1 else f"t={zero[0]}..{zero[-1]}"
            found.append(_finding("starts", "last step" if zero[-1] == T - 1 else "first step",
                                  f"in your {name}, {where} is all zeros: "
                                  f"{'that step is' if len(zero) == 1 else 'those steps are'} "
                                  "never computed (a loop off by one?).", 1))
            continue
        if steps == list(range(T)):
            if "state" not in lab.roles.values():
                continue                 # no state: every step is simply another output
            found.append(_finding("starts", "every step", f"every step of your {name} differs, "
                                  "from t=0: look at the step itself, or at the state it starts "
                                  "from.", 6))
        elif steps == list(range(1, T)):
            found.append(_finding("starts", "after step 0", f"in your {name}, t=0 is right and "
                                  "every later step wrong: look at what is carried from one step "
                                  "to the next.", 5))
        elif steps == [T - 1]:
            found.append(_finding("starts", "last step", f"only the last step of your {name} "
                                  "differs: look at the end of the loop.", 2))
        elif steps == [0]:
            found.append(_finding("starts", "first step", f"only t=0 of your {name} differs: "
                                  "look at the first step (the initial state).", 2))
        elif steps == list(range(T - 1)):
            found.append(_finding("starts", "before the last step", f"in your {name}, only the "
                                  "last step is right: look at what is carried back from one "
                                  "step to the one before.", 5))
        elif steps and steps == list(range(steps[0], T)):
            found.append(_finding("starts", "later", f"in your {name}, the steps up to "
                                  f"t={steps[0] - 1} are right and every later one wrong.", 6))
    return found


def _finding(kind, subject, text, rank):
    return Finding(kind, subject, text[0].upper() + text[1:], rank)


# ----------------------------------------------------------------------------- probe: substitute
def _probe_substitute(lab):
    """Is the student's result what the reference gives with another value of an integer
    argument (a window, a step count, an n-gram order)? Then that argument is not used as given."""
    if not lab.can_compare or lab.agrees(lab.got, lab.expected):
        return []
    found = []
    for name in lab.exercise.args:
        value = lab.inputs.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or lab.roles.get(name) == "fixed":
            continue
        for other in sorted(_other_values(lab, name, int(value)) - {int(value)}):
            if other < 1 or lab.out_of_time():
                continue
            expected = lab.reference(dict(lab.inputs, **{name: other}))
            if expected is None or lab.agrees(expected, lab.expected):
                continue                 # the same result either way (a window past the end)
            if lab.agrees(lab.got, expected):
                found.append(_finding("substitute", name, f"your result is what {lab.ref_name} "
                                      f"gives with {name}={other}, not {name}={value}: look at how "
                                      f"{name} is used.", 1))
                break
    return found


def _other_values(lab, name, value):
    """The values to try for an integer argument: small ones, one off, and the case's others
    (a value that a notebook's example uses is the one a student hard-codes)."""
    values = {1, 2, 3, 4, value - 1, value + 1}
    for case in lab.exercise.cases:
        try:
            other = lab.subject.inputs_of(case).get(name) if lab.subject.inputs_of else None
        except Exception:
            continue
        if isinstance(other, (int, np.integer)) and not isinstance(other, bool):
            values.add(int(other))
    return values


_PROBE_FUNCTIONS = {"substitute": _probe_substitute, "transform": _probe_transform, "repeat": _probe_repeat,
                    "global": _probe_global, "restrict": _probe_restrict,
                    "dependence": _probe_dependence, "starts": _probe_starts}
