"""Hygiene: an argument changed in place (exact: it fails the check, rnnkit.checks), two identical
calls that differ, a result that follows a global variable of the notebook."""
import numpy as np

from rnnkit.diagnosis.lab import _finding, _moves


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
