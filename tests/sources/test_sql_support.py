"""Shared helpers of the SQL-source tests: a folder with broken rows, comparisons."""

from __future__ import annotations

import csv
import dataclasses
import sqlite3
from pathlib import Path
from typing import Any

from acctsec.model import AccountRecords, RowProblem

SAMPLE_UIDS = ("10007", "10143", "10201", "10001", "10084", "10250")

BROKEN = {
    "accounts.csv": "uid,email,kyc_level,status,restrictions,vip_tier\n"
                    "1,\"=HYPERLINK(\"\"x\"\")\x1b[31m\",2,active,withdraw; API,gold\n"
                    "2,[bold]b[/bold]@example.com,,,,\n"
                    "3,c@example.com,lots,active,,\n",
    "logins.csv": "ts,uid,event,ip,user_agent,device_id,session_id,country,lat,asn\n"
                  "2026-10-01T10:00:00+02:00,1,LOGIN_SUCCESS,1.2.3.4,\"ua\x1b[2J\",d1,s1,DE,52.5,"
                  "AS3320\n"
                  "not-a-time,1,login_success,1.2.3.4,ua,d1,s1,,,\n"
                  "1700000000,2,login_failure,1.2.3.4,ua,d2,,,north,\n"
                  "1700000000123,2,login_success,9.9.9.9,ua,d2,s2,,,\n"
                  "2026-10-01T10:00:00Z,2,teleport,1.2.3.4,ua,d2,,,,\n"
                  "2026-10-01T10:00:00Z,1,logout,1.2.3.4\n",
    "security_events.csv": "ts,uid,event,detail,ticket\n"
                           "2026-10-01T11:00:00Z,1,Email_Change,\"{\"\"old\"\": \"\"a\"\", "
                           "\"\"new\"\": \"\"b\"\"}\",T-1\n"
                           "2026-10-01T11:00:00Z,1,withdrawal_whitelist_off,{not json,\n",
    "transactions.csv": "ts,uid,kind,asset,amount,usd_value,chargeback,network\n"
                        "2026-10-01T12:00:00Z,1,withdrawal,usdt,1E-25,0.10,yes,bsc\n"
                        "2026-10-01T12:00:00Z,1,withdrawal,BTC,-1,,,\n"
                        "2026-10-01T12:00:00Z,1,deposit,BTC,123456789012345678901234.5,,,\n",
    "alerts.csv": "alert_id,uid,ts,note\nA1,1,,\"<script>x</script>\"\n,2,,no id\n",
}


def broken_folder(root: Path) -> Path:
    folder = root / "broken"
    folder.mkdir()
    for name, body in BROKEN.items():
        (folder / name).write_text(body, encoding="utf-8", newline="")
    return folder


def raw_sqlite(folder: Path, dest: Path) -> Path:
    """The folder's rows as they are, every cell text, with `_row` = the CSV line."""
    con = sqlite3.connect(dest)
    for path in sorted(folder.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            cols = ", ".join(f'"{c}" TEXT' for c in header)
            con.execute(f'CREATE TABLE "{path.stem}" ({cols}, "_row" INTEGER)')
            for cells in reader:
                if len(cells) == len(header):
                    marks = ", ".join("?" * (len(cells) + 1))
                    con.execute(f'INSERT INTO "{path.stem}" VALUES ({marks})',
                                [*cells, reader.line_num])
    con.commit()
    con.close()
    return dest


def _table(name: str) -> str:
    return name.split(".")[0]


def normalised(value: Any) -> Any:
    """A record or problem with its file name as the SQL source names it (the table)."""
    if isinstance(value, RowProblem):
        return dataclasses.replace(value, file=_table(value.file))
    origin = getattr(value, "origin", None)
    if origin is None:
        return value
    return dataclasses.replace(value, origin=dataclasses.replace(origin, file=_table(origin.file)))


def comparable(records: AccountRecords, *, problems: bool = True) -> dict[str, Any]:
    out = {t: tuple(normalised(r) for r in getattr(records, t))
           for t in ("logins", "security_events", "transactions", "alerts")}
    out["account"] = normalised(records.account)
    if problems:
        out["problems"] = tuple(normalised(p) for p in records.problems)
    return out


def store_tables(store: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table of a link store with its rows in a fixed order, to compare two stores."""
    import duckdb

    con = duckdb.connect(str(store), read_only=True)
    try:
        names = sorted(r[0] for r in con.execute("SHOW TABLES").fetchall())
        return {n: sorted(con.execute(f'SELECT * FROM "{n}"').fetchall(), key=repr)
                for n in names}
    finally:
        con.close()
