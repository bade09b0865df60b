"""The verification pass: grade a submission's functions outside the kernel they were written in.

In the notebook, a solution cell and the test cells after it share one kernel, so the solution
can change what the tests see (replace numpy.testing, rnnkit's check, builtins...). Here:

    sandbox       (solution_sandbox)   the notebook's setup cell and solution cells run; each graded
                                       function is called on every visible and hidden case, and
                                       what it returned is written as plain arrays (harness)
    this process (trusted)             reads those arrays (no pickles), computes the references
                                       itself and reaches the verdict with the checks engine
                                       (checks.judge)

The hidden cases are drawn afresh for each grading batch (registry.Case.drawn, from the batch's
seed): only their inputs enter the sandbox, as data. The answer keys are not in the sandbox's
memory and not readable there. A function that calls what it is checked against (the Keras layer,
the TF op, automatic differentiation, sacrebleu) or the kit's own code fails, with a message naming
what it called (rnnkit.guard watches every call, in the sandbox as in a notebook).
Exercises checked by a runner (sampling, training a model) are cut in two (Exercise.collect and
.finish): the sandbox collects plain data (the samples drawn; the model built, as a .keras file),
this process finishes (counts the samples; loads the model with safe_mode, probes, trains and
scores it). A model that safe_mode cannot load (a subclassed model, a custom or Lambda layer) is
not verified: its in-notebook result stands, `verified` is False and `unverified` says why.
"""
import json
import os
import shutil
import tempfile

from rnnkit.grading.verify import protocol
from rnnkit.grading.verify.records import Verdict, Verification

# What a run needs is imported before it starts: the sandbox cannot read rnnkit/grading.
PRELOAD = ("numpy", "tensorflow", "keras", "rnnkit.runtime", "rnnkit.checks", "rnnkit.views",
           "rnnkit.exercises.*", "rnnkit.grading.verify.protocol", "rnnkit.grading.verify.harness",
           "rnnkit.grading.isolation.processes")


def defines_only(source):
    """True for a cell that only imports, defines functions or classes and sets constants.

    Such cells (a helper the notebook gives, constants) are what graded functions may use; cells
    that train or plot are left out of the verification run.
    """
    import ast
    try:
        body = ast.parse(source).body
    except SyntaxError:   # IPython magics: not plain Python
        return False
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef)):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            try:
                ast.literal_eval(node.value)
                continue
            except ValueError:
                pass
        return False
    return bool(body)


def _code_cells(nb):
    """The setup cell, every solution cell and every cell that only defines: in notebook order."""
    cells = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or (meta.get("grade") and not meta.get("solution")):
            continue          # test cells: the verdict is reached outside
        if meta.get("solution") or meta.get("grade_id") == "setup" or defines_only(cell.source):
            cells.append(cell.source)
    return cells


# What a solution cell has no honest reason to do: each pattern with what it suggests. Informative
# only (the verdicts do not depend on it): it makes a cheat that the checks already fail visible.
_SUSPICIOUS = [
    (r"set_custom_exc|input_transformers|ast_transformers|events\.register|register_magic",
     "changes how IPython runs later cells"),
    (r"\bos\._exit\b|\bsys\.exit\b|\bos\.kill\b|\bos\.abort\b", "tries to end the kernel"),
    (r"\bbuiltins\b|__builtins__", "touches Python's builtins"),
    (r"\b(np|numpy)(\.\w+)+\s*=[^=]|\bsetattr\(\s*(np|numpy)\b", "replaces a NumPy function"),
    (r"\b(np|numpy)\.testing\b", "uses numpy.testing"),
    (r"rnnkit\.checks|^\s*check\s*=|\bCheckFailed\b", "touches the checker"),
    (r"rnnkit\.(guard|grading|reference|registry|views)\b", "reaches into the kit's own code"),
    (r"def\s+__eq__|\(\s*(np|numpy)\.ndarray\s*\)", "defines equality or an ndarray subclass"),
    (r"\bopen\(|\bos\.(remove|unlink|rename|replace|chmod|system)\b|shutil|pathlib|sqlite3",
     "reads or writes files"),
    (r"\bos\.fork\b|subprocess|multiprocessing|\bos\.spawn|\bos\.exec", "starts processes"),
    (r"\bget_ipython\b|\bctypes\b|\bimportlib\b|__import__", "reaches into the interpreter"),
]


def suspicious(nb):
    """'cell N: what it suggests' for each solution cell that matches a _SUSPICIOUS pattern."""
    import re
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not cell.metadata.get("nbgrader", {}).get("solution"):
            continue
        hits = [why for pattern, why in _SUSPICIOUS if re.search(pattern, cell.source, re.M)]
        if hits:
            found.append(f"solution cell {i + 1} ({cell.metadata['nbgrader'].get('grade_id', '?')}) "
                         + ", ".join(dict.fromkeys(hits)))
    return found


