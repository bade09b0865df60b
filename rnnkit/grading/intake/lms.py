"""Turn an LMS's download of all submissions (one zip) into nbgrader's submitted/ layout.

What `nbgrader zip_collect` does, in one call: file names are read by nbgrader's own
FileNameCollectorPlugin (a regexp with student_id and file_id groups, optionally timestamp) and
the newest of a student's duplicates wins; the zip, and the zips inside it, are read defensively.

Layout written: DEST/<student>/<assignment>/<assignment>.ipynb, plus timestamp.txt when the file
name carries a timestamp (written as zip_collect writes it, e.g. "2016-01-30 15:00:00", UTC).
"""
import logging
import os
import re
import shutil
import stat
import struct
import tempfile
import zipfile
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

# Limits against zip bombs, zips inside the zip included: entries listed, bytes extracted.
MAX_ENTRIES = 20_000
MAX_BYTES = 2 * 1024 ** 3

# The folders a file may lie in below the student's part of the name (a zip the student uploaded
# reads as a folder of its own name), then the file: file_id is always a bare file name.
_REST = r"(?:[^/]*/)*(?P<file_id>[^/]+)$"

# Default naming schemes, tried in this order. Each is matched from the start (re.match, as
# nbgrader does) against the file's '/'-separated path in the zip.
PATTERNS = {
    # doejane_12345_67890_01_rnn_fundamentals.ipynb, doejane_LATE_12345_67890_...:
    # sortable name, user id (the student id), submission id, the file as uploaded.
    "canvas": r"(?:.*/)?[^/_]+(?:_(?i:late))?_(?P<student_id>\d+)_\d+_" + _REST,
    # Moodle with blind marking: Participant_12345_assignsubmission_file_/...
    "moodle-blind": r"(?:.*/)?(?P<student_id>Participant_\d+)_assignsubmission_file_/?" + _REST,
    # Jane Doe_12345_assignsubmission_file_/01_rnn_fundamentals.ipynb (or ..._file_01_...).
    # The number is Moodle's participant id, which changes from one assignment to the next:
    # the full name is the student id, the same in every assignment.
    "moodle": r"(?:.*/)?(?P<student_id>[^/_]+)_\d+_assignsubmission_file_/?" + _REST,
    # nbgrader's documented example: ps1_bitdiddle_attempt_2016-01-30-15-00-00_problem1.ipynb.
    "blackboard": (r"(?:.*/)?(?:[^/]*_)?(?P<student_id>[^/_]+)_attempt_"
                   r"(?P<timestamp>\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d)_" + _REST),
    # jdoe/01_rnn_fundamentals.ipynb, jdoe/any/folder/x.ipynb: a folder per student.
    "folder": r"(?P<student_id>[^/]+)/" + _REST,
}

# How an LMS, a browser or Jupyter renames a copy: "-1" (Canvas, on resubmission), " (2)",
# " - Copy", "-Copy1"; stripped one at a time from the end of a file name.
_COPY_MARK = re.compile(r"(?:-\d+|\s*\(\d+\)|[\s-]+copy\d*)$", re.IGNORECASE)

# nbgrader's collector warns about every name a pattern does not match; several are tried.
_QUIET = logging.getLogger(__name__ + ".nbgrader")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


@dataclass
class Notebook:
    """A notebook collected: where it now lies, and where it came from in the zip."""
    student: str
    assignment: str
    path: str                   # DEST/<student>/<assignment>/<assignment>.ipynb
    timestamp: datetime = None  # from the file name, UTC; None when the name has none
    source: str = ""            # its path in the zip; a zip inside reads as a folder


@dataclass
class Skipped:
    """A file of the zip not collected, and why."""
    source: str
    reason: str                 # one line


@dataclass
class Collected:
    """What from_zip did. `ignored` counts the files that are not notebooks (and by-products:
    __MACOSX/, hidden files, .ipynb_checkpoints/); they are counted, never extracted."""
    dest: str
    notebooks: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    ignored: int = 0


