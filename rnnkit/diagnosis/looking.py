"""Probes that look at the failing case only: the reference transformed (reversed, shifted,
scaled, transposed, cut, in float16, swapped with another output), and where over time the
outputs start to differ."""
import numpy as np

from rnnkit.diagnosis.lab import _finding, _output_dims, _same_shape, _take, _time_axis, _within
from rnnkit.registry import AXIS_NAMES


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
