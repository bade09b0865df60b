"""The worker's jobs: execute one sanitized notebook the way `nbgrader autograde` does, or verify
it. A job arrives, and its result leaves, as JSON-able data (records.Job, records.JobResult).

Execution uses nbgrader's own Execute preprocessor (so cell errors, timeouts and stderr end up in
the notebook exactly as under nbgrader), with NBGRADER_EXECUTION=autograde in the kernel's
environment (built explicitly: _kernel_env), in a scratch working directory; the kernel is confined (kernel_jail.py: its own uid,
rlimits, Landlock; Job.jail False to skip) and the output kept per cell is capped.
The verification pass (verifier.py) is a job of its own: the same solution code runs again in a
sandbox, beside the execution, and its verdicts come back in its result. Kernels come from a
zygote (see kernel_pool.py) when one is running: the coordinator starts one per machine for local
workers; a Dask worker starts its own on first use.
"""
import datetime
import os
import shutil
import socket
import tempfile
import time

_own_zygote = None      # a Dask worker's zygote, started on its first job
_references_fetched = False     # this process has adopted its zygote's check references
OUTPUT_CAP = 16 << 20   # bytes of output kept per cell: a flood must not fill the worker's memory
_CAPPED = "output over the grading limit"


def _seconds(stamp):
    return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def _phases(nb, started, finished):
    """Kernel start, first cell (the imports), remaining cells: from nbclient's cell timestamps."""
    spans = []
    for cell in nb.cells:
        ex = cell.get("metadata", {}).get("execution", {})
        if cell.cell_type == "code" and "iopub.execute_input" in ex and "shell.execute_reply" in ex:
            spans.append((_seconds(ex["iopub.execute_input"]), _seconds(ex["shell.execute_reply"])))
    if not spans:
        return {"kernel start": finished - started}
    first_start, first_end = spans[0]
    return {"kernel start": max(0.0, first_start - started),
            "imports": first_end - first_start,
            "cells": max(0.0, spans[-1][1] - first_end),
            "kernel stop": max(0.0, finished - spans[-1][1])}


def _pool_socket(job):
    """The socket of the warm pool (kernel_pool.py) the job's kernels come from; None for cold
    kernels. The coordinator's pool where it named one; else this process's own, started on
    first use (it prepares the check references of the notebooks in `job.prepare`)."""
    global _own_zygote
    from rnnkit.grading.isolation import kernel_pool
    if not job.warm_kernels:
        return None
    if job.pool and os.path.exists(job.pool):
        return job.pool
    if _own_zygote is None:
        sock = os.path.join(tempfile.mkdtemp(prefix="rnnkit-zygote-"), "zygote.sock")
        _own_zygote = kernel_pool.Zygote(sock, prepare=job.prepare, seed=job.seed)
    return _own_zygote.path


def _output_size(out):
    """Bytes an output adds to the notebook: stream text, or the data of a display or result."""
    if out.get("output_type") == "stream":
        return len(out.get("text", ""))
    if out.get("output_type") == "error":
        return sum(len(line) for line in out.get("traceback", [])) + len(out.get("evalue", ""))
    return sum(len(v) if isinstance(v, str) else len(str(v)) for v in out.get("data", {}).values())


# Errors an honest notebook does not raise: the jail refused something (PermissionError, a fork
# over the process limit), a limit was hit, or the cell tried to end the kernel.
_ALARMS = {"PermissionError": "refused by the grading jail", "MemoryError": "over the memory limit",
           "BlockingIOError": "over the process limit", "CellTimeoutError": "over the time limit",
           "KeyboardInterrupt": "interrupted at the time limit", "SystemExit": "tried to exit the kernel",
           "DeadKernelError": "ended the kernel"}


def _alarms(nb):
    """One-line flags for cells that met a limit or a refusal, or whose output was capped."""
    flags = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            name = out.get("ename") if out.get("output_type") == "error" else None
            if name in _ALARMS and name != "DeadKernelError":
                flags.append(f"cell {i + 1}: {name} ({_ALARMS[name]}): "
                             f"{str(out.get('evalue', ''))[:100]}".rstrip(": "))
            elif out.get("output_type") == "stream" and _CAPPED in out.get("text", ""):
                flags.append(f"cell {i + 1}: output over {OUTPUT_CAP >> 20} MB, the rest dropped")
    return flags[:5]


def _died_here(nb, index):
    """After the kernel died in cell `index`: an error in it and in every code cell after it.

    Without one, a test cell that never ran would have no error, and nbgrader would give it full
    points; with one, the notebook is graded like one whose cells raised from there on.
    """
    import nbformat
    for i, cell in enumerate(nb.cells[index:], start=index):
        if cell.cell_type != "code":
            continue
        why = ("the kernel died while this cell ran (os._exit, a crash or a signal)" if i == index
               else "not run: the kernel had died")
        cell.outputs.append(nbformat.v4.new_output("error", ename="DeadKernelError", evalue=why,
                                                   traceback=[f"DeadKernelError: {why}"]))


