"""The verification pass reaches nbgrader's verdicts on honest notebooks, and its own on cheating ones.

Honest: every example submission (full marks, partial, untouched) of every notebook is verified
to the points its graded cells earn, the exercises checked by a runner included (sample_next's
samples counted here; build_captioner's model loaded from a .keras file with safe_mode, then
probed, trained and scored here, to the same token accuracy as in the notebook). Cheating: a solution cell that tampers with what the tests in
its kernel see (replacing rnnkit's check, NumPy or the watch, returning an object equal to
anything, calling the Keras layer it should implement or the kit's own code, importing the answer
keys, knowing the declared hidden cases by heart) gets nothing from the verifier, which runs the
function in a sandbox on the batch's own hidden cases and judges what it returned in this process.
"""
import json
import os

import nbformat
import pytest

from rnnkit.grading import keys, workspace
from rnnkit.grading.release import examples
from rnnkit.grading.isolation import solution_sandbox
from rnnkit.grading.verify import verifier

pytestmark = pytest.mark.slow
KINDS = ("full_marks", "partial", "untouched")


def example(kind, assignment):
    return nbformat.read(os.path.join(workspace.AUTOGRADE, "examples", kind, assignment,
                                      f"{assignment}.ipynb"), as_version=4)


def expected_points(kind, exercise):
    if kind == "untouched":
        return 0
    if kind == "partial":
        broken = {gid.replace("_code", "") for gid in examples.PARTIAL.get(exercise.notebook, {})}
        return 0 if exercise.name in broken else exercise.points
    return exercise.points


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("assignment", workspace.assignments())
def test_examples_verify_to_the_points_their_cells_earn(assignment, kind):
    verdicts = verifier.verify(example(kind, assignment), assignment)
    assert not verdicts.error and verdicts.cells == []
    for e in keys.for_notebook(assignment):
        v = verdicts.verdicts[e.name]
        assert v.verified, (e.name, v.message)     # runner exercises too (collect/finish)
        assert v.points == expected_points(kind, e), (e.name, v.message)
        assert v.passed == (v.points == e.points)


def cheating(cell_source, assignment="01_rnn_fundamentals", grade_id="rnn_cell_forward_code", seed=None):
    nb = example("full_marks", assignment)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    cell.source = cell_source
    return verifier.verify(nb, assignment, seed=seed)


WRONG = "def rnn_cell_forward(x_t, h_prev, Wx, Wh, b):\n    return np.zeros((x_t.shape[0], Wh.shape[0]))\n"


def test_replacing_the_check_in_the_kernel_fools_nobody_here():
    v = cheating(WRONG + "import rnnkit.checks\nrnnkit.checks.check = check = lambda *a, **k: print('ok')\n")
    assert v.verdicts["rnn_cell_forward"].points == 0
    assert "rnn_cell_forward does not match" in v.verdicts["rnn_cell_forward"].message
    assert v.verdicts["dense_softmax"].points == 2     # the other exercises are graded as usual


def test_replacing_numpy_functions_fools_nobody_here():
    v = cheating(WRONG + "import numpy, numpy.testing\nnumpy.testing.assert_allclose = lambda *a, **k: None\n"
                 "numpy.allclose = lambda *a, **k: True\n")
    assert v.verdicts["rnn_cell_forward"].points == 0


def test_an_object_equal_to_everything_is_not_an_answer():
    v = cheating("class Anything:\n    def __eq__(self, other):\n        return True\n\n"
                 "def rnn_cell_forward(x_t, h_prev, Wx, Wh, b):\n    return Anything()\n")
    assert v.verdicts["rnn_cell_forward"].points == 0
    assert "Anything" in v.verdicts["rnn_cell_forward"].message


def test_calling_the_keras_layer_it_implements_scores_zero():
    v = cheating(
        "import keras\n"
        "def rnn_cell_forward(x_t, h_prev, Wx, Wh, b):\n"
        "    cell = keras.layers.SimpleRNNCell(Wh.shape[0])\n"
        "    cell.build(x_t.shape)\n"
        "    cell.set_weights([Wx, Wh, b])\n"
        "    return np.asarray(cell(x_t, [h_prev])[0])\n")
    assert v.verdicts["rnn_cell_forward"].points == 0
    assert "calls keras.layers.SimpleRNNCell" in v.verdicts["rnn_cell_forward"].message


