"""Probes that run the student's function and the reference on changed inputs: restricted (bias
or state zero, one step, the upstream gradient at the last step only), changed one thing at a time
(an argument, a gate's columns, a time step, the padded positions, a batch row), or with another
value of an integer argument."""
import numpy as np

from rnnkit.diagnosis.lab import (_CLEARLY, _MOVES, _axis_of, _changeable, _comparable, _finding,
                                  _moved_steps, _moves, _output_dims, _perturbable, _take,
                                  _time_axis)
from rnnkit.registry import TIME_AXES

# The most time steps a dependence probe changes one at a time.
_MAX_STEPS = 5


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
