"""Keep the grading processes' start-up short: optional imports nothing here uses are skipped.

jsonschema, which nbformat imports to validate notebooks, imports the optional rfc3987_syntax
when it is installed (jupyter_events requires it). That module compiles 38 Lark grammars as it
is imported: 1.2 s of CPU in every process that reads a notebook (the grader, each worker),
spent at start-up, when all of them compete for the cores. It only serves jsonschema's "iri"
format checks, which notebook validation never runs (nbformat validates without a format
checker). Plain `nbgrader` is not affected: this only runs in rnnkit's own processes.
"""
import sys

SKIPPED = ("rfc3987_syntax",)


def skip_unused_imports():
    """Make the SKIPPED modules unimportable in this process (an ImportError, which jsonschema
    expects of an optional module), unless one is imported already."""
    for name in SKIPPED:
        sys.modules.setdefault(name, None)
