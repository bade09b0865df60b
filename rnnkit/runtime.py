"""Runtime set-up shared by every notebook: quiet TensorFlow, seeding, device report, fast mode.

Fast mode shrinks training so that grading a notebook costs seconds. It is on under nbgrader
(which sets NBGRADER_EXECUTION while it executes a notebook) or when RNNKIT_FAST=1; a student's
own Run All trains for real. Under nbgrader figures are built but not drawn.
"""
import contextlib
import io
import logging
import os
import platform
import random
import sys
import warnings

import rnnkit  # noqa: F401  (sets the TF environment variables first)


@contextlib.contextmanager
def quiet():
    """Keep NumPy warnings, Python warnings and stray stderr writes out of a cell's stderr (nbgrader
    gives 0 to a graded cell that writes there): what the checks run, they run inside this."""
    import numpy as np
    sink = io.StringIO()
    with warnings.catch_warnings(), np.errstate(all="ignore"), contextlib.redirect_stderr(sink):
        warnings.simplefilter("ignore")
        yield sink


def is_fast():
    """True under nbgrader (autograde or validate) or when RNNKIT_FAST is set to a true value."""
    if os.environ.get("NBGRADER_EXECUTION"):
        return True
    return os.environ.get("RNNKIT_FAST", "").strip().lower() in {"1", "true", "yes", "on"}


def pick(full, fast):
    """Return `fast` in fast mode and `full` otherwise, e.g. ``epochs = pick(full=20, fast=1)``."""
    return fast if is_fast() else full


def import_tf():
    """Import TensorFlow and Keras with their Python-side warnings and logs silenced.

    Returns:
        (tf, keras): the two modules.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import tensorflow as tf
        import keras
    tf.get_logger().setLevel(logging.ERROR)
    logging.getLogger("absl").setLevel(logging.ERROR)
    # Exact float32 matmuls on Ampere+ GPUs: checks compare against NumPy-level tolerances.
    tf.config.experimental.enable_tensor_float_32_execution(False)
    return tf, keras


def import_keras():
    """Import Keras on the backend KERAS_BACKEND names (TensorFlow unless told otherwise), with
    exact float32 matrix products and quiet logs; TensorFlow itself only on its own backend.

    Returns:
        keras: the module.
    """
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    if backend == "tensorflow":
        return import_tf()[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if backend == "jax":
            import jax
            # float64 arrays stay float64 (rnnkit sets JAX_ENABLE_X64 first); matmuls not in TF32.
            jax.config.update("jax_enable_x64", True)
            jax.config.update("jax_default_matmul_precision", "highest")
        elif backend == "torch":
            import torch
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False
        import keras
    return keras


def seed_everything(seed=0):
    """Seed Python, NumPy, and Keras and its backend so that training runs repeat."""
    import numpy as np
    random.seed(seed)
    np.random.seed(seed)
    keras = import_keras()
    keras.utils.set_random_seed(seed)


def gpu_names(keras=None):
    """The names of the GPUs Keras's backend computes on ([] on a CPU-only machine)."""
    keras = keras or import_keras()
    backend = keras.backend.backend()
    if backend == "jax":
        import jax
        try:
            return [d.device_kind for d in jax.devices("gpu")]
        except RuntimeError:        # no GPU platform in this jaxlib
            return []
    if backend == "torch":
        import torch
        return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    tf, _ = import_tf()
    names = []
    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            names.append(tf.config.experimental.get_device_details(gpu).get("device_name", gpu.name))
        except Exception:  # details are best effort only
            names.append(gpu.name)
    return names


def device_report():
    """One line naming the versions, the backend and device Keras computes on, and the mode."""
    keras = import_keras()
    backend = keras.backend.backend()
    version = sys.modules[backend].__version__      # the backend's module is named after it
    gpus = gpu_names(keras)
    device = "GPU: " + ", ".join(gpus) if gpus else f"CPU ({os.cpu_count()} cores, {platform.machine()})"
    mode = "fast (grading: training shrunk)" if is_fast() else "full"
    name = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}[backend]
    backend_note = "" if backend == "tensorflow" else f" (backend {backend})"
    return (f"rnnkit {rnnkit.__version__} | Python {sys.version.split()[0]} | {name} {version}"
            f" | Keras {keras.__version__}{backend_note} | device {device} | mode {mode}")


def draw_no_figures():
    """Make figures free: the Agg backend, nothing shown, every figure closed after each cell.

    Under nbgrader nobody looks at a figure, yet drawing one costs a few tenths of a second
    (notebook 01's eleven cost about 4 s of its grading). Figures are still built, so a bug in a
    student's plotting code still fails the same way; only the rendering is skipped.
    """
    import matplotlib
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    plt.rcParams["figure.max_open_warning"] = 0
    warnings.filterwarnings("ignore", message=".*non-interactive.*cannot be shown", category=UserWarning)
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None and not getattr(shell, "_rnnkit_closes_figures", False):
        shell.events.register("post_run_cell", lambda *_: plt.close("all"))
        shell._rnnkit_closes_figures = True


def setup(seed=0, report=True):
    """Everything a notebook's first code cell needs: quiet TF, seeds, the device report, and no
    figure drawing under nbgrader (see draw_no_figures).

    Args:
        seed: int, the seed for Python, NumPy, TensorFlow and Keras.
        report: bool, print the one-line device report.

    Returns:
        (tf, keras): the imported modules.

    Example:
        >>> from rnnkit import runtime
        >>> tf, keras = runtime.setup(seed=0)   # doctest: +SKIP
        rnnkit 0.1.0 | ... | device CPU (2 cores, x86_64) | mode full
    """
    tf, keras = import_tf()
    seed_everything(seed)
    warnings.filterwarnings("ignore", category=UserWarning, module="keras")
    if os.environ.get("NBGRADER_EXECUTION"):
        draw_no_figures()
    if report:
        print(device_report())
    return tf, keras
