"""Autograde a batch: notebooks execute in parallel, one process writes the gradebook.

nbgrader's `autograde` does three things per notebook: sanitize it (restore the locked cells from
the gradebook), execute it, and record the grades. Only the middle one is expensive, and only the
last one writes. So:

    prepare   (this process)  nbgrader's own sanitize preprocessors -> the notebook to execute
    execute   (workers)       nbgrader's Execute preprocessor, in kernels forked from a zygote
                              (execute.py); local processes by default, or a Dask cluster;
                              the verification pass (verifier.py) is a second job per notebook,
                              run beside the first
    record    (this process)  nbgrader's autograde with Execute replaced by the executed
                              notebook (Replay): the same SaveAutoGrades, late penalties and
                              autograded/ file as plain `nbgrader autograde`; then feedback

This process is the gradebook's single writer: workers never open it. A submission whose
execution or recording fails is reported with a one-line reason; the batch goes on.
"""
import os
import time
from dataclasses import dataclass, field, replace

from rnnkit.grading import workspace
from rnnkit.grading.pipeline import case_seeds
from rnnkit.grading.pipeline.records import Job, JobResult


def confinement():
    """One line naming the protections this machine gives the batch's kernels and verification
    runs and those it cannot, found by trying them (rnnkit.grading.isolation.summary)."""
    from rnnkit.grading.isolation import summary
    return summary.describe(*summary.probe())


@dataclass
class Outcome:
    student: str
    assignment: str
    ok: bool
    problem: str = ""
    phases: dict = field(default_factory=dict)    # phase name -> seconds, for the bench and notes
    flags: list = field(default_factory=list)     # for the instructor: verified score differs...
    verified: dict = field(default_factory=dict)  # exercise -> (in-notebook, verified) points
    verdicts: dict = field(default_factory=dict)  # exercise -> its verify.records.Verdict
    seed: int = None                              # the batch's seed: its hidden cases (case_seeds)


def _last_line(text):
    lines = [l for l in (text or "").strip().splitlines() if l.strip()]
    return lines[-1].strip()[:200] if lines else "unknown error"


# ---------------------------------------------------------------------------------------------
# prepare
# ---------------------------------------------------------------------------------------------

class _Pipeline:
    """nbgrader's Autograde converter settings for the workspace at `root`, loaded once."""

    def __init__(self, root, db_url):
        from nbgrader.converters import Autograde
        from nbgrader.coursedir import CourseDirectory
        from nbgrader.preprocessors import Execute
        self.root = root
        self.config = workspace.load_config(root, db_url)
        self.coursedir = CourseDirectory(config=self.config)
        converter = Autograde(coursedir=self.coursedir, config=self.config)
        self.sanitizers = list(converter.sanitize_preprocessors)
        self.after_execute = list(converter.autograde_preprocessors)
        if Execute not in self.after_execute:
            raise RuntimeError("nbgrader_config.py: Autograde.autograde_preprocessors has no Execute")
        self.execute_config = {k: v for k, v in self.config.get("Execute", {}).items()}

    def sanitize(self, student, assignment, path):
        """The notebook nbgrader would execute for this submission (JSON text)."""
        from nbconvert.exporters import NotebookExporter
        exporter = NotebookExporter(config=self.config)
        for pp in self.sanitizers:
            exporter.register_preprocessor(pp, enabled=True)
        notebook = os.path.splitext(os.path.basename(path))[0]
        resources = {"unique_key": notebook, "output_files_dir": f"{notebook}_files",
                     "nbgrader": {"student": student, "assignment": assignment, "notebook": notebook,
                                  "db_url": self.coursedir.db_url}}
        output, _ = exporter.from_filename(path, resources=resources)
        return output

    def recording_preprocessors(self):
        from nbgrader.preprocessors import Execute
        return [_replay_class() if pp is Execute else pp for pp in self.after_execute]


# ---------------------------------------------------------------------------------------------
# record
# ---------------------------------------------------------------------------------------------

_EXECUTED = {}      # (student, assignment, notebook) -> executed NotebookNode, consumed by Replay


_REPLAY = []        # the Replay class, made once nbgrader is imported


