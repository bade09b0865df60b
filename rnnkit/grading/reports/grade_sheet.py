"""The instructor's report: points per exercise and per student, the named mistakes, a CSV."""
import csv
import os
import re
from dataclasses import dataclass, field

import nbformat

from rnnkit.grading import keys, workspace

_MISTAKE = re.compile(r"Recognised mistake: (.+?)\. Hint:")
_DIAGNOSIS = re.compile(r"Diagnosis: (.+)")
# What a note from a diagnosis starts with: the finding of rnnkit.diagnosis, not a named mistake.
FOUND = "found: "


@dataclass
class Row:
    student: str
    assignment: str
    status: str = "graded"                        # or "invalid: ...", "failed: ..."
    points: dict = field(default_factory=dict)    # column -> points earned
    max_points: dict = field(default_factory=dict)
    notes: dict = field(default_factory=dict)     # column -> named mistake / short reason
    flags: list = field(default_factory=list)     # one-line reasons for the instructor to look
    verified: dict = field(default_factory=dict)  # column -> (in-notebook, verified) points
    phases: dict = field(default_factory=dict)    # grading phase -> seconds
    seed: int = None                              # the hidden cases it was graded on (case_seeds)

    @property
    def total(self):
        return sum(self.points.values())

    @property
    def max_total(self):
        return sum(self.max_points.values())


def columns(assignment):
    """Exercise columns of an assignment: grade_id -> (column name, points)."""
    return {e.grade_id: (e.name, e.points) for e in keys.for_notebook(assignment)}


def diagnose(error_value):
    """The short note for a failed test cell, from the error it printed: where no verdict names
    the mistake (the pass was off, or could not verify the exercise)."""
    text = error_value or ""
    match = _MISTAKE.search(text)
    if match:
        return match.group(1)
    match = _DIAGNOSIS.search(text)
    if match:
        return FOUND + finding_label(match.group(1))
    if "not implemented" in text:
        return "not implemented"
    first = text.strip().splitlines()[1:2] or text.strip().splitlines()[:1]
    return (first[0].strip()[:90] if first else "failed")


def finding_label(sentence):
    """A diagnosis as the class report counts it: its first clause, without the positions and
    sizes that differ from case to case ("changing the input gate's columns W does not change
    your c_next")."""
    clause = re.split(r"[;:] ", sentence.strip().rstrip("."), maxsplit=1)[0]
    clause = re.sub(r"\[[^\]]*\]", "", clause)
    clause = re.sub(r"\bt=\d+(\.\.\d+)?", "t", clause)
    return (clause[:1].lower() + clause[1:])[:120]


def note(verdict, printed):
    """The note for an exercise that lost points: the mistake its verification verdict names,
    else what the notebook's check diagnosed by experiment (the verification pass only has the
    values, not the function, to experiment with), else the verdict's message, shortened; or
    `printed`, the note from what its test cell printed, where no verdict failed."""
    if verdict is not None and verdict.verified and not verdict.passed:
        if verdict.mistake:
            return verdict.mistake
        return printed if printed.startswith(FOUND) else diagnose(verdict.message)
    return printed


def _cell_notes(root, student, assignment):
    path = os.path.join(root, "autograded", student, assignment, f"{assignment}.ipynb")
    notes = {}
    if not os.path.isfile(path):
        return notes
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("grade"):
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                notes[meta["grade_id"]] = diagnose(out.get("evalue", "") or out.get("ename", ""))
            elif out.get("output_type") == "stream" and out.get("name") == "stderr":
                notes.setdefault(meta["grade_id"], "wrote to stderr (scores 0)")
    return notes


