"""Run untrusted solution code in a sandboxed process; the trusted grader reads plain files back.

    result = run(code, inputs_dir, outputs_dir, Limits(cpu=30))
    arrays = read_arrays(os.path.join(outputs_dir, "out.npz"), {"h": ("float64", (4, 8))})

`code` runs as __main__ in a process forked from a server that imported TensorFlow once (so a run
starts in tens of milliseconds instead of 5-6 s), with outputs_dir as its working directory. The
server is a fresh interpreter started with a filtered environment, not a fork of the grader, so
the grader's memory (database URLs, other students' work) is not in the sandbox's address space.

Protected, each named in Result.protections only when it took effect (Result.missing says why not):
    rlimits     CPU seconds (all threads together), data memory (RLIMIT_DATA), processes and
                threads (RLIMIT_NPROC, see uid), file size, open files, no core dumps
    wall        the supervisor kills the run after Limits.wall seconds
    output      more than Limits.output bytes on stdout+stderr kills the run; Result keeps tails
    netns       a new network namespace: no interface but a downed loopback
    pidns       a new PID namespace whose init is the code: when it ends, the kernel kills
                everything it started (setsid cannot escape)
    userns      (grader not root) the two namespaces above are made in a user namespace mapping
                only the grader's uid; the run gives up the capabilities it holds there.
                RLIMIT_NPROC then counts the run's processes only (it is counted per user
                namespace), not the grader's own
    landlock    reads only Python, its site-packages, the student's side of rnnkit (not
                rnnkit/grading: the answer keys and the grader; what the run needs of it is
                preloaded), the data cache, inputs_dir and system libraries; writes only
                outputs_dir and a scratch dir removed afterwards;
                no TCP bind or connect; no signals or abstract sockets beyond the sandbox;
                ptrace only within it
    uid N       (grader running as root) a uid of its own per run with no capabilities, so
                RLIMIT_NPROC applies (root is exempt) and it can chmod nothing of root's; it
                keeps CAP_DAC_READ_SEARCH only under Landlock, so Landlock rather than /root's
                mode decides what Python can import
    no_new_privs  no setuid binaries, no capabilities gained by exec
    seccomp     no AF_UNIX sockets (Landlock does not govern connect() by path; PostgreSQL's
                socket is mode 777), no io_uring; socketpair() still works
Not protected: disk use beyond Limits.file_size per file (many files can fill outputs_dir);
UDP is left to netns, not Landlock; /proc and /sys are readable (other
processes' command lines, not their environment, memory or files); GPU device files are opened
read-write when present; preloaded modules, and whatever they hold, are in the run's memory; the
run's reports (Result.error) come from inside it and are informative only: verdicts come from the
files in outputs_dir. Without Landlock (old kernel, LSM off) nothing restricts reads but file
modes, and solutions/ is world-readable.

Side effects a caller sees: outputs_dir is chowned to the run's uid for the run and back after,
the files the code wrote there stay owned by that uid; HOME and TMPDIR point at the scratch dir;
there is no /dev/shm (multiprocessing locks and joblib's parallel mode fail: it shares memory
with other processes, PostgreSQL's among them); the code is PID 1 of its namespace, so a signal
it sends itself without a handler installed is ignored.
"""
import dataclasses
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from rnnkit.grading.isolation import linux
from rnnkit.grading.isolation.processes import await_ready, die_with_parent, reap_children, stop_process
from rnnkit.grading.isolation.processes import preload as preload_modules

DEFAULT_PRELOAD = ("numpy", "tensorflow", "keras", "rnnkit.runtime")
# The environment a run sees: named variables only, so RNNKIT_DB_URL, PGPASSWORD and the like
# stay with the grader.
_ENV_KEEP = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "LD_LIBRARY_PATH", "PYTHONHASHSEED",
             "RNNKIT_DATA", "RNNKIT_FAST", "NBGRADER_EXECUTION")
