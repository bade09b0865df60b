"""nbgrader configuration of the instructor's server: the course lives in ~/rnn-course (under the
server's root, as formgrader requires), its source/ holds the solution notebooks (copied from the
kit's solutions/), and the gradebook is ~/rnn-course/gradebook.db. Grade with
`rnnkit grade --root ~/rnn-course`."""
import os

c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = os.environ.get("RNN_COURSE_ID", "rnn-course")
c.CourseDirectory.root = os.path.expanduser("~/rnn-course")
c.Exchange.root = os.environ.get("RNN_COURSE_EXCHANGE", "/srv/nbgrader/exchange")
# As the kit's own workspace (autograde/nbgrader_config.py): a generous limit per cell.
c.Execute.timeout = 300
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
