"""The kit on a GPU, in one table: every reference on the GPU against the CPU, and every solution's
checks (visible and hidden cases) on the GPU.

    KERAS_BACKEND=jax python -m rnnkit.grading.gpu_check [--solutions DIR] [--only EXERCISE ...]

Runs on whatever backend Keras is set to (`make gpu-check` picks JAX: a GPU machine without
TensorFlow is the case it is written for). Each row is one exercise:

    reference   the largest difference between the GPU's and the CPU's reference outputs over all
                its cases, as a fraction of the exercise's tolerance (atol + rtol x |reference|);
                "same" when under a tenth of it, as tests/test_gpu.py asks on TensorFlow
    solution    the solution notebook's function checked on the GPU: visible and hidden cases
    seconds     both together

A reference that needs a library this machine lacks (music21 for notebook 09's; TensorFlow for
make_windows, whose Keras reference builds a tf.data pipeline) is reported as skipped, with the
library's name. Without a GPU the same run compares the CPU with itself: a dry run of the script. The exit
status is 1 when a reference differs or a solution fails.
"""
import argparse
import ast
import json
import os
import re
import sys
import time

import numpy as np

from rnnkit import checks, runtime
from rnnkit.grading import keys, workspace
from rnnkit.grading.verify import verifier

# Built by training a model (seconds each, nothing numeric to compare between devices).
NOT_NUMERIC = ("build_captioner",)


def solution_functions(solutions, notebook, keras):
    """{name: object} of a solution notebook, as the grader's verification run sees it when a graded
    cell runs: its solution cells and the cells that only define (helpers it gives, constants), in
    notebook order, with `keras` (and `tf` on TensorFlow). Of the setup cell only the imports from
    rnnkit.exercises run: runtime.setup imports TensorFlow, which a GPU machine may not have."""
    path = os.path.join(solutions, notebook, f"{notebook}.ipynb")
    with open(path, encoding="utf-8") as f:
        nb = json.load(f)
    namespace = {"np": np, "keras": keras, "__name__": f"solution_{notebook}"}
    if keras.backend.backend() == "tensorflow":
        namespace["tf"] = runtime.import_tf()[0]
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        meta = cell.get("metadata", {}).get("nbgrader", {})
        source = "".join(cell["source"])
        if meta.get("grade_id") == "setup":
            tree = ast.parse(source)
            tree.body = [node for node in tree.body if isinstance(node, ast.ImportFrom)
                         and (node.module or "").startswith("rnnkit.exercises")]
            exec(compile(tree, f"<{notebook}:setup>", "exec"), namespace)
        elif meta.get("solution") or (not meta.get("grade") and verifier.defines_only(source)):
            exec(compile(source, f"<{notebook}:{meta.get('grade_id', 'cell')}>", "exec"), namespace)
    return namespace


def _missing_library(exc):
    """The library an ImportError says is missing (Keras's own, for tf.data, names none)."""
    return getattr(exc, "name", None) or ("tensorflow" if "tensorflow" in str(exc) else str(exc))


def compare_reference(keras, exercise, gpu):
    """(status, worst fraction of the tolerance) of the exercise's reference on `gpu` against the
    CPU, over every case."""
    worst = 0.0
    for case in exercise.cases:
        inputs = checks.make_inputs(exercise, case)
        try:
            with keras.device("cpu:0"):
                cpu = checks._reference(exercise, inputs)[1]
            with keras.device(gpu):
                on_gpu = checks._reference(exercise, inputs)[1]
        except ImportError as exc:
            return f"skipped: needs {_missing_library(exc)}", None
        if len(cpu) != len(on_gpu):
            return "DIFFERS: another number of outputs", None
        for a, b in zip(cpu, on_gpu):
            a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
            if a.shape != b.shape:
                return f"DIFFERS: shape {b.shape} against {a.shape}", None
            allowed = exercise.atol + exercise.rtol * np.abs(a)
            gap = np.where(np.isnan(a) & np.isnan(b), 0.0, np.abs(b - a))     # NaN where both are NaN: same
            with np.errstate(divide="ignore", invalid="ignore"):
                fraction = np.where(gap == 0, 0.0, gap / allowed)          # inf: differs where none is allowed
            worst = max(worst, float(np.max(np.nan_to_num(fraction, nan=np.inf), initial=0.0)))
    return ("same" if worst < 0.1 else "DIFFERS"), worst


