"""The instructor's class report: how the class did on each exercise, its common mistakes and the
submissions to look at, as plain text for the terminal or as one self-contained HTML page.

Everything is computed from the `report.Row`s of a grading run; nothing here grades.
"""
import datetime
import html
import math
import re
import statistics
from collections import Counter

from rnnkit.grading.reports.grade_sheet import FOUND   # a note found by experiment starts so

# Notes that say where an exercise stands rather than what went wrong: counted apart from mistakes.
NOT_ATTEMPTED = ("not implemented", "not answered")
MANUAL = ("needs manual grading (formgrader)",)

_EPS = 1e-9


def _scored(row):
    """Whether a row's points are a grade: graded, or graded with only its feedback failing.

    Invalid submissions and failed autogrades carry zeros (or stale partial scores) that would drag
    every statistic down: they are reported as flagged instead.
    """
    return row.status == "graded" or row.status.startswith("feedback failed")


def _key(x):
    # Sums of fractional points pick up float noise (0.1 + 0.2); rounding keeps one bin per value.
    return round(float(x), 6)


def _histogram(values, maximum):
    """[[points, count], ...]: a bin per attainable whole point 0..maximum, the maximum itself,
    and every value actually scored, so half points get bins of their own."""
    counts = Counter(_key(v) for v in values)
    bins = {float(i) for i in range(int(math.floor(max(maximum, 0))) + 1)} | {_key(maximum)} | set(counts)
    return [[b, counts.get(b, 0)] for b in sorted(bins)]


def _stats(values):
    return (statistics.fmean(values) if values else None,
            statistics.median(values) if values else None)


def _exercise_names(group):
    """Exercise names of an assignment in the order of the rows' max_points, first seen first."""
    names = []
    for r in group:
        names += [n for n in r.max_points if n not in names]
    return names


def _reasons(row):
    reasons = [] if row.status == "graded" else [row.status]
    return reasons + [str(f) for f in (getattr(row, "flags", None) or [])]


def _differing(row):
    """[[exercise, in-notebook points, verified points], ...] where the two differ (the verified
    ones count)."""
    pairs = getattr(row, "verified", None) or {}
    return [[name, float(a), float(b)] for name, (a, b) in pairs.items() if abs(a - b) > _EPS]


def _kind(row):
    if row.status.startswith("invalid"):
        return "invalid"
    return "failed" if row.status != "graded" else "flag"


def summarize(rows):
    """The class report as plain data (dicts, lists and Counters; JSON-serialisable).

    Args:
        rows: `report.Row`s, any number of students and assignments. Optional attributes are read
            when present: `flags` (one-line strings) and `phases` (phase name -> seconds).

    Returns a dict:
        assignments: one dict per assignment, sorted by name: name, submissions (rows),
            graded (rows whose points are a grade, the only ones counted below), max_total,
            flagged (how many of its rows are flagged), totals {mean, median, histogram} and
            exercises: one dict per exercise in max_points order: name, max, students, mean,
            median, full_marks, histogram ([[points, count], ...] over bins 0..max plus any
            fractional points scored), mistakes (Counter of named mistakes), not_attempted and
            manual (students whose note is one of NOT_ATTEMPTED / MANUAL).
            mean and median are None when nobody was graded.
        flagged: rows that are not plainly graded or carry flags: student, assignment,
            kind ("invalid", "failed" or "flag"), reasons (list of one-line strings) and
            verified ([[exercise, in-notebook, verified points], ...] where they differ).
        phases: phase name -> {count, total, mean, max, slowest ("student / assignment")}.
    """
    assignments = []
    for name in sorted({r.assignment for r in rows}):
        group = [r for r in rows if r.assignment == name]
        scored = [r for r in group if _scored(r)]
        exercises = []
        for ex in _exercise_names(group):
            maximum = max(r.max_points[ex] for r in group if ex in r.max_points)
            takers = [r for r in scored if ex in r.max_points]
            points = [float(r.points.get(ex, 0.0)) for r in takers]
            notes = [r.notes[ex] for r in takers if r.notes.get(ex)]
            mean, median = _stats(points)
            exercises.append({
                "name": ex, "max": maximum, "students": len(takers), "mean": mean, "median": median,
                "full_marks": sum(p >= maximum - _EPS for p in points),
                "histogram": _histogram(points, maximum),
                "mistakes": Counter(n for n in notes if n not in NOT_ATTEMPTED + MANUAL),
                "not_attempted": sum(n in NOT_ATTEMPTED for n in notes),
                "manual": sum(n in MANUAL for n in notes),
            })
        max_total = sum(e["max"] for e in exercises)
        totals = [sum(float(r.points.get(e["name"], 0.0)) for e in exercises) for r in scored]
        mean, median = _stats(totals)
        assignments.append({
            "name": name, "submissions": len(group), "graded": len(scored), "max_total": max_total,
            "flagged": sum(bool(_reasons(r)) for r in group),
            "totals": {"mean": mean, "median": median, "histogram": _histogram(totals, max_total)},
            "exercises": exercises,
        })
    flagged = [{"student": r.student, "assignment": r.assignment, "kind": _kind(r), "reasons": _reasons(r),
                "verified": _differing(r)}
               for r in sorted(rows, key=lambda r: (r.assignment, r.student)) if _reasons(r)]
    return {"assignments": assignments, "flagged": flagged, "phases": _phases(rows)}


