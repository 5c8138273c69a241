"""A Tor exit-node list supplied by the user (one IP per line, or Tor's exit-addresses format)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from acctsec.errors import InputError


class TorExitList:
    """The set of exit addresses in a file, read once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._exits = _read(path)

    def __contains__(self, ip: str) -> bool:
        return ip in self._exits

    def __len__(self) -> int:
        return len(self._exits)


def _read(path: Path) -> frozenset[str]:
    """The file's addresses; InputError when it holds none (empty, or an HTML error page
    saved in its place): a list that matches nothing would read as 'checked, not Tor'."""
    try:
        text = path.read_text(encoding="utf-8-sig", errors="replace")  # BOM: Windows editors
    except OSError as exc:
        raise InputError(f"Tor exit list {path}: cannot read: {exc.strerror}") from None
    exits: set[str] = set()
    for line in text.splitlines():
        address = _address_of(line)
        if address is not None:
            exits.add(address)
    if not exits:
        raise InputError(f"Tor exit list {path}: no IP address in it (one a line, or Tor's "
                         "exit-addresses format)")
    return frozenset(exits)


def _address_of(line: str) -> str | None:
    fields = line.split("#", 1)[0].split()
    if not fields:
        return None
    # https://check.torproject.org/exit-addresses has "ExitAddress 1.2.3.4 2024-06-18 10:00:00"
    token = fields[1] if fields[0] == "ExitAddress" and len(fields) > 1 else fields[0]
    try:
        return str(ipaddress.ip_address(token))
    except ValueError:
        return None
