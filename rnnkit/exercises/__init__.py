"""One module per notebook, each declaring that notebook's graded exercises."""
from rnnkit.exercises import bptt, gradient_problems, lstm_gru, rnn_fundamentals  # noqa: F401

NOTEBOOKS = ("01_rnn_fundamentals", "02_bptt", "03_gradient_problems", "04_lstm_gru")
