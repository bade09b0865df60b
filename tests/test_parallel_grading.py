"""`rnnkit grade` in parallel gives the grades plain `nbgrader autograde` gives, wherever it runs.

One small batch (three students of 02_bptt and the partial 01_rnn_fundamentals) is graded by
plain sequential `nbgrader autograde` (the reference) and three times by the kit: from an LMS zip
on local workers with warm kernels; on a Dask cluster this test starts on loopback; and with cold
kernels into a PostgreSQL gradebook on a server this test starts. Every graded cell's score, and
every error a graded cell printed, must be the same.
"""
import contextlib
import io
import os
import shutil
import subprocess
import sys
import zipfile

import nbformat
import pytest

from rnnkit.grading import cli, workspace
from tests.pgserver_fixture import create_database, postgres_server, postgres_url  # noqa: F401

pytestmark = pytest.mark.slow
BATCH = [("full_marks", "02_bptt"), ("partial", "02_bptt"), ("untouched", "02_bptt"),
         ("partial", "01_rnn_fundamentals")]


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    src = tmp_path_factory.mktemp("batch")
    for student, assignment in BATCH:
        os.makedirs(src / student / assignment)
        shutil.copy(os.path.join(workspace.AUTOGRADE, "examples", student, assignment, f"{assignment}.ipynb"),
                    src / student / assignment)
    return src


def grades(root, db_url=None, ids=None):
    """(student, assignment, grade_id) -> (score, needs manual grade), and the errors of graded cells.

    `ids` maps the example students to the ids they were graded under (an LMS zip's user ids).
    """
    from nbgrader.api import Gradebook
    ids = ids or {}
    scores, errors = {}, {}
    with Gradebook(db_url or workspace.db_url(str(root))) as gb:
        for student, assignment in BATCH:
            sid = ids.get(student, student)
            nb = gb.find_submission_notebook(assignment, assignment, sid)
            for g in nb.grades:
                scores[(student, assignment, g.cell.name)] = (g.score, g.needs_manual_grade)
            path = root / "autograded" / sid / assignment / f"{assignment}.ipynb"
            for cell in nbformat.read(str(path), as_version=4).cells:
                meta = cell.metadata.get("nbgrader", {})
                if cell.cell_type == "code" and meta.get("grade"):
                    errors[(student, assignment, meta["grade_id"])] = [
                        (o.get("ename"), o.get("evalue")) for o in cell.outputs if o.output_type == "error"]
    return scores, errors


def kit(root, source, *extra):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(["grade", "--root", str(root), "--from", str(source), "--no-feedback", *extra])
    assert code == 0, out.getvalue()
    return out.getvalue()


@pytest.fixture(scope="module")
def plain(course_root, source):
    """The reference: nbgrader's own command line, one assignment after another, cold kernels."""
    root = course_root("plain")
    shutil.copytree(source, root / "submitted")
    for assignment in sorted({a for _, a in BATCH}):
        done = subprocess.run(["nbgrader", "autograde", assignment, "--force"], cwd=root,
                              capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stderr[-2000:]
    return grades(root)


@pytest.fixture(scope="module")
def local(course_root, source, tmp_path_factory):
    """A Canvas-style download (lastfirst_<id>_<submission>_<file>) graded on two local workers."""
    zpath = tmp_path_factory.mktemp("lms") / "submissions.zip"
    ids = {}
    with zipfile.ZipFile(zpath, "w") as z:
        for student, assignment in BATCH:
            ids.setdefault(student, str(1000 + len(ids)))
            z.write(source / student / assignment / f"{assignment}.ipynb",
                    f"{student.replace('_', '')}_{ids[student]}_777_{assignment}.ipynb")
    root = course_root("local")
    return root, kit(root, zpath, "--jobs", "2"), grades(root, ids=ids)


def test_plain_nbgrader_reference_is_not_trivial(plain):
    scores, errors = plain
    assert len(scores) >= 10
    assert {s for s, _ in scores.values()} >= {0.0}
    assert any(s > 0 for s, _ in scores.values())
    assert any(errors.values())


def test_local_parallel_grades_of_a_zip_equal_plain_nbgrader(plain, local):
    assert "collected 4 notebooks from submissions.zip" in local[1]
    assert local[2] == plain


def test_grade_reports_workers_progress_and_phases(local):
    out = local[1]
    assert "grading 4 submissions on 2 local workers, warm kernels" in out
    assert "4/4 done" in out
    assert "mean time per submission: prepare" in out and "cells" in out and "record" in out
    assert "graded 4 of 4 submissions (0 invalid, 0 failed to grade)" in out


def test_class_report_is_written(local):
    html = (local[0] / "class_report.html").read_text(encoding="utf-8")
    assert "02_bptt" in html and "<svg" in html


def test_dask_cluster_on_loopback_gives_the_same_grades(course_root, source, plain):
    distributed = pytest.importorskip("distributed")
    root = course_root("dask")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None, silence_logs=50) as cluster:
        out = kit(root, source, "--scheduler", cluster.scheduler_address)
    assert f"Dask scheduler {cluster.scheduler_address} (2 workers)" in out
    assert grades(root) == plain


