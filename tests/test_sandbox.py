"""The grading sandbox: limits end runaway code with a reason, nothing outside it can be read or
written or reached, and read_arrays accepts only the plain arrays it was told to expect."""
import os
import socket
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

from rnnkit.grading.isolation import solution_sandbox
from rnnkit.grading.isolation.solution_sandbox import Limits, read_arrays

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOLUTION = os.path.join(ROOT, "solutions", "01_rnn_fundamentals", "01_rnn_fundamentals.ipynb")

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux sandbox")


SECRETS = {"RNNKIT_DB_URL": "postgresql://grader:pw@localhost/gradebook", "PGPASSWORD": "pw"}


@pytest.fixture(scope="module")
def box():
    saved = {k: os.environ.get(k) for k in SECRETS}
    os.environ.update(SECRETS)                            # must not reach the sandbox
    try:
        with solution_sandbox.Sandbox() as b:
            yield b
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture
def dirs(tmp_path):
    inputs, outputs = tmp_path / "inputs", tmp_path / "outputs"
    inputs.mkdir()
    outputs.mkdir()
    return str(inputs), str(outputs)


def go(box, dirs, code, **limits):
    return box.run(textwrap.dedent(code), *dirs, Limits(**{"wall": 30, **limits}))


def run_uid(result):
    return next(int(p.split()[1]) for p in result.protections if p.startswith("uid "))


@pytest.mark.skipif(os.geteuid() != 0, reason="the full set needs root (as the grader in CI)")
def test_all_protections_are_active_as_root(box, dirs):
    r = go(box, dirs, "pass")
    assert r.ok and r.missing == []
    names = {p.split()[0] for p in r.protections}
    assert {"netns", "pidns", "rlimits", "uid", "no_new_privs", "seccomp", "landlock"} <= names


def test_code_writes_arrays_that_read_arrays_accepts(box, dirs):
    np.save(os.path.join(dirs[0], "x.npy"), np.arange(6.0).reshape(2, 3))
    r = go(box, dirs, """
        import os, numpy as np
        x = np.load(os.path.join(%r, "x.npy"))
        np.savez("out.npz", y=x * 2, n=np.int64(7))
        print("cwd", os.getcwd())
        """ % dirs[0])
    assert r.ok, r.stderr
    assert r.stdout.strip() == f"cwd {os.path.realpath(dirs[1])}"
    arrays = read_arrays(os.path.join(dirs[1], "out.npz"), {"y": ("float64", (2, 3)), "n": ("int64", ())})
    np.testing.assert_array_equal(arrays["y"], np.arange(6.0).reshape(2, 3) * 2)


def test_tensorflow_and_keras_work_inside(box, dirs):
    r = go(box, dirs, """
        import tensorflow as tf, keras, numpy as np
        y = tf.matmul(tf.ones((4, 3)), tf.ones((3, 2)))
        m = keras.Sequential([keras.Input((5, 3)), keras.layers.SimpleRNN(4), keras.layers.Dense(1)])
        m.compile("sgd", "mse")
        m.fit(np.zeros((8, 5, 3)), np.zeros((8, 1)), verbose=0)
        m.save("model.keras")
        print(float(tf.reduce_sum(y)))
        """)
    assert r.ok, r.stderr
    assert r.stdout.strip() == "24.0"
    assert os.path.getsize(os.path.join(dirs[1], "model.keras")) > 0


def test_modules_that_were_not_preloaded_import_from_the_python_installation(box, dirs):
    # Python lives under /root (mode 700) here: the run's uid reads it through Landlock's rules.
    r = go(box, dirs, "import xml.dom.minidom, sqlite3, decimal, sklearn; print('ok')")
    assert r.ok and r.stdout.strip() == "ok", r.stderr


def test_exit_statuses_and_exceptions_are_reported(box, dirs):
    assert go(box, dirs, "import sys; sys.exit(3)").exit_status == 3
    assert go(box, dirs, "import os; os._exit(5)").exit_status == 5
    r = go(box, dirs, "1 / 0")
    assert (r.exit_status, r.killed, r.reason) == (1, False, None)
    assert r.error.startswith("ZeroDivisionError")
    assert 'File "<solution>", line 1' in r.stderr and "1 / 0" in r.stderr


def test_an_infinite_loop_is_stopped_by_the_cpu_limit(box, dirs):
    r = go(box, dirs, "while True: pass", cpu=1, wall=20)
    assert r.killed and r.reason == "cpu"
    assert r.wall < 10


def test_a_sleeper_is_stopped_by_the_wall_clock(box, dirs):
    r = go(box, dirs, "import time; time.sleep(60)", wall=1)
    assert r.killed and r.reason == "wall"
    assert 1 <= r.wall < 5


def test_a_memory_bomb_fails_with_memory_error(box, dirs):
    r = go(box, dirs, """
        import numpy as np
        hog = [np.ones(25_000_000) for _ in range(200)]    # 40 GB, 200 MB at a time
        """, memory=1 << 30)
    assert r.exit_status == 1 and r.reason == "memory"
    assert r.error.startswith("MemoryError")


