"""The instructor's class report, from hand-made Rows: statistics, mistakes, flags, text and HTML."""
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from rnnkit.grading.reports import class_report
from rnnkit.grading.reports.grade_sheet import Row

MAX = {"rnn_cell_forward": 2, "dense_softmax": 2, "many_to_one": 1}
EVIL = '<script>alert("pwned")</script>'


def row(student, assignment="01_rnn_fundamentals", status="graded", points=None, notes=None,
        max_points=MAX, **extra):
    """A Row with every exercise at full marks unless `points` says otherwise."""
    r = Row(student, assignment, status=status, max_points=dict(max_points),
            points={**{k: float(v) for k, v in max_points.items()}, **(points or {})},
            notes=dict(notes or {}))
    for name, value in extra.items():
        setattr(r, name, value)
    return r


@pytest.fixture
def rows():
    overflow = "overflow on large logits (no max shift)"
    return [
        row("ann"),
        row("bob", points={"dense_softmax": 0}, notes={"dense_softmax": overflow}),
        row("cat", points={"dense_softmax": 0, "many_to_one": 0},
            notes={"dense_softmax": overflow, "many_to_one": "not implemented"}),
        row("dan", points={"dense_softmax": 1.5, "rnn_cell_forward": 0},
            notes={"dense_softmax": "needs manual grading (formgrader)", "rnn_cell_forward": "relu instead of tanh"}),
        row("eve", points={"dense_softmax": 0, "rnn_cell_forward": 0},
            notes={"dense_softmax": overflow, "rnn_cell_forward": "not answered"}),
        row("fay", status="invalid: not a notebook", points={k: 0 for k in MAX}),
        row("gus", status="autograde failed: kernel died", points={k: 0 for k in MAX},
            notes={"dense_softmax": overflow}),
        row("hal", flags=["in-notebook score 11 differs from verified score 7"],
            phases={"execute": 12.0, "feedback": 2.0}),
        row("ida", status="feedback failed: could not render", points={"many_to_one": 0},
            notes={"many_to_one": "classifies the first state"}, phases={"execute": 30.0}),
    ]


def _assignment(summary, name="01_rnn_fundamentals"):
    return next(a for a in summary["assignments"] if a["name"] == name)


def _exercise(summary, name, assignment="01_rnn_fundamentals"):
    return next(e for e in _assignment(summary, assignment)["exercises"] if e["name"] == name)


def test_mistakes_are_counted_per_exercise_and_states_apart(rows):
    s = class_report.summarize(rows)
    softmax = _exercise(s, "dense_softmax")
    # gus's overflow is not counted: his autograde failed, so his notes are no grade.
    assert softmax["mistakes"] == {"overflow on large logits (no max shift)": 3}
    assert (softmax["not_attempted"], softmax["manual"]) == (0, 1)
    cell = _exercise(s, "rnn_cell_forward")
    assert cell["mistakes"] == {"relu instead of tanh": 1}
    assert (cell["not_attempted"], cell["manual"]) == (1, 0)
    m2o = _exercise(s, "many_to_one")
    assert m2o["mistakes"] == {"classifies the first state": 1}
    assert m2o["not_attempted"] == 1
    for e in _assignment(s)["exercises"]:
        assert not set(e["mistakes"]) & set(class_report.NOT_ATTEMPTED + class_report.MANUAL)


def test_only_grades_enter_the_statistics(rows):
    a = _assignment(class_report.summarize(rows))
    assert (a["submissions"], a["graded"]) == (9, 7)  # fay invalid, gus failed; ida's feedback only
    assert all(e["students"] == 7 for e in a["exercises"])
    assert [e["name"] for e in a["exercises"]] == list(MAX)


def test_histogram_has_a_bin_per_point_and_per_fractional_score(rows):
    softmax = _exercise(class_report.summarize(rows), "dense_softmax")
    assert softmax["histogram"] == [[0.0, 3], [1.0, 0], [1.5, 1], [2.0, 3]]
    assert sum(c for _, c in softmax["histogram"]) == softmax["students"]
    m2o = _exercise(class_report.summarize(rows), "many_to_one")
    assert m2o["histogram"] == [[0.0, 2], [1.0, 5]]