def test_calling_the_kits_own_code_or_importing_the_answer_keys_scores_zero():
    v = cheating("from rnnkit import reference\n"
                 "def rnn_cell_forward(x_t, h_prev, Wx, Wh, b):\n"
                 "    return reference.run_simple_rnn_cell(x_t, h_prev, Wx, Wh, b)\n")
    assert v.verdicts["rnn_cell_forward"].points == 0
    assert "calls rnnkit.reference, the kit's own code" in v.verdicts["rnn_cell_forward"].message
    v = cheating("import rnnkit.guard\nrnnkit.guard.Watch.wrap = lambda self, fn: fn\n"
                 "def rnn_cell_forward(x_t, h_prev, Wx, Wh, b):\n"
                 "    from rnnkit.grading.keys import rnn_fundamentals as answers\n"
                 "    return answers._cell()(x_t, h_prev, Wx, Wh, b)\n")
    assert v.verdicts["rnn_cell_forward"].points == 0 and v.verdicts["dense_softmax"].points == 2
    assert "reaches into the kit's own code" in " ".join(v.suspicious)


def _memoriser():
    """A rnn_cell_forward that knows the answer of every declared case and nothing else."""
    from rnnkit import checks
    table = {}
    e = keys.get("rnn_cell_forward")
    for case in e.cases:
        inputs = checks.make_inputs(e, case)
        table[inputs["x_t"].astype("float64").round(6).tobytes().hex()] = \
            e.reference(**inputs).round(12).tolist()
    return ("ANSWERS = %r\n\n"
            "def rnn_cell_forward(x_t, h_prev, Wx, Wh, b):\n"
            "    known = ANSWERS.get(np.asarray(x_t, 'float64').round(6).tobytes().hex())\n"
            "    return np.array(known) if known is not None else np.zeros((len(x_t), len(b)))\n" % table)


def test_hidden_cases_learnt_by_heart_fail_on_the_batchs_own():
    """Knowing every declared case passes them (and the notebook's own check); the copies drawn
    for the batch fail it, and the message names one."""
    from rnnkit import checks
    namespace = {"np": __import__("numpy")}
    exec(_memoriser(), namespace)
    assert checks.evaluate("rnn_cell_forward", namespace["rnn_cell_forward"], hidden=True).passed
    assert cheating(_memoriser()).verdicts["rnn_cell_forward"].points == 2           # the declared cases
    v = cheating(_memoriser(), seed=31337)
    assert v.verdicts["rnn_cell_forward"].points == 0
    assert "(drawn)'" in v.verdicts["rnn_cell_forward"].message


def test_the_batch_seed_decides_what_the_sandbox_is_given():
    """Only inputs enter the sandbox: the declared cases and the batch's copies, the same for the
    same seed, others for another."""
    import json
    one, again, other = (verifier.cases_document("01_rnn_fundamentals", s) for s in (7, 7, 8))
    assert one is again                                      # drawn once per batch and process
    text = json.dumps(one[0])
    assert "(drawn)" in text and '"reference"' not in text and '"mistakes"' not in text
    labels = lambda doc: [c["label"] for e in doc[0]["exercises"] for c in e["cases"]]   # noqa: E731
    assert labels(one) == labels(other)
    arrays = lambda doc: {k: v.tobytes() for k, v in doc[1].items()}                   # noqa: E731
    assert arrays(one) != arrays(other)


def test_reading_the_solutions_from_disk_is_refused():
    path = os.path.join(workspace.SOLUTIONS, "01_rnn_fundamentals", "01_rnn_fundamentals.ipynb")
    v = cheating(f"SOLUTION = open({path!r}).read()\n" + WRONG.replace("np.zeros", "np.ones"))
    assert v.verdicts["rnn_cell_forward"].points == 0
    assert "no function called rnn_cell_forward is defined" in v.verdicts["rnn_cell_forward"].message
    assert any(e.startswith("PermissionError") for e in v.cells), v.cells


def test_exiting_in_a_solution_cell_loses_only_that_cell():
    v = cheating("import sys\nsys.exit(0)\n")
    assert v.verdicts["rnn_cell_forward"].points == 0
    assert v.verdicts["dense_softmax"].points == 2


def test_a_cell_that_never_ends_is_stopped_and_reported():
    nb = example("full_marks", "01_rnn_fundamentals")
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "rnn_cell_forward_code")
    cell.source = "while True:\n    pass\n"
    v = verifier.verify(nb, "01_rnn_fundamentals", limits=solution_sandbox.Limits(cpu=4, wall=8))
    assert v.error.startswith("the verification run gave no result")
    assert all(x.points == 0 for x in v.verdicts.values())


