"""Confine the kernel a submission's notebook runs in, with the sandbox's primitives.

nbgrader executes a submission in an ordinary ipykernel, so without this its cells would run with
the grader's rights: edit the installed rnnkit, write the gradebook, read solutions/, fork or
allocate until the machine stops. The worker names a policy in the kernel's environment:

    kernel_env.update(kernel_jail.policy_env(workdir, tmpdir))   # the env the kernel starts with

and the process that becomes the kernel (forked by the zygote, or started cold through
`python -m rnnkit.grading.isolation.kernel_jail -m ipykernel_launcher -f CONNECTION_FILE ...`)
calls confine() while it still has one thread, before ipykernel opens its sockets. Each protection is applied
when the system allows it and skipped (named in the result's `missing`) when not:

    pidns       a new PID namespace whose init is the kernel (forked: the process that called
                confine stays outside as its stand-in). What a cell leaves running is killed
                after it (after_each_cell); when the kernel ends, the system kills everything
                left in the namespace (setsid cannot escape)
    userns      (grader not root) the PID namespace is made in a user namespace mapping only
                the grader's uid; the kernel gives up the capabilities it holds there
    rlimits     data memory (RLIMIT_DATA; TensorFlow maps far more address space than it uses),
                processes and threads (RLIMIT_NPROC: counted per uid and user namespace, so only
                with a uid or a user namespace of its own), file size, open files, no core dumps
    uid N       (grader running as root) a uid of its own per kernel, keeping only
                CAP_DAC_READ_SEARCH so that reading stays Landlock's call; workdir and tmpdir
                are handed to it, and the zygote kills what is left of that uid when the kernel
                ends. Without root Landlock alone keeps the kernel out of the grader's files, and
                (from ABI 6) from signalling its processes; ptrace never reaches out of a domain
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
NOT_ROOT = "uid: the grader is not root"    # in `missing` wherever the grader is not root


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


def _rlimits(memory, processes):
    """Resource limits; RLIMIT_NPROC only where it counts the kernel's processes alone (a uid or a
    user namespace of its own; root is exempt, and a shared uid would count the grader's own)."""
    import resource
    from rnnkit.grading.isolation import linux
    rl = [(resource.RLIMIT_DATA, memory, None), (resource.RLIMIT_FSIZE, FILE_SIZE, None),
          (resource.RLIMIT_NOFILE, OPEN_FILES, None), (resource.RLIMIT_CORE, 0, None)]
    if processes:
        rl.append((resource.RLIMIT_NPROC, PROCESSES, None))
    linux.set_rlimits(rl)


def _enter_pid_namespace():
    """Fork into a new PID namespace (in a user namespace when not root) as its init; this process
    stays outside as the kernel's stand-in and never returns (_stand_in).

    Returns, in the kernel, whether a user namespace was made. Raises OSError where the system
    allows neither, before forking.
    """
    from rnnkit.grading.isolation import linux
    from rnnkit.grading.isolation.processes import die_with_parent
    userns = linux.unshare_namespaces(linux.CLONE_NEWPID)
    alive_r, alive_w = os.pipe()            # EOF once the stand-in is gone
    pid = os.fork()
    if pid != 0:
        os.close(alive_r)
        _stand_in(pid)
    os.close(alive_w)
    die_with_parent()
    import select
    if select.select([alive_r], [], [], 0)[0]:      # the stand-in died before the line above
        os._exit(1)
    os.close(alive_r)
    return userns


def _stand_in(kernel):
    """Outside the kernel's PID namespace, in its place for the grader (which knows this pid):
    pass signals on, kill it if this process's parent goes, and end as it ends.

    The kernel is its namespace's init, which ignores the signals it has no handler for, so the
    ones meant to end it are sent as SIGKILL; when it ends, the system kills every process left
    in the namespace. ipykernel's own parent poller cannot see past the namespace.
    """
    import select
    import signal
    ending = {signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT}

    def forward(sig, _frame):
        try:
            os.kill(kernel, signal.SIGKILL if sig in ending else sig)
        except ProcessLookupError:
            pass

    for sig in (signal.SIGINT, signal.SIGUSR1, signal.SIGUSR2, *ending):
        signal.signal(sig, forward)
    parent, pidfd = os.getppid(), os.pidfd_open(kernel)
    while not select.select([pidfd], [], [], 1.0)[0]:
        if os.getppid() != parent:
            forward(signal.SIGTERM, None)
    code = os.waitstatus_to_exitcode(os.waitpid(kernel, 0)[1])
    if code < 0:                            # killed by a signal: so is this process
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    os._exit(code & 0xFF)


def confine(argv=()):
    """Confine this process as the policy in the environment says; a no-op without one.

    Call it in the process that becomes the kernel, single-threaded, before ipykernel starts:
    Landlock and capabilities apply to the calling thread only (and to threads it starts later),
    and a user namespace can only be entered by a process with one thread. Where the system
    allows, it first forks: the child, init of a new PID namespace, returns and becomes the
    kernel; this process stays behind as its stand-in (_stand_in) and never returns.

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
    root = os.geteuid() == 0
    uid = kernel_uid(os.getpid()) if root else None     # this pid: the one the grader knows
    userns = False
    try:
        userns = _enter_pid_namespace()
        protections += ["userns"] * userns + ["pidns"]
    except OSError as exc:
        missing.append(f"pidns: {exc.strerror or exc}")
    # IPython's profile and the temporary files go to the private directory; HOME stays, so
    # matplotlib and Keras find their settings (read only).
    os.environ.update(TMPDIR=tmpdir, IPYTHONDIR=os.path.join(tmpdir, "ipython"))
    import tempfile
    tempfile.tempdir = None
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
        _rlimits(int(policy.get("memory") or MEMORY), processes=uid is not None or userns)
        protections.append("rlimits")
        if uid is None and not userns:
            missing.append("process limit: a shared uid would count the grader's own processes")
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
        missing.append(NOT_ROOT)
        if userns:          # every capability over its own namespaces: not needed
            linux.drop_capabilities()
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
    """In a confined kernel that is its PID namespace's init or has a uid of its own: end what
    each cell left running (IPython's post_run_cell event). A no-op elsewhere: kill(-1) as a
    shared uid in the grader's namespace would reach the grader."""
    own_namespace = os.getpid() == 1
    own_uid = os.getuid() >= UID_BASE and os.getuid() == kernel_uid(os.getpid())
    if own_namespace or own_uid:
        from rnnkit.grading.isolation.processes import kill_and_reap_all
        shell.events.register("post_run_cell", lambda *_: kill_and_reap_all())


def say_missing(missing):
    """On stderr, what a kernel goes without, but for the uid a grader that is not root cannot
    give it: `rnnkit grade` says that once for all its kernels."""
    unexpected = [m for m in missing if m != NOT_ROOT]
    if unexpected:
        print(f"kernel jail: without {', '.join(unexpected)}", file=sys.stderr, flush=True)


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
    say_missing(confine(argv[2:])[1])
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
