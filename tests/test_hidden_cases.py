"""Hidden cases drawn afresh for every grading batch: reproducible, new, and honest.

A batch's seed adds to every declared hidden case a copy with a new seed, and a new size within
the range the case declares (Case.vary): the same seed draws the same copies again, another seed
others. With them, every solution still passes and every catalogued mistake still fails.
"""

import pytest

from rnnkit import checks, registry
from rnnkit.grading import keys
from tests import mutants
from tests.mutation import student

NOTEBOOKS = sorted({e.notebook for e in keys.REGISTRY.values()})
SEEDS = (20261,)
# Its hidden case trains a model: the training's own seed does not change with the batch.
TRAINED = {"build_captioner"}


def test_the_same_seed_draws_the_same_cases_and_another_seed_others():
    for exercise in keys.REGISTRY.values():
        first, again, other = exercise.drawn(1), exercise.drawn(1), exercise.drawn(2)
        assert first.cases == again.cases
        if exercise.runner is not None:          # judged by counting or training: never copied
            assert first.cases == exercise.cases
            continue
        declared = exercise.select(hidden=True)
        assert first.select(hidden=False) == exercise.select(hidden=False)     # visible cases stay
        assert first.select(hidden=True)[::2] == declared                      # so do the declared
        for case, a, b in zip(declared, first.select(hidden=True)[1::2], other.select(hidden=True)[1::2]):
            assert (a.label, a.hidden, a.dtype, a.note) == (f"{case.label} (drawn)", True, case.dtype, case.note)
            assert a.seed != case.seed and a.seed != b.seed, (exercise.name, a.label)
            for size, (low, high) in (case.vary or {}).items():
                assert low <= a.sizes[size] <= high, (exercise.name, a.label, size)
            fixed = {k: v for k, v in case.sizes.items() if k not in (case.vary or {})}
            assert {k: a.sizes[k] for k in fixed} == fixed


def test_without_a_seed_the_declared_cases_are_graded(monkeypatch):
    monkeypatch.delenv(registry.HIDDEN_SEED_VARIABLE, raising=False)
    assert registry.hidden("rnn_forward").cases == keys.get("rnn_forward").cases
    monkeypatch.setenv(registry.HIDDEN_SEED_VARIABLE, "99")
    drawn = registry.hidden("rnn_forward").cases
    assert drawn == keys.get("rnn_forward").drawn(99).cases and len(drawn) > len(keys.get("rnn_forward").cases)


def test_sizes_vary_somewhere_in_every_notebook():
    for notebook in NOTEBOOKS:
        assert any(c.vary for e in keys.for_notebook(notebook) for c in e.cases), notebook


def _mutants(notebook):
    """(exercise, mistake, source) of every mutant of the notebook's tests."""
    for exercise, entries in mutants.of(notebook).MUTANTS.items():
        for m in entries:
            yield exercise, m[0], m[-1]


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_on_drawn_cases_solutions_pass_and_mistakes_fail(notebook):
    namespace = mutants.namespace(notebook)
    for seed in SEEDS:
        drawn = {e.name: e.drawn(seed) for e in keys.for_notebook(notebook) if e.name not in TRAINED}
        for name, exercise in drawn.items():
            result = checks.evaluate(exercise, namespace[name], hidden=True)
            assert result.passed, f"seed {seed}: {result.message}"
        for name, mistake, source in _mutants(notebook):
            if name in drawn:
                result = checks.evaluate(drawn[name], student(namespace, source, name), hidden=True)
                assert not result.passed, f"seed {seed}: {name}: {mistake} passes the drawn hidden cases"
