"""A throwaway PostgreSQL server for the tests: the session fixture `postgres_url`.

Use it by importing it into a test module: `from tests.pgserver_fixture import postgres_url`
(`postgres_server` too for the details). One server per test session (per xdist worker).

Where the server comes from, in order (RNNKIT_POSTGRES=pgserver|system picks one):

1. `pgserver` (PyPI, in the [test] extra): a wheel that bundles the PostgreSQL binaries, so a clean
   clone needs nothing from the system. PostgreSQL refuses to run as root; under root pgserver runs
   the server as a system user `pgserver` that it creates with `useradd`, and it makes the folders
   above the data folder and its own binaries readable by that user (chmod o+rx).
2. PostgreSQL already installed: `initdb`/`postgres` on PATH, or Debian's /usr/lib/postgresql/*/bin
   (`apt-get install postgresql`). Under root the server runs as `nobody`. POSIX only. The
   fallback where pgserver has no wheel (Linux on ARM).

Either way the data folder is a fresh temporary folder, authentication is `trust` for the user
`postgres`, and the server is stopped and its folder removed when the session ends, whatever the
tests did. A server that cannot be found or started fails the tests that use it, in one line that
says what is missing; RNNKIT_SKIP_POSTGRES=1 skips them instead.

The URL names the driver (`postgresql+psycopg2://`): SQLAlchemy 2.1 reads a bare `postgresql://`
as psycopg 3, which the kit does not install. It holds no `%`: nbgrader copies db_url into an
alembic.ini for `nbgrader db upgrade`, and configparser rejects a `%` (a percent-encoded
password or socket path breaks it).
"""
import contextlib
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings

import pytest

SKIP_VAR = "RNNKIT_SKIP_POSTGRES"
BACKEND_VAR = "RNNKIT_POSTGRES"
HINT = (f"pip install -e '.[test]' (bundles PostgreSQL in the pgserver wheel) or apt-get install "
        f"postgresql; or set {SKIP_VAR}=1 to skip these tests")
