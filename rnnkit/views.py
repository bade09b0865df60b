"""Values as plain data (JSON and .npz, no pickles), and the views of exercises stored that way.

A view is what the student package knows of a notebook's exercises: the contract of each, its
visible cases with their inputs, what the Keras reference returned on them and what each catalogued
mistake returned. `rnnkit release` writes the views from the answer keys
(rnnkit.grading.release.views); this module reads them (get, for_notebook). The same encoding
carries a case's inputs into the grader's sandbox.

Encoding of a value (`encode`, `decode`):
    {"t": "none"} | {"t": "number", "v": n} | {"t": "str", "v": s} | {"t": "array", "k": key}
    {"t": "tuple"|"list", "items": [...]} | {"t": "dict", "items": {key: ...}}
    {"t": "object", "class": "rnnkit.exercises.<topic>:<Class>", "state": <encoded>}
Arrays go into a dict {key: ndarray} saved beside the JSON. An object is an input the checks hand
to a student's function (a decoder step, an RNN as a function, an objective): its class lives in
rnnkit.exercises, has `to_state()` and `from_state(state)`, and nothing else is ever instantiated.
"""
import functools
import importlib
import json
import os

import numpy as np

from rnnkit.registry import Example, Exercise, Mistake, Output

VIEWS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "exercises", "views")
FORMAT = 1
OBJECT_MODULES = "rnnkit.exercises."      # where the classes of encoded objects may come from
REFERENCE_MODULE = "rnnkit.reference"      # the Keras references as Keras calls


class BadValue(ValueError):
    """An encoded value that does not follow the encoding; the message says where."""


def encode(value, arrays):
    """The encoding of `value`; its arrays are added to `arrays` under fresh keys."""
    if value is None:
        return {"t": "none"}
    if isinstance(value, (bool, np.bool_)):
        return {"t": "number", "v": bool(value)}
    if isinstance(value, (int, float, np.integer, np.floating)):
        return {"t": "number", "v": value.item() if isinstance(value, np.generic) else value}
    if isinstance(value, str):
        return {"t": "str", "v": value}
    if isinstance(value, np.ndarray):
        key = f"a{len(arrays)}"
        arrays[key] = value
        return {"t": "array", "k": key}
    if isinstance(value, (tuple, list)):
        return {"t": "tuple" if isinstance(value, tuple) else "list",
                "items": [encode(v, arrays) for v in value]}
    if isinstance(value, dict):
        return {"t": "dict", "items": {str(k): encode(v, arrays) for k, v in value.items()}}
    cls = type(value)
    if cls.__module__.startswith(OBJECT_MODULES) and hasattr(value, "to_state"):
        return {"t": "object", "class": f"{cls.__module__}:{cls.__qualname__}",
                "state": encode(value.to_state(), arrays)}
    raise BadValue(f"cannot encode a {cls.__name__} as data")


def decode(enc, arrays):
    """The value `enc` encodes (a fresh copy: arrays are copied, objects made anew)."""
    t = enc.get("t") if isinstance(enc, dict) else None
    if t == "none":
        return None
    if t in ("number", "str"):
        return enc["v"]
    if t == "array":
        return np.array(arrays[enc["k"]])
    if t in ("tuple", "list"):
        items = [decode(e, arrays) for e in enc["items"]]
        return tuple(items) if t == "tuple" else items
    if t == "dict":
        return {k: decode(e, arrays) for k, e in enc["items"].items()}
    if t == "object":
        return object_class(enc["class"]).from_state(decode(enc["state"], arrays))
    raise BadValue(f"not an encoded value: {str(enc)[:80]}")


def object_class(name):
    """The class 'rnnkit.exercises.<topic>:<Class>' names; nothing outside rnnkit.exercises."""
    module, _, qualname = str(name).partition(":")
    if not module.startswith(OBJECT_MODULES) or not qualname.isidentifier():
        raise BadValue(f"objects of {name!r} are not inputs of the checks")
    cls = getattr(importlib.import_module(module), qualname, None)
    if not isinstance(cls, type) or not hasattr(cls, "from_state"):
        raise BadValue(f"{name!r} is not an input class of the checks")
    return cls


