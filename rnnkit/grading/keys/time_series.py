"""Notebook 08_time_series: windows, scaling without leakage, baselines, MASE, multi-step
forecasts and anomalies.

Graded functions (the contract; T time steps, D features, W input width, K horizon, N windows,
S season):

    make_windows(series (T, D), input_width, horizon, stride) -> (X (N, W, D), Y (N, K, D))
        window n starts at s = n * stride: X[n] = series[s:s+W], Y[n] = series[s+W:s+W+K];
        N = (T - W - K) // stride + 1, every window that fits.
    standardize(train (T1, D), test (T2, D)) -> (train_z (T1, D), test_z (T2, D))
        both splits scaled by the training split's per-feature mean and standard deviation.
    naive_forecast(X (N, W, D), horizon) -> (N, K, D): each window's last value, repeated.
    seasonal_naive_forecast(X (N, W, D), season, horizon) -> (N, K, D)
        step k repeats the value one season before it: X[:, W - S + (k mod S)] (W >= S).
    mase(y_true, y_pred, y_train (T1, D), season) -> ()
        MAE(y_true, y_pred) / mean |y_train[t] - y_train[t - S]|.
    recursive_forecast(step_fn, history (N, W, D), horizon) -> (N, K, D)
        step_fn(window (N, W, D)) -> (N, D); each prediction joins the window, which slides.
    anomaly_scores(residuals (T,), window, threshold) -> (scores (T,), flags (T,) bool)
        scores[t] = |r_t - mean| / std over r[t-window:t] (0 for t < window); flags = scores > threshold.

The references are Keras: timeseries_dataset_from_array, Normalization adapted on the training
split, metrics.MeanAbsoluteError, a GRU forecaster (rnnkit.exercises.time_series.WindowModel)
called in a loop, and keras.ops over the stacked windows of the rolling z-score.
"""
import numpy as np

from rnnkit import reference as ref
from rnnkit.exercises.time_series import WindowModel
from rnnkit.grading.keys.catalog import register
from rnnkit.registry import Case, Exercise, Mistake, Output

NOTEBOOK = "08_time_series"
WINDOWING = ("keras.utils.timeseries_dataset_from_array",
             "numpy.lib.stride_tricks.sliding_window_view")


def _series(rng, T, D):
    """A trending, seasonal, noisy series (T, D) with features of different scales."""
    t = np.arange(T)[:, None]
    scale = 10.0 ** rng.uniform(-1.0, 1.0, size=D)
    level = rng.normal(0.0, 3.0, size=D)
    wave = np.sin(2 * np.pi * t / rng.uniform(4.0, 9.0, size=D) + rng.uniform(0, 6, size=D))
    return (level + 0.05 * t + wave + 0.3 * rng.normal(size=(T, D))) * scale


# ----------------------------------------------------------------------------- make_windows
def _windows_inputs(rng, case):
    s = case.sizes
    return dict(series=_series(rng, s["T"], s["D"]), input_width=s["W"], horizon=s["K"],
                stride=s["stride"])


def _windows(target_shift=0, last=True, use_stride=True):
    """NumPy windowing with switches for the catalogued mistakes: the target starts
    `target_shift` steps after the input's end; `last=False` stops one start early."""
    def run(series, input_width, horizon, stride=1):
        series = np.asarray(series, np.float64)
        W, K = int(input_width), int(horizon)
        step = int(stride) if use_stride else 1
        stop = len(series) - W - K + (1 if last else 0)
        starts = range(0, stop, step)
        X = np.stack([series[s:s + W] for s in starts])
        Y = np.stack([series[s + W + target_shift:s + W + target_shift + K] for s in starts])
        return X, Y
    return run


