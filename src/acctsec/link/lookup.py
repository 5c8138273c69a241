"""Who uses one e-mail, phone number or device id: behind `acctsec email|phone|device`."""

# SQL here is assembled from constants and table names of this package only; the
# looked-up value is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from acctsec.intel.identity import lookalike_reason, normalize_email, normalize_phone
from acctsec.link.context import ContextBuilder, utc
from acctsec.link.model import AccountInfo, Member

if TYPE_CHECKING:
    import duckdb

MAX_MEMBERS = 500


@dataclass(frozen=True, slots=True)
class ValueLookup:
    """Every account that used one value, with when and how often."""

    family: str  # email, phone, device_id
    asked: str  # the text as the analyst gave it
    value: str | None  # the normalised key it was looked up by
    accounts: int  # distinct accounts in the whole source
    members: tuple[Member, ...]
    info: dict[str, AccountInfo]
    lookalikes: tuple[tuple[str, str, str], ...] = ()  # (uid, e-mail, reason)


def _key(family: str, asked: str) -> str | None:
    if family == "email":
        return normalize_email(asked)
    if family == "phone":
        return normalize_phone(asked)
    return asked.strip() or None


def lookup_in(con: duckdb.DuckDBPyConnection, usage: str, family: str,
              asked: str) -> ValueLookup:
    """The accounts using `asked` as their e-mail, phone or device id (now or in the past),
    asked of open link tables: a folder's `usage` or a link store's `usage_agg`."""
    value = _key(family, asked)
    if value is None:
        return ValueLookup(family, asked, None, 0, (), {})
    rows = con.execute(
        f"SELECT uid, via, min(first_seen), max(last_seen), sum(n) FROM {usage} "
        "WHERE family = $family AND value = $value GROUP BY ALL ORDER BY 3, 1",
        {"family": family, "value": value},
    ).fetchall()
    members = tuple(
        Member(str(r[0]), utc(r[2]), utc(r[3]), int(r[4]), str(r[1])) for r in rows
    )
    uids = {m.uid for m in members}
    shown = members[:MAX_MEMBERS]
    info = ContextBuilder(con, usage).account_info({m.uid for m in shown})
    similar = _lookalikes(con, value) if family == "email" else ()
    return ValueLookup(family, asked, value, len(uids), shown, info, similar)


def _lookalikes(con: duckdb.DuckDBPyConnection, value: str) -> tuple[tuple[str, str, str], ...]:
    rows = con.execute(
        "SELECT uid, norm FROM emails WHERE norm <> $v AND ("
        "stem = regexp_replace(regexp_extract($v, '(?s)^(.*)@', 1), '[0-9._-]', '', 'g') "
        "OR local = regexp_extract($v, '(?s)^(.*)@', 1) "
        "OR levenshtein(local, regexp_extract($v, '(?s)^(.*)@', 1)) <= 1) "
        "ORDER BY uid, norm LIMIT 200",  # the same 200 whatever order the rows are stored in
        {"v": value},
    ).fetchall()
    out = []
    for uid, norm in rows:
        reason = lookalike_reason(value, norm)
        if reason is not None:
            out.append((str(uid), str(norm), reason))
    return tuple(sorted(out))

