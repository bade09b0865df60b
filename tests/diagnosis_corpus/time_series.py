"""Uncatalogued wrong implementations of 08_time_series, and correct ones written otherwise.

The sources run in the solution namespace (plain NumPy; the notebook gives no helpers).
"""

NOTEBOOK = "08_time_series"

WRONG = {
    "make_windows": [
        ("one target step per window whatever the horizon (series[s + W : s + W + 1])",
         [("transform", "truncated")], """
def make_windows(series, input_width, horizon, stride=1):
    X, Y = [], []
    for s in range(0, len(series) - input_width - horizon + 1, stride):
        X.append(series[s:s + input_width])
        Y.append(series[s + input_width:s + input_width + 1])
    return np.array(X), np.array(Y)
"""),
        ("input windows one step short (series[s : s + W - 1])",
         [("transform", "truncated")], """
def make_windows(series, input_width, horizon, stride=1):
    X, Y = [], []
    for s in range(0, len(series) - input_width - horizon + 1, stride):
        X.append(series[s:s + input_width - 1])
        Y.append(series[s + input_width:s + input_width + horizon])
    return np.array(X), np.array(Y)
"""),
        ("targets and inputs returned in the wrong order (Y, X)",
         [("transform", "swapped")], """
def make_windows(series, input_width, horizon, stride=1):
    starts = range(0, series.shape[0] - input_width - horizon + 1, stride)
    X = np.array([series[s:s + input_width] for s in starts])
    Y = np.array([series[s + input_width:s + input_width + horizon] for s in starts])
    return Y, X
"""),
        ("windows stacked along axis 1 (W, N, D) instead of axis 0",
         [("transform", "transposed")], """
def make_windows(series, input_width, horizon, stride=1):
    starts = np.arange(0, len(series) - input_width - horizon + 1, stride)
    X = np.stack([series[s:s + input_width] for s in starts], axis=1)
    Y = np.stack([series[s + input_width:s + input_width + horizon] for s in starts], axis=1)
    return X, Y
"""),
    ],
    "standardize": [
        ("scaled in place (train -= mean; train /= std)",
         [("in_place", "train"), ("in_place", "test")], """
def standardize(train, test):
    mean, std = train.mean(axis=0), train.std(axis=0)
    train -= mean
    train /= std
    test -= mean
    test /= std
    return train, test
"""),
        ("sample standard deviation (ddof=1), as pandas computes it",
         [("transform", "scaled")], """
def standardize(train, test):
    mean, std = train.mean(axis=0), train.std(axis=0, ddof=1)
    return (train - mean) / std, (test - mean) / std
"""),
        ("test split centred but not divided by the standard deviation",
         [("transform", "scaled")], """
def standardize(train, test):
    mean, std = train.mean(axis=0), train.std(axis=0)
    return (train - mean) / std, test - mean
"""),
    ],
    "naive_forecast": [
        ("the value before the last repeated (X[:, -2])",
         [("transform", "shifted"), ("ignores", "X"), ("extra", "X")], """
def naive_forecast(X, horizon):
    return np.repeat(X[:, -2:-1, :], horizon, axis=1)
"""),
        ("loop over range(1, horizon): one step short",
         [("transform", "truncated")], """
def naive_forecast(X, horizon):
    steps = [X[:, -1, :] for _ in range(1, horizon)]
    return np.stack(steps, axis=1)
"""),
    ],
    "seasonal_naive_forecast": [
        ("a season of 4 whatever season is (the first example's, typed in)",
         [("substitute", "season")], """
def seasonal_naive_forecast(X, season, horizon):
    W = X.shape[1]
    idx = W - 4 + np.arange(horizon) % 4
    return X[:, idx, :]
"""),
        ("last season tiled whole seasons at a time (not cut to the horizon)",
         [("transform", "padded")], """
def seasonal_naive_forecast(X, season, horizon):
    repeats = int(np.ceil(horizon / season))
    return np.tile(X[:, -season:, :], (1, repeats, 1))
"""),
        ("the season counted back from the last value (X[:, W - 1 - (k mod S)])",
         [("transform", "reversed")], """
def seasonal_naive_forecast(X, season, horizon):
    W = X.shape[1]
    idx = W - 1 - np.arange(horizon) % season
    return X[:, idx, :]
"""),
        ("loop over range(horizon - 1): the last step missing",
         [("transform", "truncated")], """
def seasonal_naive_forecast(X, season, horizon):
    W = X.shape[1]
    out = []
    for k in range(horizon - 1):
        out.append(X[:, W - season + k % season, :])
    return np.stack(out, axis=1)
"""),
    ],
    "mase": [
        ("np.diff(y_train, n=season) taken as the seasonal difference (it is the n-th difference)",
         [("transform", "scaled")], """
def mase(y_true, y_pred, y_train, season=1):
    scale = np.mean(np.abs(np.diff(y_train, n=season, axis=0)))
    return np.mean(np.abs(y_true - y_pred)) / scale
"""),
        ("scale: the differences summed and divided by y_train.size (T values), not by T - S",
         [("transform", "scaled")], """
def mase(y_true, y_pred, y_train, season=1):
    scale = np.abs(y_train[season:] - y_train[:-season]).sum() / y_train.size
    return np.mean(np.abs(y_true - y_pred)) / scale
"""),
    ],
    "recursive_forecast": [
        ("the newest value dropped instead of the oldest (window[:, :-1] kept)",
         [("starts", "after step 0")], """
def recursive_forecast(step_fn, history, horizon):
    window = history
    preds = []
    for _ in range(horizon):
        nxt = step_fn(window)
        preds.append(nxt)
        window = np.concatenate([window[:, :-1], nxt[:, None, :]], axis=1)
    return np.stack(preds, axis=1)
"""),
        ("window slid before the prediction is recorded (each forecast a step late)",
         [("transform", "shifted")], """
def recursive_forecast(step_fn, history, horizon):
    window = history
    preds = []
    for _ in range(horizon):
        window = np.concatenate([window[:, 1:], step_fn(window)[:, None, :]], axis=1)
        preds.append(step_fn(window))
    return np.stack(preds, axis=1)
"""),
        ("predictions stacked along axis 0 (K, N, D)",
         [("transform", "transposed")], """
def recursive_forecast(step_fn, history, horizon):
    window = history
    preds = []
    for _ in range(horizon):
        nxt = step_fn(window)
        preds.append(nxt)
        window = np.concatenate([window[:, 1:], nxt[:, None, :]], axis=1)
    return np.array(preds)
"""),
        ("window slid in place in the history array",
         [("in_place", "history")], """
def recursive_forecast(step_fn, history, horizon):
    window = history
    preds = []
    for _ in range(horizon):
        nxt = step_fn(window)
        preds.append(nxt)
        window[:, :-1] = window[:, 1:]
        window[:, -1] = nxt
    return np.stack(preds, axis=1)
"""),
    ],
    "anomaly_scores": [
        ("a window of 6 whatever window is (the first example's, typed in)",
         [("substitute", "window")], """
def anomaly_scores(residuals, window, threshold):
    r = np.asarray(residuals, dtype=float)
    scores = np.zeros(len(r))
    for t in range(6, len(r)):
        past = r[t - 6:t]
        scores[t] = abs(r[t] - past.mean()) / past.std()
    return scores, scores > threshold
"""),
        ("previous window one short (r[t - window + 1 : t])",
         [("transform", "truncated"), ("not_carried", "residuals"), ("ignores", "residuals")], """
def anomaly_scores(residuals, window, threshold=3.0):
    scores = np.zeros(len(residuals))
    for t in range(window, len(residuals)):
        past = residuals[t - window + 1:t]
        scores[t] = abs(residuals[t] - past.mean()) / past.std()
    return scores, scores > threshold
"""),
        ("sample standard deviation (ddof=1) of the window",
         [("transform", "scaled")], """
def anomaly_scores(residuals, window, threshold=3.0):
    scores = np.zeros(len(residuals))
    for t in range(window, len(residuals)):
        past = residuals[t - window:t]
        scores[t] = abs(residuals[t] - past.mean()) / past.std(ddof=1)
    return scores, scores > threshold
"""),
        ("residuals centred in place first (residuals -= residuals.mean())",
         [("in_place", "residuals")], """
def anomaly_scores(residuals, window, threshold=3.0):
    residuals -= residuals.mean()
    scores = np.zeros(len(residuals))
    for t in range(window, len(residuals)):
        past = residuals[t - window:t]
        scores[t] = abs(residuals[t] - past.mean()) / past.std()
    return scores, scores > threshold
"""),
    ],
}

