"""Scale mode streams a large population in chunks and still obeys the contract."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from acctsec.synth import scale
from acctsec.synth.scale import generate_scale
from synth.synth_contract import row_problems

TABLES = ("accounts", "logins", "security_events", "transactions", "alerts")


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def small_scale(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("scale") / "data"
    old = scale.EVENTS_PER_CHUNK
    scale.EVENTS_PER_CHUNK = 10_000  # force many chunks
    try:
        generate_scale(out, seed=3, accounts=2000, events=50_000, fmt="csv")
    finally:
        scale.EVENTS_PER_CHUNK = old
    return out


def test_scale_csv_obeys_contract(small_scale: Path) -> None:
    rows = {t: _csv(small_scale / f"{t}.csv") for t in TABLES}
    uids = {r["uid"] for r in rows["accounts"]}
    assert len(uids) == len(rows["accounts"]) == 2000
    assert 45_000 <= len(rows["logins"]) <= 55_000
    problems = [p for t in TABLES for r in rows[t] for p in row_problems(t, r, uids)]
    assert problems[:10] == []
    truth = _csv(small_scale.parent / "data-truth.csv")
    assert {r["uid"] for r in truth} == uids
    assert {"phishing", "ring", "money_mule", "ordinary"} <= {r["family"] for r in truth}


def test_scale_sessions_reuse_ids_of_their_login(small_scale: Path) -> None:
    logins = _csv(small_scale / "logins.csv")
    seen: dict[str, str] = {}
    for r in logins:
        if r["event"] == "login_success":
            seen[r["session_id"]] = r["uid"]
    refreshed = [r for r in logins if r["event"] == "session_refresh"]
    assert refreshed and all(seen.get(r["session_id"]) == r["uid"] for r in refreshed
                             if r["session_id"] in seen)


def test_scale_sessions_stay_on_the_device_that_signed_in(small_scale: Path) -> None:
    """Honest sessions are refreshed by the device holding their cookie; only the planted
    stolen sessions may turn up elsewhere."""
    truth = {r["uid"]: r["family"] for r in _csv(small_scale.parent / "data-truth.csv")}
    logins = _csv(small_scale / "logins.csv")
    device_of = {r["session_id"]: r["device_id"] for r in logins
                 if r["event"] == "login_success" and r["session_id"]}
    moved = {r["uid"] for r in logins if r["event"] == "session_refresh"
             and r["session_id"] in device_of and r["device_id"]
             and r["device_id"] != device_of[r["session_id"]]}
    assert {truth[u] for u in moved} <= {"stolen_session"}


def test_scale_parquet(tmp_path: Path) -> None:
    generate_scale(tmp_path / "p", seed=1, accounts=1500, events=20_000, fmt="parquet")
    table = pq.read_table(tmp_path / "p" / "logins.parquet")
    assert table.num_rows >= 18_000
    assert set(table.column_names) >= {"ts", "uid", "event", "ip", "session_id"}
    accounts = pq.read_table(tmp_path / "p" / "accounts.parquet")
    assert accounts.num_rows == 1500


def test_scale_ordinary_accounts_hold_their_own_mailbox_and_number(small_scale: Path) -> None:
    """An exchange lets one e-mail or phone open one account: namesakes must differ."""
    truth = {r["uid"]: r["family"] for r in _csv(small_scale.parent / "data-truth.csv")}
    accounts = _csv(small_scale / "accounts.csv")
    ordinary = [r for r in accounts if truth[r["uid"]] == "ordinary"]
    emails = [r["email"].lower() for r in accounts]
    phones = [r["phone"] for r in accounts]
    assert all(emails.count(r["email"].lower()) == 1 for r in ordinary)
    assert all(phones.count(r["phone"]) == 1 for r in ordinary)
