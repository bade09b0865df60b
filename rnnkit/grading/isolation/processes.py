"""Child processes of the grader's servers: start-up handshake, stopping, reaping, preloading.

Shared by the solution sandbox's server and the pool of warm kernels. Imports nothing heavy (no
ctypes until it is needed): a cold kernel's launcher imports it.
"""
import os
import select
import signal
import subprocess


def await_ready(server, what):
    """Wait until `server.proc` (started with stdout=PIPE) prints "ready", for at most
    `server.timeout` seconds; otherwise close the server and raise RuntimeError naming `what`."""
    readable = select.select([server.proc.stdout], [], [], server.timeout)[0]
    if not readable or server.proc.stdout.readline().strip() != "ready":
        server.close()
        raise RuntimeError(f"the {what} did not start (exit code {server.proc.poll()})")
    server.ready = True


def die_with_parent(sig=signal.SIGKILL):
    """Linux: get `sig` when the parent process dies, so no server or kernel outlives its grader."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, int(sig))  # PR_SET_PDEATHSIG
    except Exception:  # not Linux: the launcher's EOF still stops the kernel
        pass


def stop_process(proc, grace=10):
    """Terminate a child process; kill it if it is still there after `grace` seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def reap_children():
    """Reap every child that has ended, without waiting for the others."""
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                break
        except ChildProcessError:
            break


def kill_and_reap_all():
    """Kill every process this one may signal (kill(-1)) and reap its children.

    Only where each such process is the submission's: a kernel with a uid of its own, or the
    init of the sandbox's PID namespace. What a cell started and left running (a fork bomb's
    sleepers) would otherwise hold the process limit, and no thread could start in the next
    cells. Zombies count too.
    """
    try:
        os.kill(-1, signal.SIGKILL)         # every process it may signal but itself
    except OSError:
        pass
    reap_children()


def preload(names, backend):
    """Import `names` once, in a server whose children then start with them imported.

    "package.*" imports a package and every module in it; "rnnkit.runtime" also imports
    TensorFlow the kit's way (quiet). `backend` is matplotlib's (read once, at its import) unless
    the environment names one. Warnings of the imports are not shown.
    """
    import importlib
    import pkgutil
    import warnings
    os.environ.setdefault("MPLBACKEND", backend)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in names:
            module = importlib.import_module(name.removesuffix(".*"))
            if name.endswith(".*"):
                for info in pkgutil.iter_modules(module.__path__, module.__name__ + "."):
                    importlib.import_module(info.name)
        if "rnnkit.runtime" in names:
            importlib.import_module("rnnkit.runtime").import_tf()
