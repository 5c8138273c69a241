"""Row checks of the input contract (spec/data-model.md), shared by the synth tests."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal, InvalidOperation

REQUIRED = {
    "accounts": ("uid",),
    "logins": ("ts", "uid", "event"),
    "security_events": ("ts", "uid", "event"),
    "transactions": ("ts", "uid", "kind", "asset", "amount"),
    "alerts": ("alert_id", "uid"),
}
ENUMS = {
    ("logins", "event"): {"login_success", "login_failure", "mfa_failure", "logout",
                          "session_refresh"},
    ("logins", "mfa_method"): {"totp", "sms", "email", "passkey", "hardware_key", "none"},
    ("logins", "channel"): {"web", "ios", "android", "desktop", "api"},
    ("accounts", "status"): {"active", "restricted", "frozen", "closed"},
    ("security_events", "event"): {
        "password_change", "password_reset", "email_change", "phone_change", "mfa_enable",
        "mfa_disable", "mfa_reset", "api_key_create", "api_key_delete",
        "withdrawal_address_add", "withdrawal_whitelist_off", "withdrawal_whitelist_on",
        "anti_phishing_change", "device_authorize", "kyc_update", "account_freeze",
        "account_unfreeze",
    },
    ("transactions", "kind"): {"deposit", "withdrawal", "internal_in", "internal_out",
                               "fiat_deposit", "fiat_withdrawal", "p2p_buy", "p2p_sell"},
    ("transactions", "status"): {"completed", "pending", "failed", "cancelled"},
    ("transactions", "chargeback"): {"true", "false"},
}
TIME_COLUMNS = {"ts", "created_at"}
RESTRICTIONS = {"withdraw", "trade", "login", "api", "p2p", "fiat"}


def parse_ts(text: str) -> datetime:
    assert text.endswith("Z"), text
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def positive_decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise AssertionError(f"not a decimal: {text!r}") from exc
    assert value > 0 and "e" not in text.lower(), text
    return value


def row_problems(table: str, row: dict[str, str | None], uids: set[str]) -> list[str]:
    """Every way this row breaks the contract (empty list when it obeys it)."""
    bad: list[str] = []
    for col in REQUIRED[table]:
        if not row.get(col):
            bad.append(f"missing {col}")
    for (t, col), allowed in ENUMS.items():
        value = row.get(col)
        if t == table and value and value not in allowed:
            bad.append(f"{col}={value!r}")
    for col in TIME_COLUMNS & set(row):
        if row[col]:
            try:
                parse_ts(str(row[col]))
            except (AssertionError, ValueError):
                bad.append(f"bad time {row[col]!r}")
    for col in ("amount", "usd_value"):
        if table == "transactions" and row.get(col):
            try:
                positive_decimal(str(row[col]))
            except AssertionError:
                bad.append(f"bad {col} {row[col]!r}")
    if table != "accounts" and row.get("uid") not in uids:
        bad.append(f"unknown uid {row.get('uid')}")
    for col in ("counterparty_uid", "referrer_uid"):
        if row.get(col) and row[col] not in uids:
            bad.append(f"unknown {col} {row[col]}")
    if table == "security_events" and row.get("detail"):
        if not isinstance(json.loads(str(row["detail"])), dict):
            bad.append("detail not a JSON object")
    if table == "accounts" and row.get("restrictions"):
        if not set(str(row["restrictions"]).split(";")) <= RESTRICTIONS:
            bad.append(f"restrictions {row['restrictions']!r}")
    return bad
