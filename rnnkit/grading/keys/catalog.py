"""The answer keys' registry: every graded exercise, declared once, in full.

A declaration (registry.Exercise) holds the contract, the Keras reference, the input maker, the
visible cases and the hidden ones, and the catalogue of mistakes, each a model that computes what
that mistake returns. It stays on the instructor's side: the student package gets a data-only view
of each notebook's exercises, generated from these (rnnkit.grading.release.views).
"""
REGISTRY = {}


def register(exercise):
    if exercise.name in REGISTRY:
        raise ValueError(f"exercise {exercise.name!r} is declared twice.")
    REGISTRY[exercise.name] = exercise
    return exercise


def get(name):
    """The declaration of exercise `name`; raises KeyError naming the known ones otherwise."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"no exercise named {name!r}; known: {sorted(REGISTRY)}.") from None


def for_notebook(notebook):
    """Declarations of one assignment's exercises, in declaration order."""
    return [e for e in REGISTRY.values() if e.notebook == notebook]


def drawn(notebook, batch_seed):
    """The declarations of one assignment as graded in the batch `batch_seed`: hidden cases and
    their copies drawn for the batch (registry.Exercise.drawn; None: as declared)."""
    return [e.drawn(batch_seed) for e in for_notebook(notebook)]