def check_solution(keras, exercise, fn, gpu):
    """'pass' or the first line of the failing check's message, visible then hidden cases."""
    if fn is None:
        return "no solution function"
    try:
        with keras.device(gpu):
            for hidden in (False, True):
                result = checks.evaluate(exercise.name, fn, hidden=hidden)
                missing = re.search(r"\((?:ModuleNotFound|Import)Error: .*?'?(\w+)'?\)", result.message)
                if not result.passed and result.exercise is None and missing:
                    return f"skipped: needs {missing.group(1)}"        # the checker's own import failed
                if not result.passed:
                    return "FAILS: " + result.message.splitlines()[0][:100]
    except ImportError as exc:
        return f"skipped: needs {_missing_library(exc)}"
    return "pass"


def run(solutions, only=(), out=sys.stdout):
    """Print the table for the notebooks of `solutions` (a solutions/ folder); True when every
    reference agrees and every solution passes."""
    os.environ.setdefault("RNNKIT_FAST", "1")
    keras = runtime.import_keras()
    gpus = runtime.gpu_names(keras)
    gpu = "gpu:0" if gpus else "cpu:0"
    print(f"Keras {keras.__version__} on {keras.backend.backend()}; "
          + (f"GPU: {', '.join(gpus)}" if gpus else "no GPU: the CPU against itself (a dry run)"), file=out)
    print(runtime.device_report(), file=out)
    header = f"{'exercise':32} {'reference (GPU vs CPU)':34} {'solution on GPU':28} {'s':>5}"
    print(header, file=out)
    print("-" * len(header), file=out)
    ok, start = True, time.perf_counter()
    for notebook in workspace.assignments(solutions):
        exercises = [e for e in keys.for_notebook(notebook) if not only or e.name in only]
        if not exercises:
            continue
        functions = solution_functions(solutions, notebook, keras)
        for exercise in exercises:
            t0 = time.perf_counter()
            if exercise.name in NOT_NUMERIC:
                reference, worst = "not numeric (trains a model)", None
            else:
                reference, worst = compare_reference(keras, exercise, gpu)
            if reference.startswith("skipped"):
                solution = reference
            else:
                solution = check_solution(keras, exercise, functions.get(exercise.name), gpu)
            ok &= not reference.startswith("DIFFERS") and not solution.startswith(("FAILS", "no solution"))
            shown = reference if worst is None else f"{reference} ({worst:.2g} of tolerance)"
            print(f"{exercise.name:32} {shown:34} {solution:28} {time.perf_counter() - t0:5.1f}",
                  file=out, flush=True)
    print(f"{'all agree' if ok else 'SOME DIFFER OR FAIL'} in {time.perf_counter() - start:.0f} s", file=out)
    return ok


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m rnnkit.grading.gpu_check", description=__doc__.splitlines()[0])
    parser.add_argument("--solutions", default="solutions",
                        help="the kit's solutions/ folder (default: ./solutions, from the kit's root)")
    parser.add_argument("--only", nargs="*", default=(), metavar="EXERCISE", help="only these exercises")
    args = parser.parse_args(argv)
    if not os.path.isdir(args.solutions):
        parser.error(f"no solutions folder at {os.path.abspath(args.solutions)}: run from the kit's root")
    unknown = set(args.only) - {e.name for n in workspace.assignments(args.solutions) for e in keys.for_notebook(n)}
    if unknown:
        parser.error(f"no exercise named {', '.join(sorted(unknown))}")
    return 0 if run(args.solutions, args.only) else 1


if __name__ == "__main__":
    sys.exit(main())
