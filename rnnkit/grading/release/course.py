"""Regenerate the student release (course/) from the nbgrader source (solutions/).

Each release notebook also gets the install cell of student_setup (after its title), and a
release into course/ rewrites the README's "Open in Colab" table and the student package's views
of the exercises (rnnkit/exercises/views/, from the answer keys: rnnkit.grading.release.views).
"""
import os
import shutil
import tempfile

from rnnkit.grading import workspace
from rnnkit.grading.release import student_setup, views

BANNER = ("Generated from solutions/ by `make release` (nbgrader generate_assignment). "
          "Do not edit: changes here are overwritten.")


def release(dest=None, root=None, db_url=None):
    """Run generate_assignment for every assignment; return {assignment: release folder}.

    Args:
        dest: the release folder; course/ by default.
        root: the nbgrader course root whose gradebook records the assignments; autograde/ by
            default, a throw-away folder when `dest` is elsewhere.
        db_url: that gradebook's database URL, when not the workspace's (workspace.load_config).
    """
    dest = os.path.abspath(dest or workspace.COURSE)
    if dest == workspace.COURSE:
        views.write_all()      # what the release's checks read
    own_root = root is None and dest != workspace.COURSE
    root = root or (tempfile.mkdtemp(prefix="rnnkit-release-") if own_root else workspace.AUTOGRADE)
    try:
        nbapi = workspace.api(root, db_url, CourseDirectory__release_directory=dest)
        where = student_setup.settings()
        done = {}
        for assignment in workspace.assignments():
            with workspace.silenced():
                result = nbapi.generate_assignment(assignment, force=True, create=True)
            if not result["success"]:
                raise RuntimeError(f"generate_assignment {assignment} failed:\n{result.get('error') or result.get('log')}")
            done[assignment] = os.path.join(dest, assignment)
            student_setup.add_install_cell(os.path.join(dest, assignment, f"{assignment}.ipynb"),
                                           where["course-repository"], where["course-branch"])
        with open(os.path.join(dest, "README.md"), "w", encoding="utf-8") as f:
            f.write(f"# Student release\n\n{BANNER}\n\nOpen a notebook in JupyterLab and run its first "
                    "cell. The kit's README explains the set-up.\n")
        if dest == workspace.COURSE:
            student_setup.update_readme(os.path.join(workspace.PROJECT, "README.md"), where["course-repository"],
                                        where["course-branch"], list(done))
        return done
    finally:
        if own_root:
            shutil.rmtree(root, ignore_errors=True)
