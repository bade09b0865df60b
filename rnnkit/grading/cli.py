"""`rnnkit`: the instructor's commands.

    rnnkit release                      regenerate course/ from solutions/ (nbgrader)
    rnnkit grade [--from DIR]           intake, autograde, feedback, report and grades CSV
    rnnkit examples                     rebuild autograde/examples/ from the release
"""
import argparse
import os
import sys
import time

from rnnkit.grading import workspace


def _say(text):
    print(text, flush=True)


def cmd_release(args):
    from rnnkit.grading.release import release
    t = time.time()
    done = release()
    for assignment, folder in done.items():
        _say(f"released {assignment} -> {os.path.relpath(folder, workspace.PROJECT)}")
    _say(f"release done in {time.time() - t:.1f} s")
    return 0


def cmd_examples(args):
    from rnnkit.grading.examples import build
    _say(f"examples written to {os.path.relpath(build(), workspace.PROJECT)}")
    return 0


def _ensure_assignments(root, names):
    """nbgrader grades against the gradebook's copy of each assignment: record missing ones."""
    import tempfile
    from nbgrader.api import Gradebook, MissingEntry
    from rnnkit.grading.release import release
    with Gradebook(workspace.db_url(root)) as gb:
        missing = []
        for name in names:
            try:
                gb.find_assignment(name)
            except MissingEntry:
                missing.append(name)
    if missing:
        with tempfile.TemporaryDirectory() as scratch:
            release(dest=scratch, root=root)


def cmd_grade(args):
    from rnnkit.grading import autograde, intake, report
    root = os.path.abspath(args.root)
    source = os.path.abspath(args.source or os.path.join(root, "submitted"))
    t0 = time.time()
    submissions = intake.discover(source, workspace.COURSE)
    if not submissions:
        _say(f"no submissions found under {source} (expected <student>/<assignment>/<assignment>.ipynb)")
        return 1
    for s in submissions:
        if not s.ok:
            _say(f"cannot grade {s.student} / {s.assignment}: {s.problem}")
    _ensure_assignments(root, {s.assignment for s in submissions if s.ok})
    intake.stage(submissions, root)
    outcomes = autograde.grade(submissions, root, feedback=not args.no_feedback, progress=_say)
    rows = report.build_rows(submissions, outcomes, root)
    _say("")
    _say(report.format_table(rows))
    csv_path = report.write_csv(rows, os.path.join(root, "grades.csv"))
    _say(f"grades CSV: {os.path.relpath(csv_path)}")
    if not args.no_feedback:
        _say(f"feedback HTML: {os.path.relpath(os.path.join(root, 'feedback'))}/<student>/<assignment>/")
    n_bad = sum(not s.ok for s in submissions)
    n_fail = sum(1 for o in outcomes if not o.ok)
    _say(f"graded {len(outcomes) - n_fail} of {len(submissions)} submissions "
         f"({n_bad} invalid, {n_fail} failed to grade) in {time.time() - t0:.1f} s")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="rnnkit", description="RNN course kit: instructor commands.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("release", help="regenerate course/ from solutions/").set_defaults(func=cmd_release)
    sub.add_parser("examples", help="rebuild autograde/examples/").set_defaults(func=cmd_examples)
    g = sub.add_parser("grade", help="autograde a batch of submissions and report")
    g.add_argument("--from", dest="source", help="folder of <student>/<assignment>/<assignment>.ipynb "
                   "(default: ROOT/submitted)")
    g.add_argument("--root", default=workspace.AUTOGRADE, help="nbgrader course root (default: autograde/)")
    g.add_argument("--no-feedback", action="store_true", help="skip the feedback HTML")
    g.set_defaults(func=cmd_grade)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