SILENT = {
    "make_windows": [
        ("fancy indexing with a (N, W) grid of time indices", """
def make_windows(series, input_width, horizon, stride=1):
    T = len(series)
    n = (T - input_width - horizon) // stride + 1
    starts = np.arange(n)[:, None] * stride
    X = series[starts + np.arange(input_width)[None, :]]
    Y = series[starts + input_width + np.arange(horizon)[None, :]]
    return X, Y
"""),
    ],
    "anomaly_scores": [
        ("cumulative sums for the rolling mean and variance, in float64", """
def anomaly_scores(residuals, window, threshold=3.0):
    r = np.asarray(residuals, dtype=np.float64)
    c1 = np.concatenate([[0.0], np.cumsum(r)])
    c2 = np.concatenate([[0.0], np.cumsum(r * r)])
    t = np.arange(window, len(r))
    mean = (c1[t] - c1[t - window]) / window
    var = (c2[t] - c2[t - window]) / window - mean ** 2
    scores = np.zeros(len(r))
    scores[window:] = np.abs(r[window:] - mean) / np.sqrt(var)
    return scores, scores > threshold
"""),
    ],
    "mase": [
        ("float32 arithmetic and np.abs(np.subtract(...)) with explicit lagged slices", """
def mase(y_true, y_pred, y_train, season=1):
    y_train = np.asarray(y_train, np.float32)
    lagged, current = y_train[:len(y_train) - season], y_train[season:]
    scale = np.abs(np.subtract(current, lagged)).mean()
    error = np.abs(np.subtract(np.float32(y_true), np.float32(y_pred))).mean()
    return float(error / scale)
"""),
    ],
}