START_TIMEOUT = 30.0


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server could be found or started; the message is one line."""


class Server:
    """A running server: `url` (SQLAlchemy), `dsn` (libpq), where it came from, and `stop()`."""

    def __init__(self, url, backend, folder, stopper):
        self.url = url
        self.backend = backend
        self.folder = folder
        self.startup_s = None
        self.version = None
        self._stopper = stopper

    @property
    def dsn(self):
        return libpq_dsn(self.url)

    def stop(self):
        stopper, self._stopper = self._stopper, None
        if stopper is None:
            return
        try:
            stopper()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def libpq_dsn(url):
    """The libpq URI (for psycopg2.connect) of a SQLAlchemy URL: the same without `+driver`."""
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)


def database_url(url, name):
    """`url` pointing at database `name` instead.

    Not through SQLAlchemy's URL object, which percent-encodes the socket folder in `?host=`:
    nbgrader writes db_url into an alembic.ini, where configparser rejects any `%`.
    """
    from urllib.parse import urlsplit, urlunsplit
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def _connect(dsn, **kwargs):
    import psycopg2
    return psycopg2.connect(dsn, **kwargs)


def create_database(url, name, template=None):
    """Create database `name` on the server of `url`, empty or a copy of database `template`
    (which must have no open connections); return its URL."""
    for n in (name, template or name):
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", n):
            raise ValueError(f"not a plain database name: {n!r}")
    conn = _connect(libpq_dsn(url))
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            copy = f' TEMPLATE "{template}"' if template else ""
            cur.execute(f'CREATE DATABASE "{name}"{copy}')
    finally:
        conn.close()
    return database_url(url, name)


def drop_database(url, name):
    """Drop database `name`, closing the connections still open on it (engines not disposed)."""
    conn = _connect(libpq_dsn(url))
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------------
# Backend 1: the pgserver wheel


def _start_pgserver():
    folder = tempfile.mkdtemp(prefix="rnnkit-pg-")
    try:
        pgserver = _import_pgserver(folder)
        server = pgserver.get_server(os.path.join(folder, "pgdata"), cleanup_mode="delete")
        info = server.get_postmaster_info()
    except PostgresUnavailable:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    except Exception as exc:  # noqa: BLE001  (any failure: say what it was, try the next backend)
        _stop_pgserver_quietly(folder)
        shutil.rmtree(folder, ignore_errors=True)
        raise PostgresUnavailable(f"pgserver failed to start ({_one_line(exc)})") from None
    # pgserver listens on a Unix socket only (no TCP port), in its data folder.
    url = f"postgresql+psycopg2://postgres@/postgres?host={info.socket_dir}&port={info.port}"
    from importlib.metadata import version
    return Server(url, f"pgserver {version('pgserver')}", folder, server.cleanup)


def _import_pgserver(folder):
    """Import pgserver, its lock file in `folder` when no XDG_RUNTIME_DIR says where (CI, root)."""
    if "pgserver" in sys.modules:
        return sys.modules["pgserver"]
    try:
        import importlib.util
        if importlib.util.find_spec("pgserver") is None:
            raise PostgresUnavailable("pgserver is not installed")
    except ValueError:
        raise PostgresUnavailable("pgserver is not installed") from None
    unset = "XDG_RUNTIME_DIR" not in os.environ
    if unset:
        os.environ["XDG_RUNTIME_DIR"] = os.path.join(folder, "run")
        os.makedirs(os.environ["XDG_RUNTIME_DIR"], mode=0o700)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs: "XDG_RUNTIME_DIR is not set"
            import pgserver
    except ImportError as exc:
        raise PostgresUnavailable(f"pgserver cannot be imported ({_one_line(exc)})") from None
    finally:
        if unset:
            del os.environ["XDG_RUNTIME_DIR"]
    return pgserver


def _stop_pgserver_quietly(folder):
    """A half-started pgserver server (pg_ctl started it, a later step failed): stop it."""
    pgdata = os.path.join(folder, "pgdata")
    if not os.path.exists(os.path.join(pgdata, "postmaster.pid")):
        return
    with contextlib.suppress(Exception):
        from pgserver import _commands
        user = "pgserver" if getattr(os, "geteuid", lambda: 1)() == 0 else None
        _commands.pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=pgdata, user=user, timeout=20)


# ---------------------------------------------------------------------------------------------
# Backend 2: PostgreSQL installed on the system


def system_bindirs():
    """Folders holding both `initdb` and `postgres`: from PATH first, then the usual places."""
    candidates = []
    for name in ("initdb", "pg_ctl", "postgres"):
        found = shutil.which(name)
        if found:
            candidates.append(os.path.dirname(os.path.realpath(found)))

    def version(path):
        return [int(n) for n in re.findall(r"\d+", path)] or [0]

    for pattern in ("/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin", "/usr/local/pgsql/bin",
                    "/opt/homebrew/opt/postgresql*/bin", "/usr/local/opt/postgresql*/bin"):
        candidates.extend(sorted(glob.glob(pattern), key=version, reverse=True))
    seen, result = set(), []
    for d in candidates:
        if d in seen:
            continue
        seen.add(d)
        if all(os.access(os.path.join(d, exe), os.X_OK) for exe in ("initdb", "postgres")):
            result.append(d)
    return result


def _server_user():
    """Under root, the unprivileged user that runs the server (PostgreSQL refuses root)."""
    import pwd
    if os.geteuid() != 0:
        return None
    for name in ("nobody", "postgres"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    if shutil.which("useradd") is None:
        raise PostgresUnavailable("running as root with no user 'nobody' to run PostgreSQL as, "
                                  "and no useradd to create one")
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                    "rnnkit-postgres"], check=True, capture_output=True)
    return pwd.getpwnam("rnnkit-postgres")


def _preexec(user):
    """In the child: drop to `user` (under root), then die with the parent (Linux).

    The parent-death signal must be set after the change of user, which clears it; that is why
    the user is changed here rather than by Popen(user=...), which changes it after this runs.
    """
    prctl = None
    if sys.platform.startswith("linux"):
        import ctypes
        with contextlib.suppress(OSError, AttributeError):
            prctl = ctypes.CDLL(None, use_errno=True).prctl

    def run():
        if user is not None:
            os.setgroups([])
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)
        if prctl is not None:
            prctl(1, int(signal.SIGQUIT))  # PR_SET_PDEATHSIG: pytest killed -> immediate shutdown

    return run


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path, lines=5):
    with contextlib.suppress(OSError):
        with open(path, encoding="utf-8", errors="replace") as f:
            text = [line.strip() for line in f.read().splitlines() if line.strip()]
            return " | ".join(text[-lines:])
    return ""


def _start_system():
    if os.name != "posix":
        raise PostgresUnavailable("the system PostgreSQL backend runs on Linux and macOS only")
    bindirs = system_bindirs()
    if not bindirs:
        raise PostgresUnavailable("no initdb/postgres on PATH or under /usr/lib/postgresql/*/bin")
    bindir = bindirs[0]
    user = _server_user()
    folder = tempfile.mkdtemp(prefix="rnnkit-pg-")
    try:
        return _start_system_in(bindir, user, folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _start_system_in(bindir, user, folder):
    data, sockets, log = (os.path.join(folder, n) for n in ("data", "sockets", "postgres.log"))
    os.mkdir(sockets)
    if user is not None:
        parent = os.path.dirname(folder)
        if not os.stat(parent).st_mode & 0o001:
            raise PostgresUnavailable(f"{parent} is not searchable by user {user.pw_name}: set "
                                      f"TMPDIR to a folder that is (e.g. /tmp)")
        for path in (folder, sockets):
            os.chown(path, user.pw_uid, user.pw_gid)
    env = dict(os.environ, LC_ALL="C", LANG="C")
    env.pop("PGDATA", None)
    initdb = subprocess.run(
        [os.path.join(bindir, "initdb"), "-D", data, "-U", "postgres", "--auth=trust",
         "--encoding=UTF8", "--no-locale", "--no-sync"],
        cwd=folder, env=env, preexec_fn=_preexec(user), capture_output=True, text=True)
    if initdb.returncode != 0:
        detail = (initdb.stderr or initdb.stdout).strip().splitlines()
        last = detail[-1] if detail else f"exit status {initdb.returncode}"
        raise PostgresUnavailable(f"initdb in {bindir} failed: {last}")
    for attempt in range(3):
        port = _free_port()
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                [os.path.join(bindir, "postgres"), "-D", data, "-h", "127.0.0.1", "-p", str(port),
                 "-k", sockets, "-c", "fsync=off", "-c", "synchronous_commit=off",
                 "-c", "full_page_writes=off"],
                cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                preexec_fn=_preexec(user))
        url = f"postgresql+psycopg2://postgres@127.0.0.1:{port}/postgres"
        if _wait_ready(proc, libpq_dsn(url)):
            return Server(url, f"system ({bindir})", folder, lambda p=proc: _stop_process(p))
        _stop_process(proc)
        if "could not bind" not in _tail(log, 20) or attempt == 2:
            raise PostgresUnavailable(f"postgres in {bindir} did not start: {_tail(log)}")


def _wait_ready(proc, dsn):
    import psycopg2
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            _connect(dsn, connect_timeout=2).close()
            return True
        except psycopg2.OperationalError:
            time.sleep(0.05)
    return False


def _stop_process(proc):
    """Fast shutdown (SIGINT); immediate (SIGQUIT), then SIGKILL, if it takes too long."""
    for sig, wait in ((signal.SIGINT, 20), (signal.SIGQUIT, 5), (signal.SIGKILL, 5)):
        if proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(wait)


# ---------------------------------------------------------------------------------------------

BACKENDS = {"pgserver": _start_pgserver, "system": _start_system}


def start_postgres(backends=None):
    """Start a server with the first backend that works; PostgresUnavailable (one line) if none."""
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        raise PostgresUnavailable("the PostgreSQL driver psycopg2 is not installed "
                                  f"(pip install psycopg2-binary); {HINT}") from None
    if backends is None:
        choice = os.environ.get(BACKEND_VAR, "").strip().lower()
        if choice and choice not in BACKENDS and choice != "auto":
            raise PostgresUnavailable(f"{BACKEND_VAR}={choice!r}: use one of "
                                      f"{', '.join(BACKENDS)} or auto")
        backends = [choice] if choice in BACKENDS else list(BACKENDS)
    reasons = []
    for name in backends:
        started = time.monotonic()
        try:
            server = BACKENDS[name]()
        except PostgresUnavailable as exc:
            reasons.append(str(exc))
            continue
        except Exception as exc:  # noqa: BLE001  (say what failed, try the next backend)
            reasons.append(f"{name} backend failed ({_one_line(exc)})")
            continue
        try:
            conn = _connect(server.dsn)
            try:
                with conn.cursor() as cur:
                    cur.execute("SHOW server_version")
                    server.version = cur.fetchone()[0]
            finally:
                conn.close()
        except Exception as exc:  # noqa: BLE001
            server.stop()
            reasons.append(f"{server.backend} started but refused a connection ({_one_line(exc)})")
            continue
        server.startup_s = time.monotonic() - started
        return server
    raise PostgresUnavailable("no PostgreSQL server for the gradebook tests: "
                              f"{'; '.join(reasons)}; {HINT}")


def _one_line(exc):
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}"[:300]


_sessions = {}  # id(pytest session) -> Server, or the one-line reason it could not start


def _session_server(request):
    """The session's server, started by whichever fixture asks first (so that either fixture
    can be imported alone), stopped when the session ends."""
    if os.environ.get(SKIP_VAR, "").strip() not in ("", "0"):
        pytest.skip(f"PostgreSQL tests skipped: {SKIP_VAR} is set")
    key = id(request.session)
    if key not in _sessions:
        try:
            _sessions[key] = start_postgres()
        except PostgresUnavailable as exc:
            _sessions[key] = str(exc)
        else:
            def stop(server=_sessions[key]):
                _sessions.pop(key, None)
                server.stop()
            request.addfinalizer(stop)
    if isinstance(_sessions[key], str):
        pytest.fail(_sessions[key], pytrace=False)
    return _sessions[key]


@pytest.fixture(scope="session")
def postgres_server(request):
    """The session's PostgreSQL `Server`: url, dsn, backend, version, startup_s, folder."""
    return _session_server(request)


@pytest.fixture(scope="session")
def postgres_url(request):
    """SQLAlchemy URL (postgresql+psycopg2://) of the `postgres` database of a PostgreSQL server
    private to this test session; make databases of your own with create_database()."""
    return _session_server(request).url
