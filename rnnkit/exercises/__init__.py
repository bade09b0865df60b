"""One module per notebook, each declaring that notebook's graded exercises."""
from rnnkit.exercises import rnn_fundamentals  # noqa: F401

NOTEBOOKS = ("01_rnn_fundamentals",)
