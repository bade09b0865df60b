"""LMS zip intake: each LMS's naming scheme into nbgrader's submitted/ layout, read defensively."""
import io
import os
import stat
import zipfile
from datetime import datetime

import nbformat
import pytest

from rnnkit.grading.intake import lms

KNOWN = ["01_rnn_fundamentals", "02_bptt", "03_gradient_problems", "04_lstm_gru",
         "05_bidirectional_stacked", "06_image_captioning"]
NB01 = "01_rnn_fundamentals"


def notebook(mark):
    """A small notebook whose one cell says `mark`, to tell which file was collected."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f"mark = {mark!r}")])
    return nbformat.writes(nb).encode("utf-8")


def zip_bytes(entries):
    """A zip of `entries`: name -> bytes, or ZipInfo -> bytes for special entries."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def make_zip(tmp_path, entries, name="submissions.zip"):
    path = tmp_path / name
    path.write_bytes(zip_bytes(entries))
    return str(path)


def mark_of(path):
    return nbformat.read(path, as_version=4).cells[0].source


def collected(result):
    return {(n.student, n.assignment): n for n in result.notebooks}


def reasons(result):
    return {s.source: s.reason for s in result.skipped}


def test_canvas_names(tmp_path):
    z = make_zip(tmp_path, {
        f"doejane_12345_67890_{NB01}.ipynb": notebook("jane"),
        "smithjohn_LATE_222_333_02_bptt.ipynb": notebook("john"),
        "smithjohn_222_334_notes.pdf": b"%PDF",
    })
    dest = tmp_path / "submitted"
    result = lms.from_zip(z, str(dest), known=KNOWN)
    got = collected(result)
    assert set(got) == {("12345", NB01), ("222", "02_bptt")}
    jane = got["12345", NB01]
    assert jane.path == os.path.join(str(dest), "12345", NB01, f"{NB01}.ipynb")
    assert mark_of(jane.path) == "mark = 'jane'"
    assert jane.timestamp is None and jane.source == f"doejane_12345_67890_{NB01}.ipynb"
    assert not (dest / "12345" / NB01 / "timestamp.txt").exists()
    assert result.ignored == 1 and result.skipped == []


def test_moodle_folders_flat_names_and_blind_marking(tmp_path):
    z = make_zip(tmp_path, {
        f"Jane Doe_12345_assignsubmission_file_/{NB01}.ipynb": notebook("jane"),
        "Jane Doe_12345_assignsubmission_onlinetext_/onlinetext.html": b"<p>hi</p>",
        f"John Smith_777_assignsubmission_file_{NB01}.ipynb": notebook("john"),
        f"Participant_4242_assignsubmission_file_/{NB01}.ipynb": notebook("anon"),
    })
    result = lms.from_zip(z, str(tmp_path / "out"), known=KNOWN)
    got = collected(result)
    # The full name is the student id: Moodle's number changes with every assignment.
    assert set(got) == {("Jane Doe", NB01), ("John Smith", NB01), ("Participant_4242", NB01)}
    assert mark_of(got["Participant_4242", NB01].path) == "mark = 'anon'"
    assert result.ignored == 1


def test_blackboard_timestamps_written_as_nbgrader_reads_them(tmp_path):
    from nbgrader.utils import parse_utc
    z = make_zip(tmp_path, {
        f"{NB01}_bitdiddle_attempt_2016-01-30-09-05-07_{NB01}.ipynb": notebook("ben"),
        "Assignment 1_bitdiddle_attempt_2016-01-30-09-05-07.txt": b"comments",
    })
    dest = tmp_path / "submitted"
    result = lms.from_zip(z, str(dest), known=KNOWN)
    ben = collected(result)["bitdiddle", NB01]
    # dateutil alone reads "...-09-05-07" as 09:00 at UTC-07:00; the time is 09:05:07.
    assert ben.timestamp == datetime(2016, 1, 30, 9, 5, 7)
    text = (dest / "bitdiddle" / NB01 / "timestamp.txt").read_text()
    assert text == "2016-01-30 09:05:07"
    assert parse_utc(text) == ben.timestamp


