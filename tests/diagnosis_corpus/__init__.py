"""Wrong implementations that no catalogue lists, as students write them, and what diagnosis
(rnnkit.diagnosis) should find in each; one module per notebook, named as in tests/mutants/.

Each module holds NOTEBOOK and

    WRONG  = {exercise: [(what the student did, acceptable findings, source), ...]}
    SILENT = {exercise: [(how it differs from the solution, source), ...]}

A source defines the graded function as a notebook cell would, in a copy of the solution cells'
namespace (tests/mutation.student): it may call the notebook's correct helpers. Every WRONG entry
fails its check (visible or hidden cases) and no catalogued mistake is named for it; a SILENT entry
is correct (it passes both) but computed differently (float32, another formula, another loop), so
a probe that speaks on it is wrong.

An acceptable finding is (kind, subject); the diagnosis of an entry is right when one of the
findings it shows (at most two) has an acceptable kind and subject:

    ("ignores", ARG)          an output does not move when ARG changes; the reference's does.
    ("ignores", "ARG:GATE")   ... when the block of columns of one gate changes (LSTM and ConvLSTM
                              gates i f c o, GRU gates z r h, in Keras's column order).
    ("extra", ARG|"ARG:GATE") an output moves when ARG changes; the reference's does not.
    ("looks_ahead", ARG)      an output at an earlier step moves when ARG at a later step changes.
    ("not_carried", ARG)      the reference's later steps move with ARG at an earlier step; the
                              student's do not (the state is not carried).
    ("mixes_rows", OUTPUT)    changing one batch row of the inputs moves other rows of OUTPUT.
    ("agrees_when", WHAT)     with the inputs restricted the student agrees with the reference;
                              WHAT: "zero bias", "zero state", "one step", "upstream at last step".
    ("starts", WHERE)         where over time the outputs start to differ; WHERE: "every step",
                              "after step 0", "last step", "first step", "before the last step".
    ("transform", HOW)        the output is the reference's transformed; HOW: "reversed",
                              "shifted", "scaled", "negated", "float16", "swapped", "transposed",
                              "truncated" (a step, window or row short), "padded" (one too many).
    ("substitute", ARG)       the result is the reference's with another value of the integer
                              argument ARG (a window or a step count typed in).
    ("in_place", ARG)         the function changes its argument ARG in place.
    ("nondeterministic", "")  two identical calls give different results.
    ("global", NAME)          the result depends on the notebook's global variable NAME.
"""
import importlib
import time
from dataclasses import dataclass, field

from tests.mutants import MODULES


def of(notebook):
    """The corpus module of `notebook`."""
    return importlib.import_module(f"tests.diagnosis_corpus.{MODULES[notebook]}")


def notebooks():
    """The notebooks with a corpus module, in order."""
    found = []
    for notebook in MODULES:
        try:
            of(notebook)
        except ModuleNotFoundError:
            continue
        found.append(notebook)
    return found


# ----------------------------------------------------------------------------- measuring
@dataclass
class Row:
    """How one WRONG entry fared: caught, what was shown, whether it was right, what it cost."""
    notebook: str
    exercise: str
    what: str
    expected: list
    caught: bool = False
    named: str = ""             # a catalogued mistake named (a corpus entry must not be)
    shown: list = field(default_factory=list)    # diagnosis.Finding shown in the message
    message: str = ""
    seconds: float = 0.0        # what diagnosis added to the failing check

    @property
    def given(self):
        return bool(self.shown)

    @property
    def right(self):
        return any(_matches(f, self.expected) for f in self.shown)


def _matches(finding, expected):
    # "combine" accepts a finding about combine[1], one of the weights it holds.
    return any(finding.kind == kind and (not subject or finding.subject == subject
                                         or finding.subject.startswith(subject + "["))
               for kind, subject in expected)


def run_entry(notebook, exercise, what, expected, source, namespace):
    """Check one WRONG entry as a student's check does (the visible cases; the hidden ones where
    the visible pass) and time its diagnosis."""
    from rnnkit import checks
    from tests.mutation import student
    row = Row(notebook, exercise, what, list(expected))
    fn = student(namespace, source, exercise)
    spent = []
    diagnose = checks._diagnose

    def timed(*args):
        start = time.perf_counter()
        try:
            return diagnose(*args)
        finally:
            spent.append(time.perf_counter() - start)
    checks._diagnose = timed
    import numpy as np
    np.random.seed(2026)          # entries that draw from NumPy's global generator repeat
    try:
        result = checks.evaluate(exercise, fn)
        if result.passed:
            result = checks.evaluate(exercise, fn, hidden=True)
    finally:
        checks._diagnose = diagnose
    from rnnkit import diagnosis
    row.caught = not result.passed
    row.named = result.mistake
    row.shown = diagnosis.shown(result.findings)
    row.message = result.message
    row.seconds = sum(spent)
    return row


def run(notebook):
    """A Row for every WRONG entry of `notebook`. TensorFlow is imported first, as the notebook's
    setup cell does: its import is not what diagnosis costs."""
    from rnnkit.runtime import import_tf
    from tests import mutants
    import_tf()
    module = of(notebook)
    namespace = mutants.namespace(notebook)
    return [run_entry(notebook, exercise, what, expected, source, namespace)
            for exercise, entries in module.WRONG.items() for what, expected, source in entries]


def table(rows):
    """The report: per notebook, entries, caught, given a finding, finding right; the time
    diagnosis added to a failing check (median and most)."""
    lines = [f"{'notebook':<26}{'entries':>8}{'caught':>8}{'finding':>9}{'right':>7}{'median s':>10}{'max s':>7}"]
    groups = {}
    for r in rows:
        groups.setdefault(r.notebook, []).append(r)
    groups["all"] = rows
    for notebook, group in groups.items():
        seconds = sorted(r.seconds for r in group) or [0.0]
        lines.append(f"{notebook:<26}{len(group):>8}{sum(r.caught for r in group):>8}"
                     f"{sum(r.given for r in group):>9}{sum(r.right for r in group):>7}"
                     f"{seconds[len(seconds) // 2]:>10.2f}{seconds[-1]:>7.2f}")
    right = sum(r.right for r in rows)
    lines.append(f"right findings: {right} of {len(rows)} ({100 * right / max(len(rows), 1):.0f} %)")
    return "\n".join(lines)


def silent_findings(notebook, exercise, source, namespace, hidden=False):
    """What diagnosis finds in a correct function (a SILENT entry or a solution), run on every
    case as if the case had failed: it must find nothing."""
    from rnnkit import checks, diagnosis, registry, views
    from tests.mutation import student
    fn = student(namespace, source, exercise) if source is not None else namespace[exercise]
    declared = registry.hidden(exercise, seed=None) if hidden else views.get(exercise)
    found = []
    for case in declared.select(hidden):
        result = checks._run_case(declared, fn, case)
        assert result.ok, result.problem or result.wrong
        result.wrong = list(range(len(result.outputs)))       # as if every output were wrong
        found += diagnosis.diagnose(declared, result, checks._subject(declared, fn, result))
    return found
