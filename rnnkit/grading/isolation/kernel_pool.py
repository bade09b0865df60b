"""Warm kernels for grading: fork a fresh IPython kernel from a process that imported TensorFlow once.

A cold kernel pays its start-up and `import tensorflow` (4-6 s of CPU) before the first cell of
every notebook it grades. The zygote pays them once: it imports TensorFlow, Keras, matplotlib,
ipykernel and rnnkit, runs no TensorFlow op (so no thread pool exists yet), and then forks one
child per kernel asked for. Each child is a new process with its own copy of memory, so nothing
one submission does reaches another; it becomes an ordinary ipykernel on the connection file it
was given, with the requester's stdin/stdout/stderr, working directory and environment, confined
first when that environment names a kernel jail (kernel_jail.py; then whatever is left in the
kernel's PID namespace, and as root whatever runs as the kernel's uid, is killed when it ends).

Asked to prepare notebooks, the zygote also has a first child compute the Keras references of
those notebooks' hidden cases, drawn for the batch's seed (checks.prepare), and keeps them: the
kernels forked after they arrive check against them instead of each computing them again (about
0.5 s per notebook). The visible cases' references are stored in the views.

Pieces:
    Zygote(path)              start the server process; .env() names its socket, for the
                              environment a kernel starts with
    ForkKernelManager         a jupyter_client kernel manager whose kernels come from the zygote
    python -m rnnkit.grading.isolation.kernel_pool launch -f CONNECTION_FILE [kernel args]
                              the tiny process jupyter_client starts and watches: it asks the
                              zygote for a kernel, forwards signals to it and exits with its status
    python -m rnnkit.grading.isolation.kernel_pool serve SOCKET [--seed S] [NOTEBOOK ...]
                              the server itself

Without RNNKIT_ZYGOTE in a kernel's environment (or on a system without fork), ForkKernelManager
starts ordinary kernels, so grading works everywhere and is only faster where the zygote runs.
"""
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys

from rnnkit.grading.isolation import kernel_jail
from rnnkit.grading.isolation.processes import await_ready, die_with_parent, preload, stop_process

ENV = "RNNKIT_ZYGOTE"           # path of the zygote's Unix socket
_COLD_JAIL = ["-m", "rnnkit.grading.isolation.kernel_jail"]  # a cold kernel: python + this + ...
_PRELOAD = ("tensorflow", "keras", "numpy", "matplotlib", "matplotlib.pyplot", "IPython",
            "ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.debugger", "sqlite3",
            "matplotlib_inline.backend_inline",
            "rnnkit.runtime", "rnnkit.checks", "rnnkit.data", "rnnkit.plots", "rnnkit.reference",
            "rnnkit.grading.keys")


def _send(conn, obj, fds=()):
    data = json.dumps(obj).encode()
    payload = struct.pack("!I", len(data)) + data
    if fds:
        socket.send_fds(conn, [payload], list(fds))
    else:
        conn.sendall(payload)


def _recv(conn, with_fds=False):
    """One length-prefixed JSON message (and the file descriptors sent with it)."""
    fds = []
    if with_fds:
        head, fds, _, _ = socket.recv_fds(conn, 4, 3)
    else:
        head = conn.recv(4)
    while 0 < len(head) < 4:
        more = conn.recv(4 - len(head))
        if not more:
            break
        head += more
    if len(head) < 4:
        return None, fds
    (size,) = struct.unpack("!I", head)
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            return None, fds
        data += chunk
    return json.loads(data), fds


# ---------------------------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------------------------

def _preload():
    # Same backend a kernel would pick.
    preload(_PRELOAD, backend="module://matplotlib_inline.backend_inline")
    import importlib
    importlib.import_module("rnnkit.views").names()             # read once for every kernel
    importlib.import_module("rnnkit.registry").answer_keys()    # the hidden tests' entry point


