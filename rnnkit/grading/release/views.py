"""Write the student package's views of the exercises from the answer keys (`rnnkit release`).

For every notebook: each exercise's contract, its visible cases with their inputs, what its Keras
reference returns on them and what each catalogued mistake returns on them (rnnkit.views reads
them back). Hidden cases, references and mistake models stay here.
"""
import json
import os

import numpy as np

from rnnkit import checks, views
from rnnkit.grading import keys


def exercise_record(exercise, examples, arrays):
    """The JSON record of one exercise's view; `examples` is [(case, inputs, reference value,
    [mistake value or None per catalogue entry])] for its visible cases."""
    record = {
        "name": exercise.name, "notebook": exercise.notebook, "args": list(exercise.args),
        "outputs": [{"name": o.name, "dims": None if o.dims is None else list(o.dims),
                     "listed": o.listed, "sequence": o.sequence, "at_least": o.at_least}
                    for o in exercise.outputs],
        "reference_name": exercise.reference_name, "points": exercise.points,
        "must_call": list(exercise.must_call), "forbidden": list(exercise.forbidden),
        "atol": exercise.atol, "rtol": exercise.rtol,
        "runner": views.function_name(exercise.runner), "collect": views.function_name(exercise.collect),
        "finish": views.function_name(exercise.finish),
        "reference": views.student_function_name(exercise.reference),
        "gates": {k: list(v) for k, v in (exercise.gates or {}).items()},
        "roles": dict(exercise.roles or {}), "probes_off": list(exercise.probes_off),
        "probes_on": list(exercise.probes_on),
        "mistakes": [{"name": m.name, "hint": m.hint} for m in exercise.mistakes],
        "cases": [],
    }
    for case, inputs, reference, mistakes in examples:
        record["cases"].append({
            "label": case.label, "seed": case.seed, "sizes": views.encode(dict(case.sizes), arrays),
            "dtype": case.dtype, "note": case.note,
            "inputs": views.encode(inputs, arrays), "reference": views.encode(reference, arrays),
            "mistakes": [None if m is None else views.encode(m, arrays) for m in mistakes],
        })
    return record


def write(notebook, records, arrays, folder=views.VIEWS_DIR):
    """Write one notebook's view (records from exercise_record, their arrays)."""
    json_path, npz_path = views.paths(notebook, folder)
    os.makedirs(folder, exist_ok=True)
    doc = {"generated": "by `rnnkit release` from the answer keys; do not edit",
           "format": views.FORMAT, "notebook": notebook, "exercises": records}
    with open(json_path, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")
    np.savez_compressed(npz_path, **arrays)



def notebook_records(notebook):
    """(records, arrays) of one notebook's view."""
    records, arrays = [], {}
    for exercise in keys.for_notebook(notebook):
        examples = []
        for case in exercise.select(hidden=False):
            inputs = checks.make_inputs(exercise, case)
            with checks._quiet():
                reference = exercise.reference(**checks._copy(inputs))
            examples.append((case, inputs, reference, [_mistake_value(m, inputs) for m in exercise.mistakes]))
        records.append(exercise_record(exercise, examples, arrays))
    return records, arrays


def _mistake_value(mistake, inputs):
    """What a catalogued mistake returns on a case; None where it cannot happen (it raises) or
    where a runner names it (no model)."""
    if mistake.output is None:
        return None
    try:
        with checks._quiet():
            return mistake.output(**checks._copy(inputs))
    except Exception:
        return None


def notebooks():
    """The notebooks the answer keys declare exercises of, in order."""
    return sorted({e.notebook for e in keys.REGISTRY.values()})


def write_all(folder=views.VIEWS_DIR):
    """Write the view of every notebook into `folder`; returns the notebooks written."""
    done = []
    for notebook in notebooks():
        records, arrays = notebook_records(notebook)
        write(notebook, records, arrays, folder)
        done.append(notebook)
    return done
