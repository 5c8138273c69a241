"""The analyst's terminal view of a report: verdict, signals, timeline, actions, advice."""

from __future__ import annotations

from typing import IO

from rich import box
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from acctsec.core.report import Report, account_facts
from acctsec.render.safe import literal

LABEL_STYLE = {"takeover": "bold white on red", "fraud": "bold white on magenta",
               "suspicious": "bold black on yellow", "clear": "bold white on green"}
SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan",
                  "info": "dim"}
TIMELINE_ROWS = 25


def _t(value: object, style: str = "") -> Text:
    """Untrusted text as a rich Text: never parsed as markup, control characters escaped."""
    return Text(literal(value if value is not None else ""), style=style)


def verdict_panel(report: Report) -> Panel:
    v = report.verdict
    head = Text.assemble((f" {v.label.upper()} ", LABEL_STYLE.get(v.label, "bold")),
                         f"  risk {v.risk}/100  confidence {v.confidence}")
    if v.attack:
        head.append(f"  ({v.attack.replace('_', ' ')})")
    who = Text("account ")
    who.append_text(_t(report.uid, "bold"))
    for label, value in account_facts(report):
        who.append(f"  {label} ")
        who.append_text(_t(value))
    return Panel(Group(head, who, _t(v.summary)), title="acctsec investigate", box=box.ROUNDED)


def signals_table(report: Report) -> Table:
    table = Table(title="Signals", box=box.SIMPLE_HEAD, expand=True)
    table.add_column("severity", no_wrap=True)
    table.add_column("signal", no_wrap=True)
    table.add_column("when (UTC)", no_wrap=True)
    table.add_column("explanation", ratio=1, overflow="fold")
    for s in report.signals:
        when = s.ts.strftime("%Y-%m-%d %H:%M") if s.ts else ""
        table.add_row(Text(s.severity, SEVERITY_STYLE.get(s.severity, "")), Text(s.id),
                      Text(when), _t(s.explanation))
    return table


def timeline_table(report: Report) -> Table:
    rows = list(report.timeline)[-TIMELINE_ROWS:]
    skipped = len(report.timeline) - len(rows)
    title = "Timeline" + (f" (last {len(rows)} of {len(report.timeline)})" if skipped else "")
    table = Table(title=title, box=box.SIMPLE_HEAD, expand=True)
    table.add_column("when (UTC)", no_wrap=True)
    table.add_column("event", no_wrap=True)
    table.add_column("detail", ratio=1, overflow="fold")
    for e in rows:
        style = "bold red" if e.flagged else ""
        table.add_row(Text(e.ts.strftime("%Y-%m-%d %H:%M"), style), _t(e.kind, style),
                      _t(e.what, style))
    return table


def _bullets(title: str, items: list[Text]) -> Panel:
    return Panel(Group(*items), title=title, box=box.ROUNDED, title_align="left")


class TerminalFormatter:
    def __init__(self, width: int | None = None) -> None:
        self.width = width

    def write(self, report: Report, out: IO[str]) -> None:
        console = Console(file=out, width=self.width, markup=False, highlight=False,
                          emoji=False, soft_wrap=False)
        console.print(verdict_panel(report))
        if report.signals:
            console.print(signals_table(report))
        if report.timeline:
            console.print(timeline_table(report))
        if report.actions:
            console.print(_bullets("Recommended actions", [
                Text.assemble((a.action, "bold"), " - ", _t(a.reason)) for a in report.actions]))
        if report.advice:
            console.print(_bullets("Advice for the customer",
                                   [Text("- ") + _t(a) for a in report.advice]))
        self._extras(console, report)

    def _extras(self, console: Console, report: Report) -> None:
        if report.linked_accounts:
            console.print(_bullets("Linked accounts", [
                _t(f"{x.get('uid')} via {', '.join(map(str, x.get('via', [])))}"
                   f" ({x.get('label') or 'not investigated'})") for x in report.linked_accounts]))
        if report.funds:
            console.print(_bullets("Funds", [
                _t(f"{f.get('amount')} {f.get('asset')} {f.get('txhash')}: "
                   + "; ".join(f"{e.get('entity') or e.get('address')} ({e.get('category')}, "
                               f"{e.get('hops')} hops)" for e in f.get("endpoints", [])))
                for f in report.funds]))
        if report.not_checked:
            console.print(_bullets("Not checked", [
                _t(f"{n.check}: {n.reason}") for n in report.not_checked]))
        if report.skipped_rows:
            shown = [_t(str(p)) for p in report.skipped_rows[:10]]
            more = len(report.skipped_rows) - len(shown)
            if more:
                shown.append(Text(f"... and {more} more"))
            console.print(_bullets(f"Rows that break the data contract "
                                   f"({len(report.skipped_rows)})", shown))
