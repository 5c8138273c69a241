"""Turns untrusted strings into literal text safe for a terminal, CSV or Markdown cell."""

from __future__ import annotations

import re
import unicodedata

# Control characters (Cc), format characters (Cf: bidi overrides, zero-width,
# BOM - "Trojan Source", CVE-2021-42574) and line/paragraph separators can
# hide, reorder or split text on a terminal or in a rendered document.
_HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp"})
_NEWLINE_TAB = {"\n": "\\n", "\t": "\\t"}


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def literal(text: object, *, single_line: bool = True) -> str:
    """The text with every control character shown as a visible escape (\\x1b, \\n…)."""
    value = str(text)
    if value.isprintable():
        return value
    out = []
    for char in value:
        if char in _NEWLINE_TAB and not single_line:
            out.append(char)
        elif char in _NEWLINE_TAB:
            out.append(_NEWLINE_TAB[char])
        elif unicodedata.category(char) in _HIDDEN:
            out.append(_escape(char))
        else:
            out.append(char)
    return "".join(out)


def csv_cell(text: object) -> str:
    """A value for a spreadsheet cell: literal, and never read as a formula. A leading
    apostrophe gets one more, which a spreadsheet would otherwise swallow."""
    raw = str(text)
    value = literal(raw)
    if raw[:1] in ("=", "+", "-", "@", "\t", "\r", "'"):
        value = "'" + value
    return value


# Characters that make Markdown markup anywhere in a line; list and heading
# markers matter only where the text starts a line (a bullet's text does).
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]|~])")
_MD_LINE_START = re.compile(r"^(\d*)([#+\-.)])")


def md_text(text: object) -> str:
    """Literal text for Markdown: control characters escaped, markup characters backslashed,
    and `<`, `>`, `&` as entities so no HTML reaches a renderer."""
    value = literal(text)
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = _MD_SPECIAL.sub(r"\\\1", value)
    return _MD_LINE_START.sub(r"\1\\\2", value)