def test_newest_attempt_wins_and_the_older_is_reported(tmp_path):
    z = make_zip(tmp_path, {
        f"A1_ben_attempt_2016-01-30-15-00-00_{NB01}.ipynb": notebook("old"),
        f"A1_ben_attempt_2016-02-01-08-30-00_{NB01}.ipynb": notebook("new"),
        f"A1_ben_attempt_2016-01-31-10-00-00_{NB01}.ipynb": notebook("middle"),
    })
    result = lms.from_zip(z, str(tmp_path / "out"), known=KNOWN)
    ben = collected(result)["ben", NB01]
    assert mark_of(ben.path) == "mark = 'new'"
    assert ben.timestamp == datetime(2016, 2, 1, 8, 30)
    why = reasons(result)
    assert len(why) == 2
    assert why[f"A1_ben_attempt_2016-01-30-15-00-00_{NB01}.ipynb"].startswith(
        "older duplicate: 2016-01-30 15:00:00 replaced by A1_ben_attempt_2016-02-01-08-30-00")


def test_equal_timestamps_are_not_guessed(tmp_path):
    z = make_zip(tmp_path, {
        f"A1_ben_attempt_2016-01-30-15-00-00_{NB01}.ipynb": notebook("a"),
        f"A1_ben_attempt_2016-01-30-15-00-00_{NB01}-1.ipynb": notebook("b"),
    })
    result = lms.from_zip(z, str(tmp_path / "out"), known=KNOWN)
    assert result.notebooks == [] and len(result.skipped) == 2
    assert all(s.reason.endswith("none taken") for s in result.skipped)


def test_duplicates_without_timestamps_are_not_guessed(tmp_path):
    z = make_zip(tmp_path, {
        f"jdoe/{NB01}.ipynb": notebook("a"),
        f"jdoe/{NB01} (2).ipynb": notebook("b"),
        f"amy/{NB01}.ipynb": notebook("amy"),
    })
    result = lms.from_zip(z, str(tmp_path / "out"), known=KNOWN)
    assert set(collected(result)) == {("amy", NB01)}
    why = reasons(result)
    assert set(why) == {f"jdoe/{NB01}.ipynb", f"jdoe/{NB01} (2).ipynb"}
    assert all("no timestamp telling the newest: none taken" in r for r in why.values())


def test_folder_per_student_and_a_wrapping_folder(tmp_path):
    entries = {f"jdoe/{NB01}.ipynb": notebook("jdoe"),
               "amy/work/02_bptt.ipynb": notebook("amy"),
               "amy/work/data.csv": b"1,2",
               f"amy/.ipynb_checkpoints/{NB01}-checkpoint.ipynb": notebook("ckpt"),
               f"__MACOSX/jdoe/._{NB01}.ipynb": b"\0\0"}
    plain = lms.from_zip(make_zip(tmp_path, entries), str(tmp_path / "a"), known=KNOWN)
    assert set(collected(plain)) == {("jdoe", NB01), ("amy", "02_bptt")}
    assert plain.ignored == 3 and plain.skipped == []
    # What zipping the folder "submissions" gives: everything under one folder.
    wrapped = make_zip(tmp_path, {f"submissions/{k}": v for k, v in entries.items()
                                  if not k.startswith("__MACOSX")}, name="wrapped.zip")
    result = lms.from_zip(wrapped, str(tmp_path / "b"), known=KNOWN)
    assert set(collected(result)) == {("jdoe", NB01), ("amy", "02_bptt")}
    assert collected(result)["jdoe", NB01].source == f"submissions/jdoe/{NB01}.ipynb"


def test_zips_inside_the_zip_are_read(tmp_path):
    inner = zip_bytes({f"hw/{NB01}.ipynb": notebook("inner"), "hw/readme.md": b"#"})
    deeper = zip_bytes({"again.zip": zip_bytes({"02_bptt.ipynb": notebook("deep")})})
    z = make_zip(tmp_path, {
        "doejane_12345_67890_work.zip": inner,
        "amy/stuff.zip": deeper,
        "bob/broken.zip": b"PK\x03\x04 not really",
        f"bob/{NB01}.ipynb": notebook("bob"),
    })
    result = lms.from_zip(z, str(tmp_path / "out"), known=KNOWN)
    got = collected(result)
    assert set(got) == {("12345", NB01), ("amy", "02_bptt"), ("bob", NB01)}
    assert mark_of(got["12345", NB01].path) == "mark = 'inner'"
    assert got["12345", NB01].source == f"doejane_12345_67890_work.zip/hw/{NB01}.ipynb"
    assert got["amy", "02_bptt"].source == "amy/stuff.zip/again.zip/02_bptt.ipynb"
    assert reasons(result)["bob/broken.zip"].startswith("corrupt zip inside the zip:")
    assert result.ignored == 1


