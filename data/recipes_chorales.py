"""Recipe of the "chorales" dataset (notebook 09): the soprano lines of the Bach chorales.

    python -I -S recipes_chorales.py SEED OUT.jsonl

rnnkit.data.build("chorales") runs this, like every recipe, in a clean interpreter (no
site-packages, no PYTHON* variables). Unlike the other recipes it then opens the environment's
site-packages itself: music21 is a dependency of the kit, pinned at PINNED in pyproject.toml, and it
imports NumPy, matplotlib, chardet, jsonpickle, joblib, more-itertools, requests and webcolors,
which an unpacked music21 wheel would not bring. The recipe refuses any other music21 version and
checks every score it reads against the sha256 that the RECORD of music21's wheel lists, so the
file is byte-identical wherever it is built. SEED is unused: parsing draws nothing.

1. The scores are the files under bach/ of music21's core corpus (CoreCorpus().getComposer("bach"):
   never a local corpus), in the order of their corpus path ("bach/bwv1.6.mxl", "bach/bwv10.7.mxl",
   ...). Not taken (chosen()): the Roman-numeral analyses of bach/choraleAnalyses/ (.rntxt: not
   scores); a Humdrum (.krn) file whose chorale is also in MusicXML (the MusicXML is kept: two of
   the three Humdrum copies are another edition, with other notes). After parsing, a score with no
   part named "Soprano..." is skipped (bwv846, a keyboard prelude).
2. Each score is parsed from its file, no pickle read or written. The soprano is the first part
   whose name starts with "Soprano" (soprano_index()): not always the first part, since many
   cantata chorales list their obbligato instruments (horns, trumpets, violins) above the voices.
3. Its notes and rests, in order, are the events: (MIDI pitch or None for a rest, quarterLength,
   tie type: "start", "continue", "stop" or None), as music21 reports them. Durations are not
   quantised; they are written exactly (quarter_length_text()). Grace notes (no duration) are
   dropped and counted. The line must be monophonic and gapless: each event starts where the one
   before it ended.
4. Each chorale is one line of JSON (FIELDS, in that order; ASCII), with the key music21 finds in
   the whole chorale and in its soprano line alone (analyze("key"), Aarden-Essen profiles), the
   soprano's first key signature (sharps, flats negative) and first time signature.
"""
import base64
import hashlib
import json
import sys
from fractions import Fraction

PINNED = "10.5.0"
FIELDS = ("id", "path", "part", "key", "melody_key", "key_signature", "time_signature", "events")
SCORES = (".mxl", ".xml", ".krn")


def chosen(paths):
    """Split corpus paths ("bach/bwv1.6.mxl") into the scores to parse and the files left out.

    Returns:
        (kept, skipped): kept, the sorted paths to parse; skipped, a sorted list of
        (path, reason) for the files that are not scores or copy a MusicXML score.
    """
    paths = sorted(paths)
    stems = {p.rsplit(".", 1)[0] for p in paths if p.endswith((".mxl", ".xml"))}
    kept, skipped = [], []
    for p in paths:
        stem, ext = p.rsplit(".", 1)
        if "." + ext not in SCORES:
            skipped.append((p, "not a score (a Roman-numeral analysis)" if ext == "rntxt"
                            else f"not a score (.{ext})"))
        elif ext == "krn" and stem in stems:
            skipped.append((p, "Humdrum copy of a chorale also in MusicXML"))
        else:
            kept.append(p)
    return kept, skipped


def soprano_index(names):
    """Index of the first part name that starts with "Soprano" ("Soprano 1", "Soprano\\rOboe 1"),
    or None."""
    for k, name in enumerate(names):
        if (name or "").startswith("Soprano"):
            return k
    return None


def quarter_length_text(ql):
    """A duration in quarter notes, exactly: "1", "0.5", "1.5", "0.125"; "1/3" when its
    denominator is not a power of two (no finite decimal). Fraction(text) reads it back."""
    f = Fraction(ql)
    if f.denominator & (f.denominator - 1):
        return f"{f.numerator}/{f.denominator}"
    text = repr(float(f))
    return text[:-2] if text.endswith(".0") else text


def key_text(k):
    """"F# minor", "B- major": music21's tonic name (flats written "-") and mode."""
    return f"{k.tonic.name} {k.mode}"