_ENV_PREFIXES = ("TF_", "KERAS_", "CUDA_", "NVIDIA_", "XLA_", "OMP_", "MKL_")
_UID_BASE = 1_500_000_000       # run uids: base + supervisor pid; no account uses this range


@dataclasses.dataclass(frozen=True)
class Limits:
    """Resource limits of one run; sizes in bytes, times in seconds."""
    cpu: float = 60                 # CPU time of the run's process, all threads summed
    wall: float = 120               # real time, enforced from outside
    # RLIMIT_DATA, not RLIMIT_AS: TensorFlow maps ~1.2 GB of address space on import and every
    # thread adds glibc arenas, and CUDA reserves tens of GB; DATA counts private writable memory
    # (heap, anonymous mmaps, thread stacks): ~0.55 GB for TensorFlow plus a small Keras fit.
    memory: int = 4 << 30
    address_space: int = None       # RLIMIT_AS if set (breaks CUDA; for CPU-only graders)
    processes: int = 512            # RLIMIT_NPROC counts threads too: TF starts ~2 per core
    file_size: int = 1 << 30
    open_files: int = 256
    output: int = 4 << 20           # stdout and stderr together
    tail: int = 8192                # bytes of each kept in the Result


@dataclasses.dataclass
class Result:
    """What happened to one run. exit_status follows subprocess: -N means signal N."""
    exit_status: int
    killed: bool                    # ended by a signal
    reason: str = None              # the limit that ended it: cpu, wall, memory, output, file size
    error: str = ""                 # the uncaught exception, as reported from inside the sandbox
    stdout: str = ""                # tails, at most Limits.tail bytes each
    stderr: str = ""
    output_bytes: int = 0           # all that was written to stdout and stderr
    wall: float = 0.0
    protections: list = dataclasses.field(default_factory=list)
    missing: list = dataclasses.field(default_factory=list)    # "netns: why", ...

    @property
    def ok(self):
        return self.exit_status == 0 and not self.reason


def read_arrays(path, expected):
    """Load an .npz without pickles and check it: `expected` maps name -> (dtype, shape or None).

    A dtype of None accepts any boolean, integer or floating dtype (what a function may return).

    Returns {name: array} for the expected names (extra arrays are ignored). Raises ValueError
    naming the first missing array or the one with an object dtype, wrong dtype or wrong shape.
    """
    import numpy as np
    with np.load(path, allow_pickle=False) as npz:
        names = set(npz.files)
        out = {}
        for name, (dtype, shape) in expected.items():
            if name not in names:
                raise ValueError(f"{os.path.basename(path)}: array {name!r} is missing")
            try:
                arr = npz[name]
            except ValueError as exc:     # object arrays need pickle: refused by allow_pickle
                raise ValueError(f"{os.path.basename(path)}: array {name!r} cannot be loaded "
                                 f"without pickle ({exc})") from None
            if dtype is None:
                if arr.dtype.kind not in "biuf":
                    raise ValueError(f"{os.path.basename(path)}: array {name!r} has dtype {arr.dtype}, "
                                     "expected numbers")
            elif arr.dtype != np.dtype(dtype):
                raise ValueError(f"{os.path.basename(path)}: array {name!r} has dtype {arr.dtype}, "
                                 f"expected {np.dtype(dtype)}")
            if shape is not None and tuple(arr.shape) != tuple(shape):
                raise ValueError(f"{os.path.basename(path)}: array {name!r} has shape "
                                 f"{tuple(arr.shape)}, expected {tuple(shape)}")
            out[name] = arr
    return out


# ---------------------------------------------------------------------------------------------
# The grader's side
# ---------------------------------------------------------------------------------------------

def _filtered_env():
    """The grader's environment, named variables only (_ENV_KEEP, _ENV_PREFIXES)."""
    return {k: v for k, v in os.environ.items() if k in _ENV_KEEP or k.startswith(_ENV_PREFIXES)}


def _server_env():
    env = _filtered_env()
    env.setdefault("PATH", "/usr/bin:/bin")
    return env


