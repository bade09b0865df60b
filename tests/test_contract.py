"""The contract every registered exercise keeps, checked over the whole registry at once.

What a check hands a function must depend on the case alone: the verification pass rebuilds each
case in another process, the zygote computes references ahead of the kernels, and a batch draws
copies of the hidden cases, so the inputs of a case cannot depend on which cases were made before
it or on the global random state. Inputs are compared through their data encoding (rnnkit.views),
which covers arrays, tuples and the objects of rnnkit.exercises (by their state).
"""
import json

import numpy as np
import pytest

from rnnkit import checks, views
from rnnkit.grading import keys

SEED = 20261207             # a batch seed: its drawn copies are checked too
EXERCISES = [e for notebook in sorted({e.notebook for e in keys.REGISTRY.values()})
             for e in keys.drawn(notebook, SEED)]


def _encoded(inputs):
    """(the JSON text of the inputs' encoding, its arrays in order)."""
    arrays = {}
    document = json.dumps(views.encode(inputs, arrays), sort_keys=True)
    return document, [arrays[k] for k in sorted(arrays)]


def _same(a, b):
    (doc_a, arrays_a), (doc_b, arrays_b) = a, b
    return doc_a == doc_b and len(arrays_a) == len(arrays_b) and all(
        x.dtype == y.dtype and np.array_equal(x, y, equal_nan=True) for x, y in zip(arrays_a, arrays_b))


@pytest.mark.parametrize("exercise", EXERCISES, ids=[e.name for e in EXERCISES])
def test_inputs_of_a_case_do_not_depend_on_other_cases(exercise):
    """Each case's inputs are the same made first or last, whatever the global random state."""
    cases = exercise.cases
    assert len(cases) >= 2, f"{exercise.name} has fewer than two cases"
    np.random.seed(1)
    forward = [_encoded(checks.make_inputs(exercise, c)) for c in cases]
    np.random.seed(2)
    np.random.rand(5)
    backward = [_encoded(checks.make_inputs(exercise, c)) for c in reversed(cases)][::-1]
    for case, a, b in zip(cases, forward, backward):
        assert _same(a, b), f"{exercise.name}, case {case.label!r}: its inputs depend on the order"
    for case in cases:      # every argument (a runner's exercise gets more: its training data)
        inputs = checks.make_inputs(exercise, case)
        assert set(exercise.args) <= set(inputs), (exercise.name, case.label)


def test_a_case_that_depends_on_the_order_is_caught():
    """The comparison tells inputs drawn from a shared generator apart from seeded ones."""
    shared = np.random.default_rng(0)
    first, second = ({"x": shared.normal(size=3)}, {"x": shared.normal(size=3)})
    assert not _same(_encoded(first), _encoded(second))
    assert _same(_encoded({"x": np.arange(3.0)}), _encoded({"x": np.arange(3.0)}))
    assert not _same(_encoded({"x": np.arange(3.0)}), _encoded({"x": np.arange(3.0, dtype=np.float32)}))