def _start_preparing(notebooks, seed=None):
    """Fork a child that writes checks.prepare(...) of the notebooks' exercises, their hidden cases
    drawn for `seed`, to a pipe; return (its pid, read end).

    The TensorFlow ops run in the child, so this process still has run none when it forks kernels.
    """
    read, write = os.pipe()
    pid = os.fork()
    if pid != 0:
        os.close(write)
        return pid, read
    code = 1
    try:
        os.close(read)
        die_with_parent()
        devnull = os.open(os.devnull, os.O_WRONLY)  # stdout is where the zygote says "ready"
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        from rnnkit import checks
        from rnnkit.grading import keys
        blob = checks.prepare([e for notebook in notebooks for e in keys.drawn(notebook, seed)])
        with os.fdopen(write, "wb") as out:
            out.write(blob)
        code = 0
    finally:
        os._exit(code)


def _adopt_prepared(pid, blob):
    """Reap the preparing child; take its references if they arrived whole (return them, or None)."""
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:       # reaped already, with the kernels
        pass
    blob = bytes(blob)
    try:
        from rnnkit import checks
        checks.adopt(blob)
        return blob
    except Exception:               # kernels compute their own references, as they would anyway
        return None


def fetch_prepared(path):
    """Adopt the check references the zygote listening at `path` prepared; False if it has none
    (yet) or `path` is None. For the grader's own checks in a worker process (verifier.py)."""
    import base64
    if not path or not os.path.exists(path):
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(10)
            conn.connect(path)
            _send(conn, {"want": "references"})
            reply, _ = _recv(conn)
        if not reply or not reply.get("references"):
            return False
        from rnnkit import checks
        checks.adopt(base64.b64decode(reply["references"]))
        return True
    except Exception:               # the grader computes its own references, as it would anyway
        return False


