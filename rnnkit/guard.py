"""What a graded function may not call: what it is checked against, and the kit's own code.

    watch = Watch(("keras.layers.SimpleRNNCell",), allowed=inputs.values())
    value = watch.wrap(rnn_cell_forward)(x_t, h_prev, Wx, Wh, b)
    watch.calls    # [Call("keras.layers.SimpleRNNCell", "reference")] if it used the layer

While the function runs, Python's profiler hook sees every function it calls, however the function
was imported or named: a call is recognised by the file its code lives in. What counts:

    reference   the layer, op or library the exercise is checked against (Exercise.forbidden):
                keras.layers.SimpleRNN's module for rnn_forward, TF's automatic differentiation
                for rnn_backward, sacrebleu for bleu ...
    kit         the kit's own modules (its checks, references, views, inputs, grader), except what
                a notebook openly uses (rnnkit.runtime, rnnkit.data, rnnkit.plots); the inputs the
                checks pass (a decoder step, an RNN as a function) may be called: the kit's code
                they run is theirs, and what they compute with Keras runs unwatched (unwatched),
                once what they were given is a plain array
    watch       turning the hook off (sys.setprofile, threading.setprofile)
    process     starting a process (its calls could not be seen)

The same watch runs in a student's check and in the grader's verification run, so a student is
told in the notebook what the grader will find.
"""
import functools
import importlib.util
import os
import sys
import threading
from dataclasses import dataclass

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
# Modules a notebook uses openly; a graded function may call them (they answer nothing).
_OPEN = {os.path.join(_PACKAGE_DIR, f) for f in ("__init__.py", "runtime.py", "data.py", "plots.py")}
_ALIASES = {"tf": "tensorflow", "np": "numpy"}


@dataclass(frozen=True)
class Call:
    """Something a graded function called that it may not: `label` names it, `kind` says why."""
    label: str
    kind: str       # "reference", "kit", "watch" or "process"


def describe(name, calls):
    """One sentence per kind of call, e.g. "rnn_forward calls keras.layers.SimpleRNN, what it is
    checked against: implement it by hand."."""
    by_kind = {}
    for c in calls:
        by_kind.setdefault(c.kind, []).append(c.label)
    text = {"reference": "what it is checked against: implement it by hand",
            "kit": "the kit's own code: implement it by hand",
            "watch": "which turns off the grader's watch over what it calls",
            "process": "which starts a process: a graded function computes its answer itself"}
    return " ".join(f"{name} calls {', '.join(labels)}, {text[kind]}."
                    for kind, labels in by_kind.items())


# ----------------------------------------------------------------------------- where code lives
def _module_path(module):
    path = getattr(module, "__file__", None)
    if path is None:
        return None
    if os.path.basename(path) == "__init__.py":
        return os.path.dirname(path) + os.sep          # a package: everything beneath it
    return path


def _origin_without_import(dotted):
    """The file or folder of a module that is not imported yet, found without importing it."""
    parts = dotted.split(".")
    try:
        spec = importlib.util.find_spec(parts[0])
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if not spec.submodule_search_locations:
        return spec.origin
    base = list(spec.submodule_search_locations)[0]
    for part in parts[1:]:                              # as deep as the files go
        if os.path.isdir(os.path.join(base, part)):
            base = os.path.join(base, part)
        elif os.path.isfile(os.path.join(base, part + ".py")):
            return os.path.join(base, part + ".py")
        else:
            break
    return base + os.sep


def where(name):
    """The file (or folder, ending in os.sep) holding the code a dotted name refers to; None if
    it is not installed. "keras.layers.SimpleRNN" -> .../keras/src/layers/rnn/simple_rnn.py."""
    parts = name.split(".")
    top = _ALIASES.get(parts[0], parts[0])
    module = sys.modules.get(top)
    if module is None:
        return _origin_without_import(".".join([top, *parts[1:]]))
    obj = module
    for part in parts[1:]:
        nxt = getattr(obj, part, None)
        if nxt is None:
            sub = sys.modules.get(f"{getattr(obj, '__name__', '')}.{part}")
            if sub is None:
                return _module_path(obj) if isinstance(obj, type(sys)) else None
            nxt = sub
        obj = nxt
    if isinstance(obj, type(sys)):
        return _module_path(obj)
    obj = getattr(obj, "__wrapped__", obj)
    owner = sys.modules.get(getattr(obj, "__module__", "") or "")
    return _module_path(owner) if owner is not None else None


