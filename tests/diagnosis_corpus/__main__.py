"""`make diagnose-report`: how diagnosis fares on the corpus, per notebook, and every entry's
findings."""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

from tests.diagnosis_corpus import notebooks, run, table  # noqa: E402


def main(argv):
    chosen = [n for n in notebooks() if not argv or any(a in n for a in argv)]
    rows = [row for notebook in chosen for row in run(notebook)]
    for r in rows:
        mark = "right" if r.right else ("WRONG" if r.given else "none ")
        mark = mark if r.caught and not r.named else ("NAMED" if r.named else "MISSD")
        print(f"{mark}  {r.notebook[:2]} {r.exercise}: {r.what}")
        for f in r.shown:
            print(f"         {f.kind}/{f.subject}: {f.text}")
        if not r.right:
            print(f"         expected one of {r.expected}")
    print()
    print(table(rows))


if __name__ == "__main__":
    main(sys.argv[1:])