def check_pattern(pattern):
    """`pattern` if it is a regexp nbgrader's collector can use, else ValueError saying why."""
    try:
        groups = re.compile(pattern).groupindex
    except (re.error, TypeError) as exc:
        raise ValueError(f"pattern {pattern!r} is not a regular expression: {exc}") from None
    missing = [g for g in ("student_id", "file_id") if g not in groups]
    if missing:
        needed = " and ".join(f"(?P<{g}>...)" for g in missing)
        raise ValueError(f"pattern {pattern!r} lacks the named group {needed}: nbgrader's "
                         "collector reads the student and the file from them")
    return pattern


def assignment_of(file_id, known):
    """The assignment in `known` that the file name `file_id` names, or None (none, or several).

    Tolerates how copies get renamed ("01_rnn_fundamentals-1.ipynb", "... (2).ipynb"), case,
    spaces for underscores, and a missing number ("rnn_fundamentals.ipynb").
    """
    hits = _named(file_id, known)
    return hits[0] if len(hits) == 1 else None


def _key(name):
    return re.sub(r"[\s_-]+", "_", name.strip().lower())


def _named(file_id, known):
    """The assignments `file_id` may name: tried as it is, then less one copy mark at a time."""
    name = os.path.splitext(os.path.basename(file_id))[0]
    while True:
        key = _key(name)
        exact = [k for k in known if _key(k) == key]
        if exact:
            return exact
        unnumbered = [k for k in known if _key(re.sub(r"^\d+[\s_-]+", "", k)) == key]
        if unnumbered:
            return unnumbered
        shorter = _COPY_MARK.sub("", name)
        if shorter in (name, ""):
            return []
        name = shorter


def from_zip(zip_path, dest, assignment=None, pattern=None, *, known=(),
             max_bytes=MAX_BYTES, max_entries=MAX_ENTRIES):
    """Collect the notebooks of an LMS zip into DEST/<student>/<assignment>/<assignment>.ipynb.

    A student's folder for an assignment is replaced as a whole; other folders of DEST are left
    alone. Nothing is written to DEST unless the whole zip could be read.

    Args:
        zip_path: the zip downloaded from the LMS; zips inside it are read too.
        dest: the submitted/ folder to write to (created if missing).
        assignment: the assignment every notebook belongs to; None infers it from each file's
            name (see assignment_of), skipping the files that name none of `known`.
        pattern: a regexp with (?P<student_id>...) and (?P<file_id>...) groups, optionally
            (?P<timestamp>...), matched from the start against each file's '/'-separated path
            in the zip (a folder wrapping the whole zip left out); None tries PATTERNS in order.
        known: the assignment names (the folders of solutions/ holding <name>/<name>.ipynb).
        max_bytes, max_entries: the most bytes extracted (notebooks and zips inside: other
            files are only counted) and entries listed, zips inside included; past either, the
            zip is refused as a possible zip bomb.

    Returns a Collected. Raises ValueError, with a one-line message naming the file, for a zip
    that is missing, not a zip, corrupt, empty, holds no notebook, or is past the limits.
    """
    known = sorted(known)
    if pattern is not None:
        check_pattern(pattern)
    if assignment is None and not known:
        raise ValueError("give the assignment, or the known assignment names to infer it from")
    if assignment is not None and _unusable(assignment):
        raise ValueError(f"assignment {assignment!r} is not usable as a folder name")
    if assignment is not None and known and assignment not in known:
        raise ValueError(f"unknown assignment {assignment!r}; known: {', '.join(known)}")
    if os.path.exists(dest) and not os.path.isdir(dest):
        raise ValueError(f"{dest}: not a folder")
    with tempfile.TemporaryDirectory(prefix="rnnkit-collect-") as scratch:
        reader = _Reader(zip_path, scratch, max_bytes, max_entries)
        reader.read_all()
        chosen, skipped = _choose(reader, assignment, pattern, known)
        result = Collected(dest, skipped=reader.skipped + skipped, ignored=reader.ignored)
        if chosen:
            result.notebooks = _install(chosen, dest)
    return result


