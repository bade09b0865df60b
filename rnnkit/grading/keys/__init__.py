"""The answer keys: one module per notebook declaring its graded exercises in full.

Importing the package declares them all; `get`, `for_notebook` and `drawn` read the registry
(catalog.py). Installed with the instructor's package only: the student package finds the keys,
where they exist, through the entry point group `rnnkit.answer_keys` (registry.answer_keys).
"""
from rnnkit.grading.keys import (bidirectional_stacked, bptt, gradient_problems,  # noqa: F401
                                 image_captioning, lstm_gru, music_generation, rnn_fundamentals,
                                 seq2seq_attention, time_series)
from rnnkit.grading.keys.catalog import REGISTRY, drawn, for_notebook, get, register  # noqa: F401