def _replay_class():
    if _REPLAY:
        return _REPLAY[0]
    from nbgrader.preprocessors import NbGraderPreprocessor

    class Replay(NbGraderPreprocessor):
        """Stands where nbgrader's Execute stands: hands over the notebook a worker executed."""

        def preprocess(self, nb, resources):
            meta = resources["nbgrader"]
            key = (meta["student"], meta["assignment"], meta["notebook"])
            executed = _EXECUTED.pop(key, None)
            if executed is None:
                raise RuntimeError(f"no executed notebook for {key}")
            # The cells executed must be the cells nbgrader sanitized now (the gradebook's
            # locked cells could have changed in between).
            if [c.source for c in nb.cells] != [c.source for c in executed.cells]:
                raise RuntimeError("the assignment's locked cells changed while grading: grade again")
            return executed, resources

    _REPLAY.append(Replay)
    return Replay


def apply_verification(db_url, student, assignment, verification, scores=None):
    """Make the verified points count where they differ from the in-notebook ones.

    Args:
        verification: the pass's verify.records.Verification.
        scores: a dict to fill with {exercise name: (in-notebook points, verified points)}
            for each verified exercise the gradebook holds a grade of.

    Returns one-line flags: each exercise whose score changed, each that could not be verified
    (verifier.Unverifiable), a failed verification run, and solution cells that do what honest
    ones do not (verifier.suspicious).
    """
    from nbgrader.api import Gradebook, MissingEntry
    from rnnkit.grading import keys
    flags = []
    if verification.error:
        flags.append(f"verification: {verification.error}")
    flags += [f"suspicious: {s}" for s in verification.suspicious]
    scores = {} if scores is None else scores
    with Gradebook(db_url) as gb:
        for e in keys.for_notebook(assignment):
            v = verification.verdicts.get(e.name)
            if v and v.unverified:
                flags.append(f"{e.name}: not verified, the in-notebook score stands "
                             f"({v.unverified[:160]})")
            if not v or not v.verified:
                continue
            try:
                grade = gb.find_grade(e.grade_id, assignment, assignment, student)
            except MissingEntry:
                continue
            if grade.auto_score is not None:
                scores[e.name] = (grade.auto_score, v.points)
            if grade.auto_score is None or abs(grade.auto_score - v.points) < 1e-9:
                continue
            why = v.message.splitlines()
            flags.append(f"{e.name}: in-notebook {grade.auto_score:g}/{e.points}, verified "
                         f"{v.points:g}/{e.points} ({(why[-1] if len(why) > 1 else why[0]).strip()[:140]})")
            grade.auto_score = v.points
        gb.db.commit()
    return flags


def _record(pipeline, nbapi, result, feedback, outcome):
    """Grades of one executed notebook (a records.JobResult) into the gradebook (+ feedback);
    returns '' or a reason."""
    import nbformat
    student, assignment = result.key
    notebook = assignment
    _EXECUTED[(student, assignment, notebook)] = nbformat.reads(result.notebook, as_version=4)
    try:
        with workspace.silenced():
            done = nbapi.autograde(assignment, student, force=True, create=True)
        if not done["success"]:
            return "autograde failed: " + _last_line(done.get("error") or done.get("log"))
    finally:
        _EXECUTED.pop((student, assignment, notebook), None)
    if result.verification is not None:
        outcome.verdicts = dict(result.verification.verdicts)
        outcome.flags += apply_verification(pipeline.coursedir.db_url, student, assignment,
                                            result.verification, scores=outcome.verified)
    case_seeds.record(pipeline.coursedir.db_url, student, assignment, outcome.seed)
    if feedback:
        with workspace.silenced():
            fb = nbapi.generate_feedback(assignment, student, force=True)
        if not fb["success"]:
            return "feedback failed: " + _last_line(fb.get("error") or fb.get("log"))
    return ""


# ---------------------------------------------------------------------------------------------
# execute: where the workers are
# ---------------------------------------------------------------------------------------------

def usable_cores():
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def default_jobs():
    """Notebooks executed at once: one per usable core, and one more.

    A worker leaves its core idle while it waits (for a kernel to start, for a result to
    travel, for the sandbox to fork); one worker more than there are cores fills those gaps.
    On 2 cores, 24 submissions: 2 workers left the cores 12% idle and took 88-91 s; 3 workers,
    3% and 84 s; 4 workers, 90 s (make bench figures in the notes of issue 8).
    """
    return usable_cores() + 1