def test_a_corrupt_zip_inside_is_skipped_whole(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(f"{NB01}.ipynb", notebook("fine"))
        zf.writestr("02_bptt.ipynb", notebook("damaged"))
    inner = buf.getvalue()
    at = inner.index(b"damaged")
    inner = inner[:at] + b"DAMAGED" + inner[at + 7:]      # a CRC error, read second
    z = make_zip(tmp_path, {"amy/upload.zip": inner, f"bob/{NB01}.ipynb": notebook("bob")})
    result = lms.from_zip(z, str(tmp_path / "out"), known=KNOWN)
    assert set(collected(result)) == {("bob", NB01)}
    assert reasons(result) == {"amy/upload.zip": "corrupt zip inside the zip: "
                                                 "Bad CRC-32 for file '02_bptt.ipynb'"}


@pytest.mark.parametrize("file_name, expected", [
    (f"{NB01}.ipynb", NB01),
    (f"{NB01}-1.ipynb", NB01),              # Canvas, on resubmission
    (f"{NB01} (2).ipynb", NB01),            # a browser's second download
    (f"{NB01}-Copy1.ipynb", NB01),          # Jupyter's "Duplicate"
    (f"{NB01}-1 (2).ipynb", NB01),
    ("01 RNN Fundamentals.ipynb", NB01),
    ("rnn_fundamentals.ipynb", NB01),       # the number left out
    ("homework.ipynb", None),
    ("01.ipynb", None),
])
def test_assignment_of_mangled_names(file_name, expected):
    assert lms.assignment_of(file_name, KNOWN) == expected


def test_assignment_of_refuses_to_guess_between_two():
    assert lms.assignment_of("lstm.ipynb", ["01_lstm", "02_lstm"]) is None
    assert lms.assignment_of("01_lstm.ipynb", ["01_lstm", "02_lstm"]) == "01_lstm"


def test_mangled_names_collected_and_unknown_ones_skipped_with_reason(tmp_path):
    z = make_zip(tmp_path, {
        f"doejane_1_10_{NB01}-1.ipynb": notebook("jane"),
        "smithjohn_2_20_02_bptt (2).ipynb": notebook("john"),
        "leeann_3_30_homework.ipynb": notebook("ann"),
        "kimbo_4_40_lstm.ipynb": notebook("bo"),
        "stray.ipynb": notebook("stray"),
    })
    result = lms.from_zip(z, str(tmp_path / "out"), known=KNOWN + ["07_lstm", "08_lstm"])
    got = collected(result)
    assert set(got) == {("1", NB01), ("2", "02_bptt")}
    assert os.path.basename(got["2", "02_bptt"].path) == "02_bptt.ipynb"
    why = reasons(result)
    assert why["leeann_3_30_homework.ipynb"].startswith(
        "unknown assignment: 'homework.ipynb' names none of 01_rnn_fundamentals, 02_bptt")
    assert why["kimbo_4_40_lstm.ipynb"] == (
        "ambiguous assignment: 'lstm.ipynb' could be 07_lstm or 08_lstm")
    assert why["stray.ipynb"] == ("matches no naming scheme "
                                  "(canvas, moodle-blind, moodle, blackboard, folder)")


def test_given_assignment_takes_any_name_but_not_another_assignment(tmp_path):
    z = make_zip(tmp_path, {
        "jdoe/homework.ipynb": notebook("jdoe"),
        "amy/02_bptt.ipynb": notebook("amy-02"),
        f"bob/{NB01}.ipynb": notebook("bob"),
        "bob/scratch.ipynb": notebook("bob-scratch"),
    })
    dest = tmp_path / "out"
    result = lms.from_zip(z, str(dest), NB01, known=KNOWN)
    got = collected(result)
    assert set(got) == {("jdoe", NB01), ("bob", NB01)}
    assert (dest / "jdoe" / NB01 / f"{NB01}.ipynb").is_file()
    assert mark_of(got["bob", NB01].path) == "mark = 'bob'"
    why = reasons(result)
    assert why["amy/02_bptt.ipynb"] == f"a notebook of 02_bptt, not of {NB01}"
    assert why["bob/scratch.ipynb"] == (f"another notebook of bob, bob/{NB01}.ipynb, "
                                        f"is named after {NB01}")


def test_path_traversal_and_links_refused(tmp_path):
    link = zipfile.ZipInfo(f"eve/{NB01}.ipynb")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(f"../../{NB01}.ipynb", notebook("slip"))
        zf.writestr(f"/etc/{NB01}.ipynb", notebook("abs"))
        zf.writestr(f"mal\\..\\..\\{NB01}.ipynb", notebook("backslash"))
        zf.writestr(link, "/etc/passwd")
        zf.writestr(f"amy/{NB01}.ipynb", notebook("amy"))
    work = tmp_path / "work"
    work.mkdir()
    z = work / "evil.zip"
    z.write_bytes(buf.getvalue())
    result = lms.from_zip(str(z), str(work / "out"), known=KNOWN)
    assert set(collected(result)) == {("amy", NB01)}
    why = reasons(result)
    assert why[f"../../{NB01}.ipynb"].startswith("refused: '..' in the path")
    assert why[f"mal/../../{NB01}.ipynb"].startswith("refused: '..' in the path")
    assert why[f"/etc/{NB01}.ipynb"] == "refused: absolute path"
    assert why[f"eve/{NB01}.ipynb"] == "refused: symbolic link (not followed)"
    assert sorted(os.listdir(tmp_path)) == ["work"]
    assert sorted(os.listdir(work)) == ["evil.zip", "out"]


def test_zip_bomb_limits(tmp_path):
    z = make_zip(tmp_path, {f"s{i}/{NB01}.ipynb": notebook(i) for i in range(5)}
                 | {"big/data.bin": b"\0" * 10_000})
    dest = tmp_path / "out"
    with pytest.raises(ValueError, match=r"submissions\.zip: more than 2 entries .* zip bomb"):
        lms.from_zip(z, str(dest), known=KNOWN, max_entries=2)
    with pytest.raises(ValueError, match=r"submissions\.zip: more than 1,000 bytes .* zip bomb"):
        lms.from_zip(z, str(dest), known=KNOWN, max_bytes=1000)
    assert not dest.exists()
    # Files that are not notebooks are never extracted: they do not count against the limit.
    assert len(lms.from_zip(z, str(dest), known=KNOWN, max_bytes=5000).notebooks) == 5


def test_entries_inside_inner_zips_count(tmp_path):
    inner = zip_bytes({f"{i}.txt": b"x" for i in range(10)})
    z = make_zip(tmp_path, {"amy/in.zip": inner, f"amy/{NB01}.ipynb": notebook("amy")})
    with pytest.raises(ValueError, match="more than 5 entries"):
        lms.from_zip(z, str(tmp_path / "out"), known=KNOWN, max_entries=5)


@pytest.mark.parametrize("content, message", [
    (b"", "empty file, not a zip"),
    (b"just some text, not a zip at all", "not a zip file"),
    (zip_bytes({}), "empty zip: no file in it"),
    (zip_bytes({"notes.txt": b"hello", "a/b.pdf": b"%PDF"}),
     r"no notebook \(.ipynb\) in it \(2 other files\)"),
    (zip_bytes({f"amy/{NB01}.ipynb": notebook("amy")})[:-30], "corrupt zip"),
])
def test_bad_input_one_line_naming_the_file(tmp_path, content, message):
    path = tmp_path / "download.zip"
    path.write_bytes(content)
    dest = tmp_path / "out"
    with pytest.raises(ValueError, match=f"^{path}: {message}") as info:
        lms.from_zip(str(path), str(dest), known=KNOWN)
    assert "\n" not in str(info.value)
    assert not dest.exists()


def test_corrupt_entry_in_the_download_is_refused_whole(tmp_path):
    data = bytearray(zip_bytes({f"amy/{NB01}.ipynb": notebook("amy" * 50),
                                f"bob/{NB01}.ipynb": notebook("bob" * 50)}))
    data[60:70] = b"\xff" * 10     # inside amy's compressed bytes
    path = tmp_path / "download.zip"
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=f"^{path}: corrupt zip: "):
        lms.from_zip(str(path), str(tmp_path / "out"), known=KNOWN)
    assert not (tmp_path / "out").exists()


