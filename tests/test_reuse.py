"""rnnkit.reuse: notebook 07 decodes with the greedy_decode and beam_search written in notebook 06."""
import os

import nbformat
import numpy as np
import pytest

from rnnkit import reuse
from rnnkit.exercises.image_captioning import StepFunction

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _course(tmp_path, cells):
    """A course folder with an earlier notebook made of `cells` and an empty folder for 07."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    os.makedirs(tmp_path / "06_image_captioning")
    nbformat.write(nb, str(tmp_path / "06_image_captioning" / "06_image_captioning.ipynb"))
    os.makedirs(tmp_path / "07_seq2seq_attention")
    return str(tmp_path / "07_seq2seq_attention")


def test_only_the_definitions_and_the_imports_run(tmp_path):
    here = _course(tmp_path, [
        "import numpy as np\nraise RuntimeError('the set-up cell ran')",
        "def greedy_decode(step_fn, start_id, end_id, max_len):\n    return _first(np.arange(3))\n\n"
        "def _first(a):\n    return list(a[:1])\n\nraise RuntimeError('a training line ran')",
        "%matplotlib inline",
        "raise RuntimeError('a figure cell ran')",
    ])
    found = reuse.from_notebook("06_image_captioning", "greedy_decode", start=here)
    assert found["greedy_decode"](None, 1, 2, 5) == [0]


def test_the_solutions_decoders_are_found_and_decode():
    here = os.path.join(ROOT, "solutions", "07_seq2seq_attention")
    found = reuse.from_notebook("06_image_captioning", "greedy_decode", "beam_search", start=here)
    step_fn = StepFunction(V=6, seed=3, end_id=2)
    greedy = found["greedy_decode"](step_fn, 1, 2, 8)
    tokens, log_prob = found["beam_search"](step_fn, 1, 2, 1, 8)
    assert list(tokens) == list(greedy)        # a beam of one is greedy decoding
    assert np.isfinite(log_prob)


def test_a_missing_notebook_or_function_is_named(tmp_path):
    with pytest.raises(reuse.NotAvailable, match="06_image_captioning.ipynb is not beside"):
        reuse.from_notebook("06_image_captioning", "greedy_decode", start=str(tmp_path))
    here = _course(tmp_path, ["def greedy_decode(*a):\n    pass"])
    with pytest.raises(reuse.NotAvailable, match="defines no beam_search"):
        reuse.from_notebook("06_image_captioning", "greedy_decode", "beam_search", start=here)
    with pytest.raises(ValueError, match="at least one function"):
        reuse.from_notebook("06_image_captioning", start=here)
