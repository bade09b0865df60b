"""Diagnosis by experiment (rnnkit.diagnosis), measured on mistakes that no catalogue lists.

What is checked:

* the corpus (tests/diagnosis_corpus/): every wrong implementation of every notebook is caught,
  none is taken for a catalogued mistake, none is shown a wrong finding, and at least 80 % are
  shown a right one (`make diagnose-report` prints the table);
* the silent set: correct functions written otherwise than the solution (float32, einsum, other
  loops) and the solutions themselves get no finding, even with every output marked wrong, which
  runs every probe;
* hygiene: a function that changes its argument in place fails, with its own message, in the
  notebook and in the grader's verification; two identical calls that differ and a result that
  follows a global variable of the notebook are named;
* a catalogued mistake still wins (no diagnosis under it), a passing check runs no experiment,
  a failing one shows at most two findings and writes nothing to stderr, and nothing in the
  probes can make a check raise.
"""
import numpy as np
import pytest

from rnnkit import checks, diagnosis
from rnnkit.grading import keys
from tests import mutants
from tests.diagnosis_corpus import notebooks, of, run, silent_findings, table
from tests.mutation import student

NOTEBOOKS = notebooks()
_ROWS = {}


def rows_of(notebook):
    if notebook not in _ROWS:
        _ROWS[notebook] = run(notebook)
    return _ROWS[notebook]


# ----------------------------------------------------------------------------- the corpus
@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_every_uncatalogued_mistake_is_caught_and_no_finding_is_wrong(notebook):
    rows = rows_of(notebook)
    assert len(rows) >= 8, f"{notebook}: only {len(rows)} corpus entries"
    for r in rows:
        assert r.caught, f"{r.exercise}: {r.what} passes its checks"
        assert not r.named, f"{r.exercise}: {r.what} is a catalogued mistake ({r.named})"
        assert r.right or not r.given, (f"{r.exercise}: {r.what}: shown {[(f.kind, f.subject) for f in r.shown]}, "
                                        f"expected one of {r.expected}\n{r.message}")


def test_at_least_eighty_percent_of_the_corpus_is_shown_a_right_finding():
    rows = [r for notebook in NOTEBOOKS for r in rows_of(notebook)]
    assert len(NOTEBOOKS) == 9 and len(rows) >= 60
    right = sum(r.right for r in rows)
    assert right >= 0.8 * len(rows), table(rows)


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_correct_functions_get_no_finding(notebook):
    namespace = mutants.namespace(notebook)
    for exercise, entries in of(notebook).SILENT.items():
        for what, source in entries:
            for hidden in (False, True):
                found = silent_findings(notebook, exercise, source, namespace, hidden)
                assert not found, (exercise, what, hidden, [f.text for f in found])
    for e in keys.for_notebook(notebook):
        if "all" not in e.probes_off:
            found = silent_findings(notebook, e.name, None, namespace, hidden=True)
            assert not found, (e.name, [f.text for f in found])


# ----------------------------------------------------------------------------- hygiene
@pytest.fixture(scope="module")
def nb01():
    return mutants.namespace("01_rnn_fundamentals")


IN_PLACE = """
def rnn_cell_forward(x_t, h_prev, Wx, Wh, b):
    return np.tanh(x_t @ Wx + h_prev @ Wh + b, out=h_prev)
"""


def test_an_argument_changed_in_place_fails_even_with_the_right_values(nb01):
    fn = student(nb01, IN_PLACE)
    for hidden in (False, True):
        result = checks.evaluate("rnn_cell_forward", fn, hidden=hidden)
        assert not result.passed
        assert "it changes its argument h_prev in place: work on a copy" in result.message
        assert [(f.kind, f.subject) for f in result.findings] == [("in_place", "h_prev")]
        assert "Diagnosis:" not in result.message        # the failure says it already


def test_an_argument_changed_in_place_scores_zero_in_the_verification_too():
    from tests.test_verify import cheating
    verdict = cheating(IN_PLACE).verdicts["rnn_cell_forward"]
    assert verdict.points == 0
    assert "changes its argument h_prev in place" in verdict.message


def test_an_argument_read_and_restored_in_place_is_fine():
    """A finite difference that nudges x[i] and puts it back leaves x as it was given."""
    namespace = mutants.namespace("02_bptt")
    assert checks.evaluate("numerical_gradient", namespace["numerical_gradient"]).passed
    assert checks.evaluate("numerical_gradient", namespace["numerical_gradient"], hidden=True).passed


def test_two_identical_calls_that_differ_are_named(nb01):
    fn = student(nb01, """
def rnn_cell_forward(x_t, h_prev, Wx, Wh, b):
    noise = np.random.normal(0.0, 0.01, size=b.shape)      # "regularisation"
    return np.tanh(x_t @ Wx + h_prev @ Wh + b + noise)
""")
    result = checks.evaluate("rnn_cell_forward", fn)
    assert ("nondeterministic", "") in [(f.kind, f.subject) for f in result.findings]
    assert "Diagnosis: Two calls with the same inputs give different h_next" in result.message


