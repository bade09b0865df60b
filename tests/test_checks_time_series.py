"""The checks of notebook 08_time_series, exercised the way students will exercise them.

What is checked:

* that the solutions pass, that every catalogued mistake's mutant (tests/mutants/) is named on
  the visible and the hidden cases, and that nothing a student hands a check makes it raise:
  tests/test_contract.py, for every notebook at once; here, that each mutant returns what its
  catalogue entry returns;
* other correct versions pass (a list of windows, keepdims statistics, a preallocated forecast,
  a vectorised z-score), and windowing with NumPy's sliding_window_view is refused by name;
* the cases show what they must: strides that skip starts, seasons shorter than the horizon,
  a lag above one, injected drops as well as jumps;
* a count that follows from the sizes (the number of windows) is spelled out in a shape message;
* the forecaster handed to recursive_forecast says what it expected when fed the wrong shape,
  and is the same model every time it is rebuilt from its state.
"""

import numpy as np
import pytest

from rnnkit import checks
from rnnkit.checks import evaluate
from rnnkit.exercises.time_series import WindowModel
from rnnkit.grading import keys
from tests import mutants
from tests.mutation import assert_reproduces, student

NOTEBOOK = "08_time_series"
EXERCISES = keys.for_notebook(NOTEBOOK)
EXERCISE_NAMES = [e.name for e in EXERCISES]


@pytest.fixture(scope="module")
def nb08():
    """The solution cells of 08_time_series."""
    return mutants.namespace(NOTEBOOK)


def test_notebook_declares_the_seven_exercises():
    assert EXERCISE_NAMES == ["make_windows", "standardize", "naive_forecast",
                              "seasonal_naive_forecast", "mase", "recursive_forecast", "anomaly_scores"]
    assert [e.points for e in EXERCISES] == [2, 1, 1, 1, 2, 2, 2]
    for exercise in EXERCISES:
        assert exercise.select(hidden=False), f"{exercise.name} has no visible case"
        assert exercise.select(hidden=True), f"{exercise.name} has no hidden case"


def test_catalogues_never_shrink():
    """Catalogues grow; these are the sizes they have reached."""
    floors = {"make_windows": 4, "standardize": 4, "naive_forecast": 3, "seasonal_naive_forecast": 4,
              "mase": 4, "recursive_forecast": 4, "anomaly_scores": 4}
    for e in EXERCISES:
        assert len(e.mistakes) >= floors[e.name], e.name


def test_leakage_is_named_as_leakage():
    names = [m.name for m in keys.get("standardize").mistakes]
    assert names[0] == "statistics over all data (leakage)"
    assert "leak" in keys.get("standardize").mistakes[0].hint


@pytest.mark.parametrize("exercise_name, mistake, occurrence, source", mutants.params(NOTEBOOK))
def test_mutant_reproduces_its_catalogue_entry(nb08, exercise_name, mistake, occurrence, source):
    assert_reproduces(nb08, exercise_name, mistake, occurrence, source)


OTHER_CORRECT = {
    "make_windows": """
def make_windows(series, input_width, horizon, stride=1):
    n = (len(series) - input_width - horizon) // stride + 1
    X = np.empty((n, input_width, series.shape[1]))
    Y = np.empty((n, horizon, series.shape[1]))
    for i in range(n):
        s = i * stride
        X[i], Y[i] = series[s:s + input_width], series[s + input_width:s + input_width + horizon]
    return X, Y
""",
    "standardize": """
def standardize(train, test):
    mean = train.mean(axis=0, keepdims=True)
    std = np.sqrt(((train - mean) ** 2).mean(axis=0, keepdims=True))
    return (train - mean) / std, (test - mean) / std
""",
    "seasonal_naive_forecast": """
def seasonal_naive_forecast(X, season, horizon):
    last_season = X[:, -season:]
    reps = -(-horizon // season)
    return np.tile(last_season, (1, reps, 1))[:, :horizon]
""",
    "recursive_forecast": """
def recursive_forecast(step_fn, history, horizon):
    window = history.copy()
    out = np.empty((history.shape[0], horizon, history.shape[2]))
    for k in range(horizon):
        out[:, k] = step_fn(window)
        window = np.roll(window, -1, axis=1)
        window[:, -1] = out[:, k]
    return out
""",
    "anomaly_scores": """
def anomaly_scores(residuals, window, threshold=3.0):
    T = len(residuals)
    c1 = np.concatenate([[0.0], np.cumsum(residuals)])
    c2 = np.concatenate([[0.0], np.cumsum(residuals ** 2)])
    t = np.arange(window, T)
    mean = (c1[t] - c1[t - window]) / window
    std = np.sqrt((c2[t] - c2[t - window]) / window - mean ** 2)
    scores = np.zeros(T)
    scores[window:] = np.abs(residuals[window:] - mean) / std
    return scores, scores > threshold
""",
}


