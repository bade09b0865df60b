"""Student-style mutants of every notebook, one module per notebook, and the cells they run beside.

Each module holds NOTEBOOK, MUTANTS (exercise name -> [(catalogued mistake name, the source of a
notebook cell defining the graded function with exactly that mistake)], one per catalogue entry
and in catalogue order), GIVEN_HELPERS (the notebook's given, ungraded functions the solutions and
the mutants call) and HIDDEN_GAPS (catalogued mistakes the hidden cases cannot see yet).
tests/test_contract.py checks them against the whole registry; each tests/test_checks_<name>.py
uses its notebook's module for the tests of that notebook alone.
"""
import collections
import importlib
import json
import re

import pytest

from tests.conftest import solution_namespace, solution_path

MODULES = {"01_rnn_fundamentals": "rnn_fundamentals", "02_bptt": "bptt",
           "03_gradient_problems": "gradient_problems", "04_lstm_gru": "lstm_gru",
           "05_bidirectional_stacked": "bidirectional_stacked",
           "06_image_captioning": "image_captioning", "07_seq2seq_attention": "seq2seq_attention",
           "08_time_series": "time_series", "09_music_generation": "music_generation"}


def of(notebook):
    """The mutants module of `notebook`."""
    return importlib.import_module(f"tests.mutants.{MODULES[notebook]}")


def params(notebook):
    """One pytest.param(exercise, mistake, occurrence, source) per mutant of `notebook`, in
    catalogue order; occurrence counts the entries of the same name (1, 2, ...), and the id is
    "exercise: mistake", with " #2" from a name's second entry on."""
    found = []
    for exercise, entries in of(notebook).MUTANTS.items():
        seen = collections.Counter()
        for mistake, source in entries:
            seen[mistake] += 1
            label = f"{exercise}: {mistake}" + (f" #{seen[mistake]}" if seen[mistake] > 1 else "")
            found.append(pytest.param(exercise, mistake, seen[mistake], source, id=label))
    return found


def given_cells(notebook, names):
    """Sources of the notebook's plain (non-nbgrader) code cells that define `def <name>(`.

    One cell may define several of them; each such cell is returned once, in notebook order.
    """
    with open(solution_path(notebook), encoding="utf-8") as f:
        nb = json.load(f)
    found, sources = set(), []
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] != "code" or cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            continue
        defined = {n for n in names if re.search(rf"^def {n}\(", source, re.MULTILINE)}
        if defined:
            found |= defined
            sources.append(source)
    missing = [n for n in names if n not in found]
    assert not missing, f"{notebook} has no given cell defining {missing}"
    return sources


def namespace(notebook):
    """What a student's notebook has defined when a graded cell runs: the solution cells, the
    given helper cells, and `tf` and `keras` (as the setup cell imports them) where a solution
    builds a Keras model."""
    names = solution_namespace(notebook)
    for k, source in enumerate(given_cells(notebook, of(notebook).GIVEN_HELPERS)):
        exec(compile(source, f"<{notebook}:given {k}>", "exec"), names)
    if getattr(of(notebook), "USES_KERAS", False):
        from rnnkit.runtime import import_tf
        names["tf"], names["keras"] = import_tf()
    return names
