"""A grading batch: the queue and its local or Dask workers, each job's nbgrader steps, progress."""
