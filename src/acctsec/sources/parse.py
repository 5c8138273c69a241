"""Turning raw cells of the contract's tables into typed records, or a reason they break it."""

from __future__ import annotations

import ipaddress
import json
import math
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from operator import itemgetter
from types import MappingProxyType
from typing import Any

from acctsec.model import (
    LOGIN_EVENTS,
    TRANSACTION_KINDS,
    Account,
    Alert,
    GeoHint,
    Login,
    RowProblem,
    RowRef,
    SecurityEvent,
    Transaction,
)

Row = Mapping[str, Any]

REQUIRED: dict[str, tuple[str, ...]] = {
    "accounts": ("uid",),
    "logins": ("ts", "uid", "event"),
    "security_events": ("ts", "uid", "event"),
    "transactions": ("ts", "uid", "kind", "asset", "amount"),
    "alerts": ("alert_id", "uid"),
}

KNOWN_COLUMNS: dict[str, frozenset[str]] = {
    "accounts": frozenset(
        "uid email phone created_at kyc_level kyc_country status restrictions "
        "referrer_uid".split()
    ),
    "logins": frozenset(
        "ts uid event ip user_agent device_id session_id mfa_method channel "
        "failure_reason country city lat lon asn as_org".split()
    ),
    "security_events": frozenset(
        "ts uid event ip device_id user_agent session_id detail".split()
    ),
    "transactions": frozenset(
        "ts uid kind tx_id asset network amount usd_value address txhash "
        "counterparty_uid status ip device_id payment_method chargeback".split()
    ),
    "alerts": frozenset("alert_id uid ts source kind note".split()),
}

ACCOUNT_STATUSES = frozenset({"active", "restricted", "frozen", "closed"})
TX_STATUSES = frozenset({"completed", "pending", "failed", "cancelled"})


class RowError(ValueError):
    """A row breaks the contract; the message is the reason shown to the user."""


class RowKept(RowError):
    """One cell of the row breaks the contract and is read as unknown: `record` is the
    row's record all the same (a withdrawal logged with `ip=unknown` still moved the
    money). A reader that does not know this kind skips the row, as for any RowError."""

    def __init__(self, reason: str, record: Any) -> None:
        super().__init__(f"{reason} (the row is kept, the address read as unknown)")
        self.record = record


def _ip_cell(value: Any) -> tuple[str | None, str | None]:
    """(the address, or None; why the cell was not one, or None)."""
    try:
        return checked_ip(value), None
    except RowError as exc:
        return None, str(exc)


def row_problem(file: str, line: int, exc: RowError) -> RowProblem:
    """The problem `exc` reports about a row, `kept` when its record is kept all the same."""
    return RowProblem(file, line, str(exc), isinstance(exc, RowKept))


def _kept(record: Any, problem: str | None) -> Any:
    if problem is not None:
        raise RowKept(problem, record)
    return record


_NULLS = frozenset({"null", "none", "nan"})


def text(value: Any) -> str | None:
    """A cell as text, or None when it is empty or null."""
    if value is None:
        return None
    if type(value) is not str:
        if isinstance(value, float) and math.isnan(value):
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        value = str(value)
    result: str = value.strip()
    if not result or (len(result) <= 4 and result.lower() in _NULLS):
        return None
    return result


def parse_time(value: Any, column: str = "ts") -> datetime | None:
    """ISO 8601 (offset honoured, none means UTC) or Unix epoch seconds/milliseconds."""
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    raw = text(value)
    if raw is None:
        return None
    try:
        if _looks_numeric(raw):
            number = float(raw)
            if abs(number) > 1e11:  # epoch milliseconds
                number /= 1000.0
            return datetime.fromtimestamp(number, tz=UTC)
        parsed = datetime.fromisoformat(raw)
    except (ValueError, OverflowError, OSError):
        raise RowError(f"{column} {raw!r} is not an ISO 8601 time or epoch number") from None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# Addresses already found well formed: a busy account signs in from a few dozen, and
# checking each of its 100,000 sign-ins' address anew would cost ~0.3 s.
_GOOD_IPS: set[str] = set()


def checked_ip(value: Any, column: str = "ip") -> str | None:
    """An IPv4 or IPv6 address as the records wrote it, or None when empty (intel.ip's
    parse_ip turns one into an address object for lookups; a reader keeps the text)."""
    raw = text(value)
    if raw is None or raw in _GOOD_IPS:
        return raw
    try:
        ipaddress.ip_address(raw)
    except ValueError:
        raise RowError(f"{column} {raw!r} is not an IPv4 or IPv6 address") from None
    if len(_GOOD_IPS) >= 100_000:
        _GOOD_IPS.clear()
    _GOOD_IPS.add(raw)
    return raw


def _looks_numeric(raw: str) -> bool:
    return raw.replace(".", "", 1).lstrip("-").isdigit()