class _TooBig(Exception):
    pass


class _Empty(Exception):
    pass


class _Reader:
    """Reads the notebooks of a zip, and of the zips inside it, into numbered scratch files.

    Entry names are never used as paths on disk: refusing '..' and absolute names reports what
    a careless unzip would have done, and a link is refused rather than read as a notebook.
    """

    def __init__(self, zip_path, scratch, max_bytes, max_entries):
        self.zip_path, self.scratch = os.fspath(zip_path), scratch
        self.max_bytes, self.max_entries = max_bytes, max_entries
        self.bytes = self.entries = self.ignored = self.files = 0
        self.notebooks = []     # (path in the zip, scratch file)
        self.skipped = []
        self.paths = []         # every file path of the outer zip, to find a wrapping folder

    def fail(self, why):
        raise ValueError(f"{self.zip_path}: {why}")

    def read_all(self):
        if not os.path.isfile(self.zip_path):
            self.fail("no such file" if not os.path.exists(self.zip_path) else "not a file")
        with open(self.zip_path, "rb") as f:
            head = f.read(4)
        if not head:
            self.fail("empty file, not a zip")
        if not zipfile.is_zipfile(self.zip_path):
            self.fail("corrupt zip (incomplete download?): no zip directory at its end"
                      if head.startswith(b"PK") else "not a zip file")
        try:
            with self.open_zip(self.zip_path) as zf:
                if all(i.is_dir() for i in zf.infolist()):
                    raise _Empty
                self.read(zf, "", outer=True)
        except _Empty:
            self.fail("empty zip: no file in it")
        except _TooBig as exc:
            self.fail(f"{exc}: refused as a possible zip bomb (raise the limit if it is genuine)")
        except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as exc:
            self.fail(f"corrupt zip: {_one_line(exc)}")
        if not self.notebooks and not self.skipped:
            self.fail(f"no notebook (.ipynb) in it ({self.ignored} other files)")

    def open_zip(self, path):
        """A ZipFile of `path`, its entries counted against the limit."""
        # ZipFile lists every entry in memory on opening: first check the count that the zip's
        # end record declares (0xFFFF, zip64's mark, counts as 65,535).
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 22 - 0xFFFF))
            tail = f.read()
        at = tail.rfind(b"PK\x05\x06")
        declared = struct.unpack_from("<H", tail, at + 10)[0] if 0 <= at <= len(tail) - 22 else 0
        self.count(declared)
        zf = zipfile.ZipFile(path)
        self.count(len(zf.infolist()) - declared)
        return zf

    def count(self, entries):
        self.entries += entries
        if self.entries > self.max_entries:
            raise _TooBig(f"more than {self.max_entries:,} entries (zips inside included)")

    def read(self, zf, prefix, outer=False):
        for info in zf.infolist():
            if info.is_dir():
                continue
            name = info.filename.replace("\\", "/")   # zips made on Windows may use backslashes
            refusal = _refusal(info, name)
            if refusal:
                self.skipped.append(Skipped(prefix + name, f"refused: {refusal}"))
                continue
            parts = [p for p in name.split("/") if p not in ("", ".")]
            path = prefix + "/".join(parts)
            if any(p.startswith(".") or p == "__MACOSX" for p in parts):
                self.ignored += 1
                continue
            if outer:
                self.paths.append(parts)
            if path.endswith(".ipynb"):      # nbgrader's collector: '.ipynb', case and all
                self.notebooks.append((path, self.extract(zf, info, path)))
            elif path.lower().endswith(".zip"):
                self.read_inner(zf, info, path)
            else:
                self.ignored += 1

    def read_inner(self, zf, info, path):
        """A zip inside: read it whole, or not at all (a student's broken upload, not ours)."""
        marks = len(self.notebooks), len(self.skipped), self.ignored
        try:
            inner = self.extract(zf, info, path)
            if inner is None:
                return
            with self.open_zip(inner) as izf:
                self.read(izf, path + "/")
            os.remove(inner)
        except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as exc:
            del self.notebooks[marks[0]:], self.skipped[marks[1]:]
            self.ignored = marks[2]
            self.skipped.append(Skipped(path, f"corrupt zip inside the zip: {_one_line(exc)}"))

    def extract(self, zf, info, path):
        """The entry's bytes in a new scratch file; None (and a skip) when it cannot be read."""
        # zipfile stops at the declared size (and checks the CRC), so counting the declared
        # sizes bounds what is written, before anything is decompressed.
        self.bytes += info.file_size
        if self.bytes > self.max_bytes:
            raise _TooBig(f"more than {self.max_bytes:,} bytes to extract, reached at {path}")
        self.files += 1
        target = os.path.join(self.scratch, str(self.files))
        try:
            with zf.open(info) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out)
        except NotImplementedError as exc:     # e.g. Deflate64, which Windows' Explorer writes
            self.skipped.append(Skipped(path, f"refused: {_one_line(exc)}"))
            return None
        return target