register(Exercise(
    name="make_windows", notebook=NOTEBOOK, points=2,
    args=("series", "input_width", "horizon", "stride"),
    outputs=(Output("X", ("N", "W", "D")), Output("Y", ("N", "K", "D"))),
    reference_name="keras.utils.timeseries_dataset_from_array",
    forbidden=WINDOWING,
    probes_on=("substitute",),
    reference=ref.run_timeseries_windows,
    make_inputs=_windows_inputs,
    cases=[
        Case("visible one step ahead", 801, dict(T=12, D=1, W=4, K=1, stride=1)),
        Case("visible stride 2", 802, dict(T=15, D=2, W=3, K=2, stride=2)),
        Case("hidden long", 1801, dict(T=40, D=2, W=6, K=3, stride=1), hidden=True,
             vary=dict(T=(30, 50), W=(4, 8), K=(2, 4))),
        Case("hidden stride 3", 1802, dict(T=26, D=1, W=5, K=2, stride=3), hidden=True,
             vary=dict(T=(22, 31))),
        Case("hidden float64", 1803, dict(T=20, D=3, W=2, K=4, stride=2), hidden=True, dtype="float64"),
    ],
    mistakes=[
        Mistake("target inside the input window (off by one)", "the target starts right after "
                "the input: Y[n] = series[s + W : s + W + K], not series[s + W - 1 : ...] (its "
                "first step would be the input's last).", _windows(target_shift=-1)),
        Mistake("target one step late (off by one)", "the first target step is the one right "
                "after the input window, series[s + W]: no gap between input and target.",
                _windows(target_shift=1, last=False)),
        Mistake("last window dropped", "a window starting at s fits while s + W + K <= T: the "
                "starts are range(0, T - W - K + 1, stride), the last one included.",
                _windows(last=False)),
        Mistake("stride ignored", "window n starts at n * stride: range(0, T - W - K + 1, stride).",
                _windows(use_stride=False)),
    ],
))


# ----------------------------------------------------------------------------- standardize
def _split_inputs(rng, case):
    s = case.sizes
    series = _series(rng, s["T"] + s["T2"], s["D"])
    return dict(train=series[:s["T"]], test=series[s["T"]:])


def _standardize(fit="train", power=0.5, per_feature=True):
    def run(train, test):
        train, test = np.asarray(train, np.float64), np.asarray(test, np.float64)
        axis = 0 if per_feature else None

        def stats(x):
            return x.mean(axis=axis), x.var(axis=axis) ** power

        if fit == "own":
            (m1, s1), (m2, s2) = stats(train), stats(test)
            return (train - m1) / s1, (test - m2) / s2
        m, s = stats(np.concatenate([train, test]) if fit == "all" else train)
        return (train - m) / s, (test - m) / s
    return run


register(Exercise(
    name="standardize", notebook=NOTEBOOK, points=1,
    args=("train", "test"),
    outputs=(Output("train_z", ("T", "D")), Output("test_z", ("T2", "D"))),
    reference_name="keras.layers.Normalization adapted on train",
    forbidden=("keras.layers.Normalization", "sklearn.preprocessing"),
    reference=ref.run_normalization,
    make_inputs=_split_inputs,
    cases=[
        Case("visible 1", 811, dict(T=16, T2=6, D=2)),
        Case("visible 2", 812, dict(T=10, T2=5, D=3)),
        Case("hidden long", 1811, dict(T=60, T2=20, D=2), hidden=True, vary=dict(T=(40, 80), T2=(10, 30))),
        Case("hidden float64", 1812, dict(T=25, T2=8, D=4), hidden=True, dtype="float64"),
    ],
    mistakes=[
        Mistake("statistics over all data (leakage)", "fit the mean and standard deviation on "
                "the training split only: statistics that include the test split leak the "
                "future into the model's inputs.", _standardize(fit="all")),
        Mistake("each split scaled with its own statistics", "the test split is scaled with the "
                "TRAINING statistics, the only ones known when the model is used.",
                _standardize(fit="own")),
        Mistake("divided by the variance, not the standard deviation", "z = (x - mean) / std, "
                "with std = sqrt(variance).", _standardize(power=1.0)),
        Mistake("one mean and standard deviation for all features", "take the statistics per feature "
                "(axis=0): each column has its own mean and scale.", _standardize(per_feature=False)),
    ],
))


# ----------------------------------------------------------------------------- naive forecasts
def _forecast_inputs(rng, case):
    s = case.sizes
    X, _ = _windows()(_series(rng, s["W"] + s["N"] + 1, s["D"]), s["W"], 1)
    inputs = dict(X=X[:s["N"]], horizon=s["K"])
    if "S" in s:
        inputs = dict(X=inputs["X"], season=s["S"], horizon=s["K"])
    return inputs


def _naive(how):
    def run(X, horizon):
        X = np.asarray(X, np.float64)
        if how == "first":
            return np.repeat(X[:, :1], horizon, axis=1)
        if how == "mean":
            return np.repeat(X.mean(axis=1, keepdims=True), horizon, axis=1)
        if horizon > X.shape[1]:
            raise ValueError("fewer steps than the horizon")
        return X[:, X.shape[1] - horizon:].copy()
    return run


