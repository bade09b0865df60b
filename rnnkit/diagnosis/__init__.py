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
from rnnkit.diagnosis import experiments, hygiene, looking
from rnnkit.diagnosis.hygiene import in_place_edit
from rnnkit.diagnosis.lab import ROLES, Finding, Subject, _Lab
from rnnkit.runtime import quiet

__all__ = ["diagnose", "shown", "in_place_edit", "Finding", "Subject", "ROLES", "BUDGET_SECONDS",
           "PROBES", "OPTIONAL_PROBES"]

# Seconds after which no new experiment starts (a failing check's diagnosis costs about this).
BUDGET_SECONDS = 1.5
PROBES = ("transform", "repeat", "global", "restrict", "dependence", "starts")
# Probes an exercise turns on in its declaration (Exercise.probes_on), where they fit.
OPTIONAL_PROBES = ("substitute",)


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


_PROBE_FUNCTIONS = {"transform": looking._probe_transform, "starts": looking._probe_starts,
                    "repeat": hygiene._probe_repeat, "global": hygiene._probe_global,
                    "restrict": experiments._probe_restrict,
                    "dependence": experiments._probe_dependence,
                    "substitute": experiments._probe_substitute}
