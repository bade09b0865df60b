"""The worker's job: execute one sanitized notebook the way `nbgrader autograde` does, return plain data.

A job is a dict that crosses process (and, with Dask, machine) boundaries as JSON-able data:
    {"key": [student, assignment, notebook], "notebook": <nbformat JSON string>,
     "config": {"timeout": ..., "interrupt_on_timeout": ..., ...}, "verify": True}
The result:
    {"key": ..., "notebook": <executed JSON string> or None, "error": "" or one line,
     "phases": {"kernel start": s, "imports": s, "cells": s, "verify": s}, "host": name,
     "verified": verify.verify()'s verdicts (when asked for)}

Execution uses nbgrader's own Execute preprocessor (so cell errors, timeouts and stderr end up in
the notebook exactly as under nbgrader), with NBGRADER_EXECUTION=autograde in the kernel's
environment, in a scratch working directory. Then the same solution code runs again in a sandbox
for the verification pass (verify.py), whose verdicts come back with the result. Kernels come
from a zygote (see zygote.py) when one
is running: the coordinator starts one per machine for local workers; a Dask worker starts its
own on first use.
"""
import datetime
import os
import shutil
import socket
import tempfile
import time

_own_zygote = None      # a Dask worker's zygote, started on its first job


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


def _ensure_zygote(use_zygote):
    """Point kernels at a running zygote; start this process's own one if asked and none is set."""
    global _own_zygote
    from rnnkit.grading import zygote
    if not use_zygote:
        os.environ.pop(zygote.ENV, None)
        return
    path = os.environ.get(zygote.ENV)
    if path and os.path.exists(path):
        return
    if _own_zygote is None:
        sock = os.path.join(tempfile.mkdtemp(prefix="rnnkit-zygote-"), "zygote.sock")
        _own_zygote = zygote.Zygote(sock)
    os.environ.update(_own_zygote.env())


def execute_job(job):
    """Execute `job["notebook"]` with nbgrader's Execute preprocessor; never raises."""
    import nbformat
    from traitlets.config import Config
    from rnnkit.grading import workspace
    result = {"key": job["key"], "notebook": None, "error": "", "phases": {}, "host": socket.gethostname()}
    scratch = tempfile.mkdtemp(prefix="rnnkit-exec-")
    saved = os.environ.get("NBGRADER_EXECUTION")
    try:
        workspace.put_venv_on_path()
        _ensure_zygote(job.get("zygote", True))
        from nbgrader.preprocessors import Execute
        from rnnkit.grading.zygote import ForkKernelManager
        nb = nbformat.reads(job["notebook"], as_version=4)
        config = Config({"Execute": dict(job.get("config", {}))})
        os.environ["NBGRADER_EXECUTION"] = "autograde"    # as nbgrader sets it around execution
        started = time.time()
        source = nbformat.reads(job["notebook"], as_version=4)
        nb, _ = Execute(config=config, kernel_manager_class=ForkKernelManager)(
            nb, {"metadata": {"path": scratch}})
        result["phases"] = _phases(nb, started, time.time())
        result["notebook"] = nbformat.writes(nb)
        if job.get("verify", True):
            from rnnkit.grading.verify import verify
            t = time.time()
            result["verified"] = verify(source, job["key"][1])
            result["phases"]["verify"] = time.time() - t
    except Exception as exc:  # reported per submission; the batch goes on
        text = str(exc).strip().splitlines()
        result["error"] = f"{type(exc).__name__}: {text[-1] if text else ''}"[:300]
    finally:
        if saved is None:
            os.environ.pop("NBGRADER_EXECUTION", None)
        else:
            os.environ["NBGRADER_EXECUTION"] = saved
        shutil.rmtree(scratch, ignore_errors=True)
    return result
