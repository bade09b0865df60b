"""rnnkit: the Python side of the RNN course kit.

Importing rnnkit silences TensorFlow's start-up logging *before* TensorFlow is imported anywhere,
because nbgrader gives 0 points to a graded cell that writes to stderr.
"""
import os as _os

# Must happen before the first `import tensorflow` in the process.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
_os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
_os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# On JAX, float64 arrays exist only with x64 on, which must be set before JAX is imported.
if _os.environ["KERAS_BACKEND"] == "jax":
    _os.environ.setdefault("JAX_ENABLE_X64", "1")

__version__ = "0.1.0"
__all__ = ["__version__"]