def _places(forbidden):
    """{path: label}: where the code of each forbidden name lives.

    Where a name's code lives is known exactly once its module is imported ("keras.metrics.
    MeanAbsoluteError" -> keras/src/metrics/regression_metrics.py); before, only roughly (the
    package's folder). The answer is kept per set of imported modules, so that a watch made after
    the import does not reuse the rough one."""
    tops = {_ALIASES.get(n.split(".")[0], n.split(".")[0]) for n in forbidden}
    return _places_now(forbidden, frozenset(t for t in tops if t in sys.modules))


@functools.lru_cache(maxsize=128)
def _places_now(forbidden, imported):
    places = {}
    for name in forbidden:
        path = where(name)
        if path:
            key = os.path.realpath(path.rstrip(os.sep)) + (os.sep if path.endswith(os.sep) else "")
            places[key] = f"{places[key]}, {name}" if key in places else name   # one file, several names
    return places


def _kit_label(path):
    rel = os.path.relpath(path, _PACKAGE_DIR)
    return "rnnkit." + rel[:-3].replace(os.sep, ".").removesuffix(".__init__")


class _Classifier:
    """filename -> Call or None, cached: a call's file decides what it is."""

    def __init__(self, forbidden):
        self.places = _places(tuple(forbidden))
        self.folders = [(p, label) for p, label in self.places.items() if p.endswith(os.sep)]
        self.cache = {}

    def __call__(self, filename):
        try:
            return self.cache[filename]
        except KeyError:
            pass
        path = os.path.realpath(filename) if filename and not filename.startswith("<") else ""
        found = None
        if path:
            if path in self.places:
                found = Call(self.places[path], "reference")
            else:
                found = next((Call(label, "reference") for folder, label in self.folders
                              if path.startswith(folder)), None)
            if found is None and path.startswith(_PACKAGE_DIR + os.sep) and path not in _OPEN:
                found = Call(_kit_label(path), "kit")
        self.cache[filename] = found
        return found


# ----------------------------------------------------------------------------- the watch
def _builtins_named(names):
    found = {}
    for dotted in names:
        module_name, _, attr = dotted.rpartition(".")
        module = sys.modules.get(module_name) or (importlib.import_module(module_name)
                                                  if module_name in ("os", "sys", "posix") else None)
        fn = getattr(module, attr, None) if module is not None else None
        if fn is not None:
            found[id(fn)] = dotted
    return found


_TAMPER = ("sys.setprofile",)
_PROCESSES = ("os.fork", "os.forkpty", "os.system", "os.posix_spawn", "os.posix_spawnp", "os.execv",
              "os.execve", "os.execvp", "os.execvpe", "_posixsubprocess.fork_exec")


# The profiler's switches, taken before any student code runs: a notebook that replaces
# sys.setprofile with a function of its own does not switch the watch off.
_SETPROFILE, _GETPROFILE = sys.setprofile, sys.getprofile
_THREAD_SETPROFILE, _THREAD_GETPROFILE = threading.setprofile, threading.getprofile
_THREAD_ID = threading.get_ident
_UNSEEN = object()


