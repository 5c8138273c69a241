"""A report as Markdown, for pasting into a case-management system."""

from __future__ import annotations

from typing import IO, Any

from acctsec.core.report import Report, account_facts
from acctsec.render.safe import md_text

TIMELINE_ROWS = 50


def _when(ts: Any) -> str:
    return ts.strftime("%Y-%m-%d %H:%M") if ts else ""


def _signals(report: Report) -> list[str]:
    lines = ["## Signals", "", "| severity | signal | when (UTC) | explanation |",
             "|---|---|---|---|"]
    lines += [f"| {s.severity} | {s.id} | {_when(s.ts)} | {md_text(s.explanation)} |"
              for s in report.signals]
    return lines


def _timeline(report: Report) -> list[str]:
    rows = list(report.timeline)[-TIMELINE_ROWS:]
    if not rows:
        return []
    title = "## Timeline" + (f" (last {len(rows)} of {len(report.timeline)})"
                             if len(rows) < len(report.timeline) else "")
    lines = ["", title, "", "| when (UTC) | event | detail | flagged |", "|---|---|---|---|"]
    lines += [f"| {_when(e.ts)} | {md_text(e.kind)} | {md_text(e.what)} | "
              f"{'yes' if e.flagged else ''} |" for e in rows]
    return lines


def _bullets(title: str, items: list[str]) -> list[str]:
    return ["", f"## {title}", "", *[f"- {item}" for item in items]] if items else []


def _account(report: Report) -> list[str]:
    """The account's e-mail, phone, status and KYC country, as the terminal's header has."""
    facts = [f"{label} {md_text(value)}" for label, value in account_facts(report)]
    return ["; ".join(facts), ""] if facts else []


class MarkdownFormatter:
    def write(self, report: Report, out: IO[str]) -> None:
        v = report.verdict
        lines = [
            f"# Account {md_text(report.uid)}: {v.label} (risk {v.risk}, {v.confidence} "
            "confidence)", "", *_account(report), md_text(v.summary), "", *_signals(report),
            *_timeline(report),
        ]
        lines += _bullets("Actions", [f"**{a.action}**: {md_text(a.reason)}"
                                      for a in report.actions])
        lines += _bullets("Advice for the customer", [md_text(a) for a in report.advice])
        lines += _bullets("Linked accounts", [
            md_text(f"{x.get('uid')} via {', '.join(map(str, x.get('via', [])))} "
                    f"({x.get('label') or 'not investigated'})") for x in report.linked_accounts])
        lines += _bullets("Funds", [
            md_text(f"{f.get('amount')} {f.get('asset')} {f.get('txhash')}: " + "; ".join(
                f"{e.get('entity') or e.get('address')} ({e.get('category')}, {e.get('hops')} "
                "hops)" for e in f.get("endpoints", []))) for f in report.funds])
        lines += _bullets("Not checked", [f"{md_text(n.check)}: {md_text(n.reason)}"
                                          for n in report.not_checked])
        lines += _bullets(f"Rows that break the data contract ({len(report.skipped_rows)})",
                          [md_text(str(p)) for p in report.skipped_rows[:20]])
        out.write("\n".join(lines) + "\n")
