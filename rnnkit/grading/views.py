"""Write the student package's views of the exercises from the answer keys (`rnnkit release`).

For every notebook: each exercise's contract, its visible cases with their inputs, what its Keras
reference returns on them and what each catalogued mistake returns on them (rnnkit.views reads
them back). Hidden cases, references and mistake models stay here.
"""
from rnnkit import checks, views
from rnnkit.grading import keys


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
        records.append(views.exercise_record(exercise, examples, arrays))
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
        views.write(notebook, records, arrays, folder)
        done.append(notebook)
    return done