def _phases(rows):
    """Grading time per phase over all rows, and which submission was slowest in each."""
    seconds = {}
    for r in rows:
        for phase, s in (getattr(r, "phases", None) or {}).items():
            seconds.setdefault(phase, []).append((float(s), f"{r.student} / {r.assignment}"))
    out = {}
    for phase, pairs in seconds.items():
        slowest = max(pairs, key=lambda p: p[0])
        total = sum(s for s, _ in pairs)
        out[phase] = {"count": len(pairs), "total": total, "mean": total / len(pairs),
                      "max": slowest[0], "slowest": slowest[1]}
    return out


def _num(x):
    """A point count for people: 2.6667 -> '2.7', 3.0 -> '3', None -> '-'."""
    return "-" if x is None else f"{round(x, 1):g}"


def _pct(x, of):
    return None if x is None or not of else 100.0 * x / of


def _top_mistakes(assignment, top):
    """[(count, exercise, mistake), ...], the most common first, at most `top` (None: all)."""
    found = [(n, e["name"], m) for e in assignment["exercises"] for m, n in e["mistakes"].items()]
    return sorted(found, key=lambda t: (-t[0], t[1], t[2]))[:top]


def format_text(summary, top=5):
    """A compact plain-text report for the terminal.

    Args:
        summary: what `summarize` returns.
        top: how many of the most common mistakes to name per assignment.

    Returns the text: per assignment its exercises (mean / max, full marks, states) and top
    mistakes ("dense_softmax: 3 x overflow on large logits (no max shift)"), then one line per
    flagged submission.
    """
    if not summary["assignments"]:
        return "No submissions."
    out = []
    for a in summary["assignments"]:
        t = a["totals"]
        pct = _pct(t["mean"], a["max_total"])
        out.append(f"== {a['name']} ==  {a['graded']} of {a['submissions']} graded; total mean "
                   f"{_num(t['mean'])} / {_num(a['max_total'])}"
                   + (f" ({pct:.0f}%)" if pct is not None else "") + f", median {_num(t['median'])}")
        width = max(len(e["name"]) for e in a["exercises"]) + 2 if a["exercises"] else 10
        for e in a["exercises"]:
            states = [f"{e[k]} {label}" for k, label in (("not_attempted", "not attempted"),
                                                         ("manual", "to grade by hand")) if e[k]]
            out.append(f"  {e['name'].ljust(width)}{_num(e['mean']).rjust(5)} / {_num(e['max']):<4}"
                       f"full marks {e['full_marks']}/{e['students']}"
                       + (f"  ({', '.join(states)})" if states else ""))
        noted = _top_mistakes(a, None)
        found = [(n, ex, m) for n, ex, m in noted if m.startswith(FOUND)][:top]
        mistakes = [(n, ex, m) for n, ex, m in noted if not m.startswith(FOUND)][:top]
        if mistakes:
            out.append("  most common mistakes:")
            out += [f"    {ex}: {n} x {m}" for n, ex, m in mistakes]
        else:
            out.append("  no named mistakes")
        if found:                    # what the checks found by experiment where no name fits
            takers = {e["name"]: e["students"] for e in a["exercises"]}
            out.append("  found by experiment (no catalogued mistake):")
            out += [f"    {ex}: {n} of {takers[ex]}: {m[len(FOUND):]}" for n, ex, m in found]
        out.append("")
    flagged = summary["flagged"]
    out.append(f"Needs your attention ({len(flagged)}):" if flagged else "Nothing needs your attention.")
    out += [f"  {f['student']} / {f['assignment']}: {'; '.join(f['reasons'])}" for f in flagged]
    return "\n".join(out)