class _Other:
    """Stands for a returned object that is not numbers (named like its type in messages)."""


class Unverifiable(Exception):
    """What came back cannot be judged here (a model safe_mode will not load): not a failure."""


def _forbidden_calls(enc):
    """The guard.Calls a returned value's encoding reports (checked: plain strings, known kinds)."""
    from rnnkit import guard
    calls = []
    for item in enc.get("forbidden", [])[:20] if isinstance(enc.get("forbidden"), list) else []:
        if (isinstance(item, list) and len(item) == 2 and all(isinstance(x, str) for x in item)
                and item[1] in protocol.CALL_KINDS):
            calls.append(guard.Call(item[0][:120], item[1]))
    return calls


def _decode(enc, arrays, exercise, outputs):
    from rnnkit import checks
    t = enc.get("t")
    # The argument the function changed in place: one of the exercise's, or none.
    edited = enc.get("edited") if enc.get("edited") in exercise.args else ""
    if t == "problem":
        named = [m for m in exercise.mistakes if m.name == enc.get("mistake")]
        return checks.Returned(problem=str(enc.get("problem", ""))[:500],
                               mistake=named[0] if named else None, calls=_forbidden_calls(enc),
                               edited=edited)
    return checks.Returned(value=_value(enc, arrays, outputs), calls=_forbidden_calls(enc),
                           edited=edited)


_UNLOADABLE = ("its model cannot travel as a .keras file loaded with safe_mode, as subclassed "
               "models, custom layers and Lambda layers cannot")


def _load_model(enc, outputs):
    """The keras.Model a .keras file from the sandbox holds, loaded with safe_mode (no code runs)."""
    if "error" in enc or not protocol.MODEL_FILE.fullmatch(str(enc.get("k", ""))):
        raise Unverifiable(f"{_UNLOADABLE}: it could not be saved "
                           f"({' '.join(str(enc.get('error', 'no file')).split())[:150]})")
    path = os.path.join(outputs, enc["k"])
    if os.path.islink(path) or not os.path.isfile(path) or os.path.getsize(path) > protocol.MODEL_BYTES:
        raise Unverifiable("its .keras file is missing or too large")
    from rnnkit.runtime import import_tf
    _, keras = import_tf()
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:
        raise Unverifiable(f"{_UNLOADABLE} ({type(exc).__name__}: {' '.join(str(exc).split())[:150]})"
                           ) from None


# One case's finish here (a loaded captioner's training) may take this long: a model the sandbox
# built could be made to train for hours.
FINISH_SECONDS = 300


class _FinishTimeUp(BaseException):
    """Raised into a finish step that ran past FINISH_SECONDS (past checks.capture's handlers)."""


def _finish(exercise, case, returned):
    """The runner's value from what `collect` returned in the sandbox: exercise.finish, run here."""
    from rnnkit import checks
    if returned.problem:
        return returned
    inputs = checks.make_inputs(exercise, case)
    try:
        with protocol.time_limit(FINISH_SECONDS, _FinishTimeUp()):
            finished = checks.capture(lambda: exercise.finish(returned.value, **inputs))
    except _FinishTimeUp:
        finished = checks.Returned(problem=f"checking what it returned took over {FINISH_SECONDS:g} s")
    finished.calls, finished.edited = returned.calls, returned.edited
    return finished


def _value(enc, arrays, outputs):
    t = enc.get("t")
    if t == "model":
        return _load_model(enc, outputs)
    if t == "none":
        return None
    if t == "number":
        v = enc.get("v")
        return v if isinstance(v, (int, float)) else float("nan")
    if t == "array":
        return arrays[enc["k"]]
    if t in ("tuple", "list"):
        items = [_value(e, arrays, outputs) for e in enc.get("items", [])]
        return tuple(items) if t == "tuple" else items
    return type(str(enc.get("type", "object"))[:40], (_Other,), {})()


def _expected_arrays(report):
    """Every array key the report mentions (read_arrays insists on exactly these)."""
    keys = set()

    def walk(enc):
        if enc.get("t") == "array":
            keys.add(enc["k"])
        for item in enc.get("items", []):
            walk(item)

    for entry in report.get("exercises", {}).values():
        for enc in entry.get("returned", []):
            walk(enc)
    return keys


_CASES = {}        # (assignment, seed) -> (cases.json document, its arrays): made once per batch


