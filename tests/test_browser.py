"""A student's session in JupyterLab, end to end, in a real browser.

The test copies the release (course/) to a temporary folder, starts `jupyter lab` on loopback over
it, and drives headless Chromium (Debian's chromium, through Playwright) the way a student would:
it opens 01_rnn_fundamentals, types a correct rnn_cell_forward and an rnn_forward with a
catalogued mistake (the state is not carried), runs all cells from the Run menu, reads the check
messages on the page, then presses nbgrader's Validate button and reads its verdict. A second
test plays a melody of notebook 09's synthesizer with IPython's Audio and checks that the page's
audio player decodes it, offline.

Artifacts, in $RNNKIT_ARTIFACTS (default tests/artifacts/): `browser_checks.png`, the two answers
and their check messages; `browser_validate.png`, the page with nbgrader's Validate dialog open;
`browser_failure.png`, the page when the test fails in the browser; `browser_jupyter.log`, the
server's log.

Needs /usr/bin/chromium (`apt-get install chromium`; `make test` installs it when run as root;
RNNKIT_CHROMIUM names another binary) and the playwright package of the [test] extra. Without
them the test is skipped, or fails when RNNKIT_REQUIRE_BROWSER=1 (set by `make test` as root or
in CI). Skip it with RNNKIT_SKIP_BROWSER=1 or `pytest -m "not browser"`.
"""
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from rnnkit.grading import keys
from tests.conftest import ROOT, VENV_BIN, solution_path

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ASSIGNMENT = "01_rnn_fundamentals"
CORRECT = "rnn_cell_forward"
MISTAKEN = "rnn_forward"
MISTAKE = "state not carried (h0 at every step)"
# The mistake, typed into the solution of rnn_forward: every step starts again from h0.
CARRIED, NOT_CARRIED = "rnn_cell_forward(x[:, t], h, ", "rnn_cell_forward(x[:, t], h0, "

CHROMIUM = os.environ.get("RNNKIT_CHROMIUM", "/usr/bin/chromium")
# Headless, and nothing that reaches the network on its own (updates, sync, QUIC probes); no host
# name resolves, so the page can load nothing but what the server on 127.0.0.1 serves.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
ARTIFACTS = os.environ.get("RNNKIT_ARTIFACTS") or os.path.join(ROOT, "tests", "artifacts")

SERVER_START_S = 120        # jupyter lab answering
KERNEL_START_S = 120        # the page's kernel idle
RUN_S = 240                 # Run All Cells up to the failing check (imports TensorFlow)
VALIDATE_S = 420            # nbgrader runs the whole notebook in a kernel of its own
STEP_MS = 30_000            # one click, one editor, one save