def test_missing_file(tmp_path):
    with pytest.raises(ValueError, match="nowhere.zip: no such file"):
        lms.from_zip(str(tmp_path / "nowhere.zip"), str(tmp_path / "out"), known=KNOWN)


def test_existing_dest_keeps_other_folders_and_replaces_the_student(tmp_path):
    dest = tmp_path / "submitted"
    old = dest / "amy" / NB01
    old.mkdir(parents=True)
    (old / f"{NB01}.ipynb").write_bytes(notebook("old"))
    (old / "stale.txt").write_text("from before")
    other = dest / "amy" / "02_bptt"
    other.mkdir()
    (other / "02_bptt.ipynb").write_bytes(notebook("keep"))
    z = make_zip(tmp_path, {f"amy/{NB01}.ipynb": notebook("new"),
                            f"bob/{NB01}.ipynb": notebook("bob")})
    lms.from_zip(z, str(dest), known=KNOWN)
    assert sorted(os.listdir(old)) == [f"{NB01}.ipynb"]
    assert mark_of(old / f"{NB01}.ipynb") == "mark = 'new'"
    assert mark_of(other / "02_bptt.ipynb") == "mark = 'keep'"
    assert (dest / "bob" / NB01 / f"{NB01}.ipynb").is_file()
    assert sorted(os.listdir(tmp_path)) == ["submissions.zip", "submitted"]   # no staging left