FORECAST = Output("forecast", ("N", "K", "D"))

register(Exercise(
    name="naive_forecast", notebook=NOTEBOOK, points=1,
    args=("X", "horizon"),
    outputs=(FORECAST,),
    reference_name="keras.ops.repeat(X[:, -1:], K, axis=1)",
    forbidden=("keras.ops.repeat",),                  # what its Keras reference computes it with
    reference=ref.run_repeat_last,
    make_inputs=_forecast_inputs,
    cases=[
        Case("visible 1", 821, dict(N=3, W=5, D=1, K=3)),
        Case("visible 2", 822, dict(N=2, W=4, D=2, K=2)),
        Case("hidden long horizon", 1821, dict(N=4, W=6, D=2, K=4), hidden=True,
             vary=dict(N=(2, 6), W=(5, 9), K=(2, 5))),
        Case("hidden float64", 1822, dict(N=2, W=3, D=3, K=2), hidden=True, dtype="float64"),
    ],
    mistakes=[
        Mistake("first value of the window repeated", "the naive forecast repeats the LAST "
                "value seen, X[:, -1], the most recent one.", _naive("first")),
        Mistake("window mean repeated", "the naive forecast repeats the last value, not the "
                "window's mean (that is another baseline).", _naive("mean")),
        Mistake("the window's last K values copied", "every step ahead gets the same value, "
                "X[:, -1]: np.repeat(X[:, -1:], K, axis=1).", _naive("last K")),
    ],
))


def _seasonal(how):
    def run(X, season, horizon):
        X = np.asarray(X, np.float64)
        W, S, k = X.shape[1], int(season), np.arange(int(horizon))
        if how == "naive":
            idx = np.full(len(k), W - 1)
        elif how == "start":
            idx = k % S
        elif how == "one off":
            idx = W - S - 1 + k % S
        else:                                   # "no wrap": past one season, the last value
            idx = np.minimum(W - S + k, W - 1)
        if idx.min() < 0:
            raise ValueError("the window is too short")
        return X[:, idx]
    return run


register(Exercise(
    name="seasonal_naive_forecast", notebook=NOTEBOOK, points=1,
    args=("X", "season", "horizon"),
    outputs=(FORECAST,),
    reference_name="keras.ops.take(X, W - S + (k mod S), axis=1)",
    probes_on=("substitute",),
    forbidden=("keras.ops.take",),                  # what its Keras reference computes it with
    reference=ref.run_seasonal_take,
    make_inputs=_forecast_inputs,
    cases=[
        Case("visible one season", 831, dict(N=3, W=6, D=1, S=4, K=4)),
        Case("visible two seasons", 832, dict(N=2, W=5, D=2, S=3, K=7)),
        Case("hidden long", 1831, dict(N=3, W=9, D=2, S=5, K=12), hidden=True,
             vary=dict(N=(2, 5), K=(6, 14))),
        Case("hidden float64", 1832, dict(N=2, W=8, D=1, S=7, K=9), hidden=True, dtype="float64"),
    ],
    mistakes=[
        Mistake("season ignored (naive)", "step k repeats the value one season earlier, "
                "X[:, W - S + (k mod S)], not the last value.", _seasonal("naive")),
        Mistake("counted from the window start", "one season before step k is S steps before "
                "it, counted back from the window's END: X[:, W - S + (k mod S)].",
                _seasonal("start")),
        Mistake("one step off (a season and a step back)", "step k of the forecast (time W + k) "
                "repeats time W + k - S, which is X[:, W - S + k] for k < S.", _seasonal("one off")),
        Mistake("past one season, the last value repeated", "for a horizon longer than a season "
                "wrap around: step k repeats X[:, W - S + (k mod S)].", _seasonal("no wrap")),
    ],
))


# ----------------------------------------------------------------------------- mase
def _mase_inputs(rng, case):
    s = case.sizes
    series = _series(rng, s["T"] + s["T2"], s["D"])
    y_true = series[s["T"]:]
    return dict(y_true=y_true, y_pred=y_true + rng.normal(0.0, 0.5, size=y_true.shape) * y_true.std(0),
                y_train=series[:s["T"]], season=s["S"])