def _true(name):
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _browser_missing():
    """Why the browser test cannot run here, or None."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return (f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium; "
                "`make test` does it when run as root)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing: pip install -e '.[test]'"
    return None


@pytest.fixture(scope="module")
def chromium():
    if _true("RNNKIT_SKIP_BROWSER"):
        pytest.skip("RNNKIT_SKIP_BROWSER is set")
    missing = _browser_missing()
    if missing and _true("RNNKIT_REQUIRE_BROWSER"):
        pytest.fail(f"the browser test is required here (RNNKIT_REQUIRE_BROWSER=1) but {missing}; "
                    "RNNKIT_SKIP_BROWSER=1 skips it", pytrace=False)
    if missing:
        pytest.skip(missing)
    return CHROMIUM


# ----------------------------------------------------------------------------- what is typed
def _cell_sources(path):
    with open(path, encoding="utf-8") as f:
        nb = json.load(f)
    return nb["cells"]


def _answer(function):
    """The solution cell of `function` as a student would type it: the solution, no markers."""
    for cell in _cell_sources(solution_path(ASSIGNMENT)):
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and source.startswith(f"def {function}("):
            lines = [line for line in source.splitlines()
                     if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")]
            return "\n".join(lines)
    raise AssertionError(f"no solution cell defines {function} in {solution_path(ASSIGNMENT)}")


def _graded_cells(release_nb):
    return [c for c in _cell_sources(release_nb)
            if c["cell_type"] == "code" and c["metadata"].get("nbgrader", {}).get("grade")]


# ----------------------------------------------------------------------------- the server
def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _descendants(pid):
    import psutil
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _stop_server(proc, base, token):
    """Shut the kernels down through the API, stop the server, kill whatever of it is left."""
    import psutil
    children = _descendants(proc.pid)       # kernels run in sessions of their own: remember them
    try:
        req = urllib.request.Request(f"{base}/api/kernels?token={token}")
        for kernel in json.load(urllib.request.urlopen(req, timeout=5)):
            urllib.request.urlopen(urllib.request.Request(
                f"{base}/api/kernels/{kernel['id']}?token={token}", method="DELETE"), timeout=10)
    except (OSError, ValueError):
        pass
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    children += [p for p in _descendants(proc.pid) if p not in children]
    for child in children:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(children, timeout=10)


@pytest.fixture
def lab(tmp_path, chromium):
    """`jupyter lab` on loopback over a copy of course/, with its own config, data and home."""
    course = tmp_path / "course"
    shutil.copytree(os.path.join(ROOT, "course"), course)
    home, config = tmp_path / "home", tmp_path / "jupyter_config"
    settings = config / "lab" / "user-settings" / "@jupyterlab"
    for folder in (home, settings / "apputils-extension", settings / "notebook-extension"):
        folder.mkdir(parents=True)
    # No news, no update check, no extension manager: nothing leaves the machine.
    (config / "jupyter_server_config.json").write_text(json.dumps({
        "LabApp": {"news_url": None, "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
                   "extension_manager": "readonly"},
    }))
    (settings / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    # Every cell in the DOM, so outputs far down the page can be read.
    (settings / "notebook-extension" / "tracker.jupyterlab-settings").write_text(
        json.dumps({"windowingMode": "none"}))

    env = {k: v for k, v in os.environ.items() if k not in ("NBGRADER_EXECUTION", "RNNKIT_FAST")}
    env.update(PATH=VENV_BIN + os.pathsep + env.get("PATH", ""), HOME=str(home),
               JUPYTER_CONFIG_DIR=str(config), JUPYTER_DATA_DIR=str(tmp_path / "jupyter_data"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "jupyter_runtime"),
               IPYTHONDIR=str(tmp_path / "ipython"), MPLCONFIGDIR=str(tmp_path / "matplotlib"),
               XDG_CACHE_HOME=str(tmp_path / "cache"), XDG_CONFIG_HOME=str(tmp_path / "xdg_config"))
    port, token = _free_port(), secrets.token_hex(16)
    base = f"http://127.0.0.1:{port}"
    os.makedirs(ARTIFACTS, exist_ok=True)
    log_path = os.path.join(ARTIFACTS, "browser_jupyter.log")
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [os.path.join(VENV_BIN, "jupyter"), "lab", "--no-browser", "--ip=127.0.0.1",
             f"--port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
             f"--ServerApp.root_dir={course}", "--allow-root"],
            cwd=course, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"jupyter lab exited with code {proc.returncode}; see {log_path}")
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5)
                break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    pytest.fail(f"jupyter lab did not answer within {SERVER_START_S} s; see {log_path}")
                time.sleep(0.5)
        yield {"base": base, "token": token, "course": course, "env": env}
    finally:
        _stop_server(proc, base, token)


# ----------------------------------------------------------------------------- the page
def _code_cell(page, text):
    """The one code cell whose editor or output holds `text`."""
    cell = page.locator(".jp-Notebook .jp-CodeCell").filter(has_text=text)
    cell.first.wait_for(timeout=STEP_MS)
    assert cell.count() == 1, f"{cell.count()} code cells contain {text!r}"
    return cell


def _type_into(page, cell, text):
    """Replace the text of a cell's editor (CodeMirror) as a student would: click, select all, type."""
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(text)
    page.keyboard.press("Escape")           # back to command mode
    typed = "\n".join(line.strip("\n") for line in cell.locator(".cm-line").all_inner_texts())
    assert typed == text, f"the editor holds\n{typed}\ninstead of\n{text}"


def _output(cell):
    return "\n".join(cell.locator(".jp-OutputArea-output").all_inner_texts())


def _wait_for_output(page, cell, needle, timeout_s, what):
    deadline = time.monotonic() + timeout_s
    while needle not in _output(cell):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: {needle!r} did not appear within {timeout_s} s; "
                                 f"the output is:\n{_output(cell) or '(none)'}")
        page.wait_for_timeout(500)
    return _output(cell)


