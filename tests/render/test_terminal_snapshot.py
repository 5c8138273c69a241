"""The terminal report at a fixed width, compared with a reviewed snapshot.

After an intended change of the layout, review the new output and refresh it with
ACCTSEC_UPDATE_SNAPSHOTS=1 pytest tests/render/test_terminal_snapshot.py
"""

from __future__ import annotations

import io
import os
from datetime import timedelta
from pathlib import Path

from acctsec.render.formats import ReportFormat
from acctsec.render.interface import formatter_for
from acctsec_testkit import T0, Story

SNAPSHOT = Path(__file__).parent / "snapshots" / "phishing_takeover_100.txt"


def phishing_report():  # type: ignore[no-untyped-def]
    s = Story("4711")
    home = s.ip("84.150.3.4", "berlin")
    s.routine(30, home, "dev-home")
    s.tx(T0 + timedelta(days=1), "deposit", "5000", address="0x" + "a" * 40)
    evil = s.ip("159.89.10.20", "do_ams")
    t = T0 + timedelta(days=40)
    s.login(t, evil, "dev-evil")
    s.event(t + timedelta(minutes=4), "withdrawal_address_add", evil, "dev-evil",
            {"address": "0x" + "b" * 40})
    s.tx(t + timedelta(minutes=9), "withdrawal", "4900", address="0x" + "b" * 40, ip=evil,
         device="dev-evil")
    report = s.investigate()
    # generated_at is fixed by the Story; nothing in the view depends on the clock.
    return report


def test_terminal_view_matches_the_snapshot() -> None:
    out = io.StringIO()
    formatter_for(ReportFormat.table, width=100).write(phishing_report(), out)
    text = out.getvalue()
    if os.environ.get("ACCTSEC_UPDATE_SNAPSHOTS") == "1" or not SNAPSHOT.exists():
        SNAPSHOT.write_text(text, encoding="utf-8")
    assert text == SNAPSHOT.read_text(encoding="utf-8")


def test_linked_accounts_not_investigated_say_so_in_every_view() -> None:
    """The terminal printed "(None)" for a linked account with no verdict of its own,
    where Markdown says "(not investigated)"."""
    from dataclasses import replace

    report = replace(phishing_report(), linked_accounts=(
        {"uid": "4712", "via": ["device_id"], "label": None},))
    for fmt in (ReportFormat.table, ReportFormat.markdown):
        out = io.StringIO()
        formatter_for(fmt, width=100).write(report, out)
        assert "4712" in out.getvalue() and "(not investigated)" in out.getvalue(), fmt
        assert "(None)" not in out.getvalue()
