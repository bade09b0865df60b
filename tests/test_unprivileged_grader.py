"""The grader run by an ordinary unix user, as an instructor on a JupyterHub course runs it.

Without root there is no uid per kernel: Landlock keeps kernels out of the instructor's files and
away from their processes, and the PID namespaces (and the sandbox's network namespace) are made
in user namespaces. Here a real user, who owns a copy of the kit in their home (so that only the
jail stops `edits_rnnkit`, not file modes), runs the probe, `rnnkit grade` and the cheat suite.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import time

import pytest

from rnnkit.grading.isolation import linux
from tests import unix_users
from tests.test_cheats import confinement_line

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
USER = "rnnkit-instructor"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux confinement"),
    pytest.mark.skipif(bool(unix_users.cannot_make_users()), reason=f"makes a unix user, which "
                       f"{unix_users.cannot_make_users()}"),
]


def _copy_kit(home, entry):
    """The repository (no .git, no virtual environment) in `home`/kit, owned by `entry`."""
    kit = os.path.join(home, "kit")
    shutil.copytree(ROOT, kit, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", "__pycache__", "*.egg-info", ".pytest_cache", "dist", "build"))
    for here, dirs, files in os.walk(kit):
        for name in [".", *dirs, *files]:
            os.lchown(os.path.join(here, name), entry.pw_uid, entry.pw_gid)
    return kit


@pytest.fixture(scope="module")
def instructor():
    """(pwd entry, their copy of the kit): a fresh user who may run the kit's interpreter."""
    with unix_users.users(USER) as (entry,), \
            unix_users.traversable(sys.executable, os.path.realpath(sys.executable)):
        yield entry, _copy_kit(entry.pw_dir, entry)


def _run(instructor, argv, timeout):
    entry, kit = instructor
    return unix_users.run_as(entry, [sys.executable, *argv], cwd=kit, timeout=timeout,
                             env={"PYTHONPATH": kit})


def _makes_user_namespaces(instructor):
    done = _run(instructor, ["-c", "from rnnkit.grading.isolation import linux\n"
                             "linux.unshare(linux.CLONE_NEWUSER)"], timeout=60)
    return done.returncode == 0