def test_fractional_sums_share_a_bin():
    ex = {"a": 1, "b": 1, "c": 1}
    rs = [row(f"s{i}", max_points=ex, points={"a": 0.1, "b": 0.2, "c": 0}) for i in range(2)]
    rs.append(row("t", max_points=ex, points={"a": 0.3, "b": 0, "c": 0}))
    totals = _assignment(class_report.summarize(rs))["totals"]["histogram"]
    assert [0.3, 3] in totals


def test_means_medians_and_full_marks(rows):
    s = class_report.summarize(rows)
    softmax = _exercise(s, "dense_softmax")
    assert softmax["mean"] == pytest.approx((2 * 3 + 1.5) / 7)
    assert softmax["median"] == 1.5
    assert softmax["full_marks"] == 3
    totals = _assignment(s)["totals"]
    # totals of ann..eve, hal, ida: 5, 3, 2, 2.5, 1, 5, 4
    assert totals["median"] == 3
    assert totals["mean"] == pytest.approx(22.5 / 7)
    assert _assignment(s)["max_total"] == 5
    even = class_report.summarize([row("a", points={"many_to_one": 0}), row("b")])
    assert _assignment(even)["totals"]["median"] == 4.5


def test_flagged_rows_and_their_reasons(rows):
    flagged = {f["student"]: f for f in class_report.summarize(rows)["flagged"]}
    assert set(flagged) == {"fay", "gus", "hal", "ida"}
    assert flagged["fay"]["kind"] == "invalid" and flagged["fay"]["reasons"] == ["invalid: not a notebook"]
    assert flagged["gus"]["kind"] == "failed" and "kernel died" in flagged["gus"]["reasons"][0]
    assert flagged["hal"]["kind"] == "flag"
    assert flagged["hal"]["reasons"] == ["in-notebook score 11 differs from verified score 7"]
    assert flagged["ida"]["reasons"] == ["feedback failed: could not render"]
    assert _assignment(class_report.summarize(rows))["flagged"] == 4
    assert not class_report.summarize([row("x", flags=[])])["flagged"]


def test_phases_add_up_and_name_the_slowest(rows):
    phases = class_report.summarize(rows)["phases"]
    assert phases["execute"] == {"count": 2, "total": 42.0, "mean": 21.0, "max": 30.0,
                                 "slowest": "ida / 01_rnn_fundamentals"}
    assert phases["feedback"]["count"] == 1


def test_summary_is_plain_data(rows):
    json.dumps(class_report.summarize(rows))


def test_text_names_the_top_mistakes_and_flagged_rows(rows):
    text = class_report.format_text(class_report.summarize(rows))
    assert "dense_softmax: 3 x overflow on large logits (no max shift)" in text
    assert "rnn_cell_forward: 1 x relu instead of tanh" in text
    assert text.index("dense_softmax: 3 x") < text.index("rnn_cell_forward: 1 x")
    assert "fay / 01_rnn_fundamentals: invalid: not a notebook" in text
    assert "hal / 01_rnn_fundamentals: in-notebook score 11 differs" in text
    assert "not implemented" not in text  # states are counted, not listed as mistakes
    assert class_report.format_text(class_report.summarize(rows), top=1).count(" x ") == 1


class _Checker(HTMLParser):
    """Every element closed, in order (void elements aside)."""
    VOID = {"meta", "br", "img", "hr", "input", "link", "col", "wbr"}

    def __init__(self):
        super().__init__()
        self.stack, self.errors, self.tags = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


def _render(rows, tmp_path, **kw):
    path = tmp_path / "report.html"
    assert class_report.write_html(class_report.summarize(rows), str(path), **kw) == str(path)
    return path.read_text(encoding="utf-8")


def _check_html(page):
    checker = _Checker()
    checker.feed(page)
    checker.close()
    assert not checker.errors and not checker.stack, (checker.errors, checker.stack)
    svgs = re.findall(r"<svg\b.*?</svg>", page, flags=re.S)
    for svg in svgs:
        ET.fromstring(svg)  # the hand-written SVG is well-formed XML too
    return checker, [ET.fromstring(svg) for svg in svgs]