def function_name(fn):
    """'module:name' of a runner function of the student package, or None."""
    if fn is None:
        return None
    if not fn.__module__.startswith(OBJECT_MODULES):
        raise BadValue(f"{fn.__module__}.{fn.__qualname__} is not in the student package: a "
                       "runner must live in rnnkit/exercises/")
    return f"{fn.__module__}:{fn.__qualname__}"


def student_function_name(fn):
    """'module:name' of a module-level function of the student package, or None for any other
    callable (a reference that lives with the answer keys stays there)."""
    module, qualname = getattr(fn, "__module__", "") or "", getattr(fn, "__qualname__", "")
    if not (module.startswith(OBJECT_MODULES) or module == REFERENCE_MODULE) or "<" in qualname:
        return None
    return f"{module}:{qualname}"


def function(name):
    """The function of the student package that 'rnnkit.exercises.<topic>:<name>' (a runner) or
    'rnnkit.reference:<name>' (a Keras reference) names: function_name's inverse."""
    if name is None:
        return None
    module, _, qualname = name.partition(":")
    if not (module.startswith(OBJECT_MODULES) or module == REFERENCE_MODULE):
        raise BadValue(f"{name!r} is not a function of the student package")
    return getattr(importlib.import_module(module), qualname)


# ----------------------------------------------------------------------------- views
def paths(notebook, folder=VIEWS_DIR):
    """(JSON path, .npz path) of one notebook's view."""
    return os.path.join(folder, f"{notebook}.json"), os.path.join(folder, f"{notebook}.npz")


def notebooks(folder=VIEWS_DIR):
    """The notebooks with a view, in order."""
    if not os.path.isdir(folder):
        return []
    return sorted(f[:-5] for f in os.listdir(folder) if f.endswith(".json"))


def read(notebook, folder=VIEWS_DIR):
    """The exercises of one notebook's view, in declaration order."""
    from rnnkit.registry import Case
    json_path, npz_path = paths(notebook, folder)
    with open(json_path, encoding="utf-8") as f:
        doc = json.load(f)
    if doc.get("format") != FORMAT:
        raise BadValue(f"{json_path}: format {doc.get('format')!r}, expected {FORMAT}: run `make release`")
    with np.load(npz_path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    exercises = []
    for r in doc["exercises"]:
        cases, examples = [], {}
        for c in r["cases"]:
            case = Case(c["label"], c["seed"], decode(c["sizes"], arrays), dtype=c["dtype"], note=c["note"])
            cases.append(case)
            examples[case.label] = Example(c["inputs"], c["reference"], c["mistakes"], arrays)
        exercise = Exercise(
            name=r["name"], notebook=r["notebook"], args=tuple(r["args"]),
            outputs=tuple(Output(o["name"], None if o["dims"] is None else tuple(o["dims"]), o["listed"],
                                 o["sequence"], o["at_least"]) for o in r["outputs"]),
            reference_name=r["reference_name"], cases=cases,
            mistakes=[Mistake(m["name"], m["hint"]) for m in r["mistakes"]],
            points=r["points"], must_call=tuple(r["must_call"]), forbidden=tuple(r["forbidden"]),
            atol=r["atol"], rtol=r["rtol"], runner=function(r["runner"]),
            collect=function(r["collect"]), finish=function(r["finish"]), examples=examples,
            reference=function(r.get("reference")),
            gates={k: tuple(v) for k, v in r.get("gates", {}).items()} or None,
            roles=r.get("roles") or None, probes_off=tuple(r.get("probes_off", ())),
            probes_on=tuple(r.get("probes_on", ())))
        exercises.append(exercise)
    return exercises


def load_all(folder=VIEWS_DIR):
    """The exercises of every notebook's view, in notebook order."""
    return [e for notebook in notebooks(folder) for e in read(notebook, folder)]


@functools.lru_cache(maxsize=None)
def _by_name():
    return {e.name: e for e in load_all()}


def names():
    """The graded functions of every notebook, in notebook and declaration order."""
    return list(_by_name())


def get(name):
    """The view of exercise `name` (contract and visible cases); KeyError names the known ones."""
    try:
        return _by_name()[name]
    except KeyError:
        raise KeyError(f"no exercise named {name!r}; known: {sorted(_by_name())}.") from None


def for_notebook(notebook):
    """The views of one assignment's exercises, in declaration order."""
    return [e for e in _by_name().values() if e.notebook == notebook]