# ---------------------------------------------------------------------------------------- HTML

def _e(text):
    """Escape for HTML and SVG alike: student ids and notes are student-provided."""
    return html.escape(str(text), quote=True)


def _slug(text):
    return "a-" + re.sub(r"[^A-Za-z0-9_-]+", "-", str(text))


# Bars: zero red, full marks green, the rest blue; colour-blind safe enough next to the counts.
_ZERO, _MID, _FULL = "#d9604c", "#4c78a8", "#4a9a5b"


def _svg_histogram(hist, maximum, label, x_title="points"):
    """A small bar chart of a score distribution as inline SVG: counts above the bars, the points
    under them, axis titles; each bar has a tooltip."""
    n = len(hist)
    peak = max((c for _, c in hist), default=0)
    students = sum(c for _, c in hist)
    bar = 24 if n <= 8 else max(9, 190 // n)
    gap = max(3, bar // 4)
    left, top, plot, bottom = 40, 18, 84, 38
    width = left + n * (bar + gap) + gap + 8
    height = top + plot + bottom
    base = top + plot
    tick_every = 1 if n <= 12 else math.ceil(n / 12)  # keep tick labels from overlapping
    parts = [f'<svg class="hist" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             f'role="img" aria-label="{_e(label)}: score distribution of {students} students">',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{base}" class="axis"/>',
             f'<line x1="{left}" y1="{base}" x2="{width - 4}" y2="{base}" class="axis"/>',
             f'<text x="{left - 5}" y="{base + 4}" class="tick" text-anchor="end">0</text>']
    if peak:
        parts.append(f'<text x="{left - 5}" y="{top + 4}" class="tick" text-anchor="end">{peak}</text>')
        parts.append(f'<line x1="{left - 3}" y1="{top}" x2="{left}" y2="{top}" class="axis"/>')
    parts.append(f'<text x="12" y="{top + plot / 2:.0f}" class="axis-title" text-anchor="middle" '
                 f'transform="rotate(-90 12 {top + plot / 2:.0f})">students</text>')
    for i, (points, count) in enumerate(hist):
        x = left + gap + i * (bar + gap)
        h = 0 if not peak else plot * count / peak
        colour = _FULL if points >= maximum - _EPS else _ZERO if points <= _EPS else _MID
        parts.append(f'<rect x="{x}" y="{base - h:.1f}" width="{bar}" height="{h:.1f}" fill="{colour}">'
                     f'<title>{count} scored {_num(points)} / {_num(maximum)}</title></rect>')
        if count:
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{base - h - 4:.1f}" class="count" '
                         f'text-anchor="middle">{count}</text>')
        if i % tick_every == 0 or i == n - 1:
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{base + 14}" class="tick" '
                         f'text-anchor="middle">{_e(f"{points:g}")}</text>')
    parts.append(f'<text x="{left + (width - left) / 2:.0f}" y="{height - 6}" class="axis-title" '
                 f'text-anchor="middle">{_e(x_title)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _grade_colour(pct):
    if pct is None:
        return "#b8bec7"
    return _FULL if pct >= 80 else "#e0a030" if pct >= 50 else _ZERO


def _mean_bars(a):
    """Mean score of each exercise as a bar, % of its maximum, with the numbers beside it."""
    rows = []
    for e in a["exercises"]:
        pct = _pct(e["mean"], e["max"])
        width = 0 if pct is None else max(0.0, min(pct, 100.0))
        rows.append(
            f'<tr><th scope="row">{_e(e["name"])}</th>'
            f'<td class="barcell"><div class="track"><div class="fill" style="width:{width:.1f}%;'
            f'background:{_grade_colour(pct)}"></div></div></td>'
            f'<td class="num">{_num(e["mean"])} / {_num(e["max"])}</td>'
            f'<td class="num strong">{"-" if pct is None else f"{pct:.0f}%"}</td>'
            f'<td class="num muted">{e["full_marks"]} of {e["students"]}</td></tr>')
    return ('<table class="means"><thead><tr><th>exercise</th><th>mean score, % of max</th>'
            '<th class="num">mean</th><th class="num">%</th><th class="num">full marks</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def _heat(count, peak, rgb):
    """A cell background whose intensity is proportional to count / peak."""
    alpha = 0.12 + 0.88 * count / peak
    ink = "#fff" if alpha > 0.55 else "#1d2430"
    return f"background:rgba({rgb},{alpha:.2f});color:{ink}"


def _heatmap(a):
    """Named mistakes x exercises: how many students made each, most common first; the states
    (not attempted, to grade by hand) in grey rows below, apart from the mistakes."""
    exercises = a["exercises"]
    totals = Counter()
    for e in exercises:
        totals.update(e["mistakes"])
    states = [(label, key) for label, key in (("not attempted", "not_attempted"),
                                              ("needs manual grading", "manual"))
              if any(e[key] for e in exercises)]
    if not totals and not states:
        return '<p class="good">Nobody made a named mistake in this assignment.</p>'
    peak = max([*totals.values(), *(e[k] for _, k in states for e in exercises)], default=1) or 1
    graded = a["graded"] or 1
    head = "".join(f'<th class="rot"><span>{_e(e["name"])}</span></th>' for e in exercises)
    body = []

    def row(label, counts, rgb, cls):
        cells = []
        for e, c in zip(exercises, counts):
            if c:
                cells.append(f'<td class="cell" style="{_heat(c, peak, rgb)}" title="{_e(e["name"])}: '
                             f'{c} of {e["students"]} students">{c}</td>')
            else:
                cells.append('<td class="cell empty"></td>')
        total = sum(counts)
        body.append(f'<tr class="{cls}"><th scope="row">{_e(label)}</th>{"".join(cells)}'
                    f'<td class="num strong">{total}</td>'
                    f'<td class="num muted">{100 * total / graded:.0f}%</td></tr>')

    for mistake, _ in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0])):
        row(mistake, [e["mistakes"].get(mistake, 0) for e in exercises], "205,62,43", "mistake")
    if not totals:
        body.append(f'<tr><th scope="row" class="good">no named mistakes</th>'
                    f'<td colspan="{len(exercises) + 2}"></td></tr>')
    for label, key in states:
        row(label, [e[key] for e in exercises], "96,108,124", "state")
    return ('<div class="scroll"><table class="heat"><thead><tr><th class="corner">mistake \\ exercise</th>'
            f'{head}<th class="num">students</th><th class="num">of graded</th></tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def _assignment_section(a):
    t = a["totals"]
    pct = _pct(t["mean"], a["max_total"])
    charts = [f'<figure class="chart total"><figcaption><b>Total</b> <span class="muted">mean '
              f'{_num(t["mean"])} / {_num(a["max_total"])}, median {_num(t["median"])}</span></figcaption>'
              f'{_svg_histogram(t["histogram"], a["max_total"], a["name"] + " total")}</figure>']
    for e in a["exercises"]:
        charts.append(f'<figure class="chart"><figcaption><b>{_e(e["name"])}</b> <span class="muted">mean '
                      f'{_num(e["mean"])} / {_num(e["max"])}</span></figcaption>'
                      f'{_svg_histogram(e["histogram"], e["max"], e["name"])}</figure>')
    flagged = (f' <a class="badge warn" href="#attention">{a["flagged"]} need attention</a>'
               if a["flagged"] else "")
    return (f'<section class="assignment" id="{_e(_slug(a["name"]))}">'
            f'<h2>{_e(a["name"])}{flagged}</h2>'
            f'<p class="lede">{a["graded"]} of {a["submissions"]} submissions graded &middot; mean total '
            f'<b>{_num(t["mean"])} / {_num(a["max_total"])}</b>'
            + (f' ({pct:.0f}%)' if pct is not None else "") + f' &middot; median {_num(t["median"])}</p>'
            f'<h3>Mean score per exercise</h3>{_mean_bars(a)}'
            f'<h3>Score distributions</h3><p class="legend"><i style="background:{_ZERO}"></i>0 points '
            f'<i style="background:{_MID}"></i>partial <i style="background:{_FULL}"></i>full marks</p>'
            f'<div class="charts">{"".join(charts)}</div>'
            f'<h3>Mistakes</h3>{_heatmap(a)}</section>')


def _overview(summary):
    cards = []
    for a in summary["assignments"]:
        pct = _pct(a["totals"]["mean"], a["max_total"])
        cards.append(f'<a class="card" href="#{_e(_slug(a["name"]))}"><span class="name">{_e(a["name"])}</span>'
                     f'<span class="big" style="color:{_grade_colour(pct)}">'
                     f'{"-" if pct is None else f"{pct:.0f}%"}</span>'
                     f'<span class="muted">mean total {_num(a["totals"]["mean"])} / {_num(a["max_total"])}'
                     f'<br>{a["graded"]} of {a["submissions"]} graded'
                     + (f' &middot; <b class="warn-text">{a["flagged"]} flagged</b>' if a["flagged"] else "")
                     + "</span></a>")
    return f'<div class="cards">{"".join(cards)}</div>'


def _attention(summary):
    flagged = summary["flagged"]
    if not flagged:
        return ('<section id="attention"><h2>Needs your attention</h2>'
                '<p class="good">Nothing: every submission was graded and nothing was flagged.</p></section>')
    rows = "".join(
        f'<tr class="{f["kind"]}"><td><span class="tag {f["kind"]}">{_e(f["kind"])}</span></td>'
        f'<td class="mono">{_e(f["student"])}</td><td>{_e(f["assignment"])}</td>'
        f'<td>{"<br>".join(_e(r) for r in f["reasons"])}</td>'
        f'<td class="mono">{"<br>".join(_e(f"{n}: {_num(a)} → {_num(b)}") for n, a, b in f.get("verified", []))}'
        '</td></tr>' for f in flagged)
    return (f'<section id="attention"><h2>Needs your attention <span class="badge warn">{len(flagged)}'
            '</span></h2><p class="muted">Submissions that were not graded, or whose grade deserves a '
            'second look. They are left out of the statistics below unless only their feedback failed '
            'or they were merely flagged.</p><table class="list"><thead><tr><th></th><th>student</th>'
            f'<th>assignment</th><th>reason</th><th>in-notebook → verified points (verified count)</th>'
            f'</tr></thead><tbody>{rows}</tbody></table></section>')


def _phase_table(summary):
    phases = summary["phases"]
    if not phases:
        return ""
    rows = "".join(f'<tr><th scope="row">{_e(p)}</th><td class="num">{v["count"]}</td>'
                   f'<td class="num">{v["total"]:.1f} s</td><td class="num">{v["mean"]:.1f} s</td>'
                   f'<td class="num">{v["max"]:.1f} s</td><td class="mono">{_e(v["slowest"])}</td></tr>'
                   for p, v in phases.items())
    return ('<section><h2>Grading time</h2><table class="list"><thead><tr><th>phase</th>'
            '<th class="num">submissions</th><th class="num">total</th><th class="num">mean</th>'
            f'<th class="num">slowest</th><th>slowest submission</th></tr></thead><tbody>{rows}</tbody>'
            '</table></section>')


# Inline and font-free so the page works offline and as an e-mail attachment; printable as is.
_CSS = """
*{box-sizing:border-box}
body{margin:0;background:#f3f5f8;color:#1d2430;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,
"Helvetica Neue",Arial,sans-serif;-webkit-print-color-adjust:exact;print-color-adjust:exact}
header{background:#1f3a5f;color:#fff;padding:22px 32px}
header h1{margin:0;font-size:24px;font-weight:650}
header p{margin:4px 0 0;color:#c9d6e8}
main{max-width:1180px;margin:0 auto;padding:20px 24px 40px}
section{background:#fff;border:1px solid #dde2ea;border-radius:8px;padding:18px 22px;margin:18px 0}
h2{margin:0 0 6px;font-size:20px}
h3{margin:22px 0 8px;font-size:13px;text-transform:uppercase;letter-spacing:.06em;color:#5a6575}
.muted{color:#6a7482}.strong{font-weight:600}.good{color:#2f7d43}.warn-text{color:#b5532a}
.lede{margin:0;color:#3b4554}
.mono{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;font-size:13px}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.cards{display:flex;flex-wrap:wrap;gap:14px;margin-top:4px}
.card{flex:1 1 220px;display:flex;flex-direction:column;gap:2px;background:#fff;border:1px solid #dde2ea;
border-radius:8px;padding:14px 18px;color:inherit;text-decoration:none}
.card .name{font-weight:600}.card .big{font-size:34px;font-weight:700;line-height:1.1}
.badge{display:inline-block;vertical-align:middle;font-size:12px;font-weight:600;border-radius:10px;
padding:1px 9px;margin-left:8px;text-decoration:none}
.badge.warn{background:#fbe6dc;color:#9c4320}
table{border-collapse:collapse}
th{text-align:left;font-weight:600}
.list{width:100%}
.list th,.list td{padding:6px 10px;border-bottom:1px solid #e6e9ef;vertical-align:top}
.list thead th{font-size:12px;color:#5a6575;border-bottom:2px solid #d3d9e2}
.tag{font-size:11px;font-weight:700;text-transform:uppercase;border-radius:4px;padding:1px 6px}
.tag.invalid{background:#fbe0dc;color:#a3301f}.tag.failed{background:#fdebd0;color:#8a5300}
.tag.flag{background:#e3ebf7;color:#2a4f86}
.means th,.means td{padding:4px 10px;border-bottom:1px solid #eef0f4}
.means thead th{font-size:12px;color:#5a6575}
.means tbody th{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;font-size:13px;font-weight:500}
.barcell{width:46%}
.track{height:14px;background:#e9edf2;border-radius:7px;overflow:hidden}
.fill{height:100%;border-radius:7px}
.legend{margin:0 0 6px;font-size:12px;color:#5a6575}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin:0 4px 0 10px}
.charts{display:flex;flex-wrap:wrap;gap:10px}
.chart{margin:0;padding:8px 10px 2px;border:1px solid #e6e9ef;border-radius:6px;break-inside:avoid}
.chart.total{background:#f7f9fc}
.chart figcaption{font-size:13px;margin-bottom:2px}
.chart figcaption b{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;font-weight:600}
.hist{display:block}
.hist .axis{stroke:#8792a2;stroke-width:1}
.hist .tick{font-size:11px;fill:#5a6575}
.hist .count{font-size:11px;font-weight:600;fill:#1d2430}
.hist .axis-title{font-size:11px;fill:#6a7482}
.scroll{overflow-x:auto}
.heat th,.heat td{border:1px solid #e6e9ef;padding:5px 8px}
.heat tbody th{font-weight:500;max-width:420px}
.heat .corner,.heat thead .num{font-size:12px;color:#5a6575;vertical-align:bottom}
.heat .rot{vertical-align:bottom;padding:6px 4px;height:150px}
.heat .rot span{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;
font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;font-size:12px;font-weight:500}
.heat .cell{width:40px;min-width:40px;text-align:center;font-weight:700;font-variant-numeric:tabular-nums}
.heat .empty{background:#fafbfc}
.heat tr.state th{font-style:italic;color:#5a6575}
.heat tr.mistake+tr.state th,.heat tr.mistake+tr.state td{border-top:2px solid #c9d0da}
footer{text-align:center;color:#8a93a0;font-size:12px;padding-bottom:24px}
@media print{
body{background:#fff;font-size:12px}
header{background:#fff;color:#1d2430;padding:0 0 8px;border-bottom:2px solid #1f3a5f}
header p{color:#5a6575}
main{max-width:none;padding:0}
section{border:none;padding:0;margin:14px 0}
section.assignment{break-before:page}
.card{border-color:#c9d0da}
.scroll{overflow:visible}
}
"""


def write_html(summary, path, title="Class report"):
    """Write the class report as one self-contained HTML page: no scripts, fonts or links to load.

    Args:
        summary: what `summarize` returns.
        path: the file to write.
        title: the page's heading, e.g. "RNN course, spring term".

    Returns `path`. Per assignment the page shows the mean score per exercise, a bar chart of
    each exercise's score distribution (inline SVG) and a heatmap of the named mistakes; above
    them, the submissions that need the instructor's attention.
    """
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    n = sum(a["submissions"] for a in summary["assignments"])
    if summary["assignments"]:
        sub = (f'{len(summary["assignments"])} assignment{"s" * (len(summary["assignments"]) != 1)}, '
               f'{n} submission{"s" * (n != 1)}')
        body = (_overview(summary) + _attention(summary)
                + "".join(_assignment_section(a) for a in summary["assignments"]) + _phase_table(summary))
    else:
        sub = "no submissions"
        body = '<section><h2>No submissions</h2><p class="muted">There was nothing to report.</p></section>'
    page = ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{_e(title)}</title><style>{_CSS}</style></head><body>'
            f'<header><h1>{_e(title)}</h1><p>{sub} &middot; generated {stamp}</p></header>'
            f'<main>{body}</main><footer>rnnkit class report</footer></body></html>\n')
    with open(path, "w", encoding="utf-8") as f:
        f.write(page)
    return path
