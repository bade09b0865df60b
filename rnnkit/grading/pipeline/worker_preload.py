"""What every local grading worker needs, imported once by the forkserver the workers fork from.

autograde._LocalWorkers starts its worker processes from multiprocessing's forkserver with this
module preloaded, so each worker starts with TensorFlow, Keras, nbclient, nbgrader and the
checks already imported (about 5 s of CPU each, otherwise paid again by every worker). Like the
zygote, it runs no TensorFlow op: a worker forked from it starts without TensorFlow's thread
pools, and sizes them from its own environment.

Only the forkserver imports this module: it makes that process die with the grader that started
it (each worker dies with the forkserver, see autograde._quiet_worker). Without that, the
workers, which hold the forkserver's liveness pipe open, and the forkserver, their parent,
would keep each other alive after the grader was killed.
"""
from rnnkit.grading import startup
from rnnkit.grading.isolation.processes import die_with_parent

die_with_parent()
startup.skip_unused_imports()

from rnnkit.grading import keys  # noqa: E402,F401
from rnnkit.grading.pipeline import execute  # noqa: E402,F401
from rnnkit.grading.verify import verifier  # noqa: E402,F401
from rnnkit.runtime import import_tf  # noqa: E402

import_tf()
