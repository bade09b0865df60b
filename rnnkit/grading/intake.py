"""Find submissions, reject the ones that cannot be graded (with a one-line reason), stage the rest.

Layout read (nbgrader's submitted/ tree): SOURCE/<student>/<assignment>/<assignment>.ipynb.
"""
import json
import os
import shutil
from dataclasses import dataclass

import nbformat


@dataclass
class Submission:
    student: str
    assignment: str
    path: str
    problem: str = ""   # why it cannot be graded; empty when it can

    @property
    def ok(self):
        return not self.problem


def _release_grade_ids(assignment, course_dir):
    path = os.path.join(course_dir, assignment, f"{assignment}.ipynb")
    if not os.path.isfile(path):
        return set()
    nb = nbformat.read(path, as_version=4)
    return {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("grade")}


def inspect(path, assignment, course_dir):
    """'' if `path` is a gradable notebook of `assignment`, else a one-line reason."""
    with open(path, "rb") as f:
        raw = f.read()
    if not raw.strip():
        return "empty file"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not UTF-8 text (byte {exc.start}): not a notebook saved by Jupyter"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"not a valid notebook: invalid JSON ({exc.msg}; line {exc.lineno}, column {exc.colno})"
    if not isinstance(data, dict) or "cells" not in data and "worksheets" not in data:
        return "not a notebook: JSON without cells"
    if data.get("nbformat", 0) < 4:
        return f"nbformat {data.get('nbformat')} notebook: open and save it with Jupyter 4 or later"
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # nbformat's validation errors are long: keep the first line
        return f"not a valid notebook: {str(exc).splitlines()[0][:160]}"
    expected = _release_grade_ids(assignment, course_dir)
    found = {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells}
    if expected and not expected & found:
        return f"not a notebook of {assignment}: none of its graded cells are present"
    return ""


def discover(source, course_dir):
    """Every submission under `source`, inspected; sorted by student then assignment."""
    found = []
    for student in sorted(os.listdir(source)):
        sdir = os.path.join(source, student)
        if not os.path.isdir(sdir):
            continue
        for assignment in sorted(os.listdir(sdir)):
            adir = os.path.join(sdir, assignment)
            if not os.path.isdir(adir):
                continue
            expected = os.path.join(adir, f"{assignment}.ipynb")
            notebooks = sorted(n for n in os.listdir(adir) if n.endswith(".ipynb"))
            if os.path.isfile(expected):
                found.append(Submission(student, assignment, expected,
                                        inspect(expected, assignment, course_dir)))
            elif notebooks:
                found.append(Submission(student, assignment, os.path.join(adir, notebooks[0]),
                                        f"expected {assignment}.ipynb, found {', '.join(notebooks)}"))
            else:
                found.append(Submission(student, assignment, adir, "no notebook submitted"))
    return found


def stage(submissions, root):
    """Copy gradable submissions into root/submitted/ (replacing what was there)."""
    for s in submissions:
        dest = os.path.join(root, "submitted", s.student, s.assignment)
        if os.path.abspath(os.path.dirname(s.path)) == os.path.abspath(dest):
            continue
        if os.path.isdir(dest):
            shutil.rmtree(dest)
        if s.ok:
            os.makedirs(dest)
            shutil.copyfile(s.path, os.path.join(dest, f"{s.assignment}.ipynb"))
