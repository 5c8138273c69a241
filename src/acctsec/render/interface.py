"""Output formats of the investigate report, chosen by an Enum mapped exhaustively."""

from __future__ import annotations

from typing import IO, Protocol

from acctsec.core.report import Report
from acctsec.render.formats import ReportFormat


class ReportFormatter(Protocol):
    def write(self, report: Report, out: IO[str]) -> None: ...


def formatter_for(fmt: ReportFormat, *, width: int | None = None) -> ReportFormatter:
    """The formatter of one format; only its own module is imported (rich is slow to load)."""
    if fmt is ReportFormat.table:
        from acctsec.render.terminal import TerminalFormatter

        return TerminalFormatter(width=width)
    if fmt is ReportFormat.json:
        from acctsec.render.json_format import JsonFormatter

        return JsonFormatter()
    if fmt is ReportFormat.markdown:
        from acctsec.render.markdown import MarkdownFormatter

        return MarkdownFormatter()
    raise ValueError(f"no formatter for {fmt!r}")