class _LocalWorkers:
    """Worker processes on this machine, sharing one zygote.

    Everything starts at once and in the background (the zygote, the one sandbox server of the
    verification pass, the workers' imports) while the coordinator prepares the notebooks; run()
    waits for the zygote and the sandbox server.
    """

    def __init__(self, jobs, use_zygote, verify=True, notebooks=(), seed=None):
        """notebooks: the assignments of the batch (the zygote prepares the check references of
        their hidden cases, drawn for `seed`)."""
        import tempfile
        from rnnkit.grading.isolation import kernel_pool
        # Kernels share the cores: one TensorFlow thread pool of all cores per kernel oversubscribes.
        # The workers, the zygote (its references are computed with the kernels' setting) and the
        # sandbox start with it.
        self.env = dict(os.environ)
        self.env.setdefault("TF_NUM_INTRAOP_THREADS", str(max(1, usable_cores() // jobs)))
        threads = {"TF_NUM_INTRAOP_THREADS": self.env["TF_NUM_INTRAOP_THREADS"]}
        self.zygote = None
        if use_zygote and hasattr(os, "fork"):
            socket_path = os.path.join(tempfile.mkdtemp(prefix="rnnkit-zygote-"), "z.sock")
            self.zygote = kernel_pool.Zygote(socket_path, wait=False, prepare=notebooks, seed=seed,
                                             env=self.env)
        self.jobs = jobs
        self.sandbox = None
        if verify:      # one sandbox server for all the workers (the verification pass)
            from rnnkit.grading.isolation import solution_sandbox
            from rnnkit.grading.verify import verifier
            self.sandbox = solution_sandbox.Sandbox(verifier.PRELOAD, wait=False,
                                                    env={"NBGRADER_EXECUTION": "autograde", **threads})
        self.context = _worker_context()
        # Spawned workers import what they need as they start: start them now, so that this
        # overlaps the batch's preparation. Forked ones start at once, but only after the
        # forkserver has imported everything: in run(), not to block this process meanwhile.
        self.pool = self._new_pool() if self.context.get_start_method() == "spawn" else None
        self.warm = self.zygote is not None     # what the jobs ask for (records.Job.warm_kernels)
        self.pool_socket = self.zygote and self.zygote.path     # and where from (Job.pool)
        self.where = f"{jobs} local worker{'s' * (jobs > 1)}" + (", warm kernels" if self.zygote else "")

    def _new_pool(self):
        import concurrent.futures
        pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=self.jobs, mp_context=self.context, initializer=_quiet_worker,
            initargs=(self.sandbox and self.sandbox.control, self.env))
        for _ in range(self.jobs):      # a pool starts its processes as work arrives: start them now
            pool.submit(int)
        return pool

    def run(self, jobs):
        import concurrent.futures
        from concurrent.futures.process import BrokenProcessPool
        if self.zygote:
            self.zygote.wait()
        if self.sandbox:
            self.sandbox.wait()
        if self.pool is None:
            self.pool = self._new_pool()
        pending = list(jobs)
        for attempt in range(2):        # a worker process that dies takes its pool down: one retry
            futures = {self.pool.submit(_execute, job.to_json()): job for job in pending}
            pending = []
            for future in concurrent.futures.as_completed(futures):
                if attempt == 0 and isinstance(future.exception(), BrokenProcessPool):
                    pending.append(futures[future])
                    continue
                yield _result_of(future, futures[future])
            if not pending:
                return
            self.pool.shutdown(cancel_futures=True)
            self.pool = self._new_pool()

    def close(self):
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
        if self.sandbox:
            self.sandbox.close()
        if self.zygote:
            self.zygote.close()


def _worker_context():
    """The multiprocessing context local workers start from: the forkserver where there is one.

    Workers then fork from a server that imported what they need once (worker_preload). It is
    started here, and imports while the grader prepares the batch. It lives as long as this
    process and keeps the environment it started with, so each worker is handed the one it
    starts with (the grader's, with TensorFlow's threads: _quiet_worker).
    """
    import multiprocessing
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    from multiprocessing import forkserver
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["rnnkit.grading.pipeline.worker_preload"])
    forkserver.ensure_running()
    return context


class _DaskWorkers:
    """The workers of a running Dask distributed scheduler; each starts its own zygote."""

    def __init__(self, address, use_zygote, notebooks=()):
        try:
            from distributed import Client
        except ImportError:
            raise SystemExit("--scheduler needs Dask: pip install 'distributed'")
        self.client = Client(address, timeout="20s")
        self.warm = use_zygote      # each worker starts its own pool on its first job
        self.pool_socket = None
        self.notebooks = list(notebooks)    # what each worker's own zygote prepares
        n = len(self.client.scheduler_info().get("workers", {}))
        self.where = f"Dask scheduler {address} ({n} worker{'s' * (n != 1)})"

    def run(self, jobs):
        from distributed import as_completed
        futures = {}
        for job in jobs:
            own = replace(job, prepare=self.notebooks)
            futures[self.client.submit(_execute, own.to_json(), pure=False)] = job
        for future in as_completed(futures):
            yield _result_of(future, futures[future])

    def close(self):
        self.client.close()


def _quiet_worker(sandbox_control=None, environment=None):
    """Set up a local worker: it dies with the grader, and its kernels' chatter stays off the report.

    Its verification runs go to the coordinator's sandbox server (`sandbox_control`, when given);
    `environment` is the one the coordinator built for its workers, which it takes as its own
    (a worker forked from the forkserver would otherwise have the forkserver's). It also warms up while the coordinator
    prepares the batch: the modules its jobs import (already there when forked from the
    forkserver, see worker_preload).
    """
    if environment is not None:
        os.environ.clear()
        os.environ.update(environment)
    from rnnkit.grading import startup
    from rnnkit.grading.isolation.processes import die_with_parent
    startup.skip_unused_imports()
    die_with_parent()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)
    if sandbox_control is not None:
        from rnnkit.grading.isolation import solution_sandbox
        from rnnkit.grading.verify import verifier
        solution_sandbox.adopt(sandbox_control, verifier.PRELOAD)
    try:        # a failure here is met again, and reported, by the first job
        from rnnkit.grading.pipeline import execute  # noqa: F401  (nbclient, nbgrader, the kernel manager)
        if sandbox_control is not None:        # the verdicts are reached with Keras, here
            from rnnkit.runtime import import_tf
            import_tf()
            from rnnkit.grading import keys  # noqa: F401
    except Exception:
        pass


