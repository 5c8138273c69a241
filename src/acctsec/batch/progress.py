"""Progress of a batch run on stderr: a bar on a terminal, a quiet line now and then elsewhere."""

from __future__ import annotations

import sys
import time
from typing import IO, Any


def _eta(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds} s"


class LineProgress:
    """`batch: 1200/5000 accounts (24%), 85/s, ETA 45 s`, at most every `every` seconds."""

    def __init__(self, total: int, stream: IO[str] | None = None, every: float = 10.0) -> None:
        self.total, self.stream, self.every = total, stream or sys.stderr, every
        self.done = 0
        self.start = self.last = time.monotonic()

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.start, 1e-9)
        rate = self.done / elapsed
        left = (self.total - self.done) / rate if rate > 0 else 0.0
        pct = 100 * self.done // self.total if self.total else 100
        return (f"batch: {self.done}/{self.total} accounts ({pct}%), {rate:.1f}/s, "
                f"ETA {_eta(left)}")

    def advance(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            self.stream.write(self.line() + "\n")
            self.stream.flush()

    def close(self) -> None:
        if self.total:
            self.stream.write(self.line() + "\n")
            self.stream.flush()


class BarProgress:
    """A rich progress bar with rate and ETA; it is left on screen when the run ends."""

    def __init__(self, total: int, console: Any) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("batch"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}/s"), TextColumn("ETA"), TimeRemainingColumn(),
            console=console, transient=False,
        )
        self.start = time.monotonic()
        self.done = 0
        self.task = self.progress.add_task("batch", total=total, rate="0.0")
        self.progress.start()

    def advance(self, n: int) -> None:
        self.done += n
        rate = self.done / max(time.monotonic() - self.start, 1e-9)
        self.progress.update(self.task, advance=n, rate=f"{rate:.1f}")

    def close(self) -> None:
        self.progress.stop()


def progress_for(total: int, console: Any, stream: IO[str] | None = None) -> Any:
    """A bar when stderr is a terminal, else lines."""
    target = stream or sys.stderr
    if target.isatty():
        return BarProgress(total, console)
    return LineProgress(total, target)
