"""The grading progress line: counts, failures, time left; redrawn on a terminal, one line per result elsewhere."""
import io

from rnnkit.grading.pipeline.progress import Progress, _duration


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_line_shows_bar_counts_failures_and_time_left():
    p = Progress(stream=io.StringIO(), width=10)
    p.start, p.first_done = 100.0, 0
    assert p.line(5, 20, 1, now=150.0) == "grading [##........]  5/20 done, 1 failed, about 2 min 30 s left"


def test_estimate_counts_only_submissions_finished_in_this_run():
    p = Progress(stream=io.StringIO(), width=4)
    p.start, p.first_done = 0.0, 2          # two could not even be prepared: no time spent on them
    assert p.line(3, 6, 2, now=10.0).endswith("about 30 s left")


def test_finished_line_gives_the_total_time():
    p = Progress(stream=io.StringIO(), width=4)
    p.start, p.first_done = 0.0, 0
    assert p.line(4, 4, 0, now=3725.0) == "grading [####] 4/4 done in 1 h 2 min"


def test_pipe_gets_one_line_per_result_and_a_header():
    out = io.StringIO()
    p = Progress(stream=out, width=4)
    p(0, 2, 0, where="2 local workers")
    p(1, 2, 0)
    p(2, 2, 1)
    lines = out.getvalue().splitlines()
    assert lines[0] == "grading 2 submissions on 2 local workers"
    assert lines[1].startswith("grading [##..] 1/2 done")
    assert lines[2].startswith("grading [####] 2/2 done, 1 failed in ")
    assert len(lines) == 3


def test_terminal_line_is_redrawn_in_place():
    out = Terminal()
    p = Progress(stream=out, width=4)
    p(0, 2, 0)
    p(1, 2, 0)
    p(2, 2, 0)
    text = out.getvalue()
    assert text.count("\r") == 3 and text.endswith("\n") and text.count("\n") == 1


def test_durations_read_naturally():
    assert [_duration(s) for s in (0.4, 59, 61, 3599, 7260)] == ["0 s", "59 s", "1 min 1 s", "59 min 59 s", "2 h 1 min"]