def _become_kernel(request, fds, listener, conns):
    """In the forked child: take the requester's stdio, directory and environment; run ipykernel."""
    try:
        listener.close()
        for c in conns:
            c.close()
        for target, fd in zip((0, 1, 2), fds):
            os.dup2(fd, target)
            os.close(fd)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        die_with_parent()
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        # Still one thread here: confine now, before ipykernel starts any (see kernel_jail.py).
        kernel_jail.say_missing(kernel_jail.confine(request["argv"])[1])
        # A fresh process would start from fresh entropy, not the zygote's generator state.
        import random
        import numpy as np
        random.seed()
        np.random.seed()
        sys.argv = ["ipykernel_launcher", *request["argv"]]
        # ipykernel reads JPY_PARENT_PID when its module is imported, which was in the zygote.
        kernel_jail.start_kernel(request["argv"], int(os.environ.get("JPY_PARENT_PID") or 0))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    except BaseException:
        import traceback
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def serve(path, prepare=(), seed=None):
    """Preload, then fork a kernel per request on the Unix socket `path` until terminated.

    `prepare`: notebooks whose check references are computed at once (by a child) and kept, for
    their hidden cases drawn for `seed` (the grading batch's).
    """
    import base64
    die_with_parent(signal.SIGTERM)
    _preload()
    preparing, prepared = (_start_preparing(prepare, seed) if prepare else None), bytearray()
    references = None                               # what fetch_prepared() is sent, once there
    if os.path.exists(path):
        os.unlink(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    os.chmod(path, 0o600)
    listener.listen(64)
    children = {}                                   # pid -> launcher connection
    jailed = {}                                     # pid -> the uid its kernel runs as

    def stop(*_):
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for uid in jailed.values():
            kernel_jail.kill_uid(uid)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    # A kernel that ends wakes the loop at once (its launcher hears of it, and jupyter_client
    # sees the kernel gone, without waiting out the select's timeout): SIGCHLD writes to a pipe.
    woken, wake = os.pipe()
    os.set_blocking(woken, False)
    os.set_blocking(wake, False)
    signal.set_wakeup_fd(wake)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    print("ready", flush=True)
    while True:
        waiting = [preparing[1]] if preparing else []
        readable, _, _ = select.select([listener, woken, *children.values(), *waiting], [], [], 0.1)
        for r in readable:
            if r == woken:
                os.read(woken, 4096)                # one byte a signal; what is left wakes us again
            elif preparing and r == preparing[1]:
                chunk = os.read(r, 1 << 20)
                prepared += chunk
                if not chunk:
                    os.close(r)
                    references = _adopt_prepared(preparing[0], prepared)
                    preparing, prepared = None, bytearray()
            elif r is listener:
                conn, _ = listener.accept()
                request, fds = _recv(conn, with_fds=True)
                if request and request.get("want") == "references" and not fds:
                    _send(conn, {"references": references and base64.b64encode(references).decode()})
                    conn.close()
                    continue
                if request is None or len(fds) != 3:
                    for fd in fds:
                        os.close(fd)
                    conn.close()
                    continue
                pid = os.fork()
                if pid == 0:
                    signal.set_wakeup_fd(-1)        # the kernel has no business with these pipes
                    os.close(woken)
                    os.close(wake)
                    if preparing:
                        os.close(preparing[1])
                    _become_kernel(request, fds, listener, [*children.values(), conn])
                for fd in fds:
                    os.close(fd)
                _send(conn, {"pid": pid})
                children[pid] = conn
                if kernel_jail.ENV in request.get("env", {}) and os.geteuid() == 0:
                    jailed[pid] = kernel_jail.kernel_uid(pid)
            else:                                   # the launcher went away: so does its kernel
                pid = next(p for p, c in children.items() if c is r)
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            conn = children.pop(pid, None)
            if pid in jailed:                       # what the kernel started goes with it
                kernel_jail.kill_uid(jailed.pop(pid))
            if conn is not None:
                try:
                    _send(conn, {"exit": os.waitstatus_to_exitcode(status)})
                except OSError:
                    pass
                conn.close()


class Zygote:
    """The zygote server as a child of this process; stops with it.

    Example:
        >>> with Zygote("/tmp/grader.sock") as z:       # doctest: +SKIP
        ...     km.start_kernel(env={**os.environ, **z.env()})   # a kernel forked by the zygote
    """

    def __init__(self, path, timeout=120, wait=True, prepare=(), seed=None, env=None):
        """Start the server; with wait=False return at once and call wait() before the first kernel.

        prepare: notebooks whose check references the server computes once for all its kernels
        (their hidden cases drawn for `seed`, the grading batch's).
        env: the environment the server starts with (default: this process's); each kernel then
        takes the environment its launcher was started with.
        """
        self.path = path
        self.timeout = timeout
        self.ready = False
        command = [sys.executable, "-m", "rnnkit.grading.isolation.kernel_pool", "serve", path,
                   *(["--seed", str(seed)] if seed is not None else []), *prepare]
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                     env=env)
        if wait:
            self.wait()

    def wait(self):
        """Block until the server has preloaded and listens (it prints "ready")."""
        if not self.ready:
            await_ready(self, "grading zygote")

    def env(self):
        return {ENV: self.path}

    def close(self):
        stop_process(self.proc)
        if os.path.exists(self.path):
            os.unlink(self.path)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---------------------------------------------------------------------------------------------
# The launcher and the kernel manager
# ---------------------------------------------------------------------------------------------

