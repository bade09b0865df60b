"""One module per notebook, each declaring that notebook's graded exercises."""
from rnnkit.exercises import (bidirectional_stacked, bptt, gradient_problems,  # noqa: F401
                              image_captioning, lstm_gru, rnn_fundamentals)

NOTEBOOKS = ("01_rnn_fundamentals", "02_bptt", "03_gradient_problems", "04_lstm_gru",
             "05_bidirectional_stacked", "06_image_captioning")