def _phase(start, what):
    """Print how long the test has run at each phase (pytest shows it when the test fails)."""
    print(f"{time.monotonic() - start:6.1f} s  {what}", flush=True)


def test_student_session_checks_and_validate(lab, chromium):
    """Type one right and one catalogued wrong answer, run, read the checks, Validate.

    Screenshots are kept in $RNNKIT_ARTIFACTS (default tests/artifacts/): browser_checks.png
    (the check messages) and browser_validate.png (the Validate dialog open).
    """
    from playwright.sync_api import sync_playwright
    start = time.monotonic()

    assert any(m.name == MISTAKE for m in keys.get(MISTAKEN).mistakes), \
        f"{MISTAKE!r} is no longer in the catalogue of {MISTAKEN}"
    correct = _answer(CORRECT)
    solution = _answer(MISTAKEN)
    assert CARRIED in solution, f"the solution of {MISTAKEN} no longer has {CARRIED!r}"
    mistaken = solution.replace(CARRIED, NOT_CARRIED)
    notebook = lab["course"] / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    n_graded = len(_graded_cells(notebook))
    checks_shot = os.path.join(ARTIFACTS, "browser_checks.png")
    shot = os.path.join(ARTIFACTS, "browser_validate.png")
    failure_shot = os.path.join(ARTIFACTS, "browser_failure.png")
    for old in (checks_shot, shot, failure_shot):
        if os.path.exists(old):
            os.remove(old)

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(lab["course"].parent / "chromium_profile"), executable_path=chromium,
            headless=True, args=CHROMIUM_ARGS, env=lab["env"], viewport={"width": 1400, "height": 1000})
        page = context.pages[0] if context.pages else context.new_page()
        page.set_default_timeout(STEP_MS)
        try:
            page.goto(f"{lab['base']}/lab/tree/{ASSIGNMENT}/{ASSIGNMENT}.ipynb?token={lab['token']}")
            page.locator(".jp-NotebookPanel .jp-Notebook").wait_for()
            page.locator(".jp-NotebookPanel .jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(
                timeout=KERNEL_START_S * 1000)
            validate = page.locator(".jp-NotebookPanel-toolbar .validate-button")
            validate.wait_for()         # nbgrader's labextension is loaded
            _phase(start, "notebook open, kernel idle, Validate button there")

            # Type the two answers into their solution cells.
            _type_into(page, _code_cell(page, f"def {CORRECT}("), correct)
            _type_into(page, _code_cell(page, f"def {MISTAKEN}("), mistaken)

            # Run > Run All Cells: it stops at the first failing cell, the check of rnn_forward.
            page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
            page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
            mistaken_check = _code_cell(page, f'check("{MISTAKEN}", {MISTAKEN})')
            failed = _wait_for_output(page, mistaken_check, "CheckFailed", RUN_S,
                                      f"the check of {MISTAKEN}")
            _phase(start, "cells run")
            passed = _output(_code_cell(page, f'check("{CORRECT}", {CORRECT})'))
            setup = _output(_code_cell(page, "runtime.setup("))
            assert "TensorFlow" in setup and "device" in setup, setup     # the device report
            assert f"{CORRECT} matches keras.layers.SimpleRNNCell" in passed, passed
            assert f"{MISTAKEN} does not match keras.layers.SimpleRNN" in failed, failed
            assert f"Recognised mistake: {MISTAKE}." in failed, failed
            assert "Traceback" not in failed, failed
            _code_cell(page, f"def {CORRECT}(").evaluate("e => e.scrollIntoView({block: 'start'})")
            page.screenshot(path=checks_shot, full_page=True)

            # Save, and check that what was typed is what is on disk.
            page.keyboard.press("Control+s")
            deadline = time.monotonic() + STEP_MS / 1000
            while True:
                saved = {"".join(c["source"]) for c in _cell_sources(notebook)}
                if correct in saved and mistaken in saved:
                    break
                assert time.monotonic() < deadline, "the notebook on disk does not hold the typed answers"
                page.wait_for_timeout(500)

            # nbgrader's Validate: its verdict names the failing check, and only failing ones.
            _phase(start, "saved")
            validate.get_by_role("button").click()
            dialog = page.locator(".jp-Dialog")
            dialog.wait_for(timeout=VALIDATE_S * 1000)
            title = dialog.locator(".jp-Dialog-header").inner_text()
            verdict = dialog.locator(".jp-Dialog-body").inner_text()
            _phase(start, "validated")
            assert title.strip() == "Validation Results", f"{title}\n{verdict}"
            page.screenshot(path=shot, full_page=True)
        except BaseException:
            try:
                page.screenshot(path=failure_shot, full_page=True)
            except Exception:       # the browser is gone: the original error says more
                pass
            raise
        finally:
            context.close()

    assert "Success!" not in verdict, verdict
    assert verdict.count("The following cell failed") == n_graded - 1, (
        f"expected every graded check but {CORRECT}'s to fail ({n_graded - 1}):\n{verdict}")
    assert f'check("{MISTAKEN}", {MISTAKEN})' in verdict, verdict
    assert f"Recognised mistake: {MISTAKE}." in verdict, verdict
    assert f'check("{CORRECT}", {CORRECT})' not in verdict, verdict


