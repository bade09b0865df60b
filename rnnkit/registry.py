"""Graded exercises as the checks see them: one `Exercise` per graded function.

Every exercise is declared once, in the answer keys (rnnkit/grading/keys/<topic>.py): its contract,
its Keras reference, an input maker, visible and hidden cases and a catalogue of mistakes. The keys
are the instructor's side and are not part of the student package. What a student's check needs is
generated from them by `rnnkit release` as a data-only view (rnnkit.views): the contract, the
visible cases with their inputs, what the Keras reference returns on them and what each catalogued
mistake returns on them. Nothing in it computes an answer.

    views.get(name)  the view: contract and visible cases (what `check` uses in a notebook)
    hidden(name)     the declaration, from the installed answer keys, with the hidden cases drawn
                     for the current grading batch (what the hidden tests use while grading)
"""
import functools
import hashlib
import os
from dataclasses import dataclass, field, replace
from typing import Callable

# How a dimension letter is named in a message about a position in an array.
AXIS_NAMES = {"N": "batch", "T": "t", "Tx": "t", "Ty": "t", "H": "unit", "D": "feature",
              "V": "class", "2H": "unit", "M": "unit", "R": "row", "C": "column",
              "Tq": "query", "Tk": "key", "Dv": "feature", "A": "unit", "E": "feature",
              "T2": "t", "W": "t", "K": "step ahead k", "Q": "note", "L": "t"}
TIME_AXES = ("T", "T2", "Tx", "Ty", "W", "K")
# The batch's seed for hidden cases, in the environment a grading kernel starts with.
HIDDEN_SEED_VARIABLE = "RNNKIT_HIDDEN_SEED"
# The entry point group under which the instructor's package installs the answer keys.
ANSWER_KEYS_GROUP = "rnnkit.answer_keys"


@dataclass(frozen=True)
class Case:
    """One set of inputs: made from `seed` with the sizes in `sizes` (e.g. N=2, T=4, D=3, H=5).

    `vary` (hidden cases) gives, for some sizes, an inclusive range (low, high) that a copy of
    the case drawn for a grading batch takes its size from (see `drawn`). `sizes` holds the
    declared values.
    """
    label: str
    seed: int
    sizes: dict
    hidden: bool = False
    dtype: str = "float32"
    note: str = ""
    vary: dict = None

    def describe(self):
        sizes = ", ".join(f"{k}={v}" for k, v in self.sizes.items())
        extra = f", {self.note}" if self.note else ""
        return f"'{self.label}' ({sizes}, {self.dtype}{extra})"

    def drawn(self, exercise_name, batch_seed):
        """A copy of this case for the batch `batch_seed`: "<label> (drawn)", a fresh seed, and
        the `vary` sizes drawn in their ranges."""
        import numpy as np
        digest = hashlib.sha256(f"{batch_seed}/{exercise_name}/{self.label}".encode()).digest()
        seed = int.from_bytes(digest[:4], "little")
        sizes = dict(self.sizes)
        rng = np.random.default_rng(seed)
        for key in sorted(self.vary or {}):
            low, high = self.vary[key]
            sizes[key] = int(rng.integers(low, high + 1))
        return replace(self, label=f"{self.label} (drawn)", seed=seed, sizes=sizes, vary=None)


@dataclass(frozen=True)
class Output:
    """One returned array: its name and its shape as dimension letters, e.g. ("N", "T", "H").

    `listed=True` declares a list of arrays instead (e.g. one clipped array per gradient): the
    reference decides how many and their shapes, and each item is compared on its own under the
    name "name[i]". `dims=None` means the shape is whatever the reference's is.
    `sequence=True` marks a short sequence of token ids: messages show it whole.
    `at_least=True` makes the reference a floor: any value >= reference - atol passes.
    A letter that is not one of the case's sizes is a count that follows from them (the number
    of windows a series holds): its value is read off the reference's shape.
    """
    name: str
    dims: tuple = None
    listed: bool = False
    sequence: bool = False
    at_least: bool = False

    def shape(self, sizes, expected_shape=()):
        return tuple(sizes[d] if d in sizes else expected_shape[i] for i, d in enumerate(self.dims))

    def shape_text(self, sizes, expected_shape=()):
        if self.dims is None:
            return f"{tuple(expected_shape)}"
        letters = ", ".join(self.dims) + ("," if len(self.dims) == 1 else "")
        return f"({letters}) = {self.shape(sizes, expected_shape)}" if self.dims else "a scalar ()"


class Problem(Exception):
    """Raised by an exercise's runner when a result cannot be compared; the message says why,
    completing "On case X ...", e.g. "it ignores its rng argument: ...". `mistake` names the
    catalogued Mistake that the problem reveals, if any."""

    def __init__(self, message, mistake=None):
        super().__init__(message)
        self.mistake = mistake


@dataclass(frozen=True)
class Mistake:
    """A realistic wrong implementation: `output(**inputs)` returns what that mistake returns.

    `output=None` for a mistake that a runner detects itself and reports as a Problem naming it,
    and in a view, where what the mistake returns on each visible case is stored instead.
    """
    name: str
    hint: str
    output: Callable = None


@dataclass
class Example:
    """A case of a view, stored: its inputs, what the reference returned, what each mistake did.

    `inputs` and the outputs are encoded values (rnnkit.views): each use decodes a fresh copy.
    `mistakes` lists, in catalogue order, each mistake's encoded output or None where the mistake
    cannot happen on this case. `arrays` holds the arrays the encodings name.
    """
    inputs: dict
    reference: object
    mistakes: list
    arrays: dict