def test_html_is_well_formed_with_an_svg_chart_per_exercise(rows, tmp_path):
    page = _render(rows, tmp_path, title="Spring term")
    checker, svgs = _check_html(page)
    labels = [svg.get("aria-label") for svg in svgs]
    for name in MAX:
        assert sum(label.startswith(f"{name}:") for label in labels) == 1
    assert len(svgs) == len(MAX) + 1  # and one of the totals
    texts = [t.text for svg in svgs for t in svg.iter("text")]
    assert "students" in texts and "points" in texts  # axis titles
    assert "<h1>Spring term</h1>" in page
    assert "Needs your attention" in page and "in-notebook score 11 differs" in page
    assert "overflow on large logits (no max shift)" in page


def test_html_escapes_student_strings_and_is_self_contained(rows, tmp_path):
    rows += [row(EVIL, notes={"dense_softmax": EVIL}, points={"dense_softmax": 0}, flags=[EVIL]),
             row("mal", max_points={EVIL: 1}, points={EVIL: 0}, notes={EVIL: '"><img src=x onerror=alert(1)>'}),
             row("x", assignment=EVIL, max_points={"a": 1})]
    page = _render(rows, tmp_path, title=EVIL)
    checker, _ = _check_html(page)
    assert "<script" not in page.lower() and "<img" not in page.lower()
    assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;" in page
    assert not [tag for tag, _ in checker.tags if tag in ("script", "img", "link", "iframe")]
    assert not [a for _, attrs in checker.tags for a in attrs if a.startswith("on")]
    assert not re.search(r"https?://", page)
    assert "@import" not in page and "url(" not in page
    assert not [t for t, attrs in checker.tags if "src" in attrs]


def test_empty_input():
    s = class_report.summarize([])
    assert s == {"assignments": [], "flagged": [], "phases": {}}
    assert class_report.format_text(s) == "No submissions."


def test_empty_input_html(tmp_path):
    page = _render([], tmp_path)
    _check_html(page)
    assert "No submissions" in page


def test_an_assignment_where_nobody_made_a_mistake(rows, tmp_path):
    clean = [row("ann", assignment="02_bptt"), row("bob", assignment="02_bptt", points={"many_to_one": 0.5})]
    s = class_report.summarize(rows + clean)
    a = _assignment(s, "02_bptt")
    assert all(not e["mistakes"] and not e["not_attempted"] for e in a["exercises"])
    assert _exercise(s, "many_to_one", "02_bptt")["histogram"] == [[0.0, 0], [0.5, 1], [1.0, 1]]
    text = class_report.format_text(s)
    assert "no named mistakes" in text.split("== 02_bptt ==")[1]
    page = _render(rows + clean, tmp_path)
    _check_html(page)
    assert "Nobody made a named mistake" in page
    alone = class_report.summarize(clean)
    assert "Nothing needs your attention." in class_report.format_text(alone)


def test_an_assignment_nobody_got_graded(tmp_path):
    rs = [row("fay", status="invalid: empty", points={k: 0 for k in MAX})]
    s = class_report.summarize(rs)
    a = _assignment(s)
    assert a["graded"] == 0 and a["totals"]["mean"] is None
    assert all(e["mean"] is None and e["median"] is None and e["students"] == 0 for e in a["exercises"])
    assert "0 of 1 graded" in class_report.format_text(s)
    _check_html(_render(rs, tmp_path))


def test_flagged_rows_show_in_notebook_and_verified_points_where_they_differ(tmp_path):
    """The per-submission view: where the verified points differ, both are shown, in the HTML too."""
    cheat = row("joe", points={"rnn_cell_forward": 0},
                flags=["rnn_cell_forward: in-notebook 2/2, verified 0/2"], verified={"rnn_cell_forward": (2.0, 0.0), "dense_softmax": (2.0, 2.0)})
    summary = class_report.summarize([row("ann"), cheat])
    (flagged,) = summary["flagged"]
    assert flagged["verified"] == [["rnn_cell_forward", 2.0, 0.0]]
    page = class_report.write_html(summary, str(tmp_path / "r.html"))
    assert "rnn_cell_forward: 2 → 0" in open(page, encoding="utf-8").read()


