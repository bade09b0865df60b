"""What lets a release notebook start anywhere: its install cell and the README's Colab links.

Both come from one setting, the course repository in pyproject.toml:

    [tool.rnnkit]
    course-repository = "https://github.com/OWNER/REPO"
    course-branch = "main"

`rnnkit release` writes the install cell at the top of every release notebook (after its title)
and rewrites the README's Colab table, so changing the repository for a fork is one edit and one
`make release`.
"""
import json
import os
import re
import tomllib

from rnnkit.grading import workspace

CELL_ID = "rnnkit-install"          # the cell's id, so that a release replaces it instead of adding one
LINKS_BEGIN = "<!-- colab-links: written by `rnnkit release` from [tool.rnnkit] in pyproject.toml -->"
LINKS_END = "<!-- /colab-links -->"
COLAB_DIR = "/content/rnn-course-kit"   # where Colab clones the course

# The install cell. It must run in a Python with nothing but the standard library, so it cannot
# use rnnkit; in the kit's own environment (and under grading) it does nothing.
_INSTALL = '''\
# Run me first. In the course's environment this does nothing. Elsewhere it installs the rnnkit
# package: from the student bundle's wheel when there is one (no network needed), else from a
# checkout of the course repository, cloned when there is none (Colab keeps its TensorFlow).
import glob, importlib, importlib.util, os, subprocess, sys

if importlib.util.find_spec("rnnkit") is None:
    COURSE_REPOSITORY, BRANCH = {repository}, {branch}
    pip = [sys.executable, "-m", "pip", "install", "--quiet"]
    wheels = sorted(glob.glob(os.path.join("..", "..", "wheels", "rnnkit-*.whl")))
    if wheels:
        subprocess.run(pip + [wheels[-1]], check=True)
    else:
        colab = "google.colab" in sys.modules
        kit = os.path.abspath(os.path.join("..", ".."))
        if not os.path.isdir(os.path.join(kit, "rnnkit")):
            kit = {colab_dir} if colab else os.path.expanduser("~/rnn-course-kit")
            if not os.path.isdir(kit):
                subprocess.run(["git", "clone", "--quiet", "--depth", "1", "--branch", BRANCH,
                                COURSE_REPOSITORY, kit], check=True)
        subprocess.run(pip + [kit] + (["--no-deps"] if colab else []), check=True)
        subprocess.run([sys.executable, os.path.join(kit, "data", "build.py")], check=True)
    importlib.invalidate_caches()
    print("rnnkit installed; run the next cell.")
'''


def settings(pyproject=None):
    """The [tool.rnnkit] table of pyproject.toml: {'course-repository': URL, 'course-branch': name}."""
    path = pyproject or os.path.join(workspace.PROJECT, "pyproject.toml")
    with open(path, "rb") as f:
        table = tomllib.load(f).get("tool", {}).get("rnnkit", {})
    repository = table.get("course-repository", "")
    if not re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", repository):
        raise ValueError(f"[tool.rnnkit] course-repository in {path} must be https://github.com/OWNER/REPO, "
                         f"got {repository!r}")
    return {"course-repository": repository, "course-branch": table.get("course-branch", "main")}


def install_cell_source(repository, branch="main"):
    """The source of the install cell for a course kept at `repository` (a GitHub URL)."""
    quoted = {k: json.dumps(v) for k, v in
              {"repository": repository, "branch": branch, "colab_dir": COLAB_DIR}.items()}
    return _INSTALL.format(**quoted).rstrip("\n")


def add_install_cell(notebook_path, repository, branch="main"):
    """Put the install cell right after the notebook's title, replacing an older one."""
    import nbformat
    nb = nbformat.read(notebook_path, as_version=4)
    nb.cells = [c for c in nb.cells if c.get("id") != CELL_ID]
    cell = nbformat.v4.new_code_cell(install_cell_source(repository, branch))
    cell["id"] = CELL_ID
    # Students may not delete or edit it by accident; nbgrader ignores cells without its metadata.
    cell.metadata.update({"editable": False, "deletable": False})
    at = 1 if nb.cells and nb.cells[0].cell_type == "markdown" else 0
    nb.cells.insert(at, cell)
    nbformat.write(nb, notebook_path)


def colab_url(repository, branch, assignment):
    owner_repo = repository.removeprefix("https://github.com/")
    return (f"https://colab.research.google.com/github/{owner_repo}/blob/{branch}/"
            f"course/{assignment}/{assignment}.ipynb")


def colab_links(repository, branch, assignments):
    """The README's table of "Open in Colab" links, between its two marker lines."""
    rows = [LINKS_BEGIN, "", "| notebook | open in Colab |", "|---|---|"]
    for a in assignments:
        rows.append(f"| `{a}` | [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
                    f"({colab_url(repository, branch, a)}) |")
    return "\n".join(rows + ["", LINKS_END])


def update_readme(readme, repository, branch, assignments):
    """Rewrite the Colab table of `readme` in place; return True when it changed."""
    with open(readme, encoding="utf-8") as f:
        text = f.read()
    pattern = re.compile(re.escape(LINKS_BEGIN) + ".*?" + re.escape(LINKS_END), re.S)
    if not pattern.search(text):
        raise ValueError(f"{readme} has no Colab table: add the lines {LINKS_BEGIN!r} and {LINKS_END!r}")
    new = pattern.sub(lambda _: colab_links(repository, branch, assignments), text)
    if new != text:
        with open(readme, "w", encoding="utf-8") as f:
            f.write(new)
    return new != text