@pytest.mark.parametrize("name", sorted(OTHER_CORRECT))
def test_other_correct_versions_pass(nb08, name):
    fn = student(nb08, OTHER_CORRECT[name], name)
    for hidden in (False, True):
        result = evaluate(name, fn, hidden=hidden)
        assert result.passed, result.message


def test_windowing_with_sliding_window_view_is_refused_by_name(nb08):
    fn = student(nb08, """
def make_windows(series, input_width, horizon, stride=1):
    w = np.lib.stride_tricks.sliding_window_view(series, input_width + horizon, axis=0)
    w = w.transpose(0, 2, 1)[::stride]
    return w[:, :input_width], w[:, input_width:]
""", "make_windows")
    result = evaluate("make_windows", fn)
    assert not result.passed
    assert "sliding_window_view" in result.message, result.message


def test_cases_show_what_the_mistakes_need():
    """Strides above one, horizons longer than a season, a lag above one, drops and jumps."""
    def inputs(name):
        e = keys.get(name)
        return [(c, checks.make_inputs(e, c)) for c in e.cases]

    assert any(c.sizes["stride"] > 1 and not c.hidden for c, _ in inputs("make_windows"))
    assert any(c.sizes["stride"] > 1 and c.hidden for c, _ in inputs("make_windows"))
    for c, x in inputs("seasonal_naive_forecast"):
        assert x["X"].shape[1] > x["season"], c.label        # counting from the start differs
    assert any(x["horizon"] > x["season"] for _, x in inputs("seasonal_naive_forecast"))
    assert any(x["season"] > 1 for _, x in inputs("mase"))
    for c, x in inputs("anomaly_scores"):
        r, w = x["residuals"], x["window"]
        z = np.array([(r[t] - r[t - w:t].mean()) / r[t - w:t].std() for t in range(w, len(r))])
        assert (z > x["threshold"]).any() and (z < -x["threshold"]).any(), c.label
    for c, x in inputs("standardize"):
        assert x["train"].shape[1] >= 2, c.label              # per-feature statistics matter


def test_a_window_count_is_spelled_out_in_a_shape_message(nb08):
    """N is no size of the case: it follows from T, W, K and the stride, and the message gives it."""
    dropped = dict(mutants.of(NOTEBOOK).MUTANTS["make_windows"])["last window dropped"]
    result = evaluate("make_windows", student(nb08, dropped, "make_windows"))
    assert not result.passed
    assert "X has shape (7, 4, 1), expected (N, W, D) = (8, 4, 1)" in result.message, result.message


def test_the_forecaster_names_the_shape_it_expected():
    step_fn = WindowModel(D=2, H=3, seed=4)
    with pytest.raises(ValueError, match=r"reads a window \(N, W, D\) with D=2 features, got an array of shape \(3, 5\)"):
        step_fn(np.zeros((3, 5)))
    out = step_fn(np.ones((3, 5, 2)))
    assert out.shape == (3, 2) and out.dtype == np.float64
    again = WindowModel.from_state(step_fn.to_state())
    np.testing.assert_array_equal(again(np.ones((3, 5, 2))), out)
    assert not np.allclose(WindowModel(D=2, H=3, seed=5)(np.ones((3, 5, 2))), out)