def _execute(job):
    from rnnkit.grading.pipeline.execute import run_job
    return run_job(job)


def _result_of(future, job):
    """The records.JobResult of `job` from its finished future; never raises."""
    try:
        data = future.result()
    except Exception as exc:  # the worker itself died (not the kernel): report, go on
        return JobResult.failed(job, f"grading worker failed: {type(exc).__name__}: {exc}")
    try:
        return JobResult.from_json(data)
    except (ValueError, TypeError) as exc:
        return JobResult.failed(job, f"its result could not be read ({exc})")


# ---------------------------------------------------------------------------------------------
# the batch
# ---------------------------------------------------------------------------------------------

def grade(submissions, root=workspace.AUTOGRADE, feedback=True, progress=None,
          jobs=None, scheduler=None, use_zygote=True, verify=True, cell_timeout=None, seed=None,
          db_url=None):
    """Autograde every gradable submission; forget gradebook rows of those that are not.

    Args:
        submissions: intake.Submission list, already staged under root/submitted/.
        root: the nbgrader course root.
        feedback: also write feedback HTML.
        progress: called as progress(done, total, failed) after each submission, and
            progress(0, total, 0, where=...) once before the first.
        jobs: notebooks executed at once on this machine (default: default_jobs(), one per core
            and one more).
        scheduler: a Dask scheduler address; workers there execute instead of local ones.
        use_zygote: fork warm kernels (False: a cold kernel per notebook, as nbgrader does).
        verify: run the verification pass (verifier.py); where its points differ from the
            in-notebook ones, they replace them in the gradebook and the submission is flagged.
        cell_timeout: seconds a cell may run before it is interrupted (default: nbgrader's
            Execute.timeout from the configuration).
        seed: the batch's seed: the hidden cases, in the notebooks' hidden tests and in the
            verification pass, are drawn from it (default: a fresh one). Each Outcome and the
            gradebook (case_seeds) keep it, so that `seed=` grades the same cases again.
        db_url: the gradebook's database URL (default: the workspace's, see workspace.load_config).

    Returns:
        A list of Outcome, one per gradable submission, in the order of `submissions`.
    """
    root = os.path.abspath(root)
    db_url = workspace.db_url(root, db_url)
    seed = case_seeds.new_seed() if seed is None else int(seed)
    gradable = [s for s in submissions if s.ok]
    workers = None
    if gradable:    # the workers start first: their start-up overlaps everything up to the queue
        notebooks = sorted({s.assignment for s in gradable})
        workers = (_DaskWorkers(scheduler, use_zygote, notebooks) if scheduler
                   else _LocalWorkers(jobs or default_jobs(), use_zygote, verify, notebooks, seed))
    try:
        from nbgrader.api import Gradebook, MissingEntry
        with Gradebook(db_url) as gb:
            for s in submissions:
                gb.update_or_create_student(s.student)
                if not s.ok:  # an earlier, now replaced, submission must not keep its score
                    try:
                        gb.remove_submission(s.assignment, s.student)
                    except MissingEntry:
                        pass
                    case_seeds.forget(db_url, s.student, s.assignment)
        if not gradable:
            return []
        outcomes = {(s.student, s.assignment): Outcome(s.student, s.assignment, False, seed=seed)
                    for s in gradable}
        pipeline = _Pipeline(root, db_url)
        if cell_timeout is not None:
            pipeline.execute_config["timeout"] = cell_timeout
        return _grade_batch(pipeline, workers, root, gradable, outcomes, feedback, progress, verify, seed)
    finally:
        if workers is not None:
            workers.close()


