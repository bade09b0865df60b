"""Confine the kernel a submission's notebook runs in, with the sandbox's primitives.

nbgrader executes a submission in an ordinary ipykernel, so without this its cells would run with
the grader's rights: edit the installed rnnkit, write the gradebook, read solutions/, fork or
allocate until the machine stops. The worker names a policy in the kernel's environment:

    kernel_env.update(kernel_jail.policy_env(workdir, tmpdir))   # the env the kernel starts with

and the process that becomes the kernel (forked by the zygote, or started cold through
`python -m rnnkit.grading.isolation.kernel_jail -m ipykernel_launcher -f CONNECTION_FILE ...`)
calls confine() while it still has one thread, before ipykernel opens its sockets. Each protection is applied
when the system allows it and skipped (named in the result's `missing`) when not:

    rlimits     data memory (RLIMIT_DATA; TensorFlow maps far more address space than it uses),
                processes and threads (RLIMIT_NPROC, counted per uid, so only with a uid of its
                own), file size, open files, no core dumps
    uid N       (grader running as root) a uid of its own per kernel, keeping only
                CAP_DAC_READ_SEARCH so that reading stays Landlock's call; workdir and tmpdir
                are handed to it. What a cell leaves running is killed after it (after_each_cell),
                and the zygote kills what is left of that uid when the kernel ends
    landlock    reads only Python and its packages, rnnkit, the data folder, the connection
                file, system files and the grader's matplotlib and Keras settings; writes only
                workdir and tmpdir; no TCP connect (binding stays: the kernel serves on TCP)
    seccomp     no AF_UNIX sockets (a database's socket is reachable by path otherwise)
    no_new_privs

Not covered: output volume (the worker caps what it keeps, see execute.py), CPU time (nbgrader's
per-cell timeout), reads of /proc and /sys, and, without Landlock, reads of anything.
"""
import json
import os
import sys

ENV = "RNNKIT_KERNEL_JAIL"          # the policy, as JSON, in the kernel's environment
UID_BASE = 1_400_000_000            # kernel uids: base + kernel pid (the sandbox uses 1.5e9+)
MEMORY = 6 << 30                    # RLIMIT_DATA: TensorFlow + a notebook's models, with room
PROCESSES = 512                     # RLIMIT_NPROC counts threads: TF starts ~2 per core
FILE_SIZE = 1 << 30
OPEN_FILES = 1024
LL_CONNECT_TCP = 2                  # Landlock's LANDLOCK_ACCESS_NET_CONNECT_TCP


def policy_env(workdir, tmpdir, memory=None):
    """The environment entry that asks the next kernel started to confine itself.

    Args:
        workdir: the kernel's working directory: it may write there.
        tmpdir: a private scratch directory (TMPDIR, IPython's directory): it may write there.
        memory: RLIMIT_DATA in bytes (default MEMORY, or RNNKIT_KERNEL_MEMORY_MB).
    """
    if memory is None:
        mb = os.environ.get("RNNKIT_KERNEL_MEMORY_MB")
        memory = int(mb) << 20 if mb else MEMORY
    for path in (workdir, tmpdir):
        if not os.path.isdir(path):
            raise ValueError(f"kernel jail: no such directory: {path!r}")
    return {ENV: json.dumps({"workdir": os.path.realpath(workdir), "tmpdir": os.path.realpath(tmpdir),
                             "memory": int(memory)})}


def kernel_uid(pid):
    """The uid a kernel of process id `pid` runs as when the grader is root."""
    return UID_BASE + pid


def _connection_file(argv):
    """The -f/--f= connection file among ipykernel's arguments, or None."""
    for i, arg in enumerate(argv):
        if arg == "-f" and i + 1 < len(argv):
            return os.path.realpath(argv[i + 1])
        if arg.startswith(("-f=", "--f=")):
            return os.path.realpath(arg.split("=", 1)[1])
    return None


def _data_dir():
    """The kit's data folder (rnnkit.data.data_dir), or None where there is none."""
    from rnnkit import data
    try:
        return data.data_dir()
    except data.DataMissing:
        return None


def _settings_dirs():
    """The grader's matplotlib and Keras settings and caches: read only (fonts, keras.json)."""
    home = os.path.expanduser("~")
    dirs = [os.environ.get("MPLCONFIGDIR") or os.path.join(home, ".config", "matplotlib"),
            os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.join(home, ".cache"), "matplotlib"),
            os.environ.get("KERAS_HOME") or os.path.join(home, ".keras")]
    return [d for d in dirs if os.path.isdir(d)]


def _rlimits(memory, with_uid):
    """Resource limits; RLIMIT_NPROC only with a uid of its own (root is exempt, and a shared
    uid would count the grader's own processes)."""
    import resource
    from rnnkit.grading.isolation import linux
    rl = [(resource.RLIMIT_DATA, memory, None), (resource.RLIMIT_FSIZE, FILE_SIZE, None),
          (resource.RLIMIT_NOFILE, OPEN_FILES, None), (resource.RLIMIT_CORE, 0, None)]
    if with_uid:
        rl.append((resource.RLIMIT_NPROC, PROCESSES, None))
    linux.set_rlimits(rl)


