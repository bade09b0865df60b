"""Notebook 08_time_series: the one-step forecaster that the checks hand to recursive_forecast.

    WindowModel   a small Keras forecaster with fixed, seeded weights (a GRU over the window,
                  then Dense): step_fn(window (N, W, D)) -> the next value (N, D)
"""
import numpy as np

from rnnkit.reference import float_dtype, to_numpy
from rnnkit.runtime import import_keras


class WindowModel:
    """A one-step forecaster: step_fn(window) -> next values, a keras.layers.GRU over the window
    and a keras.layers.Dense on its last state, in float64, with weights drawn from `seed`.

    The GRU reads windows of any length, so a forecast loop that lets its window grow instead of
    sliding gets other numbers, not an error. Every call returns a fresh (N, D) float64 array.

    Example:
        >>> step_fn = WindowModel(D=2, H=4, seed=1)
        >>> step_fn(np.zeros((3, 5, 2))).shape
        (3, 2)
    """

    def __init__(self, D, H, seed, name="step_fn"):
        self.D, self.H, self.seed, self.name = int(D), int(H), int(seed), name
        self._layers = None
        import_keras()   # now, not inside the function it is handed to (importing starts processes)

    def _build(self):
        keras = import_keras()
        rng = np.random.default_rng(self.seed)
        D, H = self.D, self.H
        gru = keras.layers.GRU(H, dtype=float_dtype())
        gru.build((None, None, D))
        gru.set_weights([rng.normal(0.0, 1.0 / np.sqrt(D), size=(D, 3 * H)),
                         rng.normal(0.0, 1.0 / np.sqrt(H), size=(H, 3 * H)),
                         rng.uniform(-0.3, 0.3, size=(2, 3 * H))])
        dense = keras.layers.Dense(D, dtype=float_dtype())
        dense.build((None, H))
        dense.set_weights([rng.normal(0.0, 1.0 / np.sqrt(H), size=(H, D)), rng.uniform(-0.2, 0.2, size=D)])
        self._layers = (gru, dense)

    def __call__(self, window):
        window = np.asarray(window, dtype=np.float64)
        if window.ndim != 3 or window.shape[-1] != self.D or window.shape[1] == 0:
            raise ValueError(f"{self.name} reads a window (N, W, D) with D={self.D} features, "
                             f"got an array of shape {window.shape}")
        if self._layers is None:
            self._build()
        gru, dense = self._layers
        return np.array(to_numpy(dense(gru(window))), dtype=np.float64)

    def __repr__(self):
        return f"<{self.name}: a GRU forecaster of {self.D} feature(s), {self.H} units>"

    def to_state(self):
        return {"D": self.D, "H": self.H, "seed": self.seed, "name": self.name}

    @classmethod
    def from_state(cls, state):
        return cls(**state)
