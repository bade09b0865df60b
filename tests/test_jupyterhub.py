"""A real JupyterHub course: a hub and its proxy on loopback, one instructor and two students as
unix users (homes at mode 700), configured by deploy/jupyterhub/ as it is.

Everything a person does in a browser is done over HTTP through the proxy, with the cookies and
xsrf tokens a browser would send: each logs in with their unix password and starts their server
through the hub's REST API; the instructor generates and releases 02_bptt with formgrader; ada
fetches it, saves a complete notebook and submits, bob saves a partial one and submits (both from
the Assignments tab's handlers); the instructor collects with formgrader, grades with
`rnnkit grade` run as the instructor's unix user, and releases the feedback; each student fetches
their feedback and reads their own score. A kernel each student starts over the websocket reports
what that student can import and read.

Outcomes are asserted, not HTTP statuses: formgrader answers 200 with "success": false when it
fails, and the Assignments handlers swallow errors.

The students' servers run a student environment as a student image installs it: the rnnkit wheel
(the student package only) and its dependencies, with nothing of the instructor's side.
"""
import contextlib
import glob
import grp
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import uuid

import nbformat
import pytest

from rnnkit.grading import keys, workspace
from tests import unix_users
from tests.conftest import ROOT
from tests.test_cheats import confinement_line

pytestmark = [pytest.mark.slow, pytest.mark.hub]
# Where users can be made (root, as CI runs) the hub test runs; jupyterhub and the proxy are the
# [test] extra's, so their absence is a failure, not a reason to skip.
_why_not = unix_users.cannot_make_users()
if _why_not:
    pytestmark.append(pytest.mark.skip(reason=_why_not))

A = "02_bptt"
COURSE = "rnn-course"
CONFIG = os.path.join(ROOT, "deploy", "jupyterhub", "jupyterhub_config.py")
INSTRUCTOR, STUDENTS, GROUP = "rnn-teacher", ("rnn-ada", "rnn-bob"), "rnn-students"
WORK = {"rnn-ada": "full_marks", "rnn-bob": "partial"}
FULL = float(sum(e.points for e in keys.for_notebook(A)))
KIT_PREFIX = sys.prefix          # the instructor's environment: the kit's checkout after make install
KIT_BIN = os.path.join(KIT_PREFIX, "bin")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _student_env(base):
    """A virtual environment as a student image installs it: the rnnkit wheel and its dependencies.

    The dependencies are the kit's, borrowed read-only through a folder of links that leaves out
    the kit's own editable installs (rnnkit and the instructor's rnnkit-grading) and every .pth file.
    """
    from rnnkit.grading.release import bundle
    wheel = bundle.build_wheel(str(base / "wheel"))
    deps = base / "deps"
    deps.mkdir()
    kit_site = sysconfig.get_paths()["purelib"]
    for name in os.listdir(kit_site):
        if name.startswith(("rnnkit", "__editable__", "_rnnkit")) or name.endswith(".pth"):
            continue
        os.symlink(os.path.join(kit_site, name), deps / name)
    env = base / "student-env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    site = subprocess.run([str(env / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    with open(os.path.join(site, "course-dependencies.pth"), "w") as f:
        f.write(str(deps) + "\n")
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(env / "bin" / "python"), "install",
                           "--quiet", "--no-deps", "--no-index", wheel], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return env


