"""Notebook 07 keeps its word on a seeded full run: the attention model translates at least 95 % of
the held-out-format test dates exactly, the same model without attention almost none, as the text
says; and the full run's notebook ends with no error and nothing on stderr."""

import pytest

from tests import full_run as full_run_of


pytestmark = pytest.mark.slow
NOTEBOOK = "07_seq2seq_attention"
REPORT = """
import json
print("RESULTS " + json.dumps({name: {"exact": float(right.mean()), "held_out": float(right[held_out].mean()),
                                       "test_dates": int(len(right))} for name, right in exact.items()}))
"""


@pytest.fixture(scope="module")
def full_run():
    """The solution notebook run top to bottom at full size (a few minutes), and what it measured."""
    return full_run_of.run(NOTEBOOK, REPORT)


def test_the_full_run_is_clean(full_run):
    full_run_of.assert_clean(full_run[0])


def test_attention_translates_the_held_out_formats(full_run):
    _, results = full_run
    attention = results["with attention"]
    assert attention["test_dates"] == 4000, "the full run scores the whole test split"
    assert attention["held_out"] >= 0.95, attention
    assert attention["exact"] >= 0.95, attention


def test_without_attention_almost_no_date_is_right(full_run):
    """'gets almost no date entirely right' at the same budget: the bottleneck, measured."""
    _, results = full_run
    assert results["without attention"]["exact"] <= 0.10, results