def confine(argv=()):
    """Confine this process as the policy in the environment says; a no-op without one.

    Call it in the process that becomes the kernel, single-threaded, before ipykernel starts:
    Landlock and capabilities apply to the calling thread only (and to threads it starts later).

    Args:
        argv: ipykernel's arguments (the connection file is read from them).

    Returns:
        (protections, missing): what took effect, and "name: why" for what did not.
    """
    text = os.environ.pop(ENV, None)
    if not text:
        return [], []
    from rnnkit.grading.isolation import linux
    policy = json.loads(text)
    workdir, tmpdir = policy["workdir"], policy["tmpdir"]
    protections, missing = [], []
    # IPython's profile and the temporary files go to the private directory; HOME stays, so
    # matplotlib and Keras find their settings (read only).
    os.environ.update(TMPDIR=tmpdir, IPYTHONDIR=os.path.join(tmpdir, "ipython"))
    import tempfile
    tempfile.tempdir = None
    root = os.geteuid() == 0
    uid = kernel_uid(os.getpid()) if root else None
    connection = _connection_file(list(argv))
    ruleset = None
    try:
        readable = [p for p in [connection, _data_dir(), *_settings_dirs()] if p]
        rules = [(p, linux.LL_READ) for p in linux.readable_roots(workdir, readable)]
        rules += linux.dev_rules()
        rules += [(workdir, -1), (tmpdir, -1)]
        # Binding stays allowed (ipykernel binds a random port for its output pipe); connecting
        # is not: no database, scheduler or other kernel on this machine is reachable by TCP.
        ruleset = linux.landlock_ruleset(rules, tcp=LL_CONNECT_TCP)
    except OSError as exc:
        missing.append(f"landlock: {exc.strerror or exc}")
    try:
        _rlimits(int(policy.get("memory") or MEMORY), with_uid=uid is not None)
        protections.append("rlimits")
    except (OSError, ValueError) as exc:
        missing.append(f"rlimits: {exc}")
    if uid is not None:
        try:
            for path in (workdir, tmpdir):
                os.chown(path, uid, uid)
            linux.prctl(linux.PR_SET_NO_NEW_PRIVS, 1)
            linux.drop_to(uid, 1 << linux.CAP_DAC_READ_SEARCH)
            protections.append(f"uid {uid}")
        except OSError as exc:
            missing.append(f"uid: {exc}")
    else:
        missing.append("uid: the grader is not root")
    try:
        linux.prctl(linux.PR_SET_NO_NEW_PRIVS, 1)
        protections.append("no_new_privs")
        linux.seccomp_no_unix_sockets()
        protections.append("seccomp")
    except (KeyError, OSError) as exc:
        missing.append(f"seccomp: {exc!r}")
    if ruleset is not None:
        try:
            linux.landlock_enforce(ruleset[0])
            protections.append(f"landlock abi {ruleset[1]}")
        except OSError as exc:
            missing.append(f"landlock: {exc.strerror or exc}")
    return protections, missing


def after_each_cell(shell):
    """In a confined kernel with a uid of its own: end what each cell left running (IPython's
    post_run_cell event). A no-op elsewhere: kill(-1) as a shared uid would reach the grader."""
    if os.getuid() >= UID_BASE and os.getuid() == kernel_uid(os.getpid()):
        from rnnkit.grading.isolation.processes import kill_and_reap_all
        shell.events.register("post_run_cell", lambda *_: kill_and_reap_all())


def kill_uid(uid):
    """Kill every process running as `uid` (what a kernel left behind); as root only.

    A child takes the uid and signals everything it may signal, until nothing of it is left.
    """
    import signal
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            for _ in range(100):            # a fork bomb races kill(-1): repeat until ESRCH
                try:
                    os.kill(-1, signal.SIGKILL)
                except ProcessLookupError:
                    break
        except BaseException:
            code = 1
        os._exit(code)
    os.waitpid(pid, 0)


def main(argv):
    """Cold start: confine, then run `-m MODULE args...` (ipykernel_launcher) in this process."""
    if len(argv) < 2 or argv[0] != "-m":
        sys.exit("usage: python -m rnnkit.grading.isolation.kernel_jail -m ipykernel_launcher -f CONNECTION_FILE ...")
    protections, missing = confine(argv[2:])
    if missing:
        print(f"kernel jail: without {', '.join(missing)}", file=sys.stderr, flush=True)
    sys.argv = [argv[1], *argv[2:]]
    if argv[1] != "ipykernel_launcher":
        import runpy
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        return
    start_kernel(argv[2:])


def start_kernel(argv, parent_handle=None):
    """Run ipykernel in this (confined) process, as ipykernel_launcher does, ending what each cell
    leaves running (after_each_cell). `parent_handle`: the pid ipykernel watches (default: its
    JPY_PARENT_PID when ipykernel was imported)."""
    from ipykernel.kernelapp import IPKernelApp
    app = IPKernelApp.instance(**({} if parent_handle is None else {"parent_handle": parent_handle}))
    app.initialize(argv)
    after_each_cell(app.shell)
    app.start()


if __name__ == "__main__":
    main(sys.argv[1:])