MELODY_CELL = """from IPython.display import Audio
pitches, durations = np.array([60, 64, 67, -1, 72]), np.array([1.0, 1.0, 1.0, 0.5, 1.5])
Audio(melody_to_audio(pitches, durations, 8000, 120), rate=8000)"""


def _run_all_until_a_cell_starts(page, tries=3, wait_ms=30_000):
    """Run > Run All Cells, and again when no cell has started ("[*]" or "[1]") within wait_ms:
    on a loaded machine a click can land before JupyterLab has wired the notebook to the menu,
    and is lost. Running these cells twice changes nothing."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    started = page.locator(".jp-InputPrompt", has_text=re.compile(r"\[(\*|\d+)\]"))
    for _ in range(tries):
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
        try:
            started.first.wait_for(timeout=wait_ms)
            return
        except PlaywrightTimeout:
            page.keyboard.press("Escape")           # close the menu, if it stayed open
    raise AssertionError(f"Run All Cells started no cell in {tries} tries")


def test_a_melody_plays_in_the_page(lab, chromium):
    """Notebook 09's synthesizer (the solution's melody_to_audio), played by IPython's Audio: the
    page shows an audio player whose WAV, embedded in the notebook, the browser decodes offline
    (five notes at 120 beats a minute: 2.5 s)."""
    import nbformat
    from playwright.sync_api import sync_playwright

    source = next("".join(c["source"]) for c in _cell_sources(solution_path("09_music_generation"))
                  if "".join(c["source"]).startswith("def melody_to_audio("))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import numpy as np"), nbformat.v4.new_code_cell(source),
                nbformat.v4.new_code_cell(MELODY_CELL)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, lab["course"] / "melody.ipynb")
    failure_shot = os.path.join(ARTIFACTS, "browser_audio_failure.png")

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(lab["course"].parent / "chromium_profile_audio"), executable_path=chromium,
            headless=True, args=CHROMIUM_ARGS, env=lab["env"], viewport={"width": 1200, "height": 900})
        page = context.pages[0] if context.pages else context.new_page()
        page.set_default_timeout(STEP_MS)
        try:
            page.goto(f"{lab['base']}/lab/tree/melody.ipynb?token={lab['token']}")
            page.locator(".jp-NotebookPanel .jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(
                timeout=KERNEL_START_S * 1000)
            page.locator(".jp-NotebookPanel-toolbar .validate-button").wait_for()   # the page fully loaded
            _run_all_until_a_cell_starts(page)
            player = page.locator(".jp-OutputArea-output audio")
            player.wait_for(timeout=RUN_S * 1000)
            src = player.locator("source").first.get_attribute("src") or player.get_attribute("src") or ""
            seconds = player.evaluate("""a => new Promise(done => {
                if (a.readyState >= 1) return done(a.duration);
                a.addEventListener('loadedmetadata', () => done(a.duration));
                a.addEventListener('error', () => done(-1));
                a.load(); })""")
        except BaseException:
            try:
                page.screenshot(path=failure_shot, full_page=True)
            except Exception:
                pass
            raise
        finally:
            context.close()
    assert src.startswith("data:audio/wav;base64,"), src[:80]
    assert seconds == pytest.approx(2.5, abs=0.01), seconds
