"""Option parsing shared by commands: times, windows and settings."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from acctsec.cli._app import config_path
from acctsec.config import Settings, load_settings
from acctsec.errors import InputError

_RELATIVE = re.compile(r"^(\d+)\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_when(value: str | None, option: str, now: datetime | None = None) -> datetime | None:
    """An ISO 8601 date or time (UTC unless it has an offset), or `30d`/`12h`/`2w` ago."""
    if value is None or value.strip() == "":
        return None
    text = value.strip()
    match = _RELATIVE.match(text.lower())
    if match:
        amount, unit = int(match.group(1)), _UNITS[match.group(2)]
        try:
            return (now or datetime.now(UTC)) - timedelta(**{unit: amount})
        except OverflowError:
            raise InputError(f"{option} {text!r} reaches too far back") from None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"{option} {text!r} is not a date, a time (ISO 8601) or a span like 30d, 12h, 2w"
        ) from None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def is_span(value: str | None) -> bool:
    """Whether a --since/--until value is a span ago (30d, 12h, 2w) rather than a time."""
    return value is not None and _RELATIVE.match(value.strip().lower()) is not None


def settings_with(**overrides: Any) -> Settings:
    """Settings from the config file and environment, with these flags on top."""
    return load_settings(config_path(), overrides=overrides)