def _grading_execute(cap=OUTPUT_CAP):
    """nbgrader's Execute keeping at most `cap` bytes of output per cell, surviving a dead kernel,
    its kernel started with the environment `kernel_env` (a dict given to the constructor).

    nbgrader's LimitOutput trims the lines only after the whole notebook ran, with every output
    held in this process: a cell printing gigabytes would exhaust the worker first. Past the cap
    outputs are dropped as they arrive, and one stderr line says so (a graded cell that floods
    fails). A kernel that dies (os._exit in a cell) leaves the cells run so far graded and the
    others failed (`died_at` names the cell), instead of the whole submission ungraded.
    """
    import nbformat
    from nbclient.exceptions import DeadKernelError
    from nbgrader.preprocessors import Execute

    class GradingExecute(Execute):
        died_at = None

        def __init__(self, kernel_env, **kwargs):
            super().__init__(**kwargs)
            self.kernel_env = kernel_env

        # nbclient binds start_new_kernel to its own async one by name: both are given the env.
        def start_new_kernel(self, **kwargs):
            return super().start_new_kernel(**{"env": self.kernel_env, **kwargs})

        async def async_start_new_kernel(self, **kwargs):
            return await super().async_start_new_kernel(**{"env": self.kernel_env, **kwargs})

        def preprocess_cell(self, cell, resources, index):
            self._running = index
            return super().preprocess_cell(cell, resources, index)

        def preprocess(self, nb, resources=None, km=None):
            self._output_used, self._running = {}, 0
            try:
                return super().preprocess(nb, resources, km)
            except DeadKernelError:
                self.died_at = self._running
                _died_here(nb, self._running)
                return nb, resources

        def output(self, outs, msg, display_id, cell_index):
            used = self._output_used.get(cell_index, 0)
            if used > cap:
                return None
            before = len(outs)
            out = super().output(outs, msg, display_id, cell_index)
            used += sum(_output_size(o) for o in outs[before:])
            self._output_used[cell_index] = used
            if used > cap:
                del outs[before:]
                outs.append(nbformat.v4.new_output(
                    "stream", name="stderr", text=f"[{_CAPPED} ({cap >> 20} MB): the rest was dropped]\n"))
                self._output_used[cell_index] = cap + 1
            return out

    return GradingExecute


def _kernel_env(job, scratch):
    """The environment the job's kernel starts with, and its working directory.

    This worker's environment, with NBGRADER_EXECUTION=autograde (as nbgrader sets it around
    execution), the batch's seed (the hidden tests draw their cases from it, registry.hidden),
    the warm pool's socket (kernel_pool.ENV) and the jail's policy (kernel_jail.ENV), with its
    private tmp under `scratch`.
    """
    from rnnkit import registry
    from rnnkit.grading.isolation import kernel_jail, kernel_pool
    env = {k: v for k, v in os.environ.items()
           if k not in (registry.HIDDEN_SEED_VARIABLE, kernel_jail.ENV, kernel_pool.ENV)}
    env["NBGRADER_EXECUTION"] = "autograde"
    if job.seed is not None:
        env[registry.HIDDEN_SEED_VARIABLE] = str(job.seed)
    pool = _pool_socket(job)
    if pool:
        env[kernel_pool.ENV] = pool
    if not job.jail or not hasattr(os, "fork"):
        return env, scratch
    tmp = os.path.join(scratch, "tmp")
    work = os.path.join(scratch, "work")
    os.makedirs(tmp)
    os.makedirs(work)
    # The kernel's uid must reach both (access() checks, as IPython's, ignore its capabilities);
    # it still cannot list `scratch`.
    os.chmod(scratch, 0o711)
    env.update(kernel_jail.policy_env(work, tmp))
    return env, work


def run_job(job):
    """Run a job (records.Job as JSON); its records.JobResult as JSON. Never raises."""
    from rnnkit.grading.pipeline.records import Job
    job = Job.from_json(job)
    result = verify_job(job) if job.kind == "verify" else execute_job(job)
    return result.to_json()


def verify_job(job):
    """The verification pass's verdicts on `job.notebook` (verifier.py); never raises."""
    global _references_fetched
    from rnnkit.grading.pipeline.records import JobResult
    from rnnkit.grading.verify.records import Verification
    result = JobResult(job.student, job.assignment, "verify", host=socket.gethostname())
    t = time.time()
    try:
        from rnnkit.grading.isolation import kernel_pool
        from rnnkit.grading.verify.verifier import verify
        # The grader's checks use the references the warm pool prepared, once it has them.
        pool = job.pool or (_own_zygote.path if _own_zygote else None)
        _references_fetched = _references_fetched or kernel_pool.fetch_prepared(pool)
        result.verification = verify(job.notebook, job.assignment, seed=job.seed)
    except Exception as exc:
        text = str(exc).strip().splitlines()
        result.verification = Verification.failed(f"the verification run failed ({type(exc).__name__}: "
                                                  f"{text[-1] if text else ''})")
    result.phases["verify"] = time.time() - t
    return result


def execute_job(job):
    """Execute `job.notebook` with nbgrader's Execute preprocessor; never raises."""
    import nbformat
    from traitlets.config import Config
    from rnnkit.grading import workspace
    from rnnkit.grading.pipeline.records import JobResult
    result = JobResult(job.student, job.assignment, "execute", host=socket.gethostname())
    scratch = tempfile.mkdtemp(prefix="rnnkit-exec-")
    try:
        workspace.put_venv_on_path()
        from rnnkit.grading.isolation.kernel_pool import ForkKernelManager
        kernel_env, workdir = _kernel_env(job, scratch)
        nb = nbformat.reads(job.notebook, as_version=4)
        config = Config({"Execute": dict(job.config)})
        started = time.time()
        execute = _grading_execute()(kernel_env, config=config, kernel_manager_class=ForkKernelManager)
        nb, _ = execute(nb, {"metadata": {"path": workdir}})
        result.phases = _phases(nb, started, time.time())
        result.flags = _alarms(nb)
        if execute.died_at is not None:
            result.flags.append(f"the kernel died in cell {execute.died_at + 1}: "
                                "the cells from there on score 0 in the notebook")
        result.notebook = nbformat.writes(nb)
    except Exception as exc:  # reported per submission; the batch goes on
        text = str(exc).strip().splitlines()
        result.error = f"{type(exc).__name__}: {text[-1] if text else ''}"[:300]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return result
