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

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