class Browser:
    """One person's browser: a cookie jar, the xsrf tokens a page would send, the proxy's address."""

    def __init__(self, url, user, password):
        import requests
        self.url, self.user, self.password = url, user, password
        self.http = requests.Session()

    def xsrf(self, path):
        """The _xsrf cookie set for `path` (/hub/ or /user/NAME/): sent back as X-XSRFToken."""
        found = [c.value for c in self.http.cookies if c.name == "_xsrf" and path.startswith(c.path.rstrip("/") + "/")]
        assert found, f"{self.user}: no _xsrf cookie for {path}: {[(c.name, c.path) for c in self.http.cookies]}"
        return found[-1]

    def get(self, path, **kw):
        return self.http.get(self.url + path, timeout=60, **kw)

    def send(self, method, path, **kw):
        scope = "/hub/" if path.startswith("/hub/") else f"/user/{self.user}/"
        headers = {"X-XSRFToken": self.xsrf(scope), **kw.pop("headers", {})}
        return self.http.request(method, self.url + path, headers=headers, timeout=300, **kw)

    def log_in(self):
        self.get("/hub/login")
        # Not following the redirect, which would start the server: that is done through the API.
        # The answer sets the login cookie and a new xsrf cookie, bound to the session.
        r = self.http.post(self.url + "/hub/login?next=", timeout=60, allow_redirects=False,
                           data={"username": self.user, "password": self.password, "_xsrf": self.xsrf("/hub/")})
        assert r.status_code == 302 and "jupyterhub-hub-login" in self.http.cookies, \
            f"{self.user}: login failed ({r.status_code})"

    def start_server(self):
        r = self.send("POST", f"/hub/api/users/{self.user}/server", json={})
        assert r.status_code in (201, 202), f"{self.user}: {r.status_code} {r.text}"

    def wait_ready(self, timeout=150):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            model = self.send("GET", f"/hub/api/users/{self.user}").json()
            server = model.get("servers", {}).get("")
            if server and server.get("ready"):
                # Opening the server's page goes through the hub's OAuth, as a browser would.
                page = self.get(f"/user/{self.user}/lab")
                assert page.ok, f"{self.user}: {page.status_code} opening the server"
                return
            if not server and not model.get("pending"):
                raise AssertionError(f"{self.user}: the server stopped while starting")
            time.sleep(0.5)
        raise AssertionError(f"{self.user}: the server was not ready in {timeout} s")

    def api(self, method, path, **kw):
        """A call to the user's own server, answering its JSON."""
        r = self.send(method, f"/user/{self.user}/{path}", **kw)
        assert r.ok, f"{self.user}: {method} {path}: {r.status_code} {r.text[:500]}"
        return r.json() if r.content else None

    def formgrader(self, action):
        """A formgrader action on the assignment, as its buttons do; it must say success."""
        out = self.api("POST", f"formgrader/api/assignment/{A}/{action}")
        assert out.get("success"), f"formgrader {action}: {out.get('error') or out}"
        return out

    def assignments(self, action=None):
        """The Assignments tab: the list, or an action (fetch, submit, fetch_feedback) on A."""
        if action is None:
            out = self.api("GET", f"assignments?course_id={COURSE}")
        else:
            out = self.api("POST", f"assignments/{action}", data={"course_id": COURSE, "assignment_id": A})
        assert out.get("success"), f"{self.user}: assignments {action or 'list'}: {out.get('value') or out}"
        return out["value"]

    def run_in_kernel(self, code, timeout=120):
        """Start a kernel over the REST API, run `code` through the websocket, return its stdout."""
        import websocket
        kernel = self.api("POST", "api/kernels", json={"name": "python3"})
        ws_url = self.url.replace("http", "ws", 1) + \
            f"/user/{self.user}/api/kernels/{kernel['id']}/channels?session_id={uuid.uuid4().hex}"
        cookies = "; ".join(f"{c.name}={c.value}" for c in self.http.cookies
                            if c.path in ("/", f"/user/{self.user}", f"/user/{self.user}/"))
        ws = websocket.create_connection(ws_url, cookie=cookies, timeout=timeout,
                                         header=[f"X-XSRFToken: {self.xsrf(f'/user/{self.user}/')}"])
        msg_id = uuid.uuid4().hex
        ws.send(json.dumps({"header": {"msg_id": msg_id, "msg_type": "execute_request", "session": uuid.uuid4().hex,
                                       "username": self.user, "version": "5.3"},
                            "parent_header": {}, "metadata": {}, "channel": "shell",
                            "content": {"code": code, "silent": False, "store_history": False,
                                        "user_expressions": {}, "allow_stdin": False}}))
        out, deadline = [], time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                msg = json.loads(ws.recv())
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind = msg["header"]["msg_type"]
                if kind == "stream":
                    out.append(msg["content"]["text"])
                elif kind == "error":
                    raise AssertionError(f"{self.user}'s kernel: {msg['content']['ename']}: {msg['content']['evalue']}")
                elif kind == "status" and msg["content"]["execution_state"] == "idle":
                    break
        finally:
            ws.close()
            self.api("DELETE", f"api/kernels/{kernel['id']}")
        return "".join(out)