def test_cold_kernels_and_a_postgresql_gradebook_give_the_same_grades(course_root, source, plain,
                                                                      postgres_url):  # noqa: F811
    """Kernels started the ordinary way, one worker, and nbgrader's db_url on a PostgreSQL server."""
    from tests.pgserver_fixture import database_url
    create_database(postgres_url, "kit_gradebook")
    url = database_url(postgres_url, "kit_gradebook")
    root = course_root("postgres")
    (root / "gradebook.db").unlink()       # the assignments are recorded in PostgreSQL by the command
    out = kit(root, source, "--db-url", url, "--jobs", "1", "--cold")
    assert "on 1 local worker" in out and "warm kernels" not in out
    assert not (root / "gradebook.db").exists()
    assert grades(root, db_url=url) == plain


def test_bad_zip_is_reported_in_one_line(tmp_path):
    bad = tmp_path / "download.zip"
    bad.write_bytes(b"not a zip at all")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(["grade", "--root", str(tmp_path), "--from", str(bad)])
    assert code == 1
    assert out.getvalue().startswith("cannot read submissions:") and "download.zip" in out.getvalue()
    assert len(out.getvalue().strip().splitlines()) == 1


@pytest.mark.parametrize("value", ["0", "-2", "two"])
def test_jobs_must_be_a_positive_integer(value, capsys):
    with pytest.raises(SystemExit):
        cli.main(["grade", "--jobs", value])
    assert f"expected a positive integer, got '{value}'" in capsys.readouterr().err


def test_later_notebooks_are_queued_first_with_each_submissions_jobs_side_by_side():
    """Longest first: the batch must not end on one long notebook while other workers idle."""
    from rnnkit.grading.pipeline import autograde
    from rnnkit.grading.pipeline.records import Job
    queue = []
    for student, assignment in [("a", "01_rnn_fundamentals"), ("b", "06_image_captioning"),
                                ("c", "02_bptt"), ("d", "06_image_captioning")]:
        queue += [Job(student, assignment, "{}"), Job(student, assignment, "{}", kind="verify")]
    ordered = autograde._heaviest_first(queue)
    assert [(j.student, j.kind) for j in ordered] == [
        ("b", "execute"), ("b", "verify"), ("d", "execute"), ("d", "verify"),
        ("c", "execute"), ("c", "verify"), ("a", "execute"), ("a", "verify")]


