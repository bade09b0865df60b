"""Which hidden cases a submission was graded on: the seed of its grading batch, in the gradebook.

The hidden cases are drawn afresh for every batch (registry.Case.drawn). The seed is kept beside
nbgrader's tables, in the gradebook's database (SQLite or PostgreSQL), one row per student and
assignment, and in grades.csv; `rnnkit grade --seed SEED` draws the same cases again, so a grade
can be reproduced.
"""
import contextlib
import datetime

TABLE = "rnnkit_hidden_cases"


def _table(metadata):
    import sqlalchemy as sa
    return sa.Table(TABLE, metadata,
                    sa.Column("student", sa.String(128), primary_key=True),
                    sa.Column("assignment", sa.String(128), primary_key=True),
                    sa.Column("seed", sa.BigInteger, nullable=False),
                    sa.Column("graded_at", sa.String(32), nullable=False))


@contextlib.contextmanager
def _rows(db_url, student, assignment):
    """(connection in a transaction, table, the condition picking the submission's row)."""
    import sqlalchemy as sa
    engine = sa.create_engine(db_url)
    try:
        table = _table(sa.MetaData())
        table.create(engine, checkfirst=True)
        with engine.begin() as conn:
            yield conn, table, (table.c.student == student) & (table.c.assignment == assignment)
    finally:
        engine.dispose()


def record(db_url, student, assignment, seed):
    """Keep `seed` as the one the submission of `student` for `assignment` was last graded with."""
    with _rows(db_url, student, assignment) as (conn, table, row):
        conn.execute(table.delete().where(row))
        conn.execute(table.insert().values(
            student=student, assignment=assignment, seed=int(seed),
            graded_at=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")))


def lookup(db_url, student, assignment):
    """The seed the submission was last graded with, or None."""
    with _rows(db_url, student, assignment) as (conn, table, row):
        found = conn.execute(table.select().where(row)).first()
    return None if found is None else int(found.seed)


def forget(db_url, student, assignment):
    """Drop the record of a submission that is no longer graded."""
    with _rows(db_url, student, assignment) as (conn, table, row):
        conn.execute(table.delete().where(row))


def new_seed():
    """A fresh batch seed (31 bits: it reads well and fits everywhere)."""
    import secrets
    return secrets.randbits(31)
