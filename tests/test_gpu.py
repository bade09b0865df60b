"""The graded checks on a GPU: what a student on a GPU machine (or Colab) gets is what CI checks.

Skipped where TensorFlow sees no GPU (CI's machines have none). Where there is one:

* TF32 is off once rnnkit has imported TensorFlow (Ampere and later GPUs would otherwise do
  float32 matmuls with 10-bit mantissas, far outside the checks' tolerances);
* the notebook header names the GPU;
* every exercise's Keras/TF reference gives the same numbers on the GPU as on the CPU, within a
  tenth of that exercise's tolerance, on every visible and hidden case (so a student's NumPy
  answer that passes on a laptop passes on a GPU, cuDNN kernels included);
* every solution notebook runs top to bottom in fast mode on the GPU, every check passing.
"""
import os

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

from rnnkit import checks, runtime
from rnnkit.grading import keys, workspace
from tests.conftest import solution_path

tf, keras = runtime.import_tf()
GPUS = tf.config.list_physical_devices("GPU")
pytestmark = pytest.mark.skipif(not GPUS, reason="no GPU visible to TensorFlow")

# References that do not run a Keras/TF computation, or train a model (seconds each).
NOT_NUMERIC = ("build_captioner",)
EXERCISES = [e for notebook in workspace.assignments() for e in keys.for_notebook(notebook)
             if e.name not in NOT_NUMERIC]


def test_tf32_is_off():
    assert not tf.config.experimental.tensor_float_32_execution_enabled()


def test_header_names_the_gpu():
    assert "device GPU: " in runtime.device_report()


def _on(device, exercise, inputs):
    with tf.device(device):
        return checks._reference(exercise, inputs)[1]


@pytest.mark.parametrize("exercise", EXERCISES, ids=[e.name for e in EXERCISES])
def test_references_agree_on_cpu_and_gpu(exercise):
    for case in exercise.cases:
        inputs = checks.make_inputs(exercise, case)
        cpu, gpu = _on("/CPU:0", exercise, inputs), _on("/GPU:0", exercise, inputs)
        assert len(cpu) == len(gpu)
        for a, b in zip(cpu, gpu):
            np.testing.assert_allclose(b, a, atol=exercise.atol / 10, rtol=exercise.rtol / 10,
                                       err_msg=f"{exercise.name}, case {case.label}")


@pytest.mark.slow
@pytest.mark.parametrize("assignment", workspace.assignments())
def test_solution_notebook_passes_its_checks_on_the_gpu(assignment, monkeypatch):
    monkeypatch.setenv("RNNKIT_FAST", "1")
    nb = nbformat.read(solution_path(assignment), as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": os.path.dirname(solution_path(assignment))}}).execute()
    assert "device GPU: " in "".join(o.get("text", "") for o in nb.cells[1].outputs)
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade"):
            text = "".join(o.get("text", "") for o in cell.outputs)
            assert not any(o.output_type == "error" for o in cell.outputs), text
            assert "hidden case" in text, text
