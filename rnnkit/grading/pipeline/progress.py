"""A live progress line for a grading batch: students done, failures, time left.

On a terminal the line redraws in place:
    grading [#########...........]  9/20 done, 1 failed, about 1 min 10 s left
Elsewhere (CI logs, pipes) it prints one line per finished submission instead.
"""
import sys
import time


def _duration(seconds):
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


class Progress:
    """Callable as progress(done, total, failed[, where=...]), as autograde.grade calls it."""

    def __init__(self, stream=None, width=24):
        self.stream = stream or sys.stdout
        self.width = width
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = None
        self.first_done = 0

    def line(self, done, total, failed, now=None):
        """The progress text: bar, counts and an estimate from the pace so far."""
        now = time.perf_counter() if now is None else now
        filled = int(self.width * done / total) if total else self.width
        text = f"grading [{'#' * filled}{'.' * (self.width - filled)}] {done:>{len(str(total))}}/{total} done"
        if failed:
            text += f", {failed} failed"
        finished = done - self.first_done
        if 0 < finished and done < total:
            per = (now - self.start) / finished
            text += f", about {_duration(per * (total - done))} left"
        elif done == total and self.start is not None:
            text += f" in {_duration(now - self.start)}"
        return text

    def __call__(self, done, total, failed, where=None):
        if self.start is None:
            self.start = time.perf_counter()
            self.first_done = done
            if where:
                self.stream.write(f"grading {total} submission{'s' * (total != 1)} on {where}\n")
        text = self.line(done, total, failed)
        if self.tty:
            self.stream.write("\r" + text + ("\n" if done == total else ""))
        elif done > self.first_done or done == total:
            self.stream.write(text + "\n")
        self.stream.flush()
