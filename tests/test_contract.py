"""The contract every registered exercise keeps, checked over the whole registry at once.

* the solution passes its visible and its hidden cases, and says so by name;
* every catalogued mistake has a student-style mutant (tests/mutants/, in catalogue order), which
  fails its visible and its hidden check naming exactly that mistake;
* an unimplemented function, or anything else a student may hand a check, gives one readable
  message: no exception escapes, no traceback, no checker crash;
* the inputs of a case depend on the case alone.

(The blank release scoring 0 in the grader is tests/test_pipeline.py's; each notebook's own
behaviour, and each mutant's faithfulness to its catalogue entry, tests/test_checks_<name>.py's.)

What a check hands a function must depend on the case alone: the verification pass rebuilds each
case in another process, the zygote computes references ahead of the kernels, and a batch draws
copies of the hidden cases, so the inputs of a case cannot depend on which cases were made before
it or on the global random state. Inputs are compared through their data encoding (rnnkit.views),
which covers arrays, tuples and the objects of rnnkit.exercises (by their state).
"""
import collections
import json
import sys

import numpy as np
import pytest

from rnnkit import checks, views
from rnnkit.checks import evaluate
from rnnkit.grading import keys
from tests import mutants
from tests.mutation import assert_fails_naming, student

NOTEBOOKS = sorted(mutants.MODULES)
GRADED = [e for notebook in NOTEBOOKS for e in keys.for_notebook(notebook)]
GRADED_NAMES = [e.name for e in GRADED]


def test_every_notebook_of_the_registry_has_its_mutants():
    assert NOTEBOOKS == sorted({e.notebook for e in keys.REGISTRY.values()})


def _mutant_params(hidden):
    params = []
    for notebook in NOTEBOOKS:
        module = mutants.of(notebook)
        for exercise, entries in module.MUTANTS.items():
            seen = collections.Counter()
            for mistake, source in entries:
                seen[mistake] += 1
                label = f"{exercise}: {mistake}" + (f" #{seen[mistake]}" if seen[mistake] > 1 else "")
                gap = module.HIDDEN_GAPS.get((exercise, mistake)) if hidden else None
                marks = [pytest.mark.xfail(strict=True, reason=gap)] if gap else []
                params.append(pytest.param(notebook, exercise, mistake, source, id=label, marks=marks))
    return params


@pytest.fixture(scope="module")
def namespaces():
    """notebook -> what its cells define when a graded cell runs (tests/mutants.namespace)."""
    cache = {}

    def get(notebook):
        if notebook not in cache:
            cache[notebook] = mutants.namespace(notebook)
        return cache[notebook]
    return get


def assert_readable_failure(result, name):
    """A failure reported as one message: no traceback, no checker crash."""
    assert not result.passed, result.message
    assert isinstance(result.message, str) and result.message.startswith(name), result.message
    assert "Traceback" not in result.message and 'File "' not in result.message, result.message
    assert "The checker itself failed" not in result.message, result.message


# ----------------------------------------------------------------------------- the solution
@pytest.mark.parametrize("hidden", [False, True], ids=["visible", "hidden"])
@pytest.mark.parametrize("name", GRADED_NAMES)
def test_solution_passes(solution_result, name, hidden):
    """The notebook's solution passes every case and says what it was compared with."""
    exercise = keys.get(name)
    result = solution_result(name, hidden)
    assert result.passed, result.message
    assert result.mistake == ""
    verb = "meets" if any(o.at_least for o in exercise.outputs) else "matches"   # a floor, or a value
    assert result.message.startswith(f"{name} {verb} {exercise.reference_name} on "), result.message
    kind = "hidden" if hidden else "visible"
    assert f" on {len(exercise.select(hidden))} {kind} case" in result.message, result.message
    assert all(r.ok for r in result.cases)


# ----------------------------------------------------------------------------- the catalogue
@pytest.mark.parametrize("exercise", GRADED, ids=GRADED_NAMES)
def test_every_catalogued_mistake_has_a_mutant_in_catalogue_order(exercise):
    """One mutant per catalogue entry (a name catalogued twice has one per variant)."""
    table = mutants.of(exercise.notebook).MUTANTS
    assert exercise.name in table, f"no mutants for {exercise.name}"
    assert [name for name, _ in table[exercise.name]] == [m.name for m in exercise.mistakes]


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_mutants_only_for_declared_exercises(notebook):
    module = mutants.of(notebook)
    names = [e.name for e in keys.for_notebook(notebook)]
    assert set(module.MUTANTS) == set(names)
    assert all(m in dict(module.MUTANTS[e]) for e, m in module.HIDDEN_GAPS)


@pytest.mark.parametrize("notebook, exercise_name, mistake, source", _mutant_params(hidden=False))
def test_mutant_is_named_on_the_visible_cases(namespaces, notebook, exercise_name, mistake, source):
    fn = student(namespaces(notebook), source, exercise_name)
    result = evaluate(exercise_name, fn)
    assert_fails_naming(result, mistake)
    assert result.message.startswith(f"{exercise_name} does not match "), result.message
    assert "Traceback" not in result.message
    # The mutants build on the correct helpers: no note sends the student to fix one first.
    assert "does not pass its own check yet" not in result.message, result.message


@pytest.mark.parametrize("notebook, exercise_name, mistake, source", _mutant_params(hidden=True))
def test_mutant_is_named_on_the_hidden_cases(namespaces, notebook, exercise_name, mistake, source):
    """A mistake that slipped through the hidden cases would earn the graded cell's points."""
    fn = student(namespaces(notebook), source, exercise_name)
    assert_fails_naming(evaluate(exercise_name, fn, hidden=True), mistake)


# ----------------------------------------------------------------------------- anything else
@pytest.mark.parametrize("name", GRADED_NAMES)
def test_not_implemented(namespaces, name):
    exercise = keys.get(name)
    fn = student(namespaces(exercise.notebook), f"""
def {name}({", ".join(exercise.args)}):
    # YOUR CODE HERE
    raise NotImplementedError()
""", name)
    for hidden in (False, True):
        result = evaluate(name, fn, hidden=hidden)
        assert_readable_failure(result, name)
        assert "it raises NotImplementedError: it is not implemented yet." in result.message, \
            result.message
        assert result.message.count("\n") == 1, result.message
        assert result.mistake == ""


JUNK = (3, None, lambda *a: None, lambda *a: "x", lambda *a: 1 / 0, lambda *a: (), lambda *a: [],
        lambda *a: [None], lambda *a: ([], 0.0), lambda *a: {"clipped": []},
        lambda *a: (np.nan,) * 5, lambda *a: [object()] * 5, lambda: None,
        lambda *a: np.ones(3) * 1j, lambda *a: a[1], lambda *a: sys.exit(0), lambda *a: sys.exit(1))


@pytest.mark.parametrize("name", GRADED_NAMES)
def test_no_exception_escapes_for_any_exercise(name):
    for fn in JUNK:
        for hidden in (False, True):
            assert_readable_failure(evaluate(name, fn, hidden=hidden), name)


# ----------------------------------------------------------------------------- the inputs

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
