"""Notebook 02_bptt: the objective handed to a student's numerical_gradient(f, x, eps)."""
import numpy as np

from rnnkit import guard
from rnnkit import reference as ref


class Objective:
    """A scalar function of one array: f(x) -> float, made from fixed, random parameters.

    Kinds:
        "sin"          sum(sin(c * x) * x**2), c of x's shape
        "tanh layer"   sum(w * tanh(x @ A)), A (D, 3), w (N, 3) for x (N, D)
        "rnn"          sum(w * SimpleRNN(x)) for a sequence x (N, T, D): a keras.layers.SimpleRNN
                       with weights Wx, Wh, b started at h0, weighted by w (N, T, H)

    Calling it returns a Python float; its repr says what it computes, so a failing check can
    name it. It travels as data (to_state, from_state): the grader's sandbox rebuilds it.
    """

    TEXT = {"sin": "sum(sin(c * x) * x**2)", "tanh layer": "sum(w * tanh(x @ A))",
            "rnn": "sum(w * SimpleRNN(x))"}

    def __init__(self, kind, params):
        if kind not in self.TEXT:
            raise ValueError(f"expected one of {sorted(self.TEXT)}, got {kind!r}")
        self.kind = kind
        self.params = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
        for value in self.params.values():      # shared with the checker: not to be edited
            value.setflags(write=False)
        self._layer = None

    def __call__(self, x):
        x = np.array(x, dtype=np.float64)
        p = self.params
        if self.kind == "sin":
            return float(np.sum(np.sin(p["c"] * x) * x ** 2))
        if self.kind == "tanh layer":
            return float(np.sum(p["w"] * np.tanh(x @ p["A"])))
        return guard.unwatched(self._rnn, x)

    def _rnn(self, x):
        p = self.params
        if self._layer is None:
            # float64 on every backend: finite differences of a float32 function are noise.
            self._layer = ref.simple_rnn(p["Wx"], p["Wh"], p["b"], return_state=False, unroll=True,
                                         dtype="float64", activation=ref.float64_unary("tanh"))
        h_seq = ref.to_numpy(self._layer(x, initial_state=[p["h0"]]))
        return float(np.sum(p["w"] * h_seq))

    def __repr__(self):
        return f"f(x) = {self.TEXT[self.kind]}"

    def to_state(self):
        return {"kind": self.kind, "params": dict(self.params)}

    @classmethod
    def from_state(cls, state):
        return cls(state["kind"], state["params"])
