"""Find submissions, reject the ones that cannot be graded (with a one-line reason), stage the rest.

Layout read (nbgrader's submitted/ tree): SOURCE/<student>/<assignment>/<assignment>.ipynb.

A gradable notebook can still carry something the instructor should know: graded cells deleted
(nbgrader puts them back from the gradebook, autograde/nbgrader_config.py sets
OverwriteCells.add_missing_cells) or a graded cell pasted twice (nbgrader grades the last copy).
Those are `flags`: graded as nbgrader grades them, and listed in the report.
"""
import collections
import json
import os
import shutil
from dataclasses import dataclass, field

import nbformat

# A notebook of this kit is well under 5 MB with its figures; a bigger file is almost always
# outputs gone wild (a print in a loop) or something else renamed, and parsing it costs memory.
MAX_BYTES = 20 * 1024 * 1024


@dataclass
class Submission:
    student: str
    assignment: str
    path: str
    problem: str = ""   # why it cannot be graded; empty when it can
    flags: list = field(default_factory=list)   # graded, but worth the instructor's look

    @property
    def ok(self):
        return not self.problem


_RELEASES = {}      # (path, mtime) -> what _release_graded read from it


def _release_graded(assignment, course_dir):
    """{grade_id: (cell type, source, locked test?)} of the release's graded cells ({} without a
    release); the release notebook is read once, not once per submission."""
    path = os.path.join(course_dir, assignment, f"{assignment}.ipynb")
    if not os.path.isfile(path):
        return {}
    key = (os.path.realpath(path), os.stat(path).st_mtime_ns)
    if key not in _RELEASES:
        graded = {}
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade"):
                graded[meta["grade_id"]] = (cell.cell_type, cell.source.strip(), not meta.get("solution"))
        _RELEASES[key] = graded
    return _RELEASES[key]


def _changed_tests(nb, assignment, course_dir):
    """Flags for test cells a student edited or turned into another cell type (nbgrader restores
    both from the gradebook, silently)."""
    tests = {gid: (kind, source) for gid, (kind, source, test) in
             _release_graded(assignment, course_dir).items() if test}
    edited, retyped = set(), set()
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid not in tests:
            continue
        kind, source = tests[gid]
        if cell.cell_type != kind:
            retyped.add(f"{gid} ({kind} -> {cell.cell_type})")
        elif cell.source.strip() != source:
            edited.add(gid)
    flags = []
    if edited:
        flags.append(f"test cell{'s' * (len(edited) > 1)} {', '.join(sorted(edited))} edited: "
                     "the release's version is graded")
    if retyped:
        flags.append(f"test cell{'s' * (len(retyped) > 1)} {', '.join(sorted(retyped))} changed type: "
                     "the release's version is graded")
    return flags


def _mb(size):
    return f"{size / 1024 ** 2:.1f} MB"


def examine(path, assignment, course_dir, max_bytes=MAX_BYTES):
    """(reason it cannot be graded or '', [flags]) for the notebook at `path`."""
    size = os.path.getsize(path)
    if size > max_bytes:
        return (f"too large: {_mb(size)} (limit {_mb(max_bytes)}); clear the outputs "
                "(Edit > Clear Outputs of All Cells), save and submit again"), []
    with open(path, "rb") as f:
        raw = f.read()
    if not raw.strip():
        return "empty file", []
    if b"\x00" in raw[:8192]:
        return "a binary file, not a notebook (was another file renamed to .ipynb?)", []
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not UTF-8 text (byte {exc.start}): not a notebook saved by Jupyter", []
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"not a valid notebook: invalid JSON ({exc.msg}; line {exc.lineno}, column {exc.colno})", []
    except RecursionError:
        return "not a valid notebook: JSON nested too deeply", []
    if not isinstance(data, dict) or "cells" not in data and "worksheets" not in data:
        return "not a notebook: JSON without cells", []
    if not isinstance(data.get("nbformat", 0), int) or data.get("nbformat", 0) < 4:
        return f"nbformat {data.get('nbformat')} notebook: open and save it with Jupyter 4 or later", []
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # nbformat's validation errors are long: keep the first line
        return f"not a valid notebook: {str(exc).splitlines()[0][:160]}", []
    expected = set(_release_graded(assignment, course_dir))
    graded = collections.Counter(c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells
                                 if c.metadata.get("nbgrader", {}).get("grade"))
    if expected and not expected & set(graded):
        return f"not a notebook of {assignment}: none of its graded cells are present", []
    flags = []
    missing = sorted(expected - set(graded))
    if missing:
        flags.append(f"{len(missing)} graded cell{'s' * (len(missing) > 1)} missing ({', '.join(missing)}): "
                     "put back from the release and graded")
    twice = sorted(g for g, n in graded.items() if n > 1 and g in expected)
    if twice:
        flags.append(f"graded cell{'s' * (len(twice) > 1)} {', '.join(twice)} pasted more than once: "
                     "the last copy is graded")
    return "", flags + _changed_tests(nb, assignment, course_dir)


def discover(source, course_dir, max_bytes=MAX_BYTES):
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
                problem, flags = examine(expected, assignment, course_dir, max_bytes)
                found.append(Submission(student, assignment, expected, problem, flags))
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