class Sandbox:
    """A server that preloaded `preload` and forks one supervised, sandboxed run per request.

    Thread-safe: runs from several threads proceed in parallel, each in its own processes.
    """

    def __init__(self, preload=DEFAULT_PRELOAD, timeout=120, wait=True, env=None):
        """Start the server (with `env` added to its filtered environment); wait=False returns
        at once: runs asked for meanwhile wait in the control socket until it is ready."""
        self.preload = tuple(preload)
        self.timeout = timeout
        self._lock = threading.Lock()
        self._ctl, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        # -P: no cwd on sys.path, so a repository root is not importable (nor allowed) by accident.
        self.proc = subprocess.Popen(
            [sys.executable, "-P", "-m", "rnnkit.grading.isolation.solution_sandbox", "serve", str(theirs.fileno()),
             json.dumps(self.preload)],
            pass_fds=[theirs.fileno()], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=dict(_server_env(), **(env or {})), cwd="/", text=True)
        theirs.close()
        self.ready = False
        if wait:
            self.wait()

    def wait(self):
        """Block until the server has preloaded (it prints "ready")."""
        if not self.ready:
            await_ready(self, "sandbox server")

    @property
    def control(self):
        """The control socket: hand it to other processes (multiprocessing passes sockets) and
        they run in this server too (see adopt)."""
        return self._ctl

    def run(self, code, inputs_dir, outputs_dir, limits=None, readable=()):
        """Run `code` sandboxed; see the module docstring. Returns a Result."""
        limits = limits or Limits()
        request = {"code": code, "inputs_dir": os.path.realpath(inputs_dir),
                   "outputs_dir": os.path.realpath(outputs_dir),
                   "limits": dataclasses.asdict(limits),
                   "readable": [os.path.realpath(p) for p in readable]}
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            with self._lock:
                socket.send_fds(self._ctl, [b"r"], [theirs.fileno()])
            theirs.close()
            mine.sendall(json.dumps(request).encode())
            mine.shutdown(socket.SHUT_WR)
            mine.settimeout(limits.wall + 60)       # the supervisor enforces wall; this is a backstop
            data = b""
            while True:
                chunk = mine.recv(1 << 16)
                if not chunk:
                    break
                data += chunk
        finally:
            mine.close()
        if not data:
            raise RuntimeError("the sandbox supervisor ended without a result")
        return Result(**json.loads(data))

    def close(self):
        self._ctl.close()
        stop_process(self.proc)
        if self.proc.stdout:
            self.proc.stdout.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


_shared = {}
_shared_lock = threading.Lock()


class _Adopted(Sandbox):
    """A server another process started, reached through its control socket."""

    def __init__(self, control, preload):
        self.preload, self._ctl, self._lock = tuple(preload), control, threading.Lock()
        self.proc = None

    def close(self):
        self._ctl.close()


def adopt(control, preload=DEFAULT_PRELOAD):
    """Run this process's sandboxed code for `preload` in the server whose control socket
    (Sandbox.control) this is: several worker processes then share one server."""
    with _shared_lock:
        _shared[tuple(preload)] = _Adopted(control, preload)


def shared(preload=DEFAULT_PRELOAD):
    """The server shared in this process for `preload`, started now if none runs."""
    key = tuple(preload)
    with _shared_lock:
        box = _shared.get(key)
        if box is None or (box.proc is not None and box.proc.poll() is not None):
            box = _shared[key] = Sandbox(key)
            if len(_shared) == 1:
                import atexit
                atexit.register(close_all)
    return box


def run(code, inputs_dir, outputs_dir, limits=None, preload=DEFAULT_PRELOAD, readable=()):
    """Run `code` in a sandbox from a server shared per `preload` (started on first use)."""
    return shared(preload).run(code, inputs_dir, outputs_dir, limits, readable)


def close_all():
    with _shared_lock:
        for box in _shared.values():
            box.close()
        _shared.clear()