def parse_decimal(value: Any, column: str) -> Decimal | None:
    raw = text(value)
    if raw is None:
        return None
    try:
        number = Decimal(raw)
    except InvalidOperation:
        raise RowError(f"{column} {raw!r} is not a decimal number") from None
    if not number.is_finite():
        raise RowError(f"{column} {raw!r} is not a finite number")
    if number != 0 and not -30 <= number.adjusted() <= 30:
        raise RowError(f"{column} {raw!r} is out of range")
    return number


def parse_int(value: Any, column: str) -> int | None:
    raw = text(value)
    if raw is None:
        return None
    try:
        return int(Decimal(raw))
    except (InvalidOperation, ValueError):
        raise RowError(f"{column} {raw!r} is not a whole number") from None


def parse_float(value: Any, column: str) -> float | None:
    raw = text(value)
    if raw is None:
        return None
    try:
        number = float(raw)
    except ValueError:
        raise RowError(f"{column} {raw!r} is not a number") from None
    if not math.isfinite(number):
        raise RowError(f"{column} {raw!r} is not a finite number")
    return number


def parse_bool(value: Any, column: str) -> bool | None:
    if isinstance(value, bool):
        return value
    raw = text(value)
    if raw is None:
        return None
    lowered = raw.lower()
    if lowered in ("true", "t", "1", "yes", "y"):
        return True
    if lowered in ("false", "f", "0", "no", "n"):
        return False
    raise RowError(f"{column} {raw!r} is not true or false")


def parse_asn(value: Any) -> int | None:
    raw = text(value)
    if raw is None:
        return None
    digits = raw.upper().removeprefix("AS").strip()
    if digits.endswith(".0"):  # pandas writes integer columns with blanks as floats
        digits = digits[:-2]
    if not digits.isdigit():
        raise RowError(f"asn {raw!r} is not an AS number")
    return int(digits)


def parse_detail(value: Any) -> Mapping[str, Any] | str | None:
    """A JSON object when the cell holds one, else the text as it is."""
    if isinstance(value, Mapping):
        return MappingProxyType(dict(value))
    raw = text(value)
    if raw is None:
        return None
    if raw.startswith("{"):
        try:
            loaded = json.loads(raw)
        except ValueError:
            return raw
        if isinstance(loaded, dict):
            return MappingProxyType(loaded)
    return raw


def _lower(value: Any) -> str | None:
    raw = text(value)
    return raw.lower() if raw is not None else None


def _enum(value: Any, column: str, allowed: frozenset[str]) -> str | None:
    raw = text(value)
    if raw is None:
        return None
    lowered = raw.lower()
    if lowered not in allowed:
        raise RowError(f"{column} {raw!r} is not one of {', '.join(sorted(allowed))}")
    return lowered


def _required(row: Row, table: str) -> None:
    for column in REQUIRED[table]:
        if text(row.get(column)) is None:
            raise RowError(f"required column {column} is empty or missing")


_NO_EXTRA: Mapping[str, str] = MappingProxyType({})


def _extra(row: Row, table: str) -> Mapping[str, str]:
    known = KNOWN_COLUMNS[table]
    if known.issuperset(row.keys()):
        return _NO_EXTRA
    extra = {k: t for k, v in row.items() if k not in known and (t := text(v)) is not None}
    return MappingProxyType(extra) if extra else _NO_EXTRA


def _ts(row: Row) -> datetime:
    value = parse_time(row.get("ts"))
    if value is None:
        raise RowError("required column ts is empty")
    return value


def account_from_row(row: Row, origin: RowRef) -> Account:
    _required(row, "accounts")
    restrictions = tuple(
        r.strip().lower() for r in (text(row.get("restrictions")) or "").split(";") if r.strip()
    )
    return Account(
        uid=str(text(row["uid"])),
        email=text(row.get("email")),
        phone=text(row.get("phone")),
        created_at=parse_time(row.get("created_at"), "created_at"),
        kyc_level=parse_int(row.get("kyc_level"), "kyc_level"),
        kyc_country=text(row.get("kyc_country")),
        status=_enum(row.get("status"), "status", ACCOUNT_STATUSES),
        restrictions=restrictions,
        referrer_uid=text(row.get("referrer_uid")),
        extra=_extra(row, "accounts"),
        origin=origin,
    )


_GEO_COLUMNS = frozenset({"country", "city", "lat", "lon", "asn", "as_org"})


def _geo_hint(row: Row) -> GeoHint | None:
    if _GEO_COLUMNS.isdisjoint(row.keys()):
        return None
    try:
        return _read_geo_hint(row)
    except RowError:
        return None  # an optional column: a bad cell loses the hint, not the sign-in


def _read_geo_hint(row: Row) -> GeoHint | None:
    hint = GeoHint(
        country=text(row.get("country")),
        city=text(row.get("city")),
        lat=parse_float(row.get("lat"), "lat"),
        lon=parse_float(row.get("lon"), "lon"),
        asn=parse_asn(row.get("asn")),
        as_org=text(row.get("as_org")),
    )
    return None if hint.is_empty() else hint


