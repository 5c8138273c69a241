"""Turns untrusted strings into literal text safe for a terminal, CSV or Markdown cell."""

from __future__ import annotations

import re

# C0 and C1 control characters, DEL, and bidi/zero-width format characters that
# can hide or reorder text on a terminal (CVE-2021-42574 "Trojan Source").
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def literal(text: object, *, single_line: bool = True) -> str:
    """The text with every control character shown as a visible escape (\\x1b, \\n…)."""
    value = str(text)
    value = _CONTROL.sub(_escape, value)
    if single_line:
        value = value.replace("\n", "\\n").replace("\t", "\\t")
    return value


def csv_cell(text: object) -> str:
    """A value for a spreadsheet cell: literal, and never read as a formula."""
    value = literal(text)
    if value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        value = "'" + value
    return value


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def md_text(text: object) -> str:
    """Literal text for Markdown: control characters escaped, markup characters backslashed,
    and `<`, `>`, `&` as entities so no HTML reaches a renderer."""
    value = literal(text)
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", value)