def _refusal(info, name):
    """Why the entry is refused, or ''."""
    if name.startswith("/") or re.match(r"[A-Za-z]:", name):
        return "absolute path"
    if ".." in name.split("/"):
        return "'..' in the path (path traversal: it would land outside the folder)"
    kind = stat.S_IFMT(info.external_attr >> 16)
    if kind == stat.S_IFLNK:
        return "symbolic link (not followed)"
    if kind not in (0, stat.S_IFREG):
        return "not a regular file"
    if info.flag_bits & 0x1:
        return "encrypted"
    return ""


def _wrapper(paths):
    """The one folder wrapping the whole outer zip, if it holds several folders (what zipping
    a folder of student folders gives); '' otherwise."""
    tops = {p[0] for p in paths}
    if len(tops) != 1 or any(len(p) < 2 for p in paths):
        return ""
    return next(iter(tops)) + "/" if len({p[1] for p in paths if len(p) > 2}) > 1 else ""


@dataclass
class _Candidate:
    source: str
    file: str
    student: str
    assignment: str
    named: bool             # its file name names the assignment
    timestamp: datetime = None


def _choose(reader, assignment, pattern, known):
    """(the candidates kept, the Skipped): one notebook per student and assignment."""
    from nbgrader.plugins import FileNameCollectorPlugin   # seconds to import: only when used
    schemes = {"pattern": pattern} if pattern is not None else PATTERNS
    plugins = [FileNameCollectorPlugin(named_regexp=rx, log=_QUIET) for rx in schemes.values()]
    wrapper = _wrapper(reader.paths)
    skipped, groups = [], defaultdict(list)
    for source, file in reader.notebooks:
        name = source[len(wrapper):] if wrapper and source.startswith(wrapper) else source
        info = next((i for i in (p.collect(name) for p in plugins) if i), None)
        if info is None:
            why = ("does not match the pattern" if pattern is not None else
                   f"matches no naming scheme ({', '.join(PATTERNS)})")
            skipped.append(Skipped(source, why))
            continue
        student, file_id = info["student_id"], info["file_id"]
        if _unusable(student):
            skipped.append(Skipped(source, f"student id {student!r} is not usable as a folder "
                                           "name"))
            continue
        hits = _named(file_id, known)
        if assignment is None and len(hits) != 1:
            why = (f"ambiguous assignment: {file_id!r} could be {' or '.join(hits)}" if hits else
                   f"unknown assignment: {file_id!r} names none of {', '.join(known)}")
            skipped.append(Skipped(source, why))
            continue
        if assignment is not None and hits and assignment not in hits:
            skipped.append(Skipped(source, f"a notebook of {' or '.join(hits)}, "
                                           f"not of {assignment}"))
            continue
        candidate = _Candidate(source, file, student, assignment or hits[0], bool(hits))
        if info.get("timestamp"):
            try:
                candidate.timestamp = _timestamp(info["timestamp"])
            except (ValueError, OverflowError):
                skipped.append(Skipped(source, f"unreadable timestamp {info['timestamp']!r}"))
                continue
        groups[student, candidate.assignment].append(candidate)
    chosen = []
    for (student, name), group in groups.items():
        kept, dropped = _newest(student, name, group)
        chosen += kept
        skipped += dropped
    return chosen, skipped


