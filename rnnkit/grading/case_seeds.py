"""Which hidden cases a submission was graded on: the seed of its grading batch, in the gradebook.

The hidden cases are drawn afresh for every batch (registry.Case.drawn). The seed is kept beside
nbgrader's tables, in the gradebook's database (SQLite or PostgreSQL), one row per student and
assignment, and in grades.csv; `rnnkit grade --seed SEED` draws the same cases again, so a grade
can be reproduced.
"""
import datetime

TABLE = "rnnkit_hidden_cases"


def _table(metadata):
    import sqlalchemy as sa
    return sa.Table(TABLE, metadata,
                    sa.Column("student", sa.String(128), primary_key=True),
                    sa.Column("assignment", sa.String(128), primary_key=True),
                    sa.Column("seed", sa.BigInteger, nullable=False),
                    sa.Column("graded_at", sa.String(32), nullable=False))


def _engine(db_url):
    import sqlalchemy as sa
    engine = sa.create_engine(db_url)
    table = _table(sa.MetaData())
    table.create(engine, checkfirst=True)
    return engine, table


def record(db_url, student, assignment, seed):
    """Keep `seed` as the one the submission of `student` for `assignment` was last graded with."""
    engine, table = _engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(table.delete().where((table.c.student == student)
                                              & (table.c.assignment == assignment)))
            conn.execute(table.insert().values(
                student=student, assignment=assignment, seed=int(seed),
                graded_at=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")))
    finally:
        engine.dispose()


def lookup(db_url, student, assignment):
    """The seed the submission was last graded with, or None."""
    engine, table = _engine(db_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(table.select().where((table.c.student == student)
                                                    & (table.c.assignment == assignment))).first()
        return None if row is None else int(row.seed)
    finally:
        engine.dispose()


def forget(db_url, student, assignment):
    """Drop the record of a submission that is no longer graded."""
    engine, table = _engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(table.delete().where((table.c.student == student)
                                              & (table.c.assignment == assignment)))
    finally:
        engine.dispose()


def new_seed():
    """A fresh batch seed (31 bits: it reads well and fits everywhere)."""
    import secrets
    return secrets.randbits(31)