def test_grades_csv_has_the_in_notebook_and_verified_points_of_each_exercise(tmp_path):
    import csv
    from rnnkit.grading.reports import grade_sheet
    cheat = row("joe", points={"rnn_cell_forward": 0},
                verified={"rnn_cell_forward": (2.0, 0.0), "dense_softmax": (2.0, 2.0)})
    path = grade_sheet.write_csv([row("ann"), cheat], str(tmp_path / "grades.csv"))
    with open(path, newline="", encoding="utf-8") as f:
        header = next(csv.reader(f))
        f.seek(0)
        rows = {r["student"]: r for r in csv.DictReader(f)}
    assert header[3:6] == ["rnn_cell_forward", "rnn_cell_forward (in-notebook)", "rnn_cell_forward (verified)"]
    joe = rows["joe"]
    columns = ["rnn_cell_forward", "rnn_cell_forward (in-notebook)", "rnn_cell_forward (verified)"]
    assert [joe[c] for c in columns] == ["0", "2", "0"]
    assert joe["many_to_one (verified)"] == "" and rows["ann"]["dense_softmax (verified)"] == ""


def test_findings_by_experiment_are_counted_apart_from_named_mistakes(tmp_path):
    """"2 of 3: changing h_prev does not change your h_next": a diagnosis, where no catalogued
    mistake fits, is counted per exercise like a named mistake and listed apart."""
    from rnnkit.grading.reports import grade_sheet
    finding = grade_sheet.diagnose(
        "rnn_cell_forward does not match keras.layers.SimpleRNNCell yet.\n"
        "  On case 'visible 1' (N=3, D=4, H=5, float32): h_next differs at batch 0, unit 0: ...\n"
        "  Diagnosis: Changing h_prev does not change your h_next; in keras.layers.SimpleRNNCell it does.\n")
    assert finding == "found: changing h_prev does not change your h_next"
    rows = [row("ann", points={"rnn_cell_forward": 0}, notes={"rnn_cell_forward": finding}),
            row("bob", points={"rnn_cell_forward": 0}, notes={"rnn_cell_forward": finding}),
            row("cat", points={"rnn_cell_forward": 0}, notes={"rnn_cell_forward": "relu instead of tanh"})]
    text = class_report.format_text(class_report.summarize(rows))
    assert "    rnn_cell_forward: 1 x relu instead of tanh" in text
    assert ("  found by experiment (no catalogued mistake):\n"
            "    rnn_cell_forward: 2 of 3: changing h_prev does not change your h_next") in text
    page = tmp_path / "report.html"
    class_report.write_html(class_report.summarize(rows), str(page))
    assert '<th scope="row">found: changing h_prev does not change your h_next</th>' in page.read_text()
    # Positions and sizes differ from case to case; the finding counted does not.
    assert grade_sheet.finding_label("Changing x at t=3 changes your h_seq at t=2: a step looks "
                                     "ahead.") == "changing x at t changes your h_seq at t"
    assert grade_sheet.finding_label("Changing the input gate's columns W[:, 0:5] does not change "
                                     "your c_next; in keras.layers.LSTMCell it does.") == \
        "changing the input gate's columns W does not change your c_next"


def test_the_note_of_a_verdict_without_a_named_mistake_is_the_notebooks_diagnosis():
    from rnnkit.grading.reports import grade_sheet
    from rnnkit.grading.verify.records import Verdict
    verdict = Verdict("rnn_cell_forward", 0, 2, message="rnn_cell_forward does not match\n  On case ...")
    found = "found: changing h_prev does not change your h_next"
    assert grade_sheet.note(verdict, found) == found
    assert grade_sheet.note(Verdict("rnn_cell_forward", 0, 2, mistake="relu instead of tanh"), found) == \
        "relu instead of tanh"