# ---------------------------------------------------------------------------------------------
# The server, the supervisor (one per run) and the sandboxed child
# ---------------------------------------------------------------------------------------------

def serve(ctl_fd, preload):
    """Preload, then fork a supervisor per request on the control socket until it closes."""
    die_with_parent(signal.SIGKILL)
    preload_modules(preload, backend="Agg")
    ctl = socket.socket(fileno=ctl_fd)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)   # supervisors are reaped by the kernel
    print("ready", flush=True)
    while True:
        try:
            msg, fds, _, _ = socket.recv_fds(ctl, 16, 1)
        except InterruptedError:
            continue
        if not msg:
            os._exit(0)
        if len(fds) != 1:
            for fd in fds:
                os.close(fd)
            continue
        if os.fork() == 0:
            code = 1
            try:
                ctl.close()
                code = _supervise(fds[0])
            finally:
                os._exit(code)
        os.close(fds[0])


def _read_request(sock):
    data = b""
    while True:
        chunk = sock.recv(1 << 16)
        if not chunk:
            return json.loads(data)
        data += chunk


def _supervise(reply_fd):
    """Set up namespaces, start the child, watch its time and output, send back the Result."""
    die_with_parent(signal.SIGKILL)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    reply = socket.socket(fileno=reply_fd)
    request = _read_request(reply)
    os.closerange(3, reply_fd)
    os.closerange(reply_fd + 1, 1 << 16)
    limits = Limits(**request["limits"])
    protections, missing = [], []
    started = time.monotonic()
    scratch = tempfile.mkdtemp(prefix="rnnkit-sandbox-")
    root = os.geteuid() == 0
    uid = _UID_BASE + os.getpid() if root else None
    out_stat = os.stat(request["outputs_dir"])
    try:
        # Everything that might start a thread comes first: after unshare(CLONE_NEWPID) this
        # process can fork its namespace's init but no longer create threads.
        try:
            rules = linux.read_rules(request["inputs_dir"], request["readable"]) + linux.dev_rules()
            rules += [(request["outputs_dir"], -1), (scratch, -1)]
            ruleset = linux.landlock_ruleset(rules)
        except OSError as exc:
            ruleset = None
            missing.append(f"landlock: {exc.strerror or exc}")
        # Without a PID namespace, orphans of the run reparent here, where they can be killed.
        linux.prctl(linux.PR_SET_CHILD_SUBREAPER, 1)
        userns = False
        try:       # unprivileged: in a user namespace, which grants the right to make the others
            userns = linux.unshare_namespaces(linux.CLONE_NEWNET | linux.CLONE_NEWPID)
            protections += ["userns"] * userns + ["netns", "pidns"]
        except OSError as exc:
            missing += [f"netns: {exc.strerror}", f"pidns: {exc.strerror}"]
        if root:
            for path in (request["outputs_dir"], scratch):
                os.chown(path, uid, uid)
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        st_r, st_w = os.pipe()
        null = os.open("/dev/null", os.O_RDWR)
        pid = os.fork()
        if pid == 0:
            _child(request, limits, scratch, uid, userns, ruleset, (null, out_w, err_w, st_w))
        for fd in (out_w, err_w, st_w, null):
            os.close(fd)
        if ruleset is not None:
            os.close(ruleset[0])
        result = _watch(pid, limits, out_r, err_r, st_r, started)
        child_report = result.pop("_report")
        if child_report.get("setup_error"):
            missing.append(child_report["setup_error"])
        missing += child_report.get("missing", [])
        protections += child_report.get("protections", [])
        result.update(protections=protections, missing=missing)
        reply.sendall(json.dumps(result).encode())
        return 0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if root:
            try:
                os.chown(request["outputs_dir"], out_stat.st_uid, out_stat.st_gid)
            except OSError:
                pass
        reply.close()


