"""Rows of the five contract tables as they are built, and their CSV form."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from acctsec.synth.world import fmt_ts

COLUMNS: dict[str, tuple[str, ...]] = {
    "accounts": (
        "uid", "email", "phone", "created_at", "kyc_level", "kyc_country", "status",
        "restrictions", "referrer_uid",
    ),
    "logins": (
        "ts", "uid", "event", "ip", "user_agent", "device_id", "session_id", "mfa_method",
        "channel", "failure_reason",
    ),
    "security_events": (
        "ts", "uid", "event", "ip", "device_id", "user_agent", "session_id", "detail",
    ),
    "transactions": (
        "ts", "uid", "kind", "tx_id", "asset", "network", "amount", "usd_value", "address",
        "txhash", "counterparty_uid", "status", "ip", "device_id", "payment_method",
        "chargeback",
    ),
    "alerts": ("alert_id", "uid", "ts", "source", "kind", "note"),
}
TRUTH_COLUMNS = ("uid", "family", "label", "description")

Row = dict[str, str]


def cell(value: Any) -> str:
    """The CSV text of one value: times in UTC with Z, decimals exact, JSON for detail."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return fmt_ts(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, Mapping):
        return json.dumps(value, ensure_ascii=True, separators=(", ", ": "))
    return str(value)


@dataclass
class Tables:
    """Everything generated so far, one list of rows per table."""

    rows: dict[str, list[Row]] = field(
        default_factory=lambda: {name: [] for name in COLUMNS}
    )
    truth: list[Row] = field(default_factory=list)

    def add(self, table: str, **values: Any) -> Row:
        unknown = set(values) - set(COLUMNS[table])
        if unknown:
            raise ValueError(f"{table} has no column {sorted(unknown)}")
        row = {col: cell(values.get(col)) for col in COLUMNS[table]}
        self.rows[table].append(row)
        return row

    def add_truth(self, uid: str, family: str, label: str, description: str) -> None:
        self.truth.append(
            {"uid": uid, "family": family, "label": label, "description": description}
        )

    def sorted_rows(self, table: str) -> list[Row]:
        if table == "accounts":
            return sorted(self.rows[table], key=lambda r: int(r["uid"]))
        if table == "alerts":
            return sorted(self.rows[table], key=lambda r: (r["ts"], r["alert_id"]))
        return sorted(self.rows[table], key=lambda r: (r["ts"], int(r["uid"])))


def write_csv(path: Path, columns: Iterable[str], rows: Iterable[Mapping[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