# What a student's kernel reports of itself: who it runs as, and what of the instructor's side it
# can import or read. Paths come in as JSON; each read is tried, and its error's name kept.
PROBE = r'''
import importlib.metadata, importlib.util, json, os, pwd, shutil, sys
paths = json.loads({paths!r})

def attempt(what, *args):
    try:
        if what == "read":
            with open(args[0], "rb") as f:
                f.read(1)
        elif what == "list":
            os.listdir(args[0])
        elif what == "write":
            with open(args[0], "w") as f:
                f.write("x")
        return "allowed"
    except OSError as exc:
        return type(exc).__name__

def grading_distribution():
    try:
        importlib.metadata.distribution("rnnkit-grading")
        return "found"
    except importlib.metadata.PackageNotFoundError:
        return None

import rnnkit
from rnnkit import data

def datasets_verified():
    ok = []
    for name, entry in sorted(data.manifest().items()):
        with open(os.path.join(data.data_dir(), "cache", entry["file"]), "rb") as f:
            ok.append(data.sha256(f.read()) == entry["sha256"])
    return ok

report = {{
    "datasets": datasets_verified(), "data_dir": data.data_dir(),
    "user": pwd.getpwuid(os.getuid()).pw_name, "euid": os.geteuid(),
    "python": sys.executable, "rnnkit": rnnkit.__file__,
    "tf_quiet": os.environ.get("TF_CPP_MIN_LOG_LEVEL"),
    "grading_spec": repr(importlib.util.find_spec("rnnkit.grading")),
    "grading_distribution": grading_distribution(),
    "grader_on_path": shutil.which("rnnkit") or shutil.which("nbgrader-autograde"),
    "kit_on_sys_path": [p for p in sys.path if p and p.startswith(paths["kit"])],
    "reads": {{name: attempt(*how) for name, how in paths["tries"].items()}},
}}
print(json.dumps(report))
'''


@contextlib.contextmanager
def _group(name, members):
    subprocess.run(["groupadd", "-f", name], check=True, capture_output=True)
    try:
        for member in members:
            subprocess.run(["usermod", "-a", "-G", name, member], check=True, capture_output=True)
        yield grp.getgrnam(name)
    finally:
        subprocess.run(["groupdel", name], capture_output=True)