def _kill_all(pid):
    """Kill the run's process group and any orphans of it that reparented to this supervisor."""
    for kill in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            kill()
        except (ProcessLookupError, PermissionError):
            pass
    me = str(os.getpid())
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = f.read().rsplit(")", 1)[1].split()[1]
                if ppid == me:
                    os.kill(int(entry), signal.SIGKILL)
            except (OSError, IndexError):
                pass


def _watch(pid, limits, out_r, err_r, st_r, started):
    """Collect output tails until the child ends, enforcing the wall clock and the output cap."""
    deadline = started + limits.wall
    tails = {out_r: bytearray(), err_r: bytearray()}
    report = bytearray()
    total = 0
    reason = status = rusage = drain_until = None
    open_fds = [out_r, err_r, st_r]
    pidfd = os.pidfd_open(pid)
    while True:
        now = time.monotonic()
        if status is None:
            if now >= deadline and reason is None:
                reason = "wall"
                _kill_all(pid)
            wait, timeout = open_fds + [pidfd], (deadline - now if reason is None else 0.1)
        else:
            if not open_fds or now >= drain_until:
                break
            wait, timeout = open_fds, drain_until - now
        for fd in select.select(wait, [], [], max(0.0, min(timeout, 1.0)))[0]:
            if fd == pidfd:
                _, status, rusage = os.wait4(pid, 0)
                _kill_all(pid)                     # what it left behind goes with it
                drain_until = time.monotonic() + 2.0
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                open_fds.remove(fd)
                os.close(fd)
            elif fd == st_r:
                report += chunk[:8192 - len(report)]
            else:
                total += len(chunk)
                tails[fd] += chunk
                del tails[fd][:-limits.tail]
                if total > limits.output and reason is None:
                    reason = "output"
                    _kill_all(pid)
    os.close(pidfd)
    for fd in open_fds:
        os.close(fd)
    reap_children()                                # killed orphans (no PID namespace)
    # The first line is the set-up report, written before the code ran; the code can write to
    # the channel too, so only the first line may name protections, and errors are informative.
    lines = report.decode(errors="replace").splitlines()
    first, last = (_json_or_empty(lines[0]), _json_or_empty(lines[-1])) if lines else ({}, {})
    first.pop("error", None)
    error = str(last.get("error", "")) if len(lines) > 1 else ""
    exit_status = os.waitstatus_to_exitcode(status)
    killed = exit_status < 0
    stderr = tails[err_r].decode(errors="replace")
    if reason is None:
        cpu = rusage.ru_utime + rusage.ru_stime
        if exit_status == -signal.SIGXCPU or (exit_status == -signal.SIGKILL and cpu >= limits.cpu):
            reason = "cpu"
        elif error.startswith("MemoryError") or (killed and "bad_alloc" in stderr):
            reason = "memory"
        elif "[Errno 27]" in error:                # EFBIG: RLIMIT_FSIZE
            reason = "file size"
    return {"exit_status": exit_status, "killed": killed, "reason": reason, "error": error[:300],
            "stdout": tails[out_r].decode(errors="replace"), "stderr": stderr,
            "output_bytes": total, "wall": round(time.monotonic() - started, 3), "_report": first}