def _heaviest_first(queue):
    """The jobs with later notebooks first, as they train bigger models (06 costs ten times 02).

    Workers take jobs in queue order; with the longest ones started first, the batch does not
    end with one worker still busy on a long notebook while the others have nothing left.
    The sort is stable: a submission's execute and verify jobs stay side by side.
    """
    order = {name: i for i, name in enumerate(workspace.assignments())}
    return sorted(queue, key=lambda job: -order.get(job.assignment, 0))


def _grade_batch(pipeline, workers, root, gradable, outcomes, feedback, progress, verify, seed):
    queue = []
    for s in gradable:
        t = time.perf_counter()
        path = os.path.join(root, "submitted", s.student, s.assignment, f"{s.assignment}.ipynb")
        try:
            notebook = pipeline.sanitize(s.student, s.assignment, path)
        except Exception as exc:
            outcomes[(s.student, s.assignment)].problem = "autograde failed: " + _last_line(str(exc))
            continue
        outcomes[(s.student, s.assignment)].phases["prepare"] = time.perf_counter() - t
        queue.append(Job(s.student, s.assignment, notebook, config=dict(pipeline.execute_config),
                         seed=seed, warm_kernels=workers.warm, pool=workers.pool_socket))
        if verify:      # a job of its own, so that the two halves of one notebook run side by side
            queue.append(Job(s.student, s.assignment, notebook, kind="verify", seed=seed,
                             pool=workers.pool_socket))

    queue = _heaviest_first(queue)
    from rnnkit.grading.reports.feedback import FeedbackExporter
    nbapi = workspace.api(root, pipeline.coursedir.db_url, Autograde__autograde_preprocessors=pipeline.recording_preprocessors(),
                          GenerateFeedback__exporter_class=FeedbackExporter)
    done = failed = len(gradable) - sum(job.kind != "verify" for job in queue)
    halves = {}         # (student, assignment) -> the first result of its two jobs
    if progress:
        progress(done, len(gradable), failed, where=workers.where)
    for part in workers.run(queue):
        if verify and part.key not in halves:
            halves[part.key] = part
            continue
        result = JobResult.joined(halves.pop(part.key, None), part)
        outcome = outcomes[part.key]
        outcome.phases.update(result.phases)
        outcome.flags += result.flags
        if result.notebook is None:
            outcome.problem = "autograde failed: " + result.error
        else:
            t = time.perf_counter()
            problem = _record(pipeline, nbapi, result, feedback, outcome)
            outcome.phases["record"] = time.perf_counter() - t
            outcome.ok = not problem.startswith("autograde failed")
            outcome.problem = problem
        done += 1
        failed += not outcome.ok
        if progress:
            progress(done, len(gradable), failed)
    return [outcomes[(s.student, s.assignment)] for s in gradable]
