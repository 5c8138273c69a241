"""The machine-readable report: one JSON object (spec/report.md)."""

from __future__ import annotations

import json
from typing import IO, Any

from acctsec.core.report import Report, to_dict


def dumps(report: Report, *, indent: int | None = 2) -> str:
    # ensure_ascii keeps control and bidi characters of hostile strings as \u escapes.
    return json.dumps(to_dict(report), indent=indent, ensure_ascii=True, default=json_default)


def json_default(value: Any) -> Any:
    """What json.dumps cannot write itself: times in ISO 8601, anything else as text."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


class JsonFormatter:
    def __init__(self, indent: int | None = 2) -> None:
        self.indent = indent

    def write(self, report: Report, out: IO[str]) -> None:
        out.write(dumps(report, indent=self.indent))
        out.write("\n")