def test_jobs_and_results_travel_as_json_and_join_in_either_order():
    """A Job and a JobResult survive their JSON form; a submission's two results join whichever
    comes first; a verify half that failed leaves a failed verification, naming why."""
    import json
    from rnnkit.grading.pipeline.records import Job, JobResult
    from rnnkit.grading.verify.records import Verdict, Verification
    job = Job("s1", "02_bptt", "{}", config={"timeout": 30}, seed=7, warm_kernels=False)
    assert Job.from_json(json.loads(json.dumps(job.to_json()))) == job
    with pytest.raises(ValueError, match="a job's kind is one of .*, got 'grade'"):
        Job("s1", "02_bptt", "{}", kind="grade")
    checked = Verification({"rnn_backward": Verdict("rnn_backward", 0, 3, mistake="dh0 swapped")})
    ran = JobResult("s1", "02_bptt", notebook="{}", phases={"cells": 2.0}, flags=["x"])
    verified = JobResult("s1", "02_bptt", "verify", phases={"verify": 1.0}, verification=checked)
    assert JobResult.from_json(json.loads(json.dumps(verified.to_json()))) == verified
    for first, second in [(ran, verified), (verified, ran)]:
        joined = JobResult.joined(first, second)
        assert (joined.kind, joined.notebook, joined.flags) == ("execute", "{}", ["x"])
        assert joined.phases == {"cells": 2.0, "verify": 1.0} and joined.verification == checked
    broken = JobResult.failed(Job("s1", "02_bptt", "{}", kind="verify"), "grading worker failed: boom")
    joined = JobResult.joined(ran, broken)
    assert joined.notebook == "{}" and joined.verification.verdicts == {}
    assert joined.verification.error == "the verification run failed (grading worker failed: boom)"
    assert JobResult.joined(None, verified).error == "no execution result"


def test_a_jobs_settings_reach_its_kernel_without_touching_the_workers_environment():
    """The kernel starts with NBGRADER_EXECUTION=autograde and the batch's seed, built for it
    alone: the worker's own environment is the same after the job as before."""
    import json
    from rnnkit import registry
    from rnnkit.grading.pipeline import execute
    from rnnkit.grading.pipeline.records import Job, JobResult
    code = ("import os\n"
            f"print(os.environ.get('NBGRADER_EXECUTION'), os.environ.get('{registry.HIDDEN_SEED_VARIABLE}'))")
    notebook = nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)]))
    before = dict(os.environ)
    for seed, expected in [(11, "autograde 11"), (None, "autograde None")]:
        job = Job("s1", "02_bptt", notebook, config={"timeout": 60}, seed=seed, warm_kernels=False,
                  jail=False)
        result = JobResult.from_json(json.loads(json.dumps(execute.run_job(job.to_json()))))
        assert result.error == "" and result.notebook, result.error
        cell = nbformat.reads(result.notebook, as_version=4).cells[0]
        assert "".join(o.get("text", "") for o in cell.outputs).strip() == expected
        assert dict(os.environ) == before


def test_grading_processes_skip_an_unused_slow_import_and_still_validate_notebooks():
    """The CLI keeps jsonschema from compiling rfc3987_syntax's grammars; validation still works."""
    code = """
import sys
from rnnkit.grading import cli
try:
    cli.main(["--help"])
except SystemExit:
    pass
import nbformat
nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")])
nbformat.validate(nb)
nb.cells[0]["bogus"] = 1
try:
    nbformat.validate(nb)
    print("invalid notebook accepted")
except nbformat.ValidationError:
    pass
print("loaded" if sys.modules.get("rfc3987_syntax") is not None else "skipped")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split()[-1] == "skipped" and "accepted" not in out, out


def _environment(name):
    return os.environ.get(name)


def _imported(name):
    return name in sys.modules


def test_local_workers_fork_from_a_preloaded_server_with_the_graders_environment(monkeypatch):
    """Workers come from a forkserver that imported TensorFlow once; it outlives a batch and
    keeps the environment it started with, so each worker must take the one the grader built."""
    from rnnkit.grading.pipeline import autograde
    workers = autograde._LocalWorkers.__new__(autograde._LocalWorkers)
    workers.jobs, workers.sandbox, workers.context = 1, None, autograde._worker_context()
    assert workers.context.get_start_method() == "forkserver"
    for mark in ("first", "second"):
        monkeypatch.setenv("RNNKIT_TEST_MARK", mark)
        workers.env = dict(os.environ)
        pool = workers._new_pool()
        try:
            assert pool.submit(_environment, "RNNKIT_TEST_MARK").result(timeout=120) == mark
            assert pool.submit(_imported, "tensorflow").result(timeout=120)
            assert pool.submit(os.getppid).result(timeout=120) != os.getpid()   # the forkserver's
        finally:
            pool.shutdown()
