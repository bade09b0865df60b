"""`rnnkit`: the instructor's commands.

    rnnkit release                      regenerate course/ from solutions/ (nbgrader)
    rnnkit grade [--from DIR|ZIP] [--jobs N] [--scheduler ADDRESS] [--db-url URL] [--cell-timeout S]
                 [--seed SEED]          intake, autograde in parallel, feedback, report, grades CSV
    rnnkit examples                     rebuild autograde/examples/ from the release
    rnnkit bundle [--out ZIP]           the student bundle: course/, the rnnkit wheel, the data
"""
import argparse
import os
import sys
import time

from rnnkit.grading import startup, workspace


def _say(text):
    print(text, flush=True)


def cmd_release(args):
    from rnnkit.grading.release.course import release
    t = time.time()
    done = release()
    for assignment, folder in done.items():
        _say(f"released {assignment} -> {os.path.relpath(folder, workspace.PROJECT)}")
    _say(f"release done in {time.time() - t:.1f} s")
    return 0


def cmd_examples(args):
    from rnnkit.grading.release.examples import build
    _say(f"examples written to {os.path.relpath(build(), workspace.PROJECT)}")
    return 0


def cmd_bundle(args):
    from rnnkit.grading.release import bundle
    t = time.time()
    try:
        out = bundle.build(args.out)
    except bundle.Leak as e:
        print(f"rnnkit bundle: {e}", file=sys.stderr)
        return 1
    _say(f"student bundle written to {os.path.relpath(out, workspace.PROJECT)} "
         f"({os.path.getsize(out) / 1e6:.1f} MB, {time.time() - t:.0f} s)")
    return 0


def _ensure_assignments(root, names, db_url):
    """nbgrader grades against the gradebook's copy of each assignment: record missing ones."""
    import tempfile
    from nbgrader.api import Gradebook, MissingEntry
    from rnnkit.grading.release.course import release
    with Gradebook(db_url) as gb:
        missing = []
        for name in names:
            try:
                gb.find_assignment(name)
            except MissingEntry:
                missing.append(name)
    if missing:
        with tempfile.TemporaryDirectory() as scratch:
            release(dest=scratch, root=root, db_url=db_url)


def _intake(args, scratch):
    """Submissions from a submitted/ tree or an LMS zip (unpacked into `scratch`)."""
    from rnnkit.grading.intake import lms, staging
    source = os.path.abspath(args.source or os.path.join(args.root, "submitted"))
    if os.path.isfile(source):
        collected = lms.from_zip(source, scratch, assignment=args.assignment, pattern=args.pattern,
                                 known=workspace.assignments())
        for skipped in collected.skipped:
            _say(f"skipped {skipped.source}: {skipped.reason}")
        _say(f"collected {len(collected.notebooks)} notebooks from {os.path.basename(source)}")
        source = scratch
    if not os.path.isdir(source):
        raise ValueError(f"no such folder or zip: {source}")
    return source, staging.discover(source, workspace.COURSE)


def _phase_summary(outcomes):
    """Mean seconds per grading phase over the batch, for the figures an instructor tunes by."""
    totals = {}
    for o in outcomes:
        for phase, seconds in o.phases.items():
            totals.setdefault(phase, []).append(seconds)
    return ", ".join(f"{p} {sum(v) / len(v):.1f} s" for p, v in totals.items())


def _say_confinement():
    """One line: the protections kernels and verification runs get here, found by trying them."""
    from rnnkit.grading.pipeline import autograde
    _say(autograde.confinement())