def build_rows(submissions, outcomes, root=workspace.AUTOGRADE, db_url=None):
    from nbgrader.api import Gradebook, MissingEntry
    failed = {(o.student, o.assignment): o.problem for o in outcomes if o.problem}
    phases = {(o.student, o.assignment): dict(o.phases) for o in outcomes}
    flags = {(o.student, o.assignment): list(o.flags) for o in outcomes}
    verified = {(o.student, o.assignment): dict(getattr(o, "verified", {})) for o in outcomes}
    seeds = {(o.student, o.assignment): getattr(o, "seed", None) for o in outcomes}
    verdicts = {(o.student, o.assignment): dict(getattr(o, "verdicts", {})) for o in outcomes}
    rows = []
    with Gradebook(workspace.db_url(root, db_url)) as gb:
        for s in submissions:
            cols = columns(s.assignment)
            row = Row(s.student, s.assignment,
                      max_points={name: pts for name, pts in cols.values()},
                      points={name: 0.0 for name, _ in cols.values()},
                      flags=list(getattr(s, "flags", [])))
            if not s.ok:
                row.status = f"invalid: {s.problem}"
                rows.append(row)
                continue
            row.phases = phases.get((s.student, s.assignment), {})
            row.flags += flags.get((s.student, s.assignment), [])
            row.verified = verified.get((s.student, s.assignment), {})
            row.seed = seeds.get((s.student, s.assignment))
            if (s.student, s.assignment) in failed:
                row.status = failed[(s.student, s.assignment)]
            try:
                nb = gb.find_submission_notebook(s.assignment, s.assignment, s.student)
            except MissingEntry:
                rows.append(row)
                continue
            notes = _cell_notes(root, s.student, s.assignment)
            checked = verdicts.get((s.student, s.assignment), {})
            for grade in nb.grades:
                gid = grade.cell.name
                name, _ = cols.get(gid, (gid, grade.max_score))
                row.max_points[name] = grade.max_score
                row.points[name] = grade.score or 0.0
                if grade.needs_manual_grade:
                    row.notes[name] = "needs manual grading (formgrader)"
                elif (grade.score or 0) < grade.max_score:
                    row.notes[name] = note(checked.get(name),
                                           notes.get(gid, "not answered" if gid not in cols else "failed"))
            rows.append(row)
    return rows


def _fmt(x):
    return f"{x:g}"


def format_table(rows):
    """A plain-text table per assignment: points per exercise, total, and the named mistakes."""
    out = []
    for assignment in sorted({r.assignment for r in rows}):
        group = [r for r in rows if r.assignment == assignment]
        names = list(group[0].max_points)
        width = max(12, max(len(r.student) for r in group) + 2)
        short = [n if len(n) <= 16 else n[:15] + "." for n in names]
        colw = [max(len(s), 5) + 2 for s in short]
        out.append(f"== {assignment} ==")
        out.append("student".ljust(width) + "".join(s.rjust(w) for s, w in zip(short, colw)) + "     total")
        for r in group:
            if r.status.startswith("invalid"):
                cells = "".join("-".rjust(w) for w in colw)
            else:
                cells = "".join(f"{_fmt(r.points[n])}/{_fmt(r.max_points[n])}".rjust(w) for n, w in zip(names, colw))
            out.append(r.student.ljust(width) + cells + f"{_fmt(r.total)}/{_fmt(r.max_total)}".rjust(10))
            if r.status != "graded":
                out.append(f"    {r.status.replace('invalid:', 'NOT GRADED, invalid submission:', 1)}")
            for flag in r.flags:
                out.append(f"    LOOK: {flag}")
            for name, note in r.notes.items():
                out.append(f"    {name}: {note}")
        out.append("")
    seeds = sorted({r.seed for r in rows if r.seed is not None})
    if seeds:
        out.append(f"hidden cases drawn with seed {', '.join(map(str, seeds))} "
                   f"(`rnnkit grade --seed {seeds[0]}` draws the same ones again)")
    return "\n".join(out)


def _score_cells(r, name):
    """The CSV cells of one exercise: the score that counts, the in-notebook one, the verified one.

    The last two are empty where the exercise was not verified (safe_mode could not load its
    model, --no-verify, or the submission was not graded).
    """
    counted = _fmt(r.points[name]) if name in r.points else ""
    pair = getattr(r, "verified", {}).get(name)
    return [counted, *(("", "") if pair is None else (_fmt(pair[0]), _fmt(pair[1])))]


def write_csv(rows, path):
    """One row per (student, assignment): per exercise the points that count, then its in-notebook
    and verified points; the total, status, mistakes, flags and the seed its hidden cases were
    drawn with."""
    names = []
    for r in rows:
        names += [n for n in r.max_points if n not in names]
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["student", "assignment", "status",
                    *[c for n in names for c in (n, f"{n} (in-notebook)", f"{n} (verified)")],
                    "total", "max_score", "mistakes", "flags", "hidden_seed"])
        for r in rows:
            w.writerow([r.student, r.assignment, r.status, *[c for n in names for c in _score_cells(r, n)],
                        _fmt(r.total), _fmt(r.max_total),
                        "; ".join(f"{k}: {v}" for k, v in r.notes.items()), "; ".join(r.flags),
                        "" if r.seed is None else r.seed])
    return path
