"""Recipe of the "dates" dataset (notebook 07): dates as people write them -> ISO 8601.

    python -I -S recipes_dates.py SEED OUT.tsv WHEEL_DIR...

rnnkit.data.build("dates") runs this in a clean interpreter (no site-packages) whose only imports
besides the standard library are the two pinned wheels of data/MANIFEST.json, unpacked into the
WHEEL_DIRs: Faker draws the days and the formats from SEED, Babel writes each day with the CLDR
patterns of its locale. The file is therefore byte-identical wherever it is built.

1. Every (locale, format) combination of FORMATS writes each of the 36,525 days from 1950-01-01 to
   2049-12-31 (two-digit years are unambiguous in a 100-year window). Combinations are taken in
   order and one is dropped if any of its strings also names another day in an earlier kept
   combination (es_ES "d/M/yy" reads "3/4/21" as 3 April; en_US "M/d/yy" as 4 March) or in
   itself. So no string names two days, in the dataset or anywhere in the window.
2. The test split is drawn first: N_TEST_HELD_OUT examples written in the HELD_OUT combinations,
   N_TEST_SEEN in the others. The training split draws N_TRAIN examples from the other days, in
   the combinations that are not held out. No (day, combination) pair is drawn twice.
3. Rows are written as tab-separated UTF-8 with a header line (COLUMNS), sorted by split,
   locale, format and date.
"""
import sys
from datetime import date, timedelta

START, END = date(1950, 1, 1), date(2049, 12, 31)
N_TRAIN, N_TEST_SEEN, N_TEST_HELD_OUT = 40_000, 2_000, 2_000
COLUMNS = ("split", "locale", "format", "pattern", "held_out", "source", "target")

# CLDR's four named formats of each locale, then custom patterns (`y` is the calendar year; `Y`,
# the week-year, writes "1.1.2021" for 1 January 2022 in de_DE). Earlier locales win a collision.
NAMED = ("short", "medium", "long", "full")
FORMATS = {
    "en_US": NAMED + ("EEE, MMM d, y",),
    "en_GB": NAMED + ("EEE d MMM y", "d/M/y"),
    "de_DE": NAMED + ("d.M.y", "EEE, d. MMM y"),
    "fr_FR": NAMED + ("d/M/y", "EEE d MMM y"),
    "es_ES": NAMED + ("d/M/y", "EEE, d MMM y", "d MMMM y"),
    "it_IT": NAMED + ("d/M/y", "EEE d MMM y"),
    "pt_BR": NAMED + ("d/M/y", "d MMM y", "EEE, d MMM y"),
}

# Test-only combinations. Each writes its days unlike any training combination (a numeric pattern
# would not do: "d/M/y" writes the same in every locale), but its pieces are in training, so a
# character model can still read it: the same words without the weekday (en_US, fr_FR, it_IT
# long = full minus the weekday; en_GB medium = "EEE d MMM y" minus it), or a new mix of known
# pieces (de_DE "dd.MM.y": the padding of "dd.MM.yy", the year of "d.M.y"; es_ES "d MMMM y": the
# order of en_GB long, the months of es_ES long; pt_BR medium: the "de" of long, the short months
# of "d MMM y").
HELD_OUT = (
    ("en_US", "long"),
    ("en_GB", "medium"),
    ("de_DE", "medium"),
    ("fr_FR", "long"),
    ("es_ES", "d MMMM y"),
    ("it_IT", "long"),
    ("pt_BR", "medium"),
)


def window():
    """Every day from START to END, in order: list of 36,525 dates."""
    return [START + timedelta(days=k) for k in range((END - START).days + 1)]


def combinations():
    """All (locale, format) pairs of FORMATS, in priority order."""
    return [(locale, fmt) for locale, formats in FORMATS.items() for fmt in formats]


def unambiguous(combos, render, days):
    """Keep the combinations, in order, under which no string names two days.

    Args:
        combos: list of (locale, format) pairs, the earlier ones win.
        render: function (combo, day) -> str.
        days: list of dates to check (the whole window).

    Returns:
        (kept, dropped): kept, the list of surviving combos; dropped, a list of
        (combo, string, day, other_day) giving one clash for each combo left out.
    """
    owner = {}                          # string -> the day it names, over the kept combos
    kept, dropped = [], []
    for combo in combos:
        mine, clash = {}, None
        for day in days:
            text = render(combo, day)
            other = mine.get(text, owner.get(text, day))
            if other != day:
                clash = (combo, text, day, other)
                break
            mine[text] = day
        if clash:
            dropped.append(clash)
        else:
            kept.append(combo)
            owner.update(mine)
    return kept, dropped


def draw(fake, combos, n, days, taken, excluded=frozenset()):
    """n new (day, combo) pairs, drawn with Faker: days uniform over `days` minus `excluded`.

    `taken` (a set of pairs) is updated, so no pair is drawn twice across calls.
    """
    picks = []
    while len(picks) < n:
        # Faker's date_between would also do, but its draw depends on the platform (seconds from
        # randint on Windows, uniform elsewhere) and on the local time zone before 1970.
        day = days[fake.random_int(0, len(days) - 1)]
        combo = fake.random_element(combos)
        if day in excluded or (day, combo) in taken:
            continue
        taken.add((day, combo))
        picks.append((day, combo))
    return picks


def examples(fake, kept, days):
    """The test, then the training examples: a list of (split, day, combo, held_out)."""
    held = [c for c in kept if c in HELD_OUT]
    seen = [c for c in kept if c not in HELD_OUT]
    taken = set()
    test = [("test", d, c, True) for d, c in draw(fake, held, N_TEST_HELD_OUT, days, taken)]
    test += [("test", d, c, False) for d, c in draw(fake, seen, N_TEST_SEEN, days, taken)]
    test_days = frozenset(d for _, d, _, _ in test)
    train = [("train", d, c, False) for d, c in draw(fake, seen, N_TRAIN, days, taken, test_days)]
    return test + train


def table(picks, render, pattern):
    """TSV text of the picked examples: header, then by split, locale, format and date."""
    rows = sorted(((split, locale, fmt, pattern((locale, fmt)), str(int(held)),
                    render((locale, fmt), day), day.isoformat())
                   for split, day, (locale, fmt), held in picks),
                  key=lambda row: (row[0], row[1], row[2], row[6]))
    return "".join("\t".join(row) + "\n" for row in [COLUMNS] + rows)


def main(argv):
    seed, out, *paths = argv
    sys.path[:0] = paths                # the pinned wheels, never an installed Faker or Babel
    from babel import Locale
    from babel.dates import format_date, get_date_format
    from faker import Faker

    locales = {name: Locale.parse(name) for name in FORMATS}

    def render(combo, day):
        return format_date(day, format=combo[1], locale=locales[combo[0]])

    def pattern(combo):
        locale, fmt = combo
        return get_date_format(fmt, locale=locales[locale]).pattern if fmt in NAMED else fmt

    days = window()
    kept, dropped = unambiguous(combinations(), render, days)
    for combo, text, day, other in dropped:
        print(f"dates: dropped {combo[0]} {combo[1]!r}: {text!r} would name {day} and {other}")
    lost = [c for c in HELD_OUT if c not in kept]
    if lost:
        raise SystemExit(f"held-out combinations dropped as ambiguous: {lost}")
    Faker.seed(int(seed))
    fake = Faker("en_US")               # the locale does not matter: only its seeded draws are used
    text = table(examples(fake, kept, days), render, pattern)
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


if __name__ == "__main__":
    main(sys.argv[1:])
