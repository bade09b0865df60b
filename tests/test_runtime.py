"""Runtime: fast mode detection, quiet TensorFlow, the device report."""
import os
import subprocess
import sys

from rnnkit import runtime


def test_fast_mode_under_nbgrader_or_env(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.delenv("RNNKIT_FAST", raising=False)
    assert not runtime.is_fast()
    assert runtime.pick(full=20, fast=1) == 20
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert runtime.is_fast()
    assert runtime.pick(full=20, fast=1) == 1
    monkeypatch.delenv("NBGRADER_EXECUTION")
    monkeypatch.setenv("RNNKIT_FAST", "1")
    assert runtime.is_fast()
    monkeypatch.setenv("RNNKIT_FAST", "0")
    assert not runtime.is_fast()


def test_setup_prints_the_device_and_writes_nothing_to_stderr():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "NBGRADER", "RNNKIT"))}
    proc = subprocess.run([sys.executable, "-c", "from rnnkit import runtime; runtime.setup(0)"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "TensorFlow 2." in proc.stdout and "device " in proc.stdout and "mode full" in proc.stdout


def test_seeding_repeats_keras_initialisation():
    tf, keras = runtime.import_tf()
    runtime.seed_everything(3)
    a = keras.layers.Dense(4)
    a.build((None, 3))
    runtime.seed_everything(3)
    b = keras.layers.Dense(4)
    b.build((None, 3))
    assert (a.get_weights()[0] == b.get_weights()[0]).all()


def test_grading_builds_figures_but_draws_none_and_stays_quiet():
    """Under nbgrader the Agg backend is used, plt.show() is silent and each cell's figures are closed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "NBGRADER", "RNNKIT", "MPL"))}
    env["NBGRADER_EXECUTION"] = "autograde"
    script = "\n".join([
        "from IPython.core.interactiveshell import InteractiveShell",
        "shell = InteractiveShell.instance()",
        "shell.run_cell('from rnnkit import runtime; tf, keras = runtime.setup(0)')",
        "shell.run_cell('import matplotlib, matplotlib.pyplot as plt')",
        "for _ in range(25):",
        "    shell.run_cell('fig = plt.figure(); plt.plot([1, 2]); open_now = len(plt.get_fignums()); plt.show()')",
        "print(shell.user_ns['matplotlib'].get_backend().lower(), shell.user_ns['open_now'],",
        "      len(shell.user_ns['plt'].get_fignums()))",
    ])
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout.splitlines()[-1] == "agg 1 0"   # one figure per cell at most, none left over
