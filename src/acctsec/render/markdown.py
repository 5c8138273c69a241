"""A report as Markdown, for pasting into a case-management system."""

from __future__ import annotations

from typing import IO

from acctsec.core.report import Report
from acctsec.render.safe import md_text


class MarkdownFormatter:
    def write(self, report: Report, out: IO[str]) -> None:
        v = report.verdict
        lines = [
            f"# Account {md_text(report.uid)}: {v.label} (risk {v.risk}, {v.confidence} "
            "confidence)",
            "",
            md_text(v.summary),
            "",
            "## Signals",
            "",
            "| severity | signal | when (UTC) | explanation |",
            "|---|---|---|---|",
        ]
        for s in report.signals:
            when = s.ts.strftime("%Y-%m-%d %H:%M") if s.ts else ""
            lines.append(f"| {s.severity} | {s.id} | {when} | {md_text(s.explanation)} |")
        if report.actions:
            lines += ["", "## Actions", ""]
            lines += [f"- **{a.action}**: {md_text(a.reason)}" for a in report.actions]
        if report.advice:
            lines += ["", "## Advice for the customer", ""]
            lines += [f"- {md_text(a)}" for a in report.advice]
        if report.not_checked:
            lines += ["", "## Not checked", ""]
            lines += [f"- {md_text(n.check)}: {md_text(n.reason)}" for n in report.not_checked]
        out.write("\n".join(lines) + "\n")