def test_protections_of_kernels_and_runs(instructor):
    """Exactly these, given Landlock and user namespaces here; and the line the grader prints."""
    done = _run(instructor, ["-m", "rnnkit.grading.isolation.summary"], timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    line, details = done.stdout.split("\n", 1)
    jail, sandbox = json.loads(details).values()
    abi = linux.landlock_abi()
    landlock = {f"landlock abi {abi}"} if abi else set()
    namespaces = {"userns", "pidns"} if _makes_user_namespaces(instructor) else set()
    assert set(jail[0]) == {"rlimits", "no_new_privs", "seccomp"} | landlock | namespaces
    assert set(sandbox[0]) == {"rlimits", "no_new_privs", "seccomp"} | landlock | \
        (namespaces and namespaces | {"netns"})
    assert "uid: the grader is not root" in jail[1]
    if abi and namespaces:
        assert jail[1] == ["uid: the grader is not root"] and sandbox[1] == []
        assert line == confinement_line(as_root=False)


def test_the_probe_run_by_the_user_says_what_applies(instructor):
    """What `rnnkit grade` prints before grading (the cheat batch below checks it there), from the
    probe run as the user: no uid per kernel, the namespaces in user namespaces."""
    done = _run(instructor, ["-m", "rnnkit.grading.isolation.summary"], timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    first = done.stdout.splitlines()[0]
    if linux.landlock_abi() and _makes_user_namespaces(instructor):
        assert first == confinement_line(as_root=False)
    assert first.startswith("Sandbox: ") and "the grader is not root" in first


# Confined as a kernel, then: what it tries against the instructor's files and processes (argv:
# workdir, tmpdir, a file of theirs, a process of theirs, a loopback port, "pidns" or "no pidns"),
# by errno name; and a sleeper left behind. "no pidns" leaves Landlock alone between them.
ESCAPES = """
import ctypes, errno, json, os, signal, socket, subprocess, sys
from rnnkit.grading.isolation import kernel_jail
work, tmp, secret, victim, port, namespace = sys.argv[1:7]
if namespace == "no pidns":
    def _refused():
        raise OSError(errno.EPERM, "not asked for")
    kernel_jail._enter_pid_namespace = _refused
os.environ.update(kernel_jail.policy_env(work, tmp))
kernel_jail.confine([])
libc = ctypes.CDLL(None, use_errno=True)

def pidfd_kill():      # through /proc, which a PID namespace does not hide
    fd = os.open("/proc/" + victim, os.O_RDONLY | os.O_DIRECTORY)
    if libc.syscall(424, fd, signal.SIGTERM, None, 0):
        raise OSError(ctypes.get_errno(), "pidfd_send_signal")

def ptrace():
    if libc.ptrace(16, int(victim), None, None):
        raise OSError(ctypes.get_errno(), "ptrace")

attempts = {"read": lambda: open(secret).read(), "list": lambda: os.listdir(os.path.dirname(secret)),
            "kill": lambda: os.kill(int(victim), signal.SIGTERM), "pidfd signal": pidfd_kill,
            "ptrace": ptrace, "connect": lambda: socket.create_connection(("127.0.0.1", int(port)), 2)}
outcome = {}
for name, attempt in attempts.items():
    try:
        attempt()
        outcome[name] = "done"
    except OSError as exc:
        outcome[name] = errno.errorcode.get(exc.errno, str(exc.errno))
subprocess.Popen(["sleep", "313.5"], start_new_session=True, stdout=subprocess.DEVNULL,
                 stderr=subprocess.DEVNULL)
print(json.dumps(outcome), flush=True)
os._exit(0)             # no post-cell cleanup: the sleeper is left behind
"""
REFUSED = {"EPERM", "EACCES"}
UNREACHABLE = {"ESRCH", "EINVAL"}       # a PID namespace: not even there to refuse


def _sleepers(marker="313.5"):
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if f.read() == b"sleep\0" + marker.encode() + b"\0":
                    found.append(int(pid))
        except OSError:
            pass
    return found


def _escape(instructor, namespace):
    """ESCAPES run by the instructor against a file and a process of theirs: its outcome."""
    entry, _ = instructor
    jail = os.path.join(entry.pw_dir, "jail")
    unix_users.run_as(entry, ["mkdir", "-p", f"{jail}/work", f"{jail}/tmp"], check=True)
    unix_users.run_as(entry, ["sh", "-c", f"echo answers > {jail}/gradebook.db"], check=True)
    victim = subprocess.Popen(["sleep", "60"], **unix_users.as_user(entry))
    try:
        with socket.socket() as server:
            server.bind(("127.0.0.1", 0))
            server.listen(1)
            done = _run(instructor, ["-c", ESCAPES, f"{jail}/work", f"{jail}/tmp", f"{jail}/gradebook.db",
                                     str(victim.pid), str(server.getsockname()[1]), namespace], timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        assert victim.poll() is None, "the instructor's process was killed"
        return json.loads(done.stdout)
    finally:
        victim.kill()
        victim.wait()


@pytest.mark.skipif(linux.landlock_abi() < 6, reason="Landlock scopes signals from ABI 6")
def test_landlock_alone_keeps_a_kernel_from_the_instructors_files_and_processes(instructor):
    """The uid a grader that is not root cannot give: Landlock refuses the same things."""
    outcome = _escape(instructor, "no pidns")
    unix_users.kill_processes_of([instructor[0].pw_uid])      # the sleeper: nothing ends it here
    assert set(outcome.values()) <= REFUSED, outcome


@pytest.mark.skipif(linux.landlock_abi() < 6, reason="Landlock scopes signals from ABI 6")
def test_a_kernel_in_its_pid_namespace_reaches_nothing_and_leaves_nothing(instructor):
    if not _makes_user_namespaces(instructor):
        pytest.skip("the user cannot make user namespaces here")
    outcome = _escape(instructor, "pidns")
    assert set(outcome.values()) <= REFUSED | UNREACHABLE, outcome
    for _ in range(50):
        if not _sleepers():
            break
        time.sleep(0.1)
    assert _sleepers() == []


def test_no_cheat_raises_a_score_when_the_grader_is_not_root(instructor):
    """tests/test_cheats.py, run once by the user: every cheat scores 0 and nothing outlives it."""
    if not linux.landlock_abi():
        pytest.skip("without Landlock a kernel can read and write whatever its user can")
    if not _makes_user_namespaces(instructor):
        pytest.skip("without user namespaces a kernel has no process limit and what it leaves "
                    "running is not ended (the fork bomb)")
    entry, kit = instructor
    writable = unix_users.run_as(entry, ["test", "-w", os.path.join(kit, "rnnkit", "checks.py")])
    assert writable.returncode == 0, "the user must own the kit, for edits_rnnkit to test the jail"
    done = _run(instructor, ["-m", "pytest", "-q", "-p", "no:cacheprovider", "--basetemp",
                             os.path.join(entry.pw_dir, "pytest-tmp"), "tests/test_cheats.py"],
                timeout=1800)
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in summary and "skipped" not in summary and "failed" not in summary, summary