def _newest(student, assignment, group):
    """([the one to keep] or [], the Skipped): nbgrader's rule, the newest timestamp wins."""
    if len(group) > 1 and any(c.named for c in group):
        # A notebook named after the assignment beats the student's other notebooks.
        named = next(c for c in group if c.named)
        dropped = [Skipped(c.source, f"another notebook of {student}, {named.source}, is named "
                                     f"after {assignment}") for c in group if not c.named]
        group = [c for c in group if c.named]
    else:
        dropped = []
    if len(group) == 1:
        return group, dropped
    stamps = sorted((c.timestamp for c in group if c.timestamp), reverse=True)
    if len(stamps) < len(group) or stamps[0] == stamps[1]:
        return [], dropped + [Skipped(c.source, f"one of {len(group)} notebooks of {student} for "
                                                f"{assignment} with no timestamp telling the "
                                                f"newest: none taken") for c in group]
    newest = next(c for c in group if c.timestamp == stamps[0])
    return [newest], dropped + [
        Skipped(c.source, f"older duplicate: {c.timestamp.isoformat(' ')} replaced by "
                          f"{newest.source} of {newest.timestamp.isoformat(' ')}")
        for c in group if c is not newest]


def _timestamp(text):
    from nbgrader.utils import parse_utc
    # dateutil reads "2016-01-30-09-05-07" (nbgrader's Blackboard example) as 09:00 at UTC-07:00,
    # or fails: spell the time out first.
    m = re.fullmatch(r"(\d{4}-\d\d-\d\d)-(\d\d)-(\d\d)-(\d\d)", text)
    return parse_utc(f"{m[1]} {m[2]}:{m[3]}:{m[4]}" if m else text)


def _install(chosen, dest):
    """Write the chosen notebooks beside `dest`, then move each student's folder in by renaming."""
    parent = os.path.dirname(os.path.abspath(dest))
    os.makedirs(parent, exist_ok=True)
    notebooks = []
    with tempfile.TemporaryDirectory(prefix=".collect-", dir=parent) as staging:
        out = os.path.join(staging, "out")
        for c in sorted(chosen, key=lambda c: (c.student, c.assignment)):
            folder = os.path.join(out, c.student, c.assignment)
            os.makedirs(folder)
            shutil.copyfile(c.file, os.path.join(folder, f"{c.assignment}.ipynb"))
            if c.timestamp:
                with open(os.path.join(folder, "timestamp.txt"), "w") as f:
                    f.write(c.timestamp.isoformat(" "))   # as nbgrader zip_collect writes it
            notebooks.append(Notebook(c.student, c.assignment,
                                      os.path.join(dest, c.student, c.assignment,
                                                   f"{c.assignment}.ipynb"),
                                      c.timestamp, c.source))
        if not os.path.isdir(dest):
            os.rename(out, dest)
            return notebooks
        for c in chosen:
            target = os.path.join(dest, c.student, c.assignment)
            if os.path.exists(target):   # the previous submission: removed with the staging
                old = os.path.join(staging, "replaced", c.student)
                os.makedirs(old, exist_ok=True)
                os.rename(target, os.path.join(old, c.assignment))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.rename(os.path.join(out, c.student, c.assignment), target)
    return notebooks


def _unusable(name):
    """True for a name that cannot be one folder: empty, hidden, '..', or holding a separator."""
    return not name or name.startswith(".") or any(s in name for s in ("/", "\\", "\0"))


def _one_line(exc):
    return (str(exc).splitlines() or [type(exc).__name__])[0][:160]