def test_custom_pattern(tmp_path):
    z = make_zip(tmp_path, {
        f"hw1-s1234567-2024-03-01T10:00:00-{NB01}.ipynb": notebook("early"),
        f"hw1-s1234567-2024-03-02T10:00:00-{NB01}.ipynb": notebook("late"),
        f"jdoe/{NB01}.ipynb": notebook("jdoe"),
    })
    pattern = r"hw1-(?P<student_id>s\d+)-(?P<timestamp>[\d:T-]{19})-(?P<file_id>.+)$"
    result = lms.from_zip(z, str(tmp_path / "out"), pattern=pattern, known=KNOWN)
    got = collected(result)
    assert set(got) == {("s1234567", NB01)}
    assert mark_of(got["s1234567", NB01].path) == "mark = 'late'"
    assert reasons(result)[f"jdoe/{NB01}.ipynb"] == "does not match the pattern"


@pytest.mark.parametrize("pattern, message", [
    (r"(?P<file_id>.+)", r"lacks the named group \(\?P<student_id>\.\.\.\)"),
    (r"(?P<student>\w+)/(?P<file>.+)", r"\(\?P<student_id>\.\.\.\) and \(\?P<file_id>\.\.\.\)"),
    (r"(?P<student_id>[\w+/(?P<file_id>.+)", "is not a regular expression"),
])
def test_pattern_validation(tmp_path, pattern, message):
    z = make_zip(tmp_path, {f"amy/{NB01}.ipynb": notebook("amy")})
    with pytest.raises(ValueError, match=message):
        lms.from_zip(z, str(tmp_path / "out"), pattern=pattern, known=KNOWN)
    assert not (tmp_path / "out").exists()


def test_arguments_checked_before_reading(tmp_path):
    z = make_zip(tmp_path, {f"amy/{NB01}.ipynb": notebook("amy")})
    with pytest.raises(ValueError, match="give the assignment, or the known assignment names"):
        lms.from_zip(z, str(tmp_path / "out"))
    with pytest.raises(ValueError, match="unknown assignment '99_nope'"):
        lms.from_zip(z, str(tmp_path / "out"), "99_nope", known=KNOWN)
    # Without a list of known ones, a given assignment is taken as it is.
    result = lms.from_zip(z, str(tmp_path / "out"), NB01)
    assert set(collected(result)) == {("amy", NB01)}