def _json_or_empty(line):
    try:
        value = json.loads(line)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _child(request, limits, scratch, uid, userns, ruleset, fds):
    """In the forked child: confine this process, then execute the code as __main__.

    `uid`: the run's own uid (the grader is root) or None; `userns`: whether the supervisor made a
    user namespace, in which this process holds every capability until it drops them.
    """
    status_fd = 3
    try:
        import fcntl
        # stdin, stdout, stderr, the status channel (3) and the ruleset (4) to their numbers,
        # through high ones so that none overwrites another; everything else is closed.
        wanted = [*fds] + ([ruleset[0]] if ruleset is not None else [])
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 1000) for fd in wanted]
        for target, fd in enumerate(high):
            os.dup2(fd, target, inheritable=target < 3)
        os.closerange(len(high), 1 << 16)
        ruleset_fd = 4 if ruleset is not None else None
        sys.stdout = open(1, "w", closefd=False, buffering=1, errors="backslashreplace")
        sys.stderr = open(2, "w", closefd=False, buffering=1, errors="backslashreplace")
        sys.stdin = open(0, "r", closefd=False)
        die_with_parent(signal.SIGKILL)
        os.setsid()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        protections, missing = [], []
        os.chdir(request["outputs_dir"])
        env = _filtered_env()
        env.update(HOME=scratch, TMPDIR=scratch, MPLCONFIGDIR=scratch, MPLBACKEND="Agg",
                   PYTHONDONTWRITEBYTECODE="1")
        os.environ.clear()
        os.environ.update(env)
        tempfile.tempdir = None
        sys.dont_write_bytecode = True
        import resource
        cpu = max(1, int(limits.cpu + 0.999))
        rl = [(resource.RLIMIT_CPU, cpu, cpu + 1), (resource.RLIMIT_DATA, limits.memory, None),
              (resource.RLIMIT_NPROC, limits.processes, None),
              (resource.RLIMIT_FSIZE, limits.file_size, None),
              (resource.RLIMIT_NOFILE, limits.open_files, None), (resource.RLIMIT_CORE, 0, None)]
        if limits.address_space:
            rl.append((resource.RLIMIT_AS, limits.address_space, None))
        linux.set_rlimits(rl)
        protections.append("rlimits")
        linux.prctl(linux.PR_SET_NO_NEW_PRIVS, 1)
        if uid is not None:
            # Under Landlock, reading stays Landlock's call (Python lives in /root, mode 700).
            linux.drop_to(uid, 1 << linux.CAP_DAC_READ_SEARCH if ruleset is not None else 0)
            protections.append(f"uid {uid}")
        elif userns:        # CAP_NET_ADMIN, CAP_SYS_ADMIN... over its own namespaces: not needed
            linux.drop_capabilities()
        protections.append("no_new_privs")
        try:
            linux.seccomp_no_unix_sockets()
            protections.append("seccomp")
        except (KeyError, OSError) as exc:
            missing.append(f"seccomp: {exc!r}")
        if ruleset is not None:
            linux.landlock_enforce(ruleset_fd)
            protections.append(f"landlock abi {ruleset[1]}")
        linux.prctl(linux.PR_SET_DUMPABLE, 0)   # no /proc/pid/mem or ptrace of it from outside the run
        os.write(status_fd, (json.dumps({"protections": protections, "missing": missing})
                             + "\n").encode())
    except BaseException as exc:
        try:
            os.write(status_fd, (json.dumps({"setup_error": f"setup: {exc!r}"}) + "\n").encode())
        finally:
            os._exit(125)
    # A fresh process would not share the server's random state.
    import random
    random.seed()
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()
    code = 0
    try:
        import linecache    # tracebacks show the code's lines
        source = request["code"]
        linecache.cache["<solution>"] = (len(source), None, source.splitlines(True), "<solution>")
        import types
        main = types.ModuleType("__main__")        # a fresh __main__, for pickle and friends
        sys.modules["__main__"] = main
        sys.argv = ["<solution>"]
        exec(compile(source, "<solution>", "exec"), main.__dict__)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if not isinstance(exc.code, int) and exc.code is not None:
            print(exc.code, file=sys.stderr)
    except BaseException as exc:
        code = 1
        try:
            import traceback     # from the code's first frame: this function is noise
            traceback.print_exception(type(exc), exc, exc.__traceback__.tb_next)
            os.write(status_fd, (json.dumps({"error": f"{type(exc).__name__}: {exc}"[:300]})
                                 + "\n").encode())
        except BaseException:
            pass
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        pass
    os._exit(code & 0xFF)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "serve":
        serve(int(sys.argv[2]), json.loads(sys.argv[3]))
    else:
        sys.exit("usage: python -m rnnkit.grading.isolation.solution_sandbox serve CONTROL_FD PRELOAD_JSON")
