"""JupyterHub configuration for one course of the RNN course kit on one shared Linux server.

One instructor and the students of one unix group log in with their unix passwords (PAM).
Each gets a Jupyter server of their own, run as their own unix user:

    students     the student environment (environment.yml: the notebooks' runtime and checks,
                 nothing of the instructor's side), JupyterLab with the Assignments tab
                 (fetch, validate, submit, fetch feedback) and no formgrader;
    instructor   the instructor's environment (the kit's checkout after `make install`, with
                 the answer keys and the grader), JupyterLab with formgrader, the course in
                 ~/rnn-course, graded with `rnnkit grade --root ~/rnn-course`.

Everything site-specific is read from the environment, with these defaults:

    RNN_COURSE_ID              rnn-course
    RNN_COURSE_INSTRUCTOR      instructor               (a unix user)
    RNN_COURSE_STUDENTS_GROUP  rnn-students             (a unix group: who may log in as a student)
    RNN_COURSE_EXCHANGE        /srv/nbgrader/exchange   (mode 777, made by the admin)
    RNN_COURSE_STUDENT_ENV     /opt/conda/envs/rnn-course
    RNN_COURSE_INSTRUCTOR_ENV  ~INSTRUCTOR/rnn-course-kit/.venv
    RNN_COURSE_DATA            /opt/rnn-course/data     (the datasets, built by data/build.py)
    RNN_HUB_STATE              /srv/jupyterhub          (the hub's database and cookie secret)

Run it as root from any directory: jupyterhub -f deploy/jupyterhub/jupyterhub_config.py
The Jupyter and nbgrader configuration each server reads lives beside this file, in student/ and
instructor/; the servers find it through JUPYTER_CONFIG_PATH, which leaves each user's own
~/.jupyter in place. README.md, "Run the course on JupyterHub", walks through it.
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))

COURSE_ID = os.environ.get("RNN_COURSE_ID", "rnn-course")
INSTRUCTOR = os.environ.get("RNN_COURSE_INSTRUCTOR", "instructor")
STUDENTS_GROUP = os.environ.get("RNN_COURSE_STUDENTS_GROUP", "rnn-students")
EXCHANGE = os.environ.get("RNN_COURSE_EXCHANGE", "/srv/nbgrader/exchange")
STUDENT_ENV = os.environ.get("RNN_COURSE_STUDENT_ENV", "/opt/conda/envs/rnn-course")
INSTRUCTOR_ENV = os.environ.get("RNN_COURSE_INSTRUCTOR_ENV",
                                os.path.join(f"~{INSTRUCTOR}", "rnn-course-kit", ".venv"))
DATA = os.environ.get("RNN_COURSE_DATA", "/opt/rnn-course/data")
STATE = os.environ.get("RNN_HUB_STATE", "/srv/jupyterhub")

c = get_config()  # noqa: F821  (provided by JupyterHub when it loads this file)

# Who may log in: PAM checks unix passwords. For an LMS, see README.md (LTI 1.3).
c.JupyterHub.authenticator_class = "pam"
c.Authenticator.allowed_users = {INSTRUCTOR}
c.PAMAuthenticator.allowed_groups = {STUDENTS_GROUP}

# Hub state, fresh per hub: the database of users and servers, and the cookie secret.
c.JupyterHub.db_url = "sqlite:///" + os.path.join(STATE, "jupyterhub.sqlite")
c.JupyterHub.cookie_secret_file = os.path.join(STATE, "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.pid_file = os.path.join(STATE, "jupyterhub-proxy.pid")

# Each user's server runs as that unix user (LocalProcessSpawner), in their home.
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
# A notebook cell writing to stderr scores 0 under nbgrader: TensorFlow stays quiet from the start.
c.Spawner.environment = {
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "RNN_COURSE_ID": COURSE_ID,
    "RNN_COURSE_EXCHANGE": EXCHANGE,
    # The notebooks read their datasets here; nothing downloads at run time.
    "RNNKIT_DATA": DATA,
}
# The servers start TensorFlow kernels: give them time on a busy server.
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120


def course_server(spawner):
    """The instructor's server runs the instructor's environment and configuration, a student's
    the student environment: the answer keys and the grader never reach a student's server."""
    role = "instructor" if spawner.user.name == INSTRUCTOR else "student"
    env = os.path.expanduser(INSTRUCTOR_ENV if role == "instructor" else STUDENT_ENV)
    bin_dir = os.path.join(env, "bin")
    spawner.cmd = [os.path.join(bin_dir, "python"), "-m", "jupyterhub.singleuser"]
    spawner.environment = dict(
        spawner.environment,
        # Not JUPYTER_CONFIG_DIR: that would replace the user's own ~/.jupyter.
        JUPYTER_CONFIG_PATH=os.path.join(HERE, role),
        # The server's own environment first (nbgrader runs `alembic` by name), then the system's;
        # nothing of the hub's PATH.
        PATH=os.pathsep.join([bin_dir, "/usr/local/bin", "/usr/bin", "/bin"]),
    )


c.Spawner.pre_spawn_hook = course_server