def events_of(part):
    """(events, grace notes dropped) of a monophonic part; ValueError if it is not one line."""
    from music21 import note
    events, graces, at = [], 0, Fraction(0)
    for n in part.flatten().notesAndRests:
        if n.duration.isGrace:
            graces += 1
            continue
        if Fraction(n.offset) != at:
            raise ValueError(f"the line is not gapless: an event at {n.offset}, expected {at}")
        if isinstance(n, note.Note):
            pitch = n.pitch.midi
        elif isinstance(n, note.Rest):
            pitch = None
        else:
            raise ValueError(f"not a single note or a rest: {n!r} at {n.offset}")
        events.append([pitch, quarter_length_text(n.quarterLength), n.tie.type if n.tie else None])
        at += Fraction(n.quarterLength)
    return events, graces


def record_digests(dist):
    """{path inside site-packages: sha256 hex} from the RECORD of an installed distribution."""
    out = {}
    for f in dist.files or ():
        if f.hash is not None and f.hash.mode == "sha256":
            raw = base64.urlsafe_b64decode(f.hash.value + "=" * (-len(f.hash.value) % 4))
            out[f.as_posix()] = raw.hex()
    return out


def main(argv):
    _seed, out = argv[:2]
    import site
    site.main()                         # the environment's site-packages: music21 and its needs
    import importlib.metadata
    try:
        dist = importlib.metadata.distribution("music21")
    except importlib.metadata.PackageNotFoundError:
        raise SystemExit(f"music21 is not installed, the recipe needs music21=={PINNED} (a "
                         "dependency of the kit): run `make install`.")
    if dist.version != PINNED:
        raise SystemExit(f"music21 {dist.version} is installed, the recipe needs {PINNED}: run "
                         "`make install`.")
    from music21 import converter, corpus, key, meter

    root = corpus.corpora.CoreCorpus().getComposer("bach")
    base = dist.locate_file("music21/corpus")
    paths = {p.relative_to(base).as_posix(): p for p in root}
    digests = record_digests(dist)
    kept, skipped = chosen(paths)
    lines, counts = [], {"events": 0, "rests": 0, "ties": 0, "graces": 0, "not_first": 0}
    for rel in kept:
        with open(paths[rel], "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        expected = digests.get(f"music21/corpus/{rel}")
        if digest != expected:
            raise SystemExit(f"{paths[rel]} has sha256 {digest}, music21's RECORD says {expected}.")
        score = converter.parseFile(paths[rel], forceSource=True, storePickle=False)
        parts = list(score.parts)
        k = soprano_index([p.partName for p in parts])
        if k is None:
            skipped.append((rel, "no part named Soprano: " + ", ".join(
                sorted({str(p.partName) for p in parts}))))
            continue
        soprano = parts[k]
        try:
            events, graces = events_of(soprano)
        except ValueError as e:
            raise SystemExit(f"{rel}: {e}")
        signature = soprano.recurse().getElementsByClass(key.KeySignature).first()
        metre = soprano.recurse().getElementsByClass(meter.TimeSignature).first()
        row = {
            "id": rel.rsplit("/", 1)[1].rsplit(".", 1)[0],
            "path": rel,
            "part": " ".join(soprano.partName.split()),
            "key": key_text(score.analyze("key")),
            "melody_key": key_text(soprano.analyze("key")),
            "key_signature": signature.sharps,
            "time_signature": metre.ratioString,
            "events": events,
        }
        assert tuple(row) == FIELDS
        lines.append(json.dumps(row, ensure_ascii=True, separators=(",", ":")))
        counts["events"] += len(events)
        counts["rests"] += sum(e[0] is None for e in events)
        counts["ties"] += sum(e[2] is not None for e in events)
        counts["graces"] += graces
        counts["not_first"] += k != 0
        if graces:
            print(f"chorales: {rel}: {graces} grace note(s) dropped")
    for rel, why in sorted(skipped):
        print(f"chorales: skipped {rel}: {why}")
    print(f"chorales: {len(lines)} chorales, {counts}")
    with open(out, "w", encoding="ascii", newline="\n") as f:
        f.write("".join(line + "\n" for line in lines))


if __name__ == "__main__":
    main(sys.argv[1:])
