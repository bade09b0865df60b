"""Notebook 05_bidirectional_stacked: the recurrent layers handed to a student's functions.

bidirectional_forward(x, forward_fn, backward_fn, merge_mode) and stacked_forward(x, layer_fns)
receive RNNFunctions: recurrent layers with fixed weights, called like functions.
"""
import numpy as np

from rnnkit import guard
from rnnkit import reference as ref


class RNNFunction:
    """A recurrent layer with fixed weights as a function: h_seq (N, T, H) = f(x (N, T, D)).

    `kind` is "SimpleRNN" (weights Wx (D, H), Wh (H, H), b (H,)) or "GRU" (W (D, 3H), U (H, 3H),
    b (2, 3H), reset_after=True); the initial state is zeros, as in a Keras layer called on x.
    Calling it runs that Keras layer (float64) and returns a NumPy array. It travels as data
    (to_state, from_state): the grader's sandbox rebuilds it.
    """

    def __init__(self, kind, weights, name):
        if kind not in ("SimpleRNN", "GRU"):
            raise ValueError(f"expected 'SimpleRNN' or 'GRU', got {kind!r}")
        self.kind, self.name = kind, name
        self.weights = tuple(np.array(w) for w in weights)
        for w in self.weights:          # shared with the checker: a student cannot edit them
            w.setflags(write=False)
        self._layer = None

    @property
    def units(self):
        return self.weights[1].shape[0]

    def __call__(self, x):
        x = np.array(x, dtype=np.float64)
        D = self.weights[0].shape[0]
        if x.ndim != 3 or x.shape[-1] != D:
            raise ValueError(f"{self.name} reads sequences (N, T, D) with D={D} features, "
                             f"got an array of shape {x.shape}")
        return guard.unwatched(self._run, x)

    def _run(self, x):
        if self._layer is None:
            self._layer = self.keras_layer(unroll=True)     # faster for these short sequences
        return ref.to_numpy(self._layer(x))

    def keras_layer(self, dtype=None, **config):
        """The same layer in Keras (return_sequences=True), built and holding the weights."""
        w = [np.asarray(v, np.float64) for v in self.weights]
        if self.kind == "GRU":
            return ref.gru(*w, return_sequences=True, return_state=False, dtype=dtype, **config)
        return ref.simple_rnn(*w, return_sequences=True, return_state=False, dtype=dtype, **config)

    def __repr__(self):
        return f"<{self.name}: {self.kind} with {self.units} units>"

    def to_state(self):
        return {"kind": self.kind, "weights": list(self.weights), "name": self.name}

    @classmethod
    def from_state(cls, state):
        return cls(state["kind"], state["weights"], state["name"])