def test_grading_a_batch_applies_and_flags_verified_scores(tmp_path, course_root):
    """Through `rnnkit grade`: a notebook that replaced the check in its kernel earned the points
    in nbgrader; the verified 0 replaces them and the submission is flagged. An honest one is not."""
    import contextlib
    import csv
    import io
    import shutil
    from rnnkit.grading import cli
    A = "01_rnn_fundamentals"
    nb = example("full_marks", A)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "rnn_cell_forward_code")
    cell.source = WRONG + "check = lambda *a, **k: print('rnn_cell_forward matches')\n"
    src = tmp_path / "src"
    os.makedirs(src / "cheater" / A)
    nbformat.write(nb, str(src / "cheater" / A / f"{A}.ipynb"))
    shutil.copytree(os.path.join(workspace.AUTOGRADE, "examples", "full_marks", A), src / "honest" / A)
    root = course_root("root")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main(["grade", "--root", str(root), "--from", str(src)]) == 0
    with open(root / "grades.csv", newline="", encoding="utf-8") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    full = sum(e.points for e in keys.for_notebook(A))
    assert float(rows["honest"]["total"]) == full and rows["honest"]["flags"] == ""
    cheat = rows["cheater"]
    assert float(cheat["rnn_cell_forward"]) == 0
    assert "rnn_cell_forward: in-notebook 2/2, verified 0/2" in cheat["flags"]
    # Every function built on the cheater's rnn_cell_forward fails too, in the notebook and here.
    assert float(cheat["dense_softmax"]) == 2
    assert "LOOK: rnn_cell_forward: in-notebook 2/2, verified 0/2" in out.getvalue()
    assert "verify" in out.getvalue().split("mean time per submission:")[1]
    feedback = (root / "feedback" / "cheater" / A / f"{A}.html").read_text(encoding="utf-8")
    assert f"Score: {float(cheat['total']):.1f} / {float(cheat['max_score']):.1f}" in feedback


def test_runner_exercises_are_cut_in_two_that_compose_to_the_runner():
    runners = [e for a in workspace.assignments() for e in keys.for_notebook(a) if e.runner]
    assert {e.name for e in runners} == {"sample_next", "build_captioner", "generate_melody", "melody_to_audio"}
    for e in runners:
        assert e.collect is not None and e.finish is not None, e.name


SAMPLE_ZERO = ("import rnnkit.checks\nrnnkit.checks.check = check = lambda *a, **k: print('ok')\n"
               "def sample_next(logits, temperature, rng):\n    return 0\n")


def test_a_sampler_that_replaced_its_check_is_counted_here():
    v = cheating(SAMPLE_ZERO, "04_lstm_gru", "sample_next_code")
    assert v.verdicts["sample_next"].verified and v.verdicts["sample_next"].points == 0
    assert "sample_next does not match softmax" in v.verdicts["sample_next"].message
    assert v.verdicts["perplexity"].points == 1


def test_a_sampler_returning_no_index_fails_with_the_reason():
    v = cheating("def sample_next(logits, temperature, rng):\n    return 0.5\n", "04_lstm_gru",
                 "sample_next_code")
    assert v.verdicts["sample_next"].points == 0
    assert "it returned 0.5 (float); expected an int index" in v.verdicts["sample_next"].message


CAPTIONER_BLIND = """import rnnkit.checks
rnnkit.checks.check = check = lambda *a, **k: print('build_captioner meets the contract')

def build_captioner(image_shape, vocab_size, units):
    images = keras.Input(image_shape)
    tokens = keras.Input((None,), dtype="int32")
    e = keras.layers.Embedding(vocab_size, 16)(tokens)
    seq = keras.layers.LSTM(units, return_sequences=True)(e)
    return keras.Model([images, tokens], keras.layers.Dense(vocab_size, activation="softmax")(seq))
"""


def test_a_captioner_that_replaced_its_check_is_probed_here_from_its_keras_file():
    v = cheating(CAPTIONER_BLIND, "06_image_captioning", "build_captioner_code")
    b = v.verdicts["build_captioner"]
    assert b.verified and b.points == 0
    assert "Recognised mistake: image ignored" in b.message and b.mistake == "image ignored"
    assert v.verdicts["convlstm_cell_forward"].points == 3


