"""Warm kernels forked from the zygote behave like fresh kernels, and nothing outlives its grader."""
import os
import signal
import time

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from rnnkit.grading.isolation import kernel_pool, linux
from rnnkit.grading.isolation.kernel_pool import ForkKernelManager


@pytest.fixture(scope="module")
def warm(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("zygote") / "z.sock")
    with kernel_pool.Zygote(path) as z:
        old = os.environ.get(kernel_pool.ENV)
        os.environ.update(z.env())
        yield z
        if old is None:
            os.environ.pop(kernel_pool.ENV, None)
        else:
            os.environ[kernel_pool.ENV] = old


def run(sources, cwd, timeout=60, **kw):
    nb = new_notebook(cells=[new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                   kernel_manager_class=ForkKernelManager, resources={"metadata": {"path": str(cwd)}},
                   **kw).execute()
    return nb


def text(cell):
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def test_kernel_is_forked_with_tensorflow_already_imported(warm, tmp_path):
    nb = run(["import os, sys; print(os.getppid() == %d, 'tensorflow' in sys.modules)" % warm.proc.pid],
             tmp_path)
    assert text(nb.cells[0]).split() == ["True", "True"]


def test_prepared_check_references_reach_the_kernels_and_the_worker(tmp_path, monkeypatch):
    """A zygote asked to prepare a notebook for a batch computes the references of its hidden
    cases, drawn for the batch, once: its later kernels and a worker that fetches them check with
    them, and they equal the ones computed here. The visible ones are the views'."""
    import numpy as np
    from rnnkit import checks, registry
    from rnnkit.grading import keys
    notebook, seed = "01_rnn_fundamentals", 5
    exercises = [e for e in keys.drawn(notebook, seed)]
    monkeypatch.setattr(checks, "_REFERENCES", {})
    monkeypatch.setenv(registry.HIDDEN_SEED_VARIABLE, str(seed))      # the kernels' batch
    with kernel_pool.Zygote(str(tmp_path / "z.sock"), prepare=[notebook], seed=seed) as z:
        monkeypatch.setenv(kernel_pool.ENV, z.path)
        deadline = time.time() + 120
        while not kernel_pool.fetch_prepared(z.path):
            assert time.time() < deadline, "the zygote never had the references"
            time.sleep(0.2)
        fetched = dict(checks._REFERENCES)
        assert set(fetched) == {checks._case_key(e, c) for e in exercises for c in e.select(hidden=True)}
        assert any(c.label.endswith("(drawn)") for e in exercises for c in e.cases)
        nb = run(["from rnnkit import checks\n"
                  "checks._reference = None      # computing one now would raise\n"
                  f"print(len(checks._REFERENCES))\n"
                  "for hidden in (False, True):\n"
                  "    print(checks.evaluate('rnn_forward', lambda *a: 0, hidden=hidden).passed)"], tmp_path)
        assert text(nb.cells[0]).split() == [str(len(fetched)), "False", "False"]
    monkeypatch.setattr(checks, "_REFERENCES", {})
    for e in exercises:
        for case in e.select(hidden=True):
            _, (_, expected, _) = checks._prepared(e, case)
            for here, there in zip(expected, fetched[checks._case_key(e, case)][1]):
                np.testing.assert_allclose(here, there, rtol=1e-6, atol=1e-9)


def test_kernel_gets_the_requesters_directory_and_environment(warm, tmp_path, monkeypatch):
    monkeypatch.setenv("RNNKIT_ZYGOTE_TEST", "from the grader")
    nb = run(["import os; print(os.getcwd()); print(os.environ['RNNKIT_ZYGOTE_TEST'])"], tmp_path)
    assert text(nb.cells[0]).splitlines() == [os.path.realpath(tmp_path), "from the grader"]


def test_forked_kernels_do_not_share_random_state(warm, tmp_path):
    draws = [text(run(["import random, numpy as np; print(random.random(), np.random.rand())"],
                      tmp_path).cells[0]) for _ in range(2)]
    assert draws[0] != draws[1]


def test_a_notebook_cannot_change_the_next_kernel(warm, tmp_path):
    run(["import numpy, numpy.testing; numpy.testing.assert_allclose = lambda *a, **k: None; "
         "numpy.abs = None"], tmp_path)
    nb = run(["import numpy, numpy.testing; print(numpy.abs is not None, "
              "numpy.testing.assert_allclose.__module__)"], tmp_path)
    assert text(nb.cells[0]).split() == ["True", "numpy.testing._private.utils"]


def test_stderr_and_errors_reach_the_notebook(warm, tmp_path):
    nb = run(["import sys; print('careful', file=sys.stderr)", "1 / 0"], tmp_path)
    assert [o.name for o in nb.cells[0].outputs] == ["stderr"]
    assert nb.cells[1].outputs[0].ename == "ZeroDivisionError"


def test_a_cell_over_the_timeout_is_interrupted_and_the_next_cell_runs(warm, tmp_path):
    from nbgrader.preprocessors import Execute
    nb = new_notebook(cells=[new_code_cell("import time; time.sleep(60)"), new_code_cell("print('next')")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    start = time.time()
    nb, _ = Execute(timeout=3, interrupt_on_timeout=True, kernel_manager_class=ForkKernelManager)(
        nb, {"metadata": {"path": str(tmp_path)}})
    assert time.time() - start < 40
    assert nb.cells[0].outputs[-1].ename in {"KeyboardInterrupt", "CellTimeoutError"}
    assert text(nb.cells[1]) == "next\n"


def test_a_kernel_that_exits_does_not_harm_the_zygote(warm, tmp_path):
    from nbclient.exceptions import DeadKernelError
    with pytest.raises(DeadKernelError):
        run(["import os; os._exit(3)", "print('never')"], tmp_path)
    assert warm.proc.poll() is None
    assert text(run(["print('alive')"], tmp_path).cells[0]) == "alive\n"


def _pid_notebook(tmp_path):
    """A client whose notebook's one cell prints its kernel's pid."""
    nb = new_notebook(cells=[new_code_cell("import os; print(os.getpid())")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb, NotebookClient(nb, kernel_name="python3", kernel_manager_class=ForkKernelManager,
                              resources={"metadata": {"path": str(tmp_path)}})


def _gone(pid, seconds=10):
    """Wait until `pid` has exited (or is a zombie); True if it did."""
    for _ in range(int(seconds * 10)):
        if _zombie(pid):
            return True
        time.sleep(0.1)
    return _zombie(pid)


def test_killing_the_launcher_kills_its_kernel(warm, tmp_path):
    nb, client = _pid_notebook(tmp_path)
    with client.setup_kernel():
        client.execute_cell(nb.cells[0], 0)
        kernel_pid = int(text(nb.cells[0]))
        os.kill(client.km.provisioner.process.pid, signal.SIGKILL)
        assert _gone(kernel_pid)


def _zombie(pid):
    """True for a process that has exited, reaped or not."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] == "Z"
    except FileNotFoundError:
        return True


class _Channel:
    """A client channel fed by a test: get_msg hands out the queued messages, then times out."""

    def __init__(self, messages=()):
        self.messages, self.sent = list(messages), []

    def send(self, msg):
        self.sent.append(msg)

    async def get_msg(self, timeout=None):
        from queue import Empty
        if not self.messages:
            raise Empty
        return self.messages.pop(0)


async def _alive():
    return True


def _reply(n):
    return {"msg_type": "kernel_info_reply", "parent_header": {"msg_id": f"info{n}"},
            "content": {"protocol_version": "5.4", "language_info": {"name": "python"}}}


def test_ready_client_needs_a_kernel_info_reply_and_then_iopub_and_asks_again_until_both_came():
    """As jupyter_client's wait: IOPub must deliver after the reply (else it is not connected
    yet, and kernel_info is sent again), but without waiting for IOPub to fall silent."""
    import asyncio
    client = ForkKernelManager(kernel_name="python3").client()
    assert type(client) is kernel_pool.ReadyKernelClient        # one class, made once
    assert type(ForkKernelManager(kernel_name="python3").client()) is type(client)
    client._shell_channel = _Channel([_reply(1), _reply(2)])
    client._iopub_channel = _Channel()
    delivered = [{"msg_type": "iopub_welcome", "parent_header": {}, "content": {}},
                 {"msg_type": "status", "parent_header": {"msg_id": "info2"},
                  "content": {"execution_state": "idle"}}]

    async def iopub_after_first_reply(timeout=None):
        from queue import Empty
        if len(client._shell_channel.messages) == 1:     # the first reply: IOPub not joined yet
            raise Empty
        return delivered.pop(0)

    client._iopub_channel.get_msg = iopub_after_first_reply
    client._async_is_alive = _alive
    asyncio.run(client.wait_for_ready(timeout=10))
    assert len(client._shell_channel.sent) == 2           # kernel_info asked twice
    assert delivered and delivered[0]["msg_type"] == "status"   # no draining of IOPub after it
    assert client._shell_channel.messages == []


def test_ready_client_gives_up_at_its_timeout():
    import asyncio
    client = ForkKernelManager(kernel_name="python3").client()
    client._shell_channel = _Channel()
    client._iopub_channel = _Channel()
    client._async_is_alive = _alive
    with pytest.raises(RuntimeError, match="didn't respond in 0.1 seconds"):
        asyncio.run(client.wait_for_ready(timeout=0.1))


def test_without_a_zygote_the_manager_starts_ordinary_kernels(tmp_path, monkeypatch):
    monkeypatch.delenv(kernel_pool.ENV, raising=False)
    km = ForkKernelManager(kernel_name="python3")
    assert "ipykernel_launcher" in " ".join(km.format_kernel_cmd())


def test_zygote_stops_its_kernels_when_it_is_stopped(tmp_path):
    with kernel_pool.Zygote(str(tmp_path / "z.sock")) as z:
        os.environ.update(z.env())
        try:
            nb, client = _pid_notebook(tmp_path)
            with client.setup_kernel():
                client.execute_cell(nb.cells[0], 0)
                kernel_pid = int(text(nb.cells[0]))
                z.close()
                assert _gone(kernel_pid)
        finally:
            os.environ.pop(kernel_pool.ENV, None)
    assert not os.path.exists(str(tmp_path / "z.sock"))


def test_launcher_refuses_to_run_without_arguments():
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-m", "rnnkit.grading.isolation.kernel_pool"], capture_output=True, text=True)
    assert done.returncode != 0 and "usage" in done.stderr


def _jailed(tmp_path, monkeypatch):
    """Ask kernels started from now on to confine themselves to tmp_path/work (kernel_jail.py)."""
    from rnnkit.grading.isolation import kernel_jail
    os.chmod(tmp_path, 0o711)
    work, tmp = tmp_path / "work", tmp_path / "tmp"
    work.mkdir()
    tmp.mkdir()
    for name, value in kernel_jail.policy_env(str(work), str(tmp)).items():
        monkeypatch.setenv(name, value)
    return work


needs_root_and_landlock = pytest.mark.skipif(os.geteuid() != 0 or not linux.landlock_abi(),
                                             reason="the kernel jail's uid needs root, its file rules Landlock")
JAIL_PROBES = [
    "import os, resource; print(os.getuid() >= 1_400_000_000, "
    "resource.getrlimit(resource.RLIMIT_NPROC)[0] != resource.RLIM_INFINITY)",
    "open('mine.txt', 'w').write('kept'); print(open('mine.txt').read())",
    f"open({os.path.join(os.path.dirname(kernel_pool.__file__), 'kernel_jail.py')!r}, 'a')",
    "import socket; socket.create_connection(('127.0.0.1', 9), timeout=2)",
    "import numpy as np; print(float(np.ones(3).sum()))",
]


def _check_jailed(nb):
    assert text(nb.cells[1]) == "kept\n"
    assert nb.cells[2].outputs[-1].ename == "PermissionError"        # the installed kit
    assert nb.cells[3].outputs[-1].ename in {"PermissionError", "ConnectionRefusedError"}
    assert text(nb.cells[4]) == "3.0\n"


@needs_root_and_landlock
def test_a_jailed_warm_kernel_runs_as_its_own_user_and_writes_only_its_folder(warm, tmp_path, monkeypatch):
    work = _jailed(tmp_path, monkeypatch)
    nb = run(JAIL_PROBES, work)
    assert text(nb.cells[0]).split() == ["True", "True"]
    _check_jailed(nb)
    assert nb.cells[3].outputs[-1].ename == "PermissionError"      # Landlock: no TCP connect


@needs_root_and_landlock
def test_a_jailed_cold_kernel_is_confined_the_same_way(tmp_path, monkeypatch):
    monkeypatch.delenv(kernel_pool.ENV, raising=False)
    work = _jailed(tmp_path, monkeypatch)
    assert ForkKernelManager(kernel_name="python3").format_kernel_cmd()[1:4] == \
        ["-m", "rnnkit.grading.isolation.kernel_jail", "-m"]
    nb = run(JAIL_PROBES, work, timeout=120)
    assert text(nb.cells[0]).split() == ["True", "True"]
    _check_jailed(nb)


@pytest.mark.skipif(os.geteuid() != 0, reason="becomes an ordinary user to be a grader that is not root")
def test_a_grader_that_is_not_root_still_confines_what_it_can(tmp_path):
    """Without root there is no uid of its own (and no process limit): the rest still applies."""
    import subprocess
    import sys
    for d in ("work", "tmp"):
        (tmp_path / d).mkdir()
        os.chown(tmp_path / d, 65534, 65534)
    os.chmod(tmp_path, 0o755)
    probe = ("import json, os, resource\n"
             "from rnnkit.grading.isolation import kernel_jail, linux\n"
             # an ordinary user that can still read the environment in /root (mode 700)
             "linux.drop_to(65534, 1 << linux.CAP_DAC_READ_SEARCH)\n"
             f"os.environ.update(kernel_jail.policy_env({str(tmp_path / 'work')!r}, {str(tmp_path / 'tmp')!r}))\n"
             "protections, missing = kernel_jail.confine([])\n"
             "try:\n    open('/tmp/outside-the-jail', 'w')\n    wrote = True\n"
             "except PermissionError:\n    wrote = False\n"
             "print(json.dumps([protections, missing, wrote, resource.getrlimit(resource.RLIMIT_DATA)[0]]))\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                          cwd=str(tmp_path / "work"))
    assert done.returncode == 0, done.stderr[-2000:]
    protections, missing, wrote, data = __import__("json").loads(done.stdout)
    assert "uid: the grader is not root" in missing
    assert "rlimits" in protections and data == 6 << 30
    assert wrote == (not linux.landlock_abi())
    assert any(p.startswith("landlock") for p in protections) == bool(linux.landlock_abi())


def _processes_with(marker):
    """Pids whose command line holds `marker`."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if marker.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


@needs_root_and_landlock
def test_what_a_dead_cold_kernel_left_running_is_killed(tmp_path, monkeypatch):
    """A cell that starts a process in a session of its own and ends the kernel skips the
    post-cell cleanup; once the kernel has ended, its uid's processes are killed anyway."""
    monkeypatch.delenv(kernel_pool.ENV, raising=False)
    work = _jailed(tmp_path, monkeypatch)
    marker = "313.25"
    from nbclient.exceptions import DeadKernelError
    with pytest.raises(DeadKernelError):
        run(["import os, subprocess\n"
             f"subprocess.Popen(['sleep', '{marker}'], start_new_session=True)\n"
             "os._exit(1)"], work, timeout=120)
    deadline = time.time() + 10
    while _processes_with(marker) and time.time() < deadline:
        time.sleep(0.2)
    assert _processes_with(marker) == []
