"""Real unix users for the tests that need more than one: the JupyterHub course and the grader
run by an unprivileged instructor.

    cannot_make_users()   why users cannot be made here (not root, no useradd), or None
    users(*names)         a context: each name a fresh user with a home at mode 700; on the way
                          out every process left under their uids is killed and each is removed
    traversable(*paths)   a context: every directory above each path that others cannot enter
                          gets the traverse bit (o+x) and nothing else, put back afterwards
    run_as(user, argv)    subprocess.run as that user (uid, gid, groups, HOME, USER)
    processes_of(uids)    the pids of the processes running as any of `uids`
    kill_processes_of(uids)   SIGKILL them until none is left

The kit's interpreter lives under /root (mode 700) on the machines CI uses; another user can
execute it only when they can traverse every directory above it, which o+x allows without
letting them list or read anything.
"""
import contextlib
import os
import pwd
import shutil
import signal
import stat
import subprocess
import time


def cannot_make_users():
    if os.geteuid() != 0:
        return "needs root, to make unix users (as CI runs)"
    missing = [tool for tool in ("useradd", "userdel") if not shutil.which(tool)]
    if missing:
        return f"needs {' and '.join(missing)}"
    return None


def processes_of(uids):
    """The pids of the processes running as any of `uids` (read from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid in uids:
                    found.append(int(entry))
            except FileNotFoundError:
                pass
    return found


def kill_processes_of(uids):
    """SIGKILL every process running as one of `uids`, until none is left (a few seconds at most).

    Servers started by a hub run in sessions of their own, so killing a process group is not
    enough; processes are found by their owner in /proc.
    """
    uids = set(uids)
    for _ in range(50):
        left = processes_of(uids)
        if not left:
            return
        for pid in left:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)
    raise RuntimeError(f"processes of uids {sorted(uids)} survive SIGKILL: {processes_of(uids)}")


@contextlib.contextmanager
def users(*names, home_mode=0o700):
    """Fresh unix users `names` (pwd entries), removed with their homes and processes afterwards."""
    made = []
    try:
        for name in names:
            with contextlib.suppress(KeyError):       # left over by a run that was killed
                pwd.getpwnam(name)
                _remove(name)
            subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", "--user-group", name],
                           check=True, capture_output=True, text=True)
            made.append(name)
            entry = pwd.getpwnam(name)
            os.chmod(entry.pw_dir, home_mode)
        yield [pwd.getpwnam(name) for name in names]
    finally:
        for name in made:
            _remove(name)


def _remove(name):
    uid = pwd.getpwnam(name).pw_uid
    kill_processes_of([uid])
    subprocess.run(["userdel", "--remove", name], capture_output=True, text=True)


@contextlib.contextmanager
def traversable(*paths):
    """Let every user traverse (not list or read) each directory above `paths`, for the duration."""
    changed = {}
    for path in paths:
        here = os.path.realpath(path)
        while True:
            here = os.path.dirname(here)
            mode = os.stat(here).st_mode
            if here not in changed and not mode & stat.S_IXOTH:
                changed[here] = stat.S_IMODE(mode)
                os.chmod(here, stat.S_IMODE(mode) | stat.S_IXOTH)
            if here == "/":
                break
    try:
        yield sorted(changed)
    finally:
        for here, mode in changed.items():
            os.chmod(here, mode)


def as_user(entry):
    """subprocess keyword arguments that run a command as the pwd `entry`, in its home."""
    env = {"HOME": entry.pw_dir, "USER": entry.pw_name, "LOGNAME": entry.pw_name,
           "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
           "TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0"}
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": [], "env": env,
            "cwd": entry.pw_dir}


def run_as(entry, argv, **kwargs):
    """subprocess.run(argv) as the pwd `entry` (text mode, output captured unless told otherwise)."""
    options = dict(as_user(entry), capture_output=True, text=True)
    env = dict(options["env"], **kwargs.pop("env", {}))
    options.update(kwargs, env=env)
    return subprocess.run(argv, **options)
