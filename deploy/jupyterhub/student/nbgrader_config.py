"""nbgrader configuration of a student's server: the course and the exchange, set by the hub
(deploy/jupyterhub/jupyterhub_config.py)."""
import os

c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = os.environ.get("RNN_COURSE_ID", "rnn-course")
c.Exchange.root = os.environ.get("RNN_COURSE_EXCHANGE", "/srv/nbgrader/exchange")