def _mase(scale_from="train", use_season=True, power=1, inverted=False):
    def run(y_true, y_pred, y_train, season=1):
        y_true, y_pred, y_train = (np.asarray(a, np.float64) for a in (y_true, y_pred, y_train))
        base = y_true if scale_from == "test" else y_train
        lag = int(season) if use_season else 1
        error = np.mean(np.abs(y_true - y_pred) ** power)
        scale = np.mean(np.abs(base[lag:] - base[:-lag]) ** power)
        return np.asarray(scale / error if inverted else error / scale)
    return run


register(Exercise(
    name="mase", notebook=NOTEBOOK, points=2,
    args=("y_true", "y_pred", "y_train", "season"),
    outputs=(Output("mase", ()),),
    reference_name="keras.metrics.MeanAbsoluteError(y_true, y_pred) / "
                   "MeanAbsoluteError(y_train[S:], y_train[:-S])",
    forbidden=("keras.metrics.MeanAbsoluteError", "keras.losses.MeanAbsoluteError",
               "keras.losses.mean_absolute_error", "sklearn.metrics.mean_absolute_error"),
    probes_on=("substitute",),
    reference=ref.run_mase,
    make_inputs=_mase_inputs,
    cases=[
        Case("visible seasonal", 841, dict(T=30, T2=8, D=1, S=4)),
        Case("visible lag one", 842, dict(T=20, T2=6, D=2, S=1)),
        Case("hidden long season", 1841, dict(T=60, T2=12, D=1, S=7), hidden=True,
             vary=dict(T=(40, 80), S=(2, 12))),
        Case("hidden float64", 1842, dict(T=25, T2=10, D=3, S=2), hidden=True, dtype="float64"),
    ],
    mistakes=[
        Mistake("scale from the test split", "the scale is the naive forecast's error on the "
                "TRAINING series (known in advance), not on the test values.", _mase(scale_from="test")),
        Mistake("season ignored in the scale", "with a season S the scale is the seasonal naive "
                "forecast's error, mean |y_train[S:] - y_train[:-S]|, not the lag-one one.",
                _mase(use_season=False)),
        Mistake("squared errors", "MASE divides mean ABSOLUTE errors; squaring them gives "
                "another (scale-dependent) ratio.", _mase(power=2)),
        Mistake("ratio inverted", "MASE is the forecast's error divided by the naive scale: "
                "below 1 means better than the naive forecast.", _mase(inverted=True)),
    ],
))


# ----------------------------------------------------------------------------- recursive_forecast
def _recursive_inputs(rng, case):
    s = case.sizes
    X, _ = _windows()(_series(rng, s["W"] + s["N"] + 1, s["D"]), s["W"], 1)
    X = X[:s["N"]]
    X = (X - X.mean(axis=(0, 1))) / X.std(axis=(0, 1))      # a model's inputs are standardized
    return dict(step_fn=WindowModel(D=s["D"], H=s["H"], seed=int(rng.integers(2 ** 31))),
                history=X, horizon=s["K"])


def _recursive(how="slide"):
    """step_fn stepped K times: the Keras forecaster in a loop (how="slide"), or a mistake."""
    def run(step_fn, history, horizon):
        window = np.asarray(history, np.float64)
        predictions = []
        for _ in range(int(horizon)):
            value = np.asarray(step_fn(history if how == "fixed" else window), np.float64)
            predictions.append(value)
            if how == "grow":
                window = np.concatenate([window, value[:, None]], axis=1)
            elif how == "prepend":
                window = np.concatenate([value[:, None], window[:, :-1]], axis=1)
            else:
                window = np.concatenate([window[:, 1:], value[:, None]], axis=1)
        if how == "reversed":
            predictions = predictions[::-1]
        return np.stack(predictions, axis=1)
    return run


