"""Autograde staged submissions with nbgrader, one at a time, so one failure never stops a batch."""
import os
from dataclasses import dataclass

from rnnkit.grading import workspace


@dataclass
class Outcome:
    student: str
    assignment: str
    ok: bool
    problem: str = ""


def _last_line(text):
    lines = [l for l in (text or "").strip().splitlines() if l.strip()]
    return lines[-1].strip()[:200] if lines else "unknown error"


def grade(submissions, root=workspace.AUTOGRADE, feedback=True, progress=None):
    """Autograde every gradable submission; forget gradebook rows of those that are not.

    Returns a list of Outcome, one per gradable submission.
    """
    from nbgrader.api import Gradebook, MissingEntry
    nbapi = workspace.api(root)
    with Gradebook(workspace.db_url(root)) as gb:
        for s in submissions:
            gb.update_or_create_student(s.student)
            if not s.ok:  # an earlier, now replaced, submission must not keep its score
                try:
                    gb.remove_submission(s.assignment, s.student)
                except MissingEntry:
                    pass
    outcomes = []
    for s in [s for s in submissions if s.ok]:
        if progress:
            progress(f"grading {s.student} / {s.assignment}")
        with workspace.silenced():
            result = nbapi.autograde(s.assignment, s.student, force=True, create=True)
        if not result["success"]:
            outcomes.append(Outcome(s.student, s.assignment, False,
                                    "autograde failed: " + _last_line(result.get("error") or result.get("log"))))
            continue
        if feedback:
            with workspace.silenced():
                fb = nbapi.generate_feedback(s.assignment, s.student, force=True)
            if not fb["success"]:
                outcomes.append(Outcome(s.student, s.assignment, True,
                                        "feedback failed: " + _last_line(fb.get("error") or fb.get("log"))))
                continue
        outcomes.append(Outcome(s.student, s.assignment, True))
    return outcomes


def feedback_path(root, student, assignment):
    return os.path.join(root, "feedback", student, assignment, f"{assignment}.html")
