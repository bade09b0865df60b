"""Random inputs shared by the exercises of several notebooks (drawn from a case's own rng)."""
import numpy as np


def rnn_weights(rng, D, H):
    """SimpleRNN weights Wx (D, H), Wh (H, H) and a nonzero bias b (H,), scaled like Keras's init."""
    Wx = rng.normal(0.0, 1.0 / np.sqrt(D), size=(D, H))
    Wh = rng.normal(0.0, 1.0 / np.sqrt(H), size=(H, H))
    b = rng.uniform(-0.5, 0.5, size=H)
    return Wx, Wh, b
