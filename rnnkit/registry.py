"""Declarations of graded exercises: one `Exercise` per graded function, declared once.

The in-notebook checks, the hidden tests, the instructor's tools and the mutation tests all read
these declarations (rnnkit/exercises/<notebook>.py), so a case, a tolerance or a catalogued
mistake is written in exactly one place.
"""
from dataclasses import dataclass, field
from typing import Callable

# How a dimension letter is named in a message about a position in an array.
AXIS_NAMES = {"N": "batch", "T": "t", "Tx": "t", "Ty": "t", "H": "unit", "D": "feature",
              "V": "class", "2H": "unit", "M": "unit", "R": "row", "C": "column"}
TIME_AXES = ("T", "Tx", "Ty")


@dataclass(frozen=True)
class Case:
    """One set of inputs: made from `seed` with the sizes in `sizes` (e.g. N=2, T=4, D=3, H=5)."""
    label: str
    seed: int
    sizes: dict
    hidden: bool = False
    dtype: str = "float32"
    note: str = ""

    def describe(self):
        sizes = ", ".join(f"{k}={v}" for k, v in self.sizes.items())
        extra = f", {self.note}" if self.note else ""
        return f"'{self.label}' ({sizes}, {self.dtype}{extra})"


@dataclass(frozen=True)
class Output:
    """One returned array: its name and its shape as dimension letters, e.g. ("N", "T", "H").

    `listed=True` declares a list of arrays instead (e.g. one clipped array per gradient): the
    reference decides how many and their shapes, and each item is compared on its own under the
    name "name[i]". `dims=None` means the shape is whatever the reference's is.
    `sequence=True` marks a short sequence of token ids: messages show it whole.
    `at_least=True` makes the reference a floor: any value >= reference - atol passes.
    """
    name: str
    dims: tuple = None
    listed: bool = False
    sequence: bool = False
    at_least: bool = False

    def shape(self, sizes):
        return tuple(sizes[d] for d in self.dims)

    def shape_text(self, sizes, expected_shape=()):
        if self.dims is None:
            return f"{tuple(expected_shape)}"
        letters = ", ".join(self.dims) + ("," if len(self.dims) == 1 else "")
        return f"({letters}) = {self.shape(sizes)}" if self.dims else "a scalar ()"


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

    `output=None` for a mistake that a runner detects itself and reports as a Problem naming it.
    """
    name: str
    hint: str
    output: Callable


@dataclass
class Exercise:
    """A graded function: its contract, its Keras reference, its cases and its mistake catalogue.

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
    """
    name: str
    notebook: str
    args: tuple
    outputs: tuple
    reference_name: str
    reference: Callable
    make_inputs: Callable
    cases: list
    mistakes: list = field(default_factory=list)
    points: int = 1
    must_call: tuple = ()
    atol: float = 1e-5
    rtol: float = 1e-4
    runner: Callable = None
    collect: Callable = None
    finish: Callable = None

    @property
    def grade_id(self):
        return f"{self.name}_matches_keras"

    def select(self, hidden):
        return [c for c in self.cases if c.hidden == hidden]


REGISTRY = {}


def register(exercise):
    if exercise.name in REGISTRY:
        raise ValueError(f"exercise {exercise.name!r} is declared twice.")
    REGISTRY[exercise.name] = exercise
    return exercise


def get(name):
    """The Exercise called `name`; raises KeyError naming the known ones otherwise."""
    _load_all()
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"no exercise named {name!r}; known: {sorted(REGISTRY)}.") from None


def for_notebook(notebook):
    """Exercises of one assignment, in declaration order."""
    _load_all()
    return [e for e in REGISTRY.values() if e.notebook == notebook]


def _load_all():
    from rnnkit import exercises  # noqa: F401  (importing declares them)
