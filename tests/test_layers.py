"""The package's layers: no import circles anywhere in rnnkit/, and each room of the grader imports
only the rooms below it. The student's side (rnnkit outside rnnkit/grading) imports no grading.

Imports are read from the source (every `import` and `from ... import`, at any depth, and
`importlib.import_module("rnnkit....")` with a literal name), so an import inside a function,
which closes a circle just as surely once it runs, counts too.
"""
import ast
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "rnnkit"

# What each room may import besides itself. The student's side is every module outside
# rnnkit/grading; "base" is rnnkit/grading's own modules (workspace, startup, __init__).
BELOW = {
    "student": set(),
    "base": {"student"},
    "keys": {"student"},
    "intake": {"student", "base"},
    "release": {"student", "base", "keys"},
    "reports": {"student", "base", "keys"},
    "isolation": {"student", "base", "keys"},
    "verify": {"student", "base", "keys", "isolation"},
    "pipeline": {"student", "base", "keys", "isolation", "verify", "reports"},
    "cli": {"student", "base", "keys", "intake", "release", "reports", "pipeline"},
    "bench": {"student", "base", "keys", "release", "cli"},
    "gpu_check": {"student", "base", "keys", "verify"},
}


def _modules():
    """{dotted name: path} of every module and package in rnnkit/."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = _modules()


def _known(name):
    """The module of rnnkit `name` is, or is in (an attribute imported from it), or None."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(name, path):
    """The rnnkit modules `name` imports, read from its source."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            targets = [f"{base}.{a.name}" for a in node.names]
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)):
            targets = [node.args[0].value]
        for target in targets:
            module = _known(target)
            if module and module != name:
                found.add(module)
    return found


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _room(module):
    parts = module.split(".")
    if parts[:2] != ["rnnkit", "grading"]:
        return "student"
    return parts[2] if len(parts) > 2 and parts[2] in BELOW else "base"


def _crossings(graph):
    """{module: [what it imports from a room it may not]} over `graph`."""
    found = {}
    for module, imported in graph.items():
        room = _room(module)
        wrong = sorted(m for m in imported if _room(m) != room and _room(m) not in BELOW[room])
        if wrong:
            found[module] = wrong
    return found


def _circles(graph):
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_walk_sees_the_imports_it_must():
    """The import walk finds imports at the top, inside functions and by importlib."""
    assert "rnnkit.grading.isolation.kernel_jail" in GRAPH["rnnkit.grading.isolation.kernel_pool"]
    assert "rnnkit.grading.isolation.linux" in GRAPH["rnnkit.grading.isolation.kernel_jail"]  # in confine()
    assert "rnnkit.views" in GRAPH["rnnkit.grading.isolation.kernel_pool"]                    # importlib
    assert "rnnkit.grading.keys.catalog" in GRAPH["rnnkit.grading.keys"]


def test_circles_are_found():
    """The circle finder names a circle, whatever its length, and passes a tree."""
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _circles({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []


def test_no_import_circles_in_rnnkit():
    """No module of rnnkit imports, however indirectly, a module that imports it."""
    assert _circles(GRAPH) == []


def test_every_room_is_declared():
    """Each subpackage of rnnkit/grading is a room of the layer table, with a docstring."""
    rooms = {p.parent.name for p in (PACKAGE / "grading").glob("*/__init__.py")}
    assert rooms <= set(BELOW), f"rooms missing from the layer table: {sorted(rooms - set(BELOW))}"
    for room in rooms:
        assert ast.get_docstring(ast.parse((PACKAGE / "grading" / room / "__init__.py").read_text()))


def test_imports_follow_the_layers():
    """A module imports only its own room and the rooms below it (the student's side: no grading)."""
    assert _crossings(GRAPH) == {}


def test_a_crossing_is_found():
    """The rule catches a student module importing the grader and a room importing one above it,
    and lets a room import below it."""
    graph = {"rnnkit.checks": {"rnnkit.grading.keys.catalog"},
             "rnnkit.grading.isolation.kernel_pool": {"rnnkit.grading.pipeline.execute",
                                                      "rnnkit.grading.isolation.linux"},
             "rnnkit.grading.pipeline.execute": {"rnnkit.grading.isolation.kernel_pool",
                                                 "rnnkit.grading.workspace", "rnnkit.checks"}}
    assert _crossings(graph) == {"rnnkit.checks": ["rnnkit.grading.keys.catalog"],
                                 "rnnkit.grading.isolation.kernel_pool": ["rnnkit.grading.pipeline.execute"]}
