"""Confinement on Linux: the primitives (linux, processes), the solution sandbox, the kernel jail
and the pool of warm kernels forked from one process."""