@contextlib.contextmanager
def _hub(base, env):
    """The hub, started from deploy/jupyterhub/jupyterhub_config.py on loopback ports; stopped
    (and its servers with it) on the way out."""
    port = _free_port()
    log = open(base / "hub.log", "w")
    hub = subprocess.Popen(
        [os.path.join(KIT_BIN, "jupyterhub"), "-f", CONFIG,
         f"--JupyterHub.bind_url=http://127.0.0.1:{port}",
         f"--JupyterHub.hub_bind_url=http://127.0.0.1:{_free_port()}",
         f"--ConfigurableHTTPProxy.api_url=http://127.0.0.1:{_free_port()}"],
        cwd=env["RNN_HUB_STATE"], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        import requests
        deadline = time.monotonic() + 60
        while True:
            assert hub.poll() is None, "the hub exited:\n" + (base / "hub.log").read_text()[-3000:]
            with contextlib.suppress(requests.ConnectionError):
                if requests.get(url + "/hub/api", timeout=5).ok:
                    break
            assert time.monotonic() < deadline, "the hub did not answer in 60 s"
            time.sleep(0.3)
        yield url
    finally:
        hub.send_signal(signal.SIGTERM)       # the hub stops the servers it started (cleanup_servers)
        try:
            hub.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(hub.pid, signal.SIGKILL)
            hub.wait()
        log.close()


@pytest.fixture(scope="module")
def course():
    """The whole term on a hub, once: what each step produced, for the tests below to judge."""
    missing = [tool for tool in ("jupyterhub", "configurable-http-proxy") if not os.path.exists(os.path.join(KIT_BIN, tool))]
    assert not missing, f"{' and '.join(missing)} missing from {KIT_BIN}: install the kit's [test] extra"
    base = tempfile.mkdtemp(prefix="rnnkit-hub-")
    from pathlib import Path
    base = Path(base)
    os.chmod(base, 0o755)
    state, exchange = base / "state", base / "exchange"
    state.mkdir(mode=0o700)
    exchange.mkdir()
    os.chmod(exchange, 0o777)          # the exchange root exists, open to all, before nbgrader runs
    passwords = {name: secrets.token_urlsafe(12) for name in (INSTRUCTOR, *STUDENTS)}
    found = {"base": base}
    try:
        with contextlib.ExitStack() as stack:
            stack.enter_context(unix_users.traversable(sys.executable, KIT_PREFIX, ROOT, base))
            people = {e.pw_name: e for e in stack.enter_context(unix_users.users(INSTRUCTOR, *STUDENTS))}
            stack.enter_context(_group(GROUP, STUDENTS))
            uids = {e.pw_uid for e in people.values()}
            # After the hub stopped, before the users go: what of theirs is still running.
            stack.callback(lambda: found.__setitem__("left_running", unix_users.processes_of(uids)))
            subprocess.run(["chpasswd"], input="".join(f"{u}:{p}\n" for u, p in passwords.items()),
                           text=True, check=True, capture_output=True)
            student_env = _student_env(base)
            teacher = people[INSTRUCTOR]
            course_root = Path(teacher.pw_dir) / "rnn-course"
            # The instructor puts the solution notebook in the course's source/, as themselves.
            done = unix_users.run_as(teacher, ["mkdir", "-p", str(course_root / "source")])
            assert done.returncode == 0, done.stderr
            done = unix_users.run_as(teacher, ["cp", "-r", os.path.join(workspace.SOLUTIONS, A), str(course_root / "source")])
            assert done.returncode == 0, done.stderr

            env = {k: v for k, v in os.environ.items() if not k.startswith(("RNNKIT", "NBGRADER", "JUPYTER", "PYTHON"))}
            env.update(RNN_COURSE_ID=COURSE, RNN_COURSE_INSTRUCTOR=INSTRUCTOR, RNN_COURSE_STUDENTS_GROUP=GROUP,
                       RNN_COURSE_EXCHANGE=str(exchange), RNN_COURSE_STUDENT_ENV=str(student_env),
                       RNN_COURSE_INSTRUCTOR_ENV=KIT_PREFIX, RNN_COURSE_DATA=os.path.join(ROOT, "data"),
                       RNN_HUB_STATE=str(state),
                       PATH=KIT_BIN + os.pathsep + env.get("PATH", "/usr/bin:/bin"))
            url = stack.enter_context(_hub(base, env))
            browsers = {u: Browser(url, u, passwords[u]) for u in (INSTRUCTOR, *STUDENTS)}
            intruder = Browser(url, STUDENTS[0], "not-the-password")
            with pytest.raises(AssertionError, match="login failed"):
                intruder.log_in()
            for b in browsers.values():
                b.log_in()
                b.start_server()
            for b in browsers.values():
                b.wait_ready()
            found["started"] = time.monotonic()
            t = browsers[INSTRUCTOR]
            t.formgrader("assign")
            t.formgrader("release")
            found["released_to"] = {}
            for student in STUDENTS:
                s = browsers[student]
                found["released_to"][student] = [a["status"] for a in s.assignments()
                                                 if a["assignment_id"] == A]
                s.assignments("fetch")
                fetched = s.api("GET", f"api/contents/{A}/{A}.ipynb")
                nb = nbformat.read(os.path.join(workspace.AUTOGRADE, "examples", WORK[student], A, f"{A}.ipynb"),
                                   as_version=4)
                s.api("PUT", f"api/contents/{A}/{A}.ipynb", json={"type": "notebook", "format": "json", "content": nb})
                out = s.assignments("submit")
                found.setdefault("fetched", {})[student] = fetched["content"]
                found.setdefault("submitted", {})[student] = [a["status"] for a in out if a["assignment_id"] == A]
            t.formgrader("collect")
            found["collected"] = sorted(os.listdir(course_root / "submitted"))

            graded = unix_users.run_as(
                teacher, [os.path.join(KIT_BIN, "rnnkit"), "grade", "--root", str(course_root)],
                env={"PATH": KIT_BIN + os.pathsep + "/usr/bin:/bin"}, timeout=600)
            found["grade"] = graded
            assert graded.returncode == 0, graded.stdout[-3000:] + graded.stderr[-3000:]
            found["owners"] = {os.stat(p).st_uid for p in glob.glob(str(course_root / "**"), recursive=True)}
            t.formgrader("release_feedback")

            from nbgrader.api import Gradebook
            with Gradebook(f"sqlite:///{course_root}/gradebook.db") as gb:
                found["scores"] = {s.student.id: s.score for s in gb.assignment_submissions(A)}
            found["feedback"] = {}
            for student in STUDENTS:
                s = browsers[student]
                s.assignments("fetch_feedback")
                listing = s.api("GET", f"api/contents/{A}/feedback")["content"]
                pages = [f"{A}/feedback/{d['name']}/{A}.html" for d in listing if d["type"] == "directory"]
                found["feedback"][student] = [s.get(f"/user/{student}/files/{p}").text for p in pages]

            # Who may see what, from each student's own kernel and browser.
            inbound = exchange / COURSE / "inbound"
            submission = next(p for p in (course_root / "submitted" / STUDENTS[1] / A).glob("*.ipynb"))
            found["kernel"] = {}
            for me, other in (STUDENTS, STUDENTS[::-1]):
                tries = {
                    "own notebook": ("read", f"{people[me].pw_dir}/{A}/{A}.ipynb"),
                    "other student's notebook": ("read", f"{people[other].pw_dir}/{A}/{A}.ipynb"),
                    "other student's home": ("list", people[other].pw_dir),
                    "collected submission": ("read", str(submission)),
                    "instructor's source": ("read", str(course_root / "source" / A / f"{A}.ipynb")),
                    "instructor's course": ("list", str(course_root)),
                    "gradebook": ("read", str(course_root / "gradebook.db")),
                    "exchange inbound": ("list", str(inbound)),
                    "released notebook": ("read", str(exchange / COURSE / "outbound" / A / f"{A}.ipynb")),
                    "write into the release": ("write", str(exchange / COURSE / "outbound" / A / "extra.py")),
                    "replace the released notebook": ("write", str(exchange / COURSE / "outbound" / A / f"{A}.ipynb")),
                }
                text = browsers[me].run_in_kernel(PROBE.format(paths=json.dumps({"kit": ROOT, "tries": tries})))
                found["kernel"][me] = json.loads(text.strip().splitlines()[-1])
            s = browsers[STUDENTS[0]]
            found["student formgrader"] = [s.send("GET", f"/user/{s.user}/{p}").status_code
                                           for p in ("formgrader", f"formgrader/api/assignments")]
            found["other server"] = s.get(f"/user/{INSTRUCTOR}/api/contents", allow_redirects=False).status_code
            found["instructor formgrader"] = t.api("GET", "formgrader/api/assignments")
            found["uids"] = {name: e.pw_uid for name, e in people.items()}
            found["course_root"] = course_root
        yield found
    finally:
        log = base / "hub.log"
        if log.exists() and os.environ.get("RNNKIT_KEEP_HUB_LOG"):
            shutil.copy(log, os.environ["RNNKIT_KEEP_HUB_LOG"])
        shutil.rmtree(base, ignore_errors=True)


# ----------------------------------------------------------------------------- the round trip
def test_released_assignment_reaches_every_student(course):
    """Formgrader's generate and release put 02_bptt in each student's Assignments list."""
    assert course["released_to"] == {s: ["released"] for s in STUDENTS}
    for student, nb in course["fetched"].items():
        ids = {c["metadata"].get("nbgrader", {}).get("grade_id") for c in nb["cells"]}
        for e in keys.for_notebook(A):
            assert f"{e.name}_matches_keras" in ids, f"{student} fetched no test of {e.name}"
        assert not any("BEGIN SOLUTION" in "".join(c["source"]) for c in nb["cells"])


def test_submissions_are_collected(course):
    """Each student's submit shows as submitted, and formgrader's collect brings both in."""
    assert course["submitted"] == {s: ["fetched", "submitted"] for s in STUDENTS}
    assert course["collected"] == sorted(STUDENTS)


def test_the_kits_grader_grades_as_the_instructor(course):
    """`rnnkit grade`, run as the instructor's unix user, grades both: full marks for the complete
    notebook, part for the partial one, and every file it wrote belongs to the instructor."""
    out = course["grade"].stdout
    assert "graded 2 of 2 submissions" in out, out[-2000:]
    # It says first what its kernels and verification runs get without root.
    assert out.splitlines()[0] == confinement_line(as_root=False), out.splitlines()[0]
    scores = course["scores"]
    assert scores[STUDENTS[0]] == FULL and 0 < scores[STUDENTS[1]] < FULL, scores
    assert course["owners"] == {course["uids"][INSTRUCTOR]}


@pytest.mark.parametrize("student", STUDENTS)
def test_each_student_reads_their_own_score_in_the_feedback(course, student):
    """fetch_feedback brings one feedback page, with the score the gradebook holds."""
    pages = course["feedback"][student]
    assert len(pages) == 1, len(pages)
    score = course["scores"][student]
    assert f"Score: {score:.1f} / {FULL:.1f}" in pages[0]


# ----------------------------------------------------------------------------- who may see what
@pytest.mark.parametrize("student", STUDENTS)
def test_a_students_kernel_runs_as_the_student_in_the_student_environment(course, student):
    """The kernel started over the websocket through the proxy runs as the student, in the student
    environment, with TensorFlow quiet."""
    k = course["kernel"][student]
    assert (k["user"], k["euid"]) == (student, course["uids"][student])
    base = str(course["base"] / "student-env")
    assert k["python"].startswith(base) and k["rnnkit"].startswith(base), k
    assert k["tf_quiet"] == "3"
    # The datasets the hub names, readable by the student.
    assert k["data_dir"] == os.path.join(ROOT, "data") and len(k["datasets"]) >= 5 and all(k["datasets"])


@pytest.mark.parametrize("student", STUDENTS)
def test_nothing_of_the_instructors_side_reaches_a_student(course, student):
    """From the student's kernel: no rnnkit.grading to import, no rnnkit-grading installed, no
    grader on PATH, nothing of the kit's checkout on sys.path."""
    k = course["kernel"][student]
    assert k["grading_spec"] == "None" and k["grading_distribution"] is None
    assert k["grader_on_path"] is None and k["kit_on_sys_path"] == []


@pytest.mark.parametrize("student", STUDENTS)
def test_a_student_reads_only_their_own_work_and_the_release(course, student):
    """Another student's work, the collected submissions, the solutions, the gradebook and the
    exchange's inbound are closed to a student; the release is readable but cannot be changed."""
    reads = course["kernel"][student]["reads"]
    assert reads == {
        "own notebook": "allowed",
        "other student's notebook": "PermissionError",
        "other student's home": "PermissionError",
        "collected submission": "PermissionError",
        "instructor's source": "PermissionError",
        "instructor's course": "PermissionError",
        "gradebook": "PermissionError",
        "exchange inbound": "PermissionError",
        "released notebook": "allowed",
        "write into the release": "PermissionError",
        "replace the released notebook": "PermissionError",
    }


def test_only_the_instructor_has_formgrader(course):
    """A student's server has no formgrader, and the hub keeps a student out of the instructor's
    server; the instructor's formgrader lists the assignment."""
    assert course["student formgrader"] == [404, 404]
    assert course["other server"] == 403
    assert [a["name"] for a in course["instructor formgrader"]] == [A]


def test_nothing_is_left_running_when_the_hub_stops(course):
    """Stopping the hub stops every server and kernel it started."""
    assert course["left_running"] == []