def cmd_grade(args):
    import tempfile
    from rnnkit.grading.intake import staging
    from rnnkit.grading.pipeline import autograde
    from rnnkit.grading.pipeline.progress import Progress
    from rnnkit.grading.reports import class_report, grade_sheet
    root = args.root = os.path.abspath(args.root)
    db_url = workspace.db_url(root, args.db_url)
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix="rnnkit-intake-") as scratch:
        try:
            source, submissions = _intake(args, scratch)
        except ValueError as exc:
            _say(f"cannot read submissions: {exc}")
            return 1
        if not submissions:
            _say(f"no submissions found under {source} "
                 "(expected <student>/<assignment>/<assignment>.ipynb, or an LMS zip)")
            return 1
        for s in submissions:
            if not s.ok:
                _say(f"cannot grade {s.student} / {s.assignment}: {s.problem}")
        _ensure_assignments(root, {s.assignment for s in submissions if s.ok}, db_url)
        staging.stage(submissions, root)
    _say_confinement()
    outcomes = autograde.grade(submissions, root, feedback=not args.no_feedback, progress=Progress(),
                               jobs=args.jobs, scheduler=args.scheduler, use_zygote=not args.cold,
                               verify=not args.no_verify, cell_timeout=args.cell_timeout,
                               seed=args.seed, db_url=db_url)
    rows = grade_sheet.build_rows(submissions, outcomes, root, db_url)
    _say("")
    _say(grade_sheet.format_table(rows))
    summary = class_report.summarize(rows)
    _say(class_report.format_text(summary))
    csv_path = grade_sheet.write_csv(rows, os.path.join(root, "grades.csv"))
    html_path = class_report.write_html(summary, os.path.join(root, "class_report.html"))
    _say(f"grades CSV: {os.path.relpath(csv_path)}")
    _say(f"class report: {os.path.relpath(html_path)}")
    if not args.no_feedback:
        _say(f"feedback HTML: {os.path.relpath(os.path.join(root, 'feedback'))}/<student>/<assignment>/")
    n_bad = sum(not s.ok for s in submissions)
    n_fail = sum(1 for o in outcomes if not o.ok)
    if outcomes:
        _say(f"mean time per submission: {_phase_summary(outcomes)}")
    _say(f"graded {len(outcomes) - n_fail} of {len(submissions)} submissions "
         f"({n_bad} invalid, {n_fail} failed to grade) in {time.time() - t0:.1f} s")
    return 0


def _positive(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _seed(text):
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value < 2 ** 63:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer seed, got {text!r}")
    return value


def main(argv=None):
    startup.skip_unused_imports()
    parser = argparse.ArgumentParser(prog="rnnkit", description="RNN course kit: instructor commands.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("release", help="regenerate course/ from solutions/").set_defaults(func=cmd_release)
    sub.add_parser("examples", help="rebuild autograde/examples/").set_defaults(func=cmd_examples)
    b = sub.add_parser("bundle", help="write the student bundle (course/, the rnnkit wheel, the data)")
    b.add_argument("--out", default=None, help="the zip to write (default dist/rnn-course-student.zip)")
    b.set_defaults(func=cmd_bundle)
    g = sub.add_parser("grade", help="autograde a batch of submissions and report")
    g.add_argument("--from", dest="source", help="folder of <student>/<assignment>/<assignment>.ipynb "
                   "(default: ROOT/submitted), or an LMS download zip (Canvas, Moodle, Blackboard)")
    g.add_argument("--assignment", default=None, help="with a zip: the assignment all its notebooks "
                   "belong to (default: read from each file name)")
    g.add_argument("--pattern", default=None, help="with a zip: a regexp for its file names, with "
                   "named groups student_id and file_id (and optionally timestamp), as nbgrader zip_collect")
    g.add_argument("--root", default=workspace.AUTOGRADE, help="nbgrader course root (default: autograde/)")
    g.add_argument("--no-feedback", action="store_true", help="skip the feedback HTML")
    g.add_argument("--jobs", type=_positive, default=None,
                   help="notebooks executed at once on this machine (default: one per core, and one more)")
    g.add_argument("--scheduler", metavar="ADDRESS", default=None,
                   help="execute on the workers of this Dask distributed scheduler, e.g. tcp://host:8786")
    g.add_argument("--db-url", default=None, help="the gradebook's database URL (nbgrader's db_url; "
                   "default: sqlite in ROOT), e.g. postgresql+psycopg2://user@host/gradebook")
    g.add_argument("--no-verify", action="store_true",
                   help="skip the verification pass (solution code re-run in a sandbox, judged outside)")
    g.add_argument("--cell-timeout", type=_positive, default=None, metavar="SECONDS",
                   help="interrupt a cell after this many seconds (default: Execute.timeout in "
                   "nbgrader_config.py)")
    g.add_argument("--seed", type=_seed, default=None,
                   help="draw the hidden cases from this seed, e.g. the one grades.csv gives, to "
                   "reproduce a grade (default: a fresh seed per batch)")
    g.add_argument("--cold", action="store_true",
                   help="start a fresh kernel per notebook instead of forking warm ones")
    g.set_defaults(func=cmd_grade)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
