"""Automatic differentiation on whichever backend Keras runs (KERAS_BACKEND): what the gradient
references of rnnkit.reference use instead of a TensorFlow-only GradientTape.

    vjp(fn, primals, cotangent)   the gradients of sum(cotangent * fn(*primals)) with respect to
                                  each primal, as NumPy arrays
    jacobian_rows(fn, x, H)       d out[n, i] / d x[n, ...] for every unit i of an (N, H) output
                                  whose batch rows do not depend on each other

`fn` takes and returns backend tensors and is written with keras.ops and Keras layers called
statelessly (Layer.stateless_call), so the same code differentiates on TensorFlow, JAX and PyTorch.

Example:
    >>> import numpy as np
    >>> from keras import ops
    >>> vjp(lambda a: ops.square(a), [np.array([1.0, 2.0])], np.ones(2))
    [array([2., 4.])]
"""
import numpy as np

from rnnkit.runtime import import_keras


def _numpy(t):
    if t is None:
        return None
    if hasattr(t, "detach"):                 # torch
        return t.detach().cpu().numpy()
    return np.asarray(t)


def vjp(fn, primals, cotangent):
    """Gradients of sum(cotangent * fn(*primals)) with respect to each of `primals`.

    Args:
        fn: a function of len(primals) tensors returning one tensor.
        primals: list of arrays, the point of differentiation (float64 stays float64 where the
            backend computes in it).
        cotangent: array of fn's output shape (a scalar for a scalar output).

    Returns:
        list of arrays, one per primal, of its shape; zeros where fn does not depend on it.
    """
    keras = import_keras()
    backend = keras.backend.backend()
    primals = [np.asarray(p) for p in primals]
    if backend == "tensorflow":
        import tensorflow as tf
        xs = [tf.constant(p) for p in primals]
        with tf.GradientTape() as tape:
            tape.watch(xs)
            out = fn(*xs)
        grads = tape.gradient(out, xs, output_gradients=tf.cast(tf.constant(cotangent), out.dtype))
    elif backend == "jax":
        import jax
        import jax.numpy as jnp
        out, pull = jax.vjp(fn, *[jnp.asarray(p) for p in primals])
        grads = pull(jnp.asarray(cotangent, out.dtype))
    elif backend == "torch":
        import torch
        xs = [keras.ops.convert_to_tensor(p).detach().requires_grad_(p.dtype.kind == "f") for p in primals]
        out = fn(*xs)
        wanted = [x for x in xs if x.requires_grad]
        found = iter(torch.autograd.grad(out, wanted, allow_unused=True,
                                         grad_outputs=torch.as_tensor(cotangent, dtype=out.dtype, device=out.device)))
        grads = [next(found) if x.requires_grad else None for x in xs]
    else:
        raise ValueError(f"expected KERAS_BACKEND tensorflow, jax or torch, got {backend!r}")
    return [np.zeros_like(p) if g is None else _numpy(g).astype(p.dtype, copy=False)
            for g, p in zip(grads, primals)]


def jacobian_rows(fn, x, units):
    """J[n, i] = d fn(x)[n, i] / d x[n]: the Jacobian of an (N, units) output with respect to an
    input whose batch rows are independent (row n of the output depends on row n of x only), one
    vjp per unit.

    Returns:
        array (N, units, *x.shape[1:]).
    """
    x = np.asarray(x)
    rows = []
    for i in range(units):
        cotangent = np.zeros((x.shape[0], units), x.dtype)
        cotangent[:, i] = 1.0
        rows.append(vjp(fn, [x], cotangent)[0])
    return np.stack(rows, axis=1)