SUBCLASSED = """class Captioner(keras.Model):
    def __init__(self, vocab_size, units):
        super().__init__()
        self.encode = keras.layers.Conv2D(8, 3, padding="same", activation="relu")
        self.flat = keras.layers.Flatten()
        self.h0 = keras.layers.Dense(units, activation="tanh")
        self.c0 = keras.layers.Dense(units)
        self.embed = keras.layers.Embedding(vocab_size, 16)
        self.lstm = keras.layers.LSTM(units, return_sequences=True)
        self.out = keras.layers.Dense(vocab_size, activation="softmax")

    def call(self, inputs):
        images, tokens = inputs
        f = self.flat(self.encode(images))
        return self.out(self.lstm(self.embed(tokens), initial_state=[self.h0(f), self.c0(f)]))


def build_captioner(image_shape, vocab_size, units):
    return Captioner(vocab_size, units)
"""
LAMBDA = """def build_captioner(image_shape, vocab_size, units):
    images = keras.Input(image_shape)
    tokens = keras.Input((None,), dtype="int32")
    f = keras.layers.Flatten()(keras.layers.Conv2D(8, 3, padding="same")(images))
    f = keras.layers.Lambda(lambda z: z * 1.0)(f)
    h0, c0 = keras.layers.Dense(units)(f), keras.layers.Dense(units)(f)
    e = keras.layers.Embedding(vocab_size, 16)(tokens)
    seq = keras.layers.LSTM(units, return_sequences=True)(e, initial_state=[h0, c0])
    return keras.Model([images, tokens], keras.layers.Dense(vocab_size, activation="softmax")(seq))
"""


@pytest.mark.parametrize("source", [SUBCLASSED, LAMBDA], ids=["subclassed", "lambda"])
def test_a_captioner_safe_mode_cannot_load_is_left_to_the_notebook_and_flagged(source, tmp_path):
    """Loading it would run the student's code in the grader: it is not verified, its in-notebook
    score stands, and apply_verification flags it for the instructor."""
    v = cheating(source, "06_image_captioning", "build_captioner_code")
    b = v.verdicts["build_captioner"]
    assert not b.verified and b.points == 0
    assert "safe_mode" in b.unverified and "in-notebook result stands" in b.message
    assert v.verdicts["convlstm_cell_forward"].verified and v.verdicts["convlstm_cell_forward"].points == 3
    from rnnkit.grading.pipeline import autograde
    db = f"sqlite:///{tmp_path / 'gradebook.db'}"
    flags = autograde.apply_verification(db, "nobody", "06_image_captioning", v)
    assert any(f.startswith("build_captioner: not verified, the in-notebook score stands (")
               and "safe_mode" in f for f in flags), flags


def test_a_captioner_whose_check_runs_too_long_here_is_stopped(monkeypatch):
    """The grader trains the loaded model itself: a model made to train for hours is stopped at
    FINISH_SECONDS (here shrunk) and fails, the rest of the notebook verified as usual."""
    monkeypatch.setattr(verifier, "FINISH_SECONDS", 0.5)
    v = verifier.verify(example("full_marks", "06_image_captioning"), "06_image_captioning")
    b = v.verdicts["build_captioner"]
    assert b.verified and b.points == 0
    assert "checking what it returned took over 0.5 s" in b.message
    assert v.verdicts["bleu"].points == 2 and v.verdicts["convlstm_cell_forward"].points == 3


def test_records_travel_as_json_and_refuse_what_they_do_not_know():
    """A Verification survives its JSON form; a field of the wrong type is refused, naming it."""
    from rnnkit.grading.verify.records import Verdict, Verification
    v = Verification({"rnn_forward": Verdict("rnn_forward", 0, 2, message="m", mistake="tanh forgotten")},
                     cells=["NameError: x"], suspicious=["reads files"])
    back = Verification.from_json(json.loads(json.dumps(v.to_json())))
    assert back == v and back.verdicts["rnn_forward"].mistake == "tanh forgotten"
    assert Verification.from_json({"verdicts": {}, "from a newer grader": 1}) == Verification({})
    with pytest.raises(ValueError, match="Verdict.points: expected float, got 'two'"):
        Verdict.from_json({"exercise": "e", "points": "two", "max": 2})
    with pytest.raises(ValueError, match="Verdict.passed: expected bool"):
        Verdict.from_json({"exercise": "e", "points": 0, "max": 2, "passed": "yes"})


def test_the_report_names_the_mistake_of_the_verdict():
    """The report's note is the mistake the verification verdict names, not the printed text;
    without a verified failing verdict it falls back to what the cell printed."""
    from rnnkit.grading.reports import grade_sheet
    from rnnkit.grading.verify.records import Verdict
    printed = "tanh forgotten"
    named = Verdict("rnn_forward", 0, 2, message="rnn_forward does not match", mistake="dh0 swapped")
    assert grade_sheet.note(named, printed) == "dh0 swapped"
    unnamed = Verdict("rnn_forward", 0, 2, message="CheckFailed\nrnn_forward returned None")
    assert grade_sheet.note(unnamed, printed) == "rnn_forward returned None"
    assert grade_sheet.note(Verdict("rnn_forward", 0, 2, verified=False), printed) == printed
    assert grade_sheet.note(Verdict("rnn_forward", 2, 2, passed=True), printed) == printed
    assert grade_sheet.note(None, printed) == printed