def test_a_fork_bomb_hits_the_process_limit_and_leaves_nothing(box, dirs):
    r = go(box, dirs, """
        import os, time
        born = 0
        try:
            for _ in range(200):
                if os.fork() == 0:
                    os.setsid()                  # try to leave the process group, too
                    time.sleep(300)
                    os._exit(0)
                born += 1
        finally:
            print(born)
        """, processes=40)
    assert r.exit_status == 1 and r.error.startswith("BlockingIOError")
    assert 0 < int(r.stdout) < 40
    if os.geteuid() == 0:
        uid = run_uid(r)
        for _ in range(40):
            left = [pid for pid in os.listdir("/proc") if pid.isdigit() and _uid_of(pid) == uid]
            if not left:
                break
            time.sleep(0.05)
        assert left == []


def _uid_of(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("Uid:"):
                    return int(line.split()[1])
    except OSError:
        return None


def test_a_huge_file_fails_at_the_file_size_limit(box, dirs):
    r = go(box, dirs, """
        block = b"x" * (1 << 20)
        with open("big", "wb") as f:
            for _ in range(1024):                # 1 GiB
                f.write(block)
        """, file_size=8 << 20)
    assert r.exit_status == 1 and r.reason == "file size", r.stderr
    assert os.path.getsize(os.path.join(dirs[1], "big")) <= 8 << 20


def test_a_flood_of_output_is_capped(box, dirs):
    r = go(box, dirs, """
        import sys
        while True:
            print("x" * 1000)
            sys.stderr.write("y" * 1000)
        """, output=2 << 20, tail=4096)
    assert r.killed and r.reason == "output"
    assert 2 << 20 < r.output_bytes < 3 << 20
    assert len(r.stdout) <= 4096 and len(r.stderr) <= 4096 and r.stdout.endswith("x\n")


def test_no_network_even_to_a_listening_loopback_port(box, dirs):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        server.settimeout(0.5)
        r = go(box, dirs, """
            import socket
            socket.create_connection(("127.0.0.1", %d), timeout=5)
            """ % server.getsockname()[1])
        assert r.exit_status == 1
        assert r.error.split(":")[0] in {"PermissionError", "ConnectionRefusedError", "OSError"}
        with pytest.raises(socket.timeout):
            server.accept()


def test_no_unix_socket_by_path_even_a_world_writable_one(box, dirs, tmp_path):
    # Landlock does not cover connect() by path and netns does not either; PostgreSQL's socket
    # is mode 777. socketpair() (multiprocessing, asyncio) still works.
    path = str(tmp_path / "s")
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(path)
        os.chmod(path, 0o777)
        server.listen(1)
        server.settimeout(0.5)
        r = go(box, dirs, """
            import socket
            a, b = socket.socketpair()
            a.sendall(b"pair ok"); print(b.recv(16).decode())
            socket.socket(socket.AF_UNIX).connect(%r)
            """ % path)
        assert r.stdout.strip() == "pair ok" and r.error.startswith("PermissionError"), r.stderr
        with pytest.raises(socket.timeout):
            server.accept()


@pytest.mark.parametrize("target", ["solutions", "private"])
def test_files_outside_the_allowed_paths_cannot_be_read(box, dirs, tmp_path, target):
    if target == "private":
        secret = tmp_path / "private" / "gradebook.db"
        secret.parent.mkdir()
        secret.write_text("answers")
        path = str(secret)
    else:
        path = SOLUTION
        if not os.path.exists(path):
            pytest.skip("no solutions/ in this checkout")
    r = go(box, dirs, "open(%r).read()" % path)
    assert r.error.startswith("PermissionError"), r.stderr
    r = go(box, dirs, "import os; os.listdir(%r)" % os.path.dirname(path))
    assert r.error.startswith("PermissionError"), r.stderr


def test_the_answer_keys_cannot_be_read_but_the_student_package_can(box, dirs):
    """rnnkit/grading (the answer keys, the grader) is out of reach; the rest of rnnkit is not."""
    import rnnkit
    package = os.path.dirname(os.path.abspath(rnnkit.__file__))
    keys_file = os.path.join(package, "grading", "keys", "bptt.py")
    r = go(box, dirs, "open(%r).read()" % keys_file)
    assert r.error.startswith("PermissionError"), r.stderr
    r = go(box, dirs, "import rnnkit.grading.keys.bptt")
    assert r.error.startswith(("PermissionError", "ModuleNotFoundError", "ImportError")), r.stderr
    r = go(box, dirs, "print(len(open(%r).read()) > 0)" % os.path.join(package, "checks.py"))
    assert r.ok and r.stdout.strip() == "True", r.stderr


def test_the_graders_environment_and_process_are_out_of_reach(box, dirs):
    r = go(box, dirs, """
        import os, signal
        print("secret" if {"RNNKIT_DB_URL", "PGPASSWORD"} & set(os.environ) else "clean")
        for attempt in (lambda: open("/proc/%d/environ").read(), lambda: os.kill(%d, signal.SIGTERM)):
            try:
                attempt()
                print("reached")
            except (PermissionError, ProcessLookupError):
                print("refused")
        """ % (os.getpid(), os.getpid()))
    assert r.ok, r.stderr
    assert r.stdout.split() == ["clean", "refused", "refused"]


def test_nothing_outside_outputs_dir_can_be_written_or_chmodded(box, dirs, tmp_path):
    mine = tmp_path / "grader.txt"
    mine.write_text("grader")
    for code in ("open(%r, 'w').write('x')" % str(tmp_path / "new.txt"),
                 "open(%r, 'a').write('x')" % str(mine),
                 "open(%r, 'w').write('x')" % os.path.join(dirs[0], "input.txt"),
                 "import os; os.chmod(%r, 0o777)" % str(mine),
                 "import os; os.remove(%r)" % str(mine)):
        r = go(box, dirs, code)
        assert r.error.startswith("PermissionError"), (code, r.stderr)
    assert mine.read_text() == "grader" and oct(mine.stat().st_mode & 0o777) != "0o777"
    assert sorted(os.listdir(tmp_path)) == ["grader.txt", "inputs", "outputs"]


def test_runs_from_several_threads_proceed_in_parallel(box, tmp_path):
    results = {}

    def one(i):
        d = tmp_path / str(i)
        (d / "in").mkdir(parents=True)
        (d / "out").mkdir()
        results[i] = box.run("import time; time.sleep(1); print(%d)" % i, str(d / "in"),
                             str(d / "out"), Limits(wall=30))

    started = time.monotonic()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert time.monotonic() - started < 3.5
    assert [results[i].stdout.strip() for i in range(4)] == ["0", "1", "2", "3"]


def test_read_arrays_rejects_pickles_wrong_dtypes_shapes_and_missing_names(tmp_path):
    path = str(tmp_path / "a.npz")
    np.savez(path, good=np.zeros((2, 3)), obj=np.array([{"x": 1}], dtype=object))
    assert read_arrays(path, {"good": ("float64", (2, 3))})["good"].shape == (2, 3)
    assert read_arrays(path, {"good": ("float64", None)})["good"].dtype == np.float64
    for expected, words in [({"obj": ("float64", None)}, ["'obj'", "pickle"]),
                            ({"good": ("float32", (2, 3))}, ["'good'", "float64", "float32"]),
                            ({"good": ("float64", (3, 2))}, ["'good'", "(2, 3)", "(3, 2)"]),
                            ({"absent": ("float64", None)}, ["'absent'", "missing"])]:
        with pytest.raises(ValueError) as info:
            read_arrays(path, expected)
        assert all(w in str(info.value) for w in words), str(info.value)


@pytest.mark.slow
def test_without_preloading_imports_still_work_and_cost_seconds(dirs):
    with solution_sandbox.Sandbox(preload=()) as cold:
        r = cold.run("import tensorflow as tf; print(int(tf.reduce_sum(tf.ones((2, 2)))))",
                     *dirs, Limits(wall=60))
    assert r.ok, r.stderr
    assert r.stdout.strip() == "4"


def test_the_grader_says_what_applies_and_what_does_not_and_why():
    from rnnkit.grading.isolation.summary import describe
    as_root = (["pidns", "rlimits", "uid 1400000002", "no_new_privs", "seccomp", "landlock abi 7"], [])
    run = (["netns", "pidns", "rlimits", "uid 1500000002", "no_new_privs", "seccomp", "landlock abi 7"], [])
    assert describe(as_root, run) == (
        "Sandbox: landlock (abi 7), seccomp, no_new_privs, rlimits, a uid per kernel, pid namespaces, "
        "a network namespace for verification runs; all protections apply")
    no_userns = "Operation not permitted; in a user namespace: Operation not permitted"
    jail = (["rlimits", "no_new_privs", "seccomp", "landlock abi 6"],
            [f"pidns: {no_userns}", "process limit: a shared uid would count the grader's own processes",
             "uid: the grader is not root"])
    run = (["rlimits", "no_new_privs", "seccomp", "landlock abi 6"],
           [f"netns: {no_userns}", f"pidns: {no_userns}"])
    assert describe(jail, run) == (
        "Sandbox: landlock (abi 6), seccomp, no_new_privs, rlimits; not applied: a process limit per "
        "kernel (a shared uid would count the grader's own processes), a uid per kernel (the grader is "
        f"not root; Landlock keeps kernels out of your files instead), pid namespaces ({no_userns}; "
        f"processes a kernel leaves running are not ended), a network namespace ({no_userns})")


@pytest.mark.skipif(os.geteuid() != 0, reason="as root (tests/test_unprivileged_grader.py: as a user)")
def test_as_root_the_probe_finds_every_protection():
    from rnnkit.grading.isolation import summary
    from tests.test_cheats import confinement_line
    assert summary.describe(*summary.probe()) == confinement_line(as_root=True)