# The columns a Login is made of, in the order _login takes them.
LOGIN_CELLS = ("ts", "uid", "event", "ip", "user_agent", "device_id", "session_id",
               "mfa_method", "channel", "failure_reason")


def login_from_row(row: Row, origin: RowRef) -> Login:
    return _login(*map(row.get, LOGIN_CELLS), geo=_geo_hint(row), extra=_extra(row, "logins"),
                  origin=origin)


def _login(ts: Any, uid: Any, event: Any, ip: Any, user_agent: Any, device_id: Any,
           session_id: Any, mfa_method: Any, channel: Any, failure_reason: Any, *,
           geo: GeoHint | None, extra: Mapping[str, str], origin: RowRef) -> Login:
    """A Login from the raw values of its columns (None for a missing column)."""
    when, who, what = parse_time(ts), text(uid), text(event)
    if when is None or who is None or what is None:
        column = "ts" if when is None else "uid" if who is None else "event"
        raise RowError(f"required column {column} is empty or missing")
    address, problem = _ip_cell(ip)
    # In field order: with keywords, making 100,000 sign-ins took 0.09 s longer.
    login = Login(when, who, str(_enum(what, "event", LOGIN_EVENTS)), address,
                  text(user_agent), text(device_id), text(session_id), _lower(mfa_method),
                  _lower(channel), text(failure_reason), geo, extra, origin)
    return _kept(login, problem)


CellsBuilder = Callable[[list[str], RowRef], Any]


def cells_builder(table: str, header: Sequence[str]) -> CellsBuilder:
    """What BUILDERS[table] does to a row's dict, done to its cells under `header`.

    Sign-ins with neither geo nor unknown columns are built from their cells
    directly: a dict per row costs a busy account's reading as much as the parsing.
    """
    columns = tuple(header)
    if table != "logins" or not KNOWN_COLUMNS["logins"].issuperset(columns) \
            or not _GEO_COLUMNS.isdisjoint(columns):
        build = BUILDERS[table]
        return lambda cells, origin: build(dict(zip(columns, cells, strict=True)), origin)
    # A missing column reads as the None put after the cells.
    pick = itemgetter(*(columns.index(c) if c in columns else len(columns)
                        for c in LOGIN_CELLS))

    def login(cells: list[str], origin: RowRef) -> Login:
        return _login(*pick([*cells, None]), geo=None, extra=_NO_EXTRA, origin=origin)

    return login


def security_event_from_row(row: Row, origin: RowRef) -> SecurityEvent:
    _required(row, "security_events")
    address, problem = _ip_cell(row.get("ip"))
    return _kept(SecurityEvent(
        ts=_ts(row),
        uid=str(text(row["uid"])),
        event=str(text(row["event"])).lower(),
        ip=address,
        device_id=text(row.get("device_id")),
        user_agent=text(row.get("user_agent")),
        session_id=text(row.get("session_id")),
        detail=parse_detail(row.get("detail")),
        extra=_extra(row, "security_events"),
        origin=origin,
    ), problem)


def transaction_from_row(row: Row, origin: RowRef) -> Transaction:
    _required(row, "transactions")
    amount = parse_decimal(row.get("amount"), "amount")
    if amount is None or amount < 0:
        raise RowError(f"amount {text(row.get('amount'))!r} must be a positive number")
    address, problem = _ip_cell(row.get("ip"))
    return _kept(Transaction(
        ts=_ts(row),
        uid=str(text(row["uid"])),
        kind=str(_enum(row.get("kind"), "kind", TRANSACTION_KINDS)),
        asset=str(text(row["asset"])).upper(),
        amount=amount,
        tx_id=text(row.get("tx_id")),
        network=(text(row.get("network")) or "").upper() or None,
        usd_value=parse_decimal(row.get("usd_value"), "usd_value"),
        address=text(row.get("address")),
        txhash=text(row.get("txhash")),
        counterparty_uid=text(row.get("counterparty_uid")),
        status=_enum(row.get("status"), "status", TX_STATUSES),
        ip=address,
        device_id=text(row.get("device_id")),
        payment_method=text(row.get("payment_method")),
        chargeback=parse_bool(row.get("chargeback"), "chargeback"),
        extra=_extra(row, "transactions"),
        origin=origin,
    ), problem)


def alert_from_row(row: Row, origin: RowRef) -> Alert:
    _required(row, "alerts")
    return Alert(
        alert_id=str(text(row["alert_id"])),
        uid=str(text(row["uid"])),
        ts=parse_time(row.get("ts")),
        source=text(row.get("source")),
        kind=text(row.get("kind")),
        note=text(row.get("note")),
        extra=_extra(row, "alerts"),
        origin=origin,
    )


BUILDERS: dict[str, Callable[[Row, RowRef], Any]] = {
    "accounts": account_from_row,
    "logins": login_from_row,
    "security_events": security_event_from_row,
    "transactions": transaction_from_row,
    "alerts": alert_from_row,
}