class Watch:
    """Records what a function calls that it may not (see the module docstring).

    Args:
        forbidden: the exercise's forbidden names (Exercise.forbidden).
        allowed: objects the function is given and may call (the case's inputs): what runs
            inside their methods is theirs, not the function's.

    The hook looks nothing up on this class or module while it runs: what it needs is bound
    when the watch is made, so a function that rebinds them as it runs cannot blind it.
    """

    def __init__(self, forbidden=(), allowed=()):
        self.calls = []
        allowed = {id(o) for o in allowed if not isinstance(o, (int, float, str, bytes))}
        self._hook = _hook(_Classifier(forbidden), allowed, self.calls)

    def __enter__(self):
        _enter(self)
        return self

    def __exit__(self, *exc):
        _exit(self)

    def wrap(self, fn):
        """`fn`, watched while each call of it runs."""
        enter, leave = _enter, _exit

        @functools.wraps(fn)
        def watched(*args, **kwargs):
            enter(self)
            try:
                return fn(*args, **kwargs)
            finally:
                leave(self)
        return watched


def _hook(classifier, allowed, calls):
    """The profiler hook of one watch, recording into `calls` (see Watch)."""
    classify, seen = classifier.__call__, classifier.cache
    builtins = {**_builtins_named(_PROCESSES), **_builtins_named(_TAMPER)}
    kinds = {id_: ("watch" if name in _TAMPER else "process") for id_, name in builtins.items()}
    inside = {}                 # thread id -> frames of allowed objects' methods, innermost last
    tamper_code, own_codes, switch_codes = _THREAD_SETPROFILE.__code__, _OWN_CODES, _SWITCH_CODES
    thread_id = _THREAD_ID

    def note(call):
        if call not in calls:
            calls.append(call)

    def hook(frame, event, arg):
        # Called for every call and return while the watch is on: the common cases go first.
        if event == "c_call":
            kind = kinds.get(id(arg))
            if kind is not None and frame.f_code not in switch_codes:
                note(Call(builtins[id(arg)], kind))
            return
        if event == "return":
            if inside:
                mine = inside.get(thread_id())
                if mine and mine[-1] is frame:
                    mine.pop()
            return
        if event != "call":
            return
        code = frame.f_code
        if code is tamper_code:
            note(Call("threading.setprofile", "watch"))
            return
        call = seen.get(code.co_filename, _UNSEEN)
        if call is _UNSEEN:
            call = classify(code.co_filename)
        if call is None or code in own_codes:
            return
        if call.kind == "kit":
            if inside and inside.get(thread_id()):       # an allowed input's own code
                return
            if allowed and id(frame.f_locals.get("self")) in allowed:
                inside.setdefault(thread_id(), []).append(frame)     # an input's method
                return
        note(call)
    return hook


# The switches are bound as defaults, when these functions are made: rebinding the module's names
# while a watched function runs changes nothing here.
def _enter(watch, _get=_GETPROFILE, _set=_SETPROFILE, _thread_get=_THREAD_GETPROFILE,
           _thread_set=_THREAD_SETPROFILE):
    watch._saved = _get(), _thread_get()
    _thread_set(watch._hook)
    _set(watch._hook)


def _exit(watch, _get=_GETPROFILE, _set=_SETPROFILE, _thread_set=_THREAD_SETPROFILE):
    current = _get()
    _set(watch._saved[0])
    _thread_set(watch._saved[1])
    tampered = Call("sys.setprofile", "watch")      # it replaced the hook while it ran
    if current is not watch._hook and tampered not in watch.calls:
        watch.calls.append(tampered)


def unwatched(fn, *args, _get=_GETPROFILE, _set=_SETPROFILE):
    """fn(*args) with the watch off: for an input the checks hand over, to compute with Keras
    once its arguments are plain arrays (so that no code of the caller's runs unwatched)."""
    saved = _get()
    _set(None)
    try:
        return fn(*args)
    finally:
        _set(saved)


_EXIT_CODE = _exit.__code__
_OWN_CODES = {_EXIT_CODE, Watch.__exit__.__code__}
_SWITCH_CODES = {_EXIT_CODE, unwatched.__code__}    # where switching the hook is the watch's own


def see_through(code):
    """Let the watch ignore calls of `code` (a wrapper of the checks, such as the spy that counts
    a helper's calls); what it calls is still watched."""
    _OWN_CODES.add(code)
