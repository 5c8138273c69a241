"""A small world in the input contract, written as CSV, JSONL or Parquet, for link tests."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

T0 = datetime(2026, 9, 1, tzinfo=UTC)
HOSTILE_EMAIL = "\x1b[31mevil[/]@x.com"
HOSTILE_DEVICE = '[bold]dev"\x1b]8;;http://x\x07'
RING_ADDRESS = "0xAbCdEf0000000000000000000000000000000001"

Row = dict[str, Any]


def _ts(days: float) -> str:
    return (T0 + timedelta(days=days)).isoformat().replace("+00:00", "Z")


def world() -> dict[str, list[Row]]:
    acc: list[Row] = []
    logins: list[Row] = []
    sec: list[Row] = []
    tx: list[Row] = []

    def account(uid: str, email: str, created: float, **extra: Any) -> None:
        acc.append({"uid": uid, "email": email, "created_at": _ts(created), **extra})

    def login(uid: str, day: float, ip: str, device: str) -> None:
        logins.append({"ts": _ts(day), "uid": uid, "event": "login_success", "ip": ip,
                       "device_id": device})

    # a ring: five accounts in three days, one device, one payout address, chained referrals
    for i in range(1, 6):
        uid = f"r{i}"
        account(uid, f"max.pay{i}@gmail.com", 10 + i * 0.5,
                referrer_uid=f"r{i - 1}" if i > 1 else "")
        login(uid, 10 + i * 0.5, f"92.10.0.{i}", "ringdev")
        tx.append({"ts": _ts(20 + i), "uid": uid, "kind": "withdrawal", "asset": "USDT",
                   "amount": "100", "usd_value": "100", "address": RING_ADDRESS.lower()
                   if i % 2 else RING_ADDRESS})
    # a household: two accounts, one laptop and router, opened years apart
    account("h1", "anna.kern@gmail.com", -900)
    account("h2", "tom.berg@web.de", -200)
    for uid in ("h1", "h2"):
        login(uid, 5, "84.1.1.1", "homedev")
    # a carrier address that 60 strangers use
    for i in range(60):
        account(f"c{i}", f"user{i}x@yahoo.com", -i)
        login(f"c{i}", 3, "31.0.0.1", f"phone{i}")
    # a victim whose account sends money to a mule right after a password reset
    account("v1", "victim@web.de", -400)
    sec.append({"ts": _ts(30), "uid": "v1", "event": "password_reset", "detail": "{}"})
    tx.append({"ts": _ts(30.1), "uid": "v1", "kind": "internal_out", "asset": "USDT",
               "amount": "900", "usd_value": "900", "counterparty_uid": "m1"})
    account("m1", "quiet.guy@proton.me", -50)
    tx.append({"ts": _ts(30.1), "uid": "m1", "kind": "internal_in", "asset": "USDT",
               "amount": "900", "usd_value": "900", "counterparty_uid": "v1"})
    for i in range(5):
        tx.append({"ts": _ts(31 + i), "uid": "m1", "kind": "deposit", "asset": "USDT",
                   "amount": "500", "usd_value": "500", "address": f"TVictim{i}"})
        tx.append({"ts": _ts(31 + i + 0.05), "uid": "m1", "kind": "withdrawal", "asset": "USDT",
                   "amount": "495", "usd_value": "495", "address": "TMuleExit"})
    # a referral loop
    for uid, ref in (("x1", "x3"), ("x2", "x1"), ("x3", "x2")):
        account(uid, f"{uid}@loop.example", 1, referrer_uid=ref)
    # hostile text in an e-mail change and a device id shared by two accounts
    account("e1", HOSTILE_EMAIL, -10)
    account("e2", "plain@x.com", -10)
    sec.append({"ts": _ts(2), "uid": "e2", "event": "email_change",
                "detail": json.dumps({"old": HOSTILE_EMAIL, "new": "plain@x.com"})})
    for uid in ("e1", "e2"):
        login(uid, 2, "10.0.0.1", HOSTILE_DEVICE)
    return {"accounts": acc, "logins": logins, "security_events": sec, "transactions": tx}


def _columns(rows: list[Row]) -> list[str]:
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    return list(names)


def write_world(folder: Path, fmt: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for table, rows in world().items():
        columns = _columns(rows)
        if fmt == "csv":
            with (folder / f"{table}.csv").open("w", newline="", encoding="utf-8") as fh:
                writer = csv.DictWriter(fh, columns)
                writer.writeheader()
                writer.writerows(rows)
        elif fmt == "jsonl":
            with (folder / f"{table}.jsonl").open("w", encoding="utf-8") as fh:
                for row in rows:
                    fh.write(json.dumps(row) + "\n")
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            data = {c: [None if r.get(c) in (None, "") else str(r[c]) for r in rows]
                    for c in columns}
            pq.write_table(pa.table(data), folder / f"{table}.parquet")
    return folder


@pytest.fixture
def make_world(tmp_path: Path) -> Callable[[str], Path]:
    return lambda fmt="csv": write_world(tmp_path / fmt, fmt)


@pytest.fixture
def world_dir(tmp_path: Path) -> Path:
    return write_world(tmp_path / "csv", "csv")
