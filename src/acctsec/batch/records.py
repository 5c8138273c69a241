"""One account's typed records from its raw rows, exactly as `FolderSource.account` builds them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from acctsec.batch.rows import RawRow
from acctsec.errors import InputError
from acctsec.model import LOGIN_EVENTS, AccountRecords, RowProblem, RowRef
from acctsec.sources.parse import BUILDERS, RowError, RowKept, row_problem, text
from acctsec.sources.records import assemble

CONTENT_TABLES = ("logins", "security_events", "transactions", "alerts")

# (event, ip, device_id, session_id, user_agent) of a login row the population pass counts.
LooseLogin = tuple[str, str | None, str | None, str | None, str | None]


@dataclass(frozen=True, slots=True)
class OwnLogins:
    """The account's own login rows as the population pass sees them (not only the valid ones)."""

    rows: int = 0  # rows that are not contract problems of the file itself
    counted: tuple[LooseLogin, ...] = ()


def _collect(table: str, file: str, rows: Sequence[RawRow]) -> tuple[list[Any], list[RowProblem]]:
    build = BUILDERS[table]
    records: list[Any] = []
    problems: list[RowProblem] = []
    for line, row in rows:
        try:
            if "__problem__" in row:
                raise RowError(row["__problem__"])
            records.append(build(row, RowRef(file, line)))
        except RowError as exc:
            problems.append(row_problem(file, line, exc))
            if isinstance(exc, RowKept):
                records.append(exc.record)
    return records, problems


def build_records(uid: str, rows: Mapping[str, Sequence[RawRow]], files: Mapping[str, str],
                  accounts_path: str) -> AccountRecords:
    """The account's records; InputError when it has no valid accounts row."""
    accounts, problems = _collect("accounts", files.get("accounts", ""), rows.get("accounts", ()))
    if not accounts:
        reason = "; ".join(str(p) for p in problems)
        detail = f" (its row was skipped: {reason})" if reason else ""
        raise InputError(f"unknown uid {uid!r}: not in {accounts_path}{detail}")
    parts = {t: _collect(t, files.get(t, ""), rows.get(t, ())) for t in CONTENT_TABLES}
    problems += [p for t in CONTENT_TABLES for p in parts[t][1]]

    return assemble(accounts[0], {t: parts[t][0] for t in CONTENT_TABLES}, problems)


def own_logins(rows: Sequence[RawRow]) -> OwnLogins:
    """What the population pass counts of these rows: a uid and a known event suffice."""
    counted: list[LooseLogin] = []
    total = 0
    for _, row in rows:
        if "__problem__" in row:
            continue
        total += 1
        event = (text(row.get("event")) or "").lower()
        if text(row.get("uid")) is None or event not in LOGIN_EVENTS:
            continue
        counted.append((event, text(row.get("ip")), text(row.get("device_id")),
                        text(row.get("session_id")), text(row.get("user_agent"))))
    return OwnLogins(total, tuple(counted))
