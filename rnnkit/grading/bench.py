"""`make bench`: wall times of each solution notebook's Run All (full and fast mode), and a class
graded twice: by plain sequential `nbgrader autograde` + `generate_feedback` and by `rnnkit grade`.
Figures for the notes; never asserted by tests (shared machines are noisy).

    python -m rnnkit.grading.bench                        everything
    python -m rnnkit.grading.bench grading [N]            only the class: N submissions (default 24)
    python -m rnnkit.grading.bench notebooks [NAME ...]   only the Run All times (of NAME ...)
"""
import contextlib
import io
import os
import shutil
import tempfile
import time


def run_all(path, fast):
    """Seconds to execute a notebook top to bottom in a fresh kernel (kernel start included)."""
    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.read(path, as_version=4)
    t = time.perf_counter()
    NotebookClient(nb, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": os.path.dirname(path)}}).execute(
        env={**os.environ, "RNNKIT_FAST": "1" if fast else "0"})     # the kernel's environment
    elapsed = time.perf_counter() - t
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    return elapsed, len(errors)


def class_batch(dest, n=24):
    """n generated submissions: the example students cycled over every notebook, renamed s01, ..."""
    from rnnkit.grading import workspace
    kinds = ("full_marks", "partial", "untouched")
    assignments = workspace.assignments()
    made = []
    for i in range(n):
        assignment = assignments[i % len(assignments)]
        kind = kinds[(i // len(assignments)) % len(kinds)]
        student = f"s{i + 1:02d}_{kind}"
        folder = os.path.join(dest, student, assignment)
        os.makedirs(folder)
        shutil.copy(os.path.join(workspace.AUTOGRADE, "examples", kind, assignment, f"{assignment}.ipynb"),
                    folder)
        made.append((student, assignment))
    return made


def _course_root(prefix):
    from rnnkit.grading import workspace
    from rnnkit.grading.release import course
    root = tempfile.mkdtemp(prefix=prefix)
    shutil.copy(os.path.join(workspace.AUTOGRADE, "nbgrader_config.py"), root)
    course.release(dest=os.path.join(root, "release"), root=root)
    return root


def _scores(root):
    """(student, assignment, grade_id) -> score, from a course root's gradebook."""
    from nbgrader.api import Gradebook
    from rnnkit.grading import workspace
    scores = {}
    with Gradebook(workspace.db_url(root)) as gb:
        for assignment in gb.assignments:
            for sub in gb.assignment_submissions(assignment.name):
                for nb in sub.notebooks:
                    for g in nb.grades:
                        scores[(sub.student.id, assignment.name, g.cell.name)] = g.score
    return scores


def grade_plain(source, made):
    """Seconds for nbgrader's own commands, one assignment after another: autograde, feedback."""
    import subprocess
    root = _course_root("rnnkit-bench-plain-")
    shutil.copytree(source, os.path.join(root, "submitted"))
    t = time.perf_counter()
    for assignment in sorted({a for _, a in made}):
        for command in ("autograde", "generate_feedback"):
            subprocess.run(["nbgrader", command, assignment, "--force"], cwd=root, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t, root


def grade_kit(source, *extra):
    """Seconds for `rnnkit grade` (intake, parallel autograde, feedback, reports) and its output."""
    from rnnkit.grading import cli
    root = _course_root("rnnkit-bench-kit-")
    out = io.StringIO()
    t = time.perf_counter()
    with contextlib.redirect_stdout(out):
        cli.main(["grade", "--root", root, "--from", source, *extra])
    return time.perf_counter() - t, root, out.getvalue()


def bench_grading(n=24):
    from rnnkit.grading import startup, workspace
    startup.skip_unused_imports()   # as `rnnkit grade` does: this process is the kit's grader
    workspace.put_venv_on_path()
    source = tempfile.mkdtemp(prefix="rnnkit-bench-class-")
    roots = []
    try:
        made = class_batch(source, n)
        print(f"class: {len(made)} submissions over {len({a for _, a in made})} notebooks, "
              f"{os.cpu_count()} CPU cores", flush=True)
        plain_s, plain_root = grade_plain(source, made)
        roots.append(plain_root)
        print(f"{'plain nbgrader autograde + generate_feedback, sequential':55s} {plain_s:8.1f}", flush=True)
        kit_s, kit_root, out = grade_kit(source)
        roots.append(kit_root)
        print(f"{'rnnkit grade (parallel, warm kernels, feedback, reports)':55s} {kit_s:8.1f}", flush=True)
        phases = [l for l in out.splitlines() if l.startswith(("grading ", "mean time"))]
        plain, kit = _scores(plain_root), _scores(kit_root)
        agree = plain == kit and len(plain) > 0
        print(f"speed-up {plain_s / kit_s:.2f}x; scores agree: {'yes' if agree else 'NO'} "
              f"({len(plain)} graded cells)")
        for line in phases[:1] + phases[-1:]:
            print("  " + line.strip())
        if not agree:
            for key in sorted(set(plain) | set(kit)):
                if plain.get(key) != kit.get(key):
                    print(f"  differs: {key}: plain {plain.get(key)}, kit {kit.get(key)}")
        return plain_s, kit_s, agree
    finally:
        for folder in (source, *roots):
            shutil.rmtree(folder, ignore_errors=True)


def main(argv=None):
    import sys
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["grading"]:
        bench_grading(int(argv[1]) if len(argv) > 1 else 24)
        return
    from rnnkit.grading import workspace
    chosen = workspace.assignments()
    if argv[:1] == ["notebooks"] and argv[1:]:
        unknown = [a for a in argv[1:] if a not in chosen]
        if unknown:
            raise SystemExit(f"no notebook named {unknown[0]!r}; known: {', '.join(chosen)}")
        chosen = argv[1:]
    print(f"{'what':55s} {'seconds':>8s}")
    for assignment in chosen:
        path = os.path.join(workspace.SOLUTIONS, assignment, f"{assignment}.ipynb")
        for fast in (False, True):
            seconds, errors = run_all(path, fast)
            label = f"Run All {assignment} ({'fast' if fast else 'full'} mode)"
            print(f"{label:55s} {seconds:8.1f}" + (f"  ({errors} cells raised)" if errors else ""), flush=True)
    if argv[:1] != ["notebooks"]:
        bench_grading()


if __name__ == "__main__":
    main()
