"""Strings from the data reach every output as literal text: no markup, escapes or HTML."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from acctsec.core.report import Report, TimelineEntry
from acctsec.core.respond import Action
from acctsec.core.signals import TAKEOVER, NotChecked, Signal
from acctsec.core.verdict import Verdict
from acctsec.model import Account, RowProblem
from acctsec.render.formats import ReportFormat
from acctsec.render.interface import formatter_for
from acctsec.render.safe import csv_cell, literal, md_text

HOSTILE = [
    "\x1b[31mred\x1b[0m",
    "\x1b]8;;http://evil.example\x07click\x1b]8;;\x07",
    "[bold red]boom[/]",
    "<script>alert(1)</script>",
    '=HYPERLINK("http://x","y")',
    "line1\nline2\r",
    "\u202egnp.exe",
]


def report_with(text: str) -> Report:
    signal = Signal("new_device", "high", TAKEOVER, 1.0, f"device {text} never used",
                    datetime(2026, 11, 1, tzinfo=UTC), {"device_id": text})
    return Report(
        uid=text, generated_at=datetime(2026, 11, 22, tzinfo=UTC), since=None, until=None,
        verdict=Verdict("takeover", 90, "high", f"summary {text}", "phishing"),
        account=Account(uid=text, email=text, phone=text),
        signals=(signal,), actions=(Action("restrict_withdrawals", text),),
        advice=(text,), not_checked=(NotChecked("rdap", text),),
        skipped_rows=(RowProblem("logins.csv", 3, text),),
        linked_accounts=({"uid": text, "via": [text], "label": "fraud"},),
        timeline=(TimelineEntry(datetime(2026, 11, 1, tzinfo=UTC), "email_change",
                                f"{text} → b@y.io", True),),
    )


def render(fmt: ReportFormat, report: Report) -> str:
    out = io.StringIO()
    formatter_for(fmt, width=200).write(report, out)
    return out.getvalue()


def test_terminal_shows_markup_and_escapes_literally() -> None:
    for text in HOSTILE:
        output = render(ReportFormat.table, report_with(text))
        assert "\x1b" not in output and "\x07" not in output and "\u202e" not in output
        if text.startswith("[bold"):
            assert "[bold red]boom[/]" in output
        if text.startswith("\x1b[31m"):
            assert "\\x1b[31mred" in output


def test_json_round_trips_hostile_strings_exactly() -> None:
    for text in HOSTILE:
        output = render(ReportFormat.json, report_with(text))
        assert "\x1b" not in output
        data = json.loads(output)
        assert data["uid"] == text
        assert data["signals"][0]["evidence"]["device_id"] == text


def test_markdown_neutralises_html_and_markup() -> None:
    output = render(ReportFormat.markdown, report_with("<script>alert(1)</script>[x](y)"))
    assert "<script>" not in output
    assert "&lt;script&gt;" in output
    assert "\\[x\\](y)" in output


def test_markdown_names_the_account_as_the_terminal_does() -> None:
    """The Markdown view had no e-mail, phone, status or KYC line; now it has, literally."""
    output = render(ReportFormat.markdown, report_with("<b>mallory</b>"))
    assert "e-mail &lt;b&gt;mallory&lt;/b&gt;; phone &lt;b&gt;mallory&lt;/b&gt;" in output
    assert "<b>" not in output


def test_csv_cells_never_start_a_formula() -> None:
    assert csv_cell('=HYPERLINK("a")').startswith("'=")
    assert csv_cell("@SUM(A1)").startswith("'@")
    assert csv_cell("plain") == "plain"
    assert csv_cell("'quoted") == "''quoted"  # a spreadsheet swallows one leading apostrophe


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_text_is_rendered_without_control_characters(text: str) -> None:
    shown = literal(text)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in shown)
    assert "<" not in md_text(text) and ">" not in md_text(text)
    output = render(ReportFormat.table, report_with(text))
    assert "\x1b" not in output


def test_every_format_has_a_formatter() -> None:
    for fmt in ReportFormat:
        assert hasattr(formatter_for(fmt), "write")


def test_line_separators_and_byte_order_marks_are_escaped() -> None:
    assert literal("a\u2028b\u2029c\ufeffd\u061ce") == "a\\u2028b\\u2029c\\ufeffd\\u061ce"
    assert literal("Zürich 東京") == "Zürich 東京"
    assert csv_cell("\t=1+1").startswith("'")
