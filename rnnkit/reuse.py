"""Reuse the functions a student wrote in an earlier notebook of the course.

Notebook 07 decodes its translations with the `greedy_decode` and `beam_search` the student wrote
in notebook 06. The kit never ships working copies of graded functions (a student could import
them for full marks), so the only decoders there are the student's own: `from_notebook` reads
them from the earlier notebook beside the current one (course/06_image_captioning/ next to
course/07_seq2seq_attention/) and runs only their definitions and the imports they need, never
the notebook's other cells (no training, no figures).
"""
import ast
import json
import os


class NotAvailable(LookupError):
    """The earlier notebook, or a function in it, is not there to reuse; the message says which."""


def notebook_path(notebook, start="."):
    """Where `notebook` (e.g. "06_image_captioning") lies beside the folder `start`, or None."""
    start = os.path.abspath(start)
    for folder in (os.path.join(os.path.dirname(start), notebook), os.path.join(start, notebook), start):
        path = os.path.join(folder, f"{notebook}.ipynb")
        if os.path.isfile(path):
            return path
    return None


def _top_level(source):
    """(imports, function definitions by name) of a cell's source; a cell that does not parse
    (IPython magics, a half-written line) contributes nothing."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return [], {}
    imports = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    return imports, functions


def from_notebook(notebook, *names, start="."):
    """The functions `names` as defined in the earlier notebook `notebook`.

    Every top-level import of the notebook's code cells is run first (a function may use `np`
    imported in the set-up cell), then the definitions of the functions asked for and of any other
    top-level functions of their cells (the helpers they call). Nothing else of the notebook runs.

    Args:
        notebook: str, the notebook's name without ".ipynb", e.g. "06_image_captioning".
        *names: str, the functions wanted, e.g. "greedy_decode", "beam_search".
        start: str, the current notebook's folder (the working directory by default).

    Returns:
        dict name -> function.

    Raises:
        NotAvailable: the notebook is not beside this one, or does not define one of `names`.

    Example:
        >>> decoders = from_notebook("06_image_captioning", "greedy_decode")  # doctest: +SKIP
        >>> decoders["greedy_decode"](step_fn, start_id=1, end_id=2, max_len=12)  # doctest: +SKIP
    """
    if not names:
        raise ValueError("name at least one function to reuse, e.g. from_notebook(nb, 'greedy_decode')")
    path = notebook_path(notebook, start)
    if path is None:
        raise NotAvailable(f"{notebook}.ipynb is not beside this notebook (looked in "
                           f"{os.path.dirname(os.path.abspath(start))}); open this notebook from the course "
                           f"folder that holds both")
    with open(path, encoding="utf-8") as f:
        nb = json.load(f)      # plain JSON: nbformat's schema validation costs seconds
    imports, cells = [], []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            source = cell.get("source", "")
            cell_imports, functions = _top_level(source if isinstance(source, str) else "".join(source))
            imports += cell_imports
            if functions.keys() & set(names):
                cells.append(functions)
    definitions = {name: node for functions in cells for name, node in functions.items()}
    missing = [name for name in names if name not in definitions]
    if missing:
        raise NotAvailable(f"{os.path.basename(path)} defines no {', '.join(missing)}")
    namespace = {"__name__": f"rnnkit.reuse.{notebook}"}
    module = ast.Module(body=[*imports, *definitions.values()], type_ignores=[])
    exec(compile(module, path, "exec"), namespace)
    return {name: namespace[name] for name in names}
