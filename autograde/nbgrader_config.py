"""nbgrader configuration of the instructor workspace (this folder is the nbgrader course root).

Source notebooks live in ../solutions, the student release in ../course; submissions,
autograded notebooks, feedback and the SQLite gradebook are created here at run time.
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.dirname(HERE)

c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = "rnn-course"
c.CourseDirectory.root = HERE
# Absolute paths: nbgrader joins these with the root, and regex-escapes them when it globs.
c.CourseDirectory.source_directory = os.path.join(PROJECT, "solutions")
c.CourseDirectory.release_directory = os.path.join(PROJECT, "course")
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(HERE, "gradebook.db")

# A notebook runs in fast mode under nbgrader (training shrunk): tens of seconds at most.
# The limit is per cell, generous for a slow laptop.
c.Execute.timeout = 300
c.Execute.interrupt_on_timeout = True

# A graded cell the student deleted is put back from the gradebook and graded (nbgrader's
# default would leave the exercise without a test); the intake lists it for the instructor.
c.OverwriteCells.add_missing_cells = True
# ... which needs every cell's nbgrader metadata to name a grade_id: see
# rnnkit/grading/pipeline/preprocessors.py.
from nbgrader.preprocessors import (CheckCellMetadata, ClearOutput, DeduplicateIds,  # noqa: E402
                                    OverwriteCells, OverwriteKernelspec)
from rnnkit.grading.pipeline.preprocessors import DropOrphanMetadata  # noqa: E402
c.Autograde.sanitize_preprocessors = [ClearOutput, DeduplicateIds, DropOrphanMetadata,
                                      OverwriteKernelspec, OverwriteCells, CheckCellMetadata]

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