register(Exercise(
    name="recursive_forecast", notebook=NOTEBOOK, points=2,
    args=("step_fn", "history", "horizon"),
    outputs=(FORECAST,),
    reference_name="a keras.layers.GRU + Dense forecaster called in a loop",
    reference=_recursive(),
    make_inputs=_recursive_inputs,
    atol=1e-5, rtol=1e-4,
    cases=[
        Case("visible 1", 851, dict(N=3, W=5, D=1, H=4, K=4)),
        Case("visible 2", 852, dict(N=2, W=4, D=2, H=3, K=3)),
        Case("hidden long horizon", 1851, dict(N=2, W=6, D=1, H=5, K=8), hidden=True,
             vary=dict(N=(2, 4), K=(6, 10))),
        Case("hidden float64", 1852, dict(N=3, W=3, D=2, H=4, K=5), hidden=True, dtype="float64"),
    ],
    mistakes=[
        Mistake("window not slid (the same input every step)", "after each step append the "
                "prediction to the window and drop its oldest step, then predict again from that "
                "window.", _recursive("fixed")),
        Mistake("window grows instead of sliding", "drop the oldest step as you append the "
                "prediction: the model was trained on windows of W steps.", _recursive("grow")),
        Mistake("predictions in reverse order", "forecast[:, k] is the prediction made at step "
                "k (k steps ahead of the history), the first one first.", _recursive("reversed")),
        Mistake("new value prepended (the window slid the wrong way)", "time runs along axis 1 "
                "from oldest to newest: the prediction joins at the END, "
                "np.concatenate([window[:, 1:], next[:, None]], axis=1).", _recursive("prepend")),
    ],
))


# ----------------------------------------------------------------------------- anomaly_scores
def _anomaly_inputs(rng, case):
    """Noise with `faults` spikes, alternately drops and jumps of 6 to 9 noise units, each more
    than a window after the one before (so no spike hides in the next one's statistics)."""
    s = case.sizes
    T, window, faults = s["T"], s["window"], s["faults"]
    gap = (T - window - 1) // faults
    if gap <= window:
        raise ValueError(f"{faults} faults do not fit {T} steps with a window of {window}")
    residuals = rng.normal(0.0, 1.0, size=T) + 0.5 * np.sin(np.arange(T) / 3.0)
    for i in range(faults):
        spot = window + 1 + i * gap + int(rng.integers(0, gap - window))
        residuals[spot] += (-1.0) ** (i + 1) * rng.uniform(6.0, 9.0)
    return dict(residuals=residuals, window=window, threshold=3.0)


def _anomaly(how="previous"):
    def run(residuals, window, threshold):
        r = np.asarray(residuals, np.float64)
        T, w = len(r), int(window)
        scores = np.zeros(T)
        if how == "global":
            scores[w:] = (r[w:] - r.mean()) / r.std()
        for t in range(w, T):
            if how == "inside":
                past = r[t - w + 1:t + 1]
            elif how == "ahead":
                past = r[t + 1:t + 1 + w]
                if len(past) < w:
                    continue
            else:
                past = r[t - w:t]
            if how != "global":
                scores[t] = (r[t] - past.mean()) / past.std()
        if how != "signed":
            scores = np.abs(scores)
        return scores, scores > threshold
    return run


register(Exercise(
    name="anomaly_scores", notebook=NOTEBOOK, points=2,
    args=("residuals", "window", "threshold"),
    outputs=(Output("scores", ("T",)), Output("flags", ("T",))),
    reference_name="the rolling z-score of the previous window (keras.ops.mean, keras.ops.std)",
    forbidden=("keras.ops.mean", "keras.ops.std", "keras.ops.abs"),
    probes_on=("substitute",),
    reference=ref.run_rolling_zscore,
    make_inputs=_anomaly_inputs,
    cases=[
        Case("visible injected faults", 861, dict(T=30, window=6, faults=2), note="injected anomalies"),
        Case("visible long window", 862, dict(T=40, window=10, faults=2), note="injected anomalies"),
        Case("hidden long", 1861, dict(T=80, window=12, faults=3), hidden=True,
             note="injected anomalies", vary=dict(T=(60, 100), window=(8, 12))),
        Case("hidden float64", 1862, dict(T=35, window=5, faults=3), hidden=True, dtype="float64",
             note="injected anomalies"),
    ],
    mistakes=[
        Mistake("current point inside its own window", "compare r_t with the PREVIOUS window "
                "r[t - window : t]: a spike inside its own statistics inflates the std and hides "
                "itself.", _anomaly("inside")),
        Mistake("statistics of the whole series", "the mean and std are the previous window's, "
                "so that the score follows a changing level and noise (and never uses the future).",
                _anomaly("global")),
        Mistake("signed score (drops never flagged)", "take the absolute value: a sudden drop "
                "is as anomalous as a jump.", _anomaly("signed")),
        Mistake("looks ahead (statistics of the next window)", "a score at time t may only use "
                "what came before t: r[t - window : t].", _anomaly("ahead")),
    ],
))
