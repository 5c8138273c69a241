"""Output formats of the investigate report, chosen by an Enum mapped exhaustively."""

from __future__ import annotations

from typing import IO, Protocol

from acctsec.core.report import Report
from acctsec.render.formats import ReportFormat


class ReportFormatter(Protocol):
    def write(self, report: Report, out: IO[str]) -> None: ...


def formatter_for(fmt: ReportFormat, *, width: int | None = None) -> ReportFormatter:
    from acctsec.render.json_format import JsonFormatter
    from acctsec.render.markdown import MarkdownFormatter
    from acctsec.render.terminal import TerminalFormatter

    formatters: dict[ReportFormat, ReportFormatter] = {
        ReportFormat.table: TerminalFormatter(width=width),
        ReportFormat.json: JsonFormatter(),
        ReportFormat.markdown: MarkdownFormatter(),
    }
    return formatters[fmt]