def test_a_global_variable_of_the_notebook_is_named(nb01):
    namespace = dict(nb01, bias=np.full(5, 0.1))
    fn = student(namespace, """
def rnn_cell_forward(x_t, h_prev, Wx, Wh, b):
    return np.tanh(x_t @ Wx + h_prev @ Wh + bias)
""")
    result = checks.evaluate("rnn_cell_forward", fn)
    assert ("global", "bias") in [(f.kind, f.subject) for f in result.findings], result.message
    assert fn.__globals__["bias"].tolist() == [0.1] * 5           # put back as it was


def test_a_constant_of_the_notebook_is_not_a_global_to_avoid(nb01):
    """EPS by its name is a constant a function may read; H, a single capital, is a size."""
    namespace = dict(nb01, EPS=1e-3)
    fn = student(namespace, """
def rnn_cell_forward(x_t, h_prev, Wx, Wh, b):
    return np.tanh(x_t @ Wx + h_prev @ Wh + b) + EPS
""")
    result = checks.evaluate("rnn_cell_forward", fn)
    assert not result.passed and "global" not in [f.kind for f in result.findings], result.message
    from rnnkit.diagnosis import hygiene
    assert hygiene._constant_name("MAX_LEN") and not hygiene._constant_name("H")


def test_constants_the_notebook_imports_from_the_kit_are_not_globals_to_avoid():
    from rnnkit.diagnosis import hygiene
    from rnnkit.exercises import music
    assert hygiene._given_constant("HOLD", music.HOLD)
    assert not hygiene._given_constant("HOLD", 1.5)


# ----------------------------------------------------------------------------- the engine
def test_the_issue_example_names_the_input_gate(nb01):
    namespace = mutants.namespace("04_lstm_gru")
    fn = student(namespace, """
def lstm_cell_forward(x_t, h_prev, c_prev, W, U, b):
    H = h_prev.shape[1]
    z = x_t @ W + h_prev @ U + b
    f, g, o = sigmoid(z[:, H:2 * H]), np.tanh(z[:, 2 * H:3 * H]), sigmoid(z[:, 3 * H:])
    c = f * c_prev + g
    return o * np.tanh(c), c
""")
    result = checks.evaluate("lstm_cell_forward", fn)
    assert ("Diagnosis: Changing the input gate's columns W[:, 0:5] does not change your "
            "h_next; in keras.layers.LSTMCell it does.") in result.message


def test_a_catalogued_mistake_wins_and_runs_no_experiment(nb01, monkeypatch):
    from tests.mutants.rnn_fundamentals import MUTANTS
    name, source = MUTANTS["rnn_cell_forward"][0]
    monkeypatch.setattr(diagnosis, "diagnose", lambda *a, **k: pytest.fail("diagnosed"))
    result = checks.evaluate("rnn_cell_forward", student(nb01, source))
    assert result.mistake == name and not result.findings


def test_a_passing_check_runs_no_experiment(nb01, monkeypatch):
    monkeypatch.setattr(diagnosis, "diagnose", lambda *a, **k: pytest.fail("diagnosed"))
    assert checks.evaluate("rnn_forward", nb01["rnn_forward"]).passed


def test_a_failing_check_shows_two_findings_at_most_and_writes_nothing_to_stderr(nb01, capfd):
    fn = student(nb01, """
def rnn_forward(x, h0, Wx, Wh, b):
    h, hs = h0, []
    for t in range(x.shape[1]):
        h = rnn_cell_forward(x[:, t], h0, Wx, Wh, b) * 1e300 * 1e300   # overflows: inf
        hs.append(h)
    return np.stack(hs, axis=1), h
""")
    result = checks.evaluate("rnn_forward", fn)
    assert not result.passed
    assert result.message.count("Diagnosis:") <= 2
    assert capfd.readouterr().err == ""


def test_probes_that_raise_never_break_a_check(nb01, monkeypatch):
    def broken(lab):
        raise RuntimeError("a probe failed")
    monkeypatch.setitem(diagnosis._PROBE_FUNCTIONS, "dependence", broken)
    fn = student(nb01, "def rnn_cell_forward(x_t, h_prev, Wx, Wh, b):\n    return np.tanh(x_t @ Wx + b)\n")
    result = checks.evaluate("rnn_cell_forward", fn)
    assert not result.passed and "checker itself failed" not in result.message


def test_letters_of_an_argument_come_from_the_sizes_and_batch_comes_first():
    e = keys.get("additive_attention")
    case = checks.views.get("additive_attention").cases[0]
    inputs = checks.make_inputs(e, case)
    from rnnkit.diagnosis import lab
    dims = lab._arg_dims(e, case, inputs)
    assert case.sizes["N"] == case.sizes["Dv"]                # two sizes of 3: the fallback decides
    assert dims["values"] == ("N", "Tk", "Dv") and dims["mask"] == ("N", "Tk")


def test_in_place_edit_finds_the_first_changed_entry():
    a = {"x": np.zeros((2, 3)), "grads": [np.zeros(2), np.ones(2)]}
    b = {"x": np.zeros((2, 3)), "grads": [np.zeros(2), np.array([1.0, 5.0])]}
    assert diagnosis.in_place_edit(a, b, ("x", "grads")) == ("grads", (1, 1))
    assert diagnosis.in_place_edit(a, a, ("x", "grads")) == ("", None)
    nan = {"x": np.array([np.nan])}
    assert diagnosis.in_place_edit(nan, {"x": np.array([np.nan])}, ("x",)) == ("", None)