@dataclass
class Exercise:
    """A graded function: its contract, its reference, its cases and its mistake catalogue.

    Attributes:
        name: the function's name in the notebook, e.g. "rnn_cell_forward".
        notebook: the assignment it belongs to, e.g. "01_rnn_fundamentals".
        args: argument names in order (the contract).
        outputs: what it returns, in order; one Output means a bare array is returned.
        reference_name: how messages name the reference, e.g. "keras.layers.SimpleRNNCell".
        reference: callable(**inputs) -> tuple of arrays, computed with Keras/TF.
        make_inputs: callable(rng, case) -> dict arg name -> value.
        cases: visible cases first, then hidden ones (hidden=True, other seeds and sizes).
        mistakes: the catalogue, tried in order when a submission fails.
        points: points of its graded test cell.
        must_call: helper functions the student's function has to use (checked by spying).
        forbidden: what the function may not call, however it is imported: the Keras layers, TF
            ops or libraries that compute its answer (dotted names, e.g. "keras.layers.SimpleRNN",
            "tf.GradientTape", "sacrebleu"); the kit's own code is never allowed (rnnkit.guard).
        atol, rtol: |yours - reference| <= atol + rtol * |reference|.
        runner: how a case runs the student's function, runner(fn, **inputs) -> value to compare
            (e.g. the frequencies of many random samples); None calls fn(*inputs) in args order.
            It may raise Problem.
        collect, finish: the runner cut in two for the verification pass, which runs the
            student's code in a sandbox and reaches the verdict outside it.
            collect(fn, **inputs) runs beside the student's code and returns plain data: arrays,
            numbers, tuples of them, or a keras.Model (it travels as a .keras file and is loaded
            with safe_mode). finish(collected, **inputs) runs in the grader and returns what
            runner returns; it may raise Problem. runner(fn, **inputs) must equal
            finish(collect(fn, **inputs), **inputs). A runner without them is not verified.
            Runners live in the student package (rnnkit/exercises/): they judge, never answer.
        examples: in a view, the stored visible cases, {case label: Example}; make_inputs and
            the mistakes' outputs are then not needed (and not there), and `reference` is there
            only when it lives in the student package (a Keras call of rnnkit.reference or
            rnnkit.exercises), for the experiments of rnnkit.diagnosis.
        gates: which arguments hold gates side by side on their last axis, {arg: gate letters in
            Keras's column order} (e.g. LSTM W, U, b: reference.LSTM_GATES), for the probes that
            change one gate's block of columns at a time.
        roles: what an argument is, where its name does not say it (rnnkit.diagnosis.ROLES gives
            the usual names): {arg: "bias" | "state" | "upstream" | "fixed"}; "fixed" keeps a
            probe from changing it.
        probes_off: the probes of rnnkit.diagnosis that do not fit this exercise (e.g. "repeat"
            for a function that trains a model); ("all",) turns diagnosis off.
        probes_on: the optional probes of rnnkit.diagnosis that fit it (e.g. "substitute" where
            an integer argument, a window or a step count, is easily misused).
    """
    name: str
    notebook: str
    args: tuple
    outputs: tuple
    reference_name: str
    reference: Callable = None
    make_inputs: Callable = None
    cases: list = field(default_factory=list)
    mistakes: list = field(default_factory=list)
    points: int = 1
    must_call: tuple = ()
    forbidden: tuple = ()
    atol: float = 1e-5
    rtol: float = 1e-4
    runner: Callable = None
    collect: Callable = None
    finish: Callable = None
    examples: dict = None
    gates: dict = None
    roles: dict = None
    probes_off: tuple = ()
    probes_on: tuple = ()

    @property
    def grade_id(self):
        return f"{self.name}_matches_keras"

    def select(self, hidden):
        return [c for c in self.cases if c.hidden == hidden]

    def drawn(self, batch_seed):
        """This exercise graded in the batch `batch_seed`: each hidden case is followed by a copy
        drawn for the batch (Case.drawn). The declared cases, chosen so that every catalogued
        mistake shows on one, stay; the copies, new every batch, cannot be learnt in advance.
        None: the declared cases only. An exercise checked by a runner (sampling, training) is
        not copied: what it returns is judged by counting or by training, never by value."""
        if batch_seed is None or self.runner is not None:
            return self
        cases = []
        for c in self.cases:
            cases += [c, c.drawn(self.name, batch_seed)] if c.hidden else [c]
        return replace(self, cases=cases)


# ----------------------------------------------------------------------------- the grader's side
class NoAnswerKeys(LookupError):
    """The hidden cases live with the instructor: the answer keys are not installed here."""


@functools.lru_cache(maxsize=None)
def answer_keys():
    """The installed answer keys (a module with get(name) and for_notebook(notebook)).

    Found through the entry point group ANSWER_KEYS_GROUP, which only the instructor's package
    provides: the student package never imports them. Raises NoAnswerKeys without them.
    """
    from importlib.metadata import entry_points
    for entry in entry_points(group=ANSWER_KEYS_GROUP):
        return entry.load()
    raise NoAnswerKeys("the hidden cases are only available where the course is graded "
                       "(the instructor's package, rnnkit-grading, is not installed here)")


def batch_seed():
    """The grading batch's seed for hidden cases (RNNKIT_HIDDEN_SEED), or None: as declared."""
    value = os.environ.get(HIDDEN_SEED_VARIABLE, "").strip()
    return int(value) if value else None


BATCH = "batch"      # hidden(name, seed=BATCH): the seed of the grading batch, batch_seed()


def hidden(name, seed=BATCH):
    """The declaration of exercise `name` from the answer keys, its hidden cases drawn for `seed`
    (BATCH: the batch's, batch_seed(); None: as declared). Raises NoAnswerKeys on a student's
    installation."""
    return answer_keys().get(name).drawn(batch_seed() if seed == BATCH else seed)
