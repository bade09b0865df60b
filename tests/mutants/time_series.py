"""Student-style mutants of 08_time_series: one per catalogued mistake."""

NOTEBOOK = '08_time_series'
GIVEN_HELPERS = ()  # the graded functions need no given code


# ----------------------------------------------------------------------------- mutants
# exercise name -> [(catalogued mistake name, student source defining that function)], in
# catalogue order; plain NumPy, written the way the mistakes show up in students' notebooks.
MUTANTS = {
    "make_windows": [
        ("target inside the input window (off by one)", """
def make_windows(series, input_width, horizon, stride=1):
    X, Y = [], []
    for s in range(0, len(series) - input_width - horizon + 1, stride):
        X.append(series[s:s + input_width])
        Y.append(series[s + input_width - 1:s + input_width - 1 + horizon])
    return np.array(X), np.array(Y)
"""),
        ("target one step late (off by one)", """
def make_windows(series, input_width, horizon, stride=1):
    X, Y = [], []
    for s in range(0, len(series) - input_width - horizon, stride):
        X.append(series[s:s + input_width])
        Y.append(series[s + input_width + 1:s + input_width + horizon + 1])
    return np.array(X), np.array(Y)
"""),
        ("last window dropped", """
def make_windows(series, input_width, horizon, stride=1):
    n = len(series) - input_width - horizon
    starts = np.arange(0, n, stride)
    X = np.stack([series[s:s + input_width] for s in starts])
    Y = np.stack([series[s + input_width:s + input_width + horizon] for s in starts])
    return X, Y
"""),
        ("stride ignored", """
def make_windows(series, input_width, horizon, stride=1):
    T = series.shape[0]
    X = np.stack([series[s:s + input_width] for s in range(T - input_width - horizon + 1)])
    Y = np.stack([series[s + input_width:s + input_width + horizon]
                  for s in range(T - input_width - horizon + 1)])
    return X, Y
"""),
    ],
    "standardize": [
        ("statistics over all data (leakage)", """
def standardize(train, test):
    everything = np.concatenate([train, test])
    mean, std = everything.mean(axis=0), everything.std(axis=0)
    return (train - mean) / std, (test - mean) / std
"""),
        ("each split scaled with its own statistics", """
def standardize(train, test):
    def z(x):
        return (x - x.mean(axis=0)) / x.std(axis=0)
    return z(train), z(test)
"""),
        ("divided by the variance, not the standard deviation", """
def standardize(train, test):
    mean, var = train.mean(axis=0), train.var(axis=0)
    return (train - mean) / var, (test - mean) / var
"""),
        ("one mean and standard deviation for all features", """
def standardize(train, test):
    mean, std = train.mean(), train.std()
    return (train - mean) / std, (test - mean) / std
"""),
    ],
    "naive_forecast": [
        ("first value of the window repeated", """
def naive_forecast(X, horizon):
    return np.repeat(X[:, :1, :], horizon, axis=1)
"""),
        ("window mean repeated", """
def naive_forecast(X, horizon):
    level = X.mean(axis=1, keepdims=True)
    return np.repeat(level, horizon, axis=1)
"""),
        ("the window's last K values copied", """
def naive_forecast(X, horizon):
    return X[:, -horizon:, :]
"""),
    ],
    "seasonal_naive_forecast": [
        ("season ignored (naive)", """
def seasonal_naive_forecast(X, season, horizon):
    return np.repeat(X[:, -1:, :], horizon, axis=1)
"""),
        ("counted from the window start", """
def seasonal_naive_forecast(X, season, horizon):
    idx = np.arange(horizon) % season
    return X[:, idx, :]
"""),
        ("one step off (a season and a step back)", """
def seasonal_naive_forecast(X, season, horizon):
    last_season = X[:, -season - 1:-1, :]
    return np.concatenate([last_season] * (horizon // season + 1), axis=1)[:, :horizon]
"""),
        ("past one season, the last value repeated", """
def seasonal_naive_forecast(X, season, horizon):
    W = X.shape[1]
    steps = [X[:, min(W - season + k, W - 1)] for k in range(horizon)]
    return np.stack(steps, axis=1)
"""),
    ],
    "mase": [
        ("scale from the test split", """
def mase(y_true, y_pred, y_train, season=1):
    scale = np.mean(np.abs(y_true[season:] - y_true[:-season]))
    return np.mean(np.abs(y_true - y_pred)) / scale
"""),
        ("season ignored in the scale", """
def mase(y_true, y_pred, y_train, season=1):
    scale = np.mean(np.abs(np.diff(y_train, axis=0)))
    return np.mean(np.abs(y_true - y_pred)) / scale
"""),
        ("squared errors", """
def mase(y_true, y_pred, y_train, season=1):
    scale = np.mean((y_train[season:] - y_train[:-season]) ** 2)
    return np.mean((y_true - y_pred) ** 2) / scale
"""),
        ("ratio inverted", """
def mase(y_true, y_pred, y_train, season=1):
    mae = np.mean(np.abs(y_true - y_pred))
    return np.mean(np.abs(y_train[season:] - y_train[:-season])) / mae
"""),
    ],
    "recursive_forecast": [
        ("window not slid (the same input every step)", """
def recursive_forecast(step_fn, history, horizon):
    preds = []
    for _ in range(horizon):
        preds.append(step_fn(history))
    return np.stack(preds, axis=1)
"""),
        ("window grows instead of sliding", """
def recursive_forecast(step_fn, history, horizon):
    window = history.copy()
    preds = []
    for _ in range(horizon):
        nxt = step_fn(window)
        preds.append(nxt)
        window = np.concatenate([window, nxt[:, None, :]], axis=1)
    return np.stack(preds, axis=1)
"""),
        ("predictions in reverse order", """
def recursive_forecast(step_fn, history, horizon):
    window = history
    preds = []
    for _ in range(horizon):
        nxt = step_fn(window)
        preds.insert(0, nxt)
        window = np.concatenate([window[:, 1:], nxt[:, None, :]], axis=1)
    return np.stack(preds, axis=1)
"""),
        ("new value prepended (the window slid the wrong way)", """
def recursive_forecast(step_fn, history, horizon):
    window = history
    out = np.zeros((history.shape[0], horizon, history.shape[2]))
    for k in range(horizon):
        out[:, k] = step_fn(window)
        window = np.concatenate([out[:, k:k + 1], window[:, :-1]], axis=1)
    return out
"""),
    ],
    "anomaly_scores": [
        ("current point inside its own window", """
def anomaly_scores(residuals, window, threshold=3.0):
    scores = np.zeros(len(residuals))
    for t in range(window, len(residuals)):
        recent = residuals[t - window + 1:t + 1]
        scores[t] = abs(residuals[t] - recent.mean()) / recent.std()
    return scores, scores > threshold
"""),
        ("statistics of the whole series", """
def anomaly_scores(residuals, window, threshold=3.0):
    z = np.abs(residuals - residuals.mean()) / residuals.std()
    z[:window] = 0.0
    return z, z > threshold
"""),
        ("signed score (drops never flagged)", """
def anomaly_scores(residuals, window, threshold=3.0):
    scores = np.zeros(len(residuals))
    for t in range(window, len(residuals)):
        past = residuals[t - window:t]
        scores[t] = (residuals[t] - past.mean()) / past.std()
    return scores, scores > threshold
"""),
        ("looks ahead (statistics of the next window)", """
def anomaly_scores(residuals, window, threshold=3.0):
    T = len(residuals)
    scores = np.zeros(T)
    for t in range(window, T - window):
        nxt = residuals[t + 1:t + 1 + window]
        scores[t] = abs(residuals[t] - nxt.mean()) / nxt.std()
    return scores, scores > threshold
"""),
    ],
}

# Catalogued mistakes the hidden cases cannot see yet: (exercise, mistake) -> why.
HIDDEN_GAPS = {}