def cases_document(assignment, seed=None):
    """What the sandbox gets to know of an assignment's exercises: for each, its contract and the
    inputs of its visible cases and of its hidden cases drawn for `seed` (None: as declared);
    plain data for cases.json and cases.npz (see protocol)."""
    from rnnkit import checks, views
    from rnnkit.grading import keys
    if (assignment, seed) not in _CASES:
        arrays, entries = {}, []
        for e in keys.drawn(assignment, seed):
            if e.runner is not None and e.collect is None:
                continue                    # not verified: its in-notebook result stands
            entries.append({"name": e.name, "args": list(e.args), "forbidden": list(e.forbidden),
                            "must_call": list(e.must_call), "collect": views.function_name(e.collect),
                            "cases": [{"label": c.label, "hidden": c.hidden,
                                       "inputs": views.encode(checks.make_inputs(e, c), arrays)}
                                      for c in e.cases]})
        _CASES[(assignment, seed)] = {"assignment": assignment, "exercises": entries}, arrays
    return _CASES[(assignment, seed)]


def verify(notebook, assignment, limits=None, seed=None):
    """Verdicts for the graded functions of one executed or sanitized notebook.

    Args:
        notebook: nbformat NotebookNode (or its JSON text).
        assignment: its assignment, e.g. "02_bptt".
        limits: sandbox.Limits for the run (default: sandbox's).
        seed: the grading batch's seed: the hidden cases are drawn from it (None: as declared).

    Returns:
        A records.Verification: a Verdict per exercise (its points, message and the mistake
        named), the errors the notebook's cells raised there (one line each), the solution cells
        doing what honest ones do not (suspicious()) and, when the run itself failed, why.
    """
    import nbformat
    import numpy as np
    from rnnkit import checks
    from rnnkit.grading import keys
    from rnnkit.grading.isolation import solution_sandbox
    nb = nbformat.reads(notebook, as_version=4) if isinstance(notebook, str) else notebook
    exercises = keys.drawn(assignment, seed)
    verdicts = {e.name: Verdict(e.name, 0, e.points, verified=e.runner is None or e.collect is not None)
                for e in exercises}
    verification = Verification(verdicts, suspicious=suspicious(nb))
    work = tempfile.mkdtemp(prefix="rnnkit-verify-")
    inputs, outputs = os.path.join(work, "in"), os.path.join(work, "out")
    os.makedirs(inputs)
    os.makedirs(outputs)
    try:
        with open(os.path.join(inputs, protocol.CELLS), "w", encoding="utf-8") as f:
            json.dump(_code_cells(nb), f)
        document, case_arrays = cases_document(assignment, seed)
        with open(os.path.join(inputs, protocol.CASES), "w", encoding="utf-8") as f:
            json.dump(document, f)
        np.savez(os.path.join(inputs, protocol.CASE_ARRAYS), **case_arrays)
        code = f"from rnnkit.grading.verify.harness import main\nmain({inputs!r}, '.')\n"
        run = solution_sandbox.run(code, inputs, outputs, limits, preload=PRELOAD)
        try:
            with open(os.path.join(outputs, protocol.RETURNED), encoding="utf-8") as f:
                report = json.load(f)
            verification.cells = [e for e in report.get("cells", []) if e][:20]
            keys = _expected_arrays(report)
            arrays = solution_sandbox.read_arrays(os.path.join(outputs, protocol.RETURNED_ARRAYS),
                                                  {k: (None, None) for k in keys}) if keys else {}
        except (OSError, ValueError) as exc:
            why = run.reason or (f"exit status {run.exit_status}" if run.exit_status else str(exc))
            verification.error = f"the verification run gave no result ({why})"[:200]
            return verification
        for e in exercises:
            entry = report.get("exercises", {}).get(e.name)
            verdict = verdicts[e.name]
            if e.runner is not None and e.collect is None:
                verdict.message = "checked by a runner: the in-notebook result stands"
                continue
            if not entry or len(entry.get("returned", [])) != len(e.cases):
                verdict.message = "no result for this function"
                continue
            try:
                returned = [_decode(enc, arrays, e, outputs) for enc in entry["returned"]]
            except Unverifiable as exc:
                verdict.verified, verdict.unverified = False, str(exc)
                verdict.message = f"not verified: {exc}; the in-notebook result stands"
                continue
            if e.collect is not None:
                returned = [_finish(e, c, r) for c, r in zip(e.cases, returned)]
            calls = {h: int(entry.get("calls", {}).get(h, 0)) for h in e.must_call}
            results = []
            for hidden in (False, True):
                picked = [(c, r) for c, r in zip(e.cases, returned) if c.hidden == hidden]
                results.append(checks.judge(e, [c for c, _ in picked], [r for _, r in picked], calls))
            failed = next((r for r in results if not r.passed), None)
            verdict.points, verdict.passed = (0, False) if failed else (e.points, True)
            verdict.message = (failed or results[0]).message
            verdict.mistake = failed.mistake if failed else ""
        return verification
    finally:
        shutil.rmtree(work, ignore_errors=True)
