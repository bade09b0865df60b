"""A student's check says what it said before the answers left the student package.

tests/data/check_messages.json holds, for every catalogued mistake of every notebook, the message
the visible check gave the mistake's student-style mutant (the MUTANTS of tests/mutants/)
when the checks still computed everything from the declarations, and the message each solution
got. The checks now read the views (stored inputs, references and mistake outputs): each mutant
must get the same message, named mistake included, and each solution the same verdict.

Numbers in a message are compared to four significant digits: the text is the student's, the last
digits of a float32 product may differ between machines. Adding a mistake to a catalogue adds a
mutant; record its message here once the check names it.
"""
import json
import os
import re

import pytest

from rnnkit import checks, views
from rnnkit.grading import keys
from tests import mutants
from tests.conftest import ROOT
from tests.mutation import student

with open(os.path.join(ROOT, "tests", "data", "check_messages.json"), encoding="utf-8") as f:
    RECORDED = json.load(f)
NOTEBOOKS = sorted(RECORDED)
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?|nan|inf")


_NAMESPACES = {}


def _namespace(notebook):
    if notebook not in _NAMESPACES:
        _NAMESPACES[notebook] = mutants.namespace(notebook)
    return _NAMESPACES[notebook]


def _source(notebook, exercise, mistake, occurrence):
    sources = [m[-1] for m in mutants.of(notebook).MUTANTS[exercise] if m[0] == mistake]
    return sources[occurrence - 1]


def same_message(got, recorded, numbers=True):
    """Equal text; numbers equal to four significant digits (or not compared: numbers=False)."""
    text = lambda m: _NUMBER.sub("#", m)     # noqa: E731
    if text(got) != text(recorded):
        return False
    if not numbers:
        return True
    for a, b in zip(_NUMBER.findall(got), _NUMBER.findall(recorded)):
        if a == b:
            continue
        try:
            x, y = float(a), float(b)
        except ValueError:
            return False
        if abs(x - y) > 1e-4 * max(abs(x), abs(y)) + 1e-12:
            return False
    return True


def test_the_comparison_is_not_vacuous():
    assert same_message("yours 0.534121, keras 1 (2 cases)", "yours 0.534122, keras 1 (2 cases)")
    assert not same_message("yours 0.5341, keras 1", "yours 0.5351, keras 1")
    assert not same_message("Recognised mistake: bias missing.", "Recognised mistake: no activation.")


def test_every_catalogued_mistake_has_a_recorded_message():
    for notebook in NOTEBOOKS:
        recorded = {(m["exercise"], m["mistake"], m["occurrence"]) for m in RECORDED[notebook]["mutants"]}
        for exercise in keys.for_notebook(notebook):
            seen = {}
            for mistake in exercise.mistakes:
                seen[mistake.name] = seen.get(mistake.name, 0) + 1
                assert (exercise.name, mistake.name, seen[mistake.name]) in recorded, \
                    f"{notebook}: no recorded message for {exercise.name}: {mistake.name}"


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_every_mutant_gets_the_recorded_message(notebook):
    namespace = _namespace(notebook)
    changed = []
    for m in RECORDED[notebook]["mutants"]:
        fn = student(namespace, _source(notebook, m["exercise"], m["mistake"], m["occurrence"]), m["exercise"])
        result = checks.evaluate(m["exercise"], fn)
        assert views.get(m["exercise"]).examples, "the visible check reads the view"
        if result.mistake != m["mistake"] or not same_message(result.message, m["message"]):
            changed.append(f"{m['exercise']}: {m['mistake']}\n  was: {m['message']}\n  now: {result.message}")
    assert not changed, "\n".join(changed)


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_every_solution_gets_the_recorded_verdict(notebook):
    """Passes with the same words; the numbers (the largest difference, float noise; a trained
    captioner's accuracy) are not compared."""
    namespace = _namespace(notebook)
    for name, message in RECORDED[notebook]["solutions"].items():
        result = checks.evaluate(name, namespace[name])
        assert result.passed, result.message
        assert same_message(result.message, message, numbers=False), \
            f"was: {message}\nnow: {result.message}"