def launch(argv):
    """Ask the zygote for a kernel with `argv` (``-f CONNECTION_FILE ...``); wait for it to end."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(os.environ[ENV])
    _send(conn, {"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ)}, fds=(0, 1, 2))
    reply, _ = _recv(conn)
    if not reply or "pid" not in reply:
        return 1
    pid = reply["pid"]

    def forward(sig, _frame):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(sig, forward)
    while True:
        try:
            reply, _ = _recv(conn)
            break
        except InterruptedError:
            continue
    return int(reply["exit"]) if reply and "exit" in reply else 1


def _ready_client_class():
    """ReadyKernelClient, made once (it needs jupyter_client, which the launcher must not import)."""
    if "ReadyKernelClient" in globals():
        return globals()["ReadyKernelClient"]
    import time
    from queue import Empty
    from jupyter_client.asynchronous import AsyncKernelClient

    class ReadyKernelClient(AsyncKernelClient):
        """An AsyncKernelClient that is ready as soon as the kernel is: 0.2 s sooner per kernel.

        jupyter_client's wait_for_ready is kept but for its last step, a wait for 0.2 s of
        silence on IOPub: idle time that every graded notebook paid. It drained start-up
        messages, which nbclient ignores anyway (their parent is no cell's request). Ready, as
        there, means a kernel_info reply on shell and then any message on IOPub, which proves
        IOPub connected (ipykernel greets each subscriber with iopub_welcome).
        """

        async def wait_for_ready(self, timeout=None):
            deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
            while True:
                self.kernel_info()
                try:
                    reply = await self.shell_channel.get_msg(timeout=1)
                except Empty:
                    reply = None
                if reply is not None and reply["msg_type"] == "kernel_info_reply":
                    try:
                        await self.iopub_channel.get_msg(timeout=0.2)
                    except Empty:
                        pass
                    else:
                        self._handle_kernel_info_reply(reply)
                        return
                if not await self._async_is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")

    globals()["ReadyKernelClient"] = ReadyKernelClient
    return ReadyKernelClient


def _kernel_manager_class():
    from jupyter_client.manager import AsyncKernelManager

    class ForkKernelManager(AsyncKernelManager):
        """AsyncKernelManager whose Python kernels are forked by the zygote named in RNNKIT_ZYGOTE.

        A cold kernel that confined itself to a uid of its own (kernel_jail.py, as root) has what is
        left of that uid killed once it has ended, as the zygote does for the kernels it forks:
        a cell may leave processes behind that outlive the last post-cell cleanup (the kernel
        died in the cell, or they were started afterwards).
        """
        _cold_jail_pid = None

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.client_factory = _ready_client_class()

        async def _async_finish_shutdown(self, waittime=None, pollinterval=0.01, restart=False):
            # A kernel exits a few milliseconds after its shutdown reply: look every 10 ms
            # whether it has, not every 100 ms (jupyter_client's default).
            await super()._async_finish_shutdown(waittime, pollinterval, restart)

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            await super()._async_launch_kernel(kernel_cmd, **kw)
            if kernel_cmd[1:3] == _COLD_JAIL:
                self._cold_jail_pid = self.provisioner.pid

        async def _async_cleanup_resources(self, restart=False):
            await super()._async_cleanup_resources(restart=restart)
            pid, self._cold_jail_pid = self._cold_jail_pid, None
            if pid and os.geteuid() == 0:
                kernel_jail.kill_uid(kernel_jail.kernel_uid(pid))

        cleanup_resources = _async_cleanup_resources    # the base class binds its own by name

        async def _async_pre_start_kernel(self, **kw):
            self._start_env = kw.get("env", os.environ)     # the environment the kernel starts with
            return await super()._async_pre_start_kernel(**kw)

        def format_kernel_cmd(self, extra_arguments=None):
            cmd = super().format_kernel_cmd(extra_arguments)
            env = getattr(self, "_start_env", os.environ)
            path = env.get(ENV)
            if "-f" not in cmd or "ipykernel_launcher" not in cmd:
                return cmd
            if not path or not os.path.exists(path):
                if kernel_jail.ENV in env:          # a cold kernel confines itself (kernel_jail.py)
                    return [sys.executable, *_COLD_JAIL, "-m", "ipykernel_launcher", *cmd[cmd.index("-f"):]]
                return cmd
            return [sys.executable, "-m", "rnnkit.grading.isolation.kernel_pool", "launch", *cmd[cmd.index("-f"):]]

    return ForkKernelManager


def __getattr__(name):  # the classes need jupyter_client; the launcher must not import it
    if name == "ForkKernelManager":
        cls = _kernel_manager_class()
        globals()[name] = cls
        return cls
    if name == "ReadyKernelClient":
        return _ready_client_class()
    raise AttributeError(name)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "serve":
        rest = sys.argv[3:]
        seed = int(rest[1]) if rest[:1] == ["--seed"] else None
        serve(sys.argv[2], rest[2:] if seed is not None else rest, seed)
    elif len(sys.argv) >= 2 and sys.argv[1] == "launch":
        sys.exit(launch(sys.argv[2:]))
    else:
        sys.exit("usage: python -m rnnkit.grading.isolation.kernel_pool serve SOCKET [--seed S] [NOTEBOOK ...]"
                 " | launch -f CONNECTION_FILE ...")
