"""`make bench`: wall times of each solution notebook's Run All (full and fast mode) and of grading
the example submissions. Figures for the notes; never asserted by tests (shared machines are noisy).
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
    old = os.environ.get("RNNKIT_FAST")
    os.environ["RNNKIT_FAST"] = "1" if fast else "0"
    try:
        nb = nbformat.read(path, as_version=4)
        t = time.perf_counter()
        NotebookClient(nb, timeout=900, kernel_name="python3",
                       resources={"metadata": {"path": os.path.dirname(path)}}).execute()
        elapsed = time.perf_counter() - t
    finally:
        if old is None:
            os.environ.pop("RNNKIT_FAST", None)
        else:
            os.environ["RNNKIT_FAST"] = old
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    return elapsed, len(errors)


def grade_examples():
    """Seconds for `rnnkit grade --from autograde/examples` into a scratch course root."""
    from rnnkit.grading import cli, release, workspace
    root = tempfile.mkdtemp(prefix="rnnkit-bench-")
    try:
        shutil.copy(os.path.join(workspace.AUTOGRADE, "nbgrader_config.py"), root)
        release.release(dest=os.path.join(root, "release"), root=root)
        t = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            cli.main(["grade", "--root", root, "--from", os.path.join(workspace.AUTOGRADE, "examples")])
        return time.perf_counter() - t
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main():
    from rnnkit.grading import workspace
    print(f"{'what':55s} {'seconds':>8s}")
    for assignment in workspace.assignments():
        path = os.path.join(workspace.SOLUTIONS, assignment, f"{assignment}.ipynb")
        for fast in (False, True):
            seconds, errors = run_all(path, fast)
            label = f"Run All {assignment} ({'fast' if fast else 'full'} mode)"
            print(f"{label:55s} {seconds:8.1f}" + (f"  ({errors} cells raised)" if errors else ""), flush=True)
    print(f"{'grade autograde/examples (autograde + feedback + report)':55s} {grade_examples():8.1f}")


if __name__ == "__main__":
    main()
