"""Names of the files the cache derives from a source, and the pruning of old versions.

An entry made from a source's data is named `<kind>-<source>-<version><suffix>`:
`source` tells the folder or database apart (a hash of its path or identity) and
`version` the state of its data (sizes and modification times, or row counts). When
the data changes, a new version is written and the older versions of the same kind
and source are of no more use: they are removed (on 10 M sign-ins the population
index, link store and sorted rows of one version take ~0.5 GB). A source that is
not used for UNUSED_DAYS (a dated export folder of last month) loses its entries
too: each use marks them (`used`). Files a killed build left behind (`*.tmp`,
`*.partial`, `*.unsorted`) are removed once they are a day old, and entries named
as acctsec named them before (no source in the name) at once.

A process still reading an old version keeps it open (POSIX keeps an unlinked file
until it is closed); where the system refuses to remove a file in use, it stays for
the next time.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path

TEMP_SUFFIXES = (".tmp", ".partial", ".unsorted")
TEMP_AGE = 24 * 3600.0  # seconds: no build takes this long, so its leftovers are dead
UNUSED_DAYS = 30
ENTRY = re.compile(r"[a-z-]+-[0-9a-f]{12}-[0-9a-f]+(\.pickle|\.duckdb)?(\.wal)?")
# Names acctsec used before entries named their source: never read any more.
LEGACY = re.compile(r"((population|links|rows|rows-all)-[0-9a-f]{16}(\.pickle|\.duckdb)?"
                    r"|[0-9a-f]{32}\.duckdb|sql-[0-9a-f]{24}\.duckdb)(\.wal)?")


def source_id(identity: str) -> str:
    """A short, stable name for a source (its resolved path, or a database's identity)."""
    return hashlib.sha256(identity.encode()).hexdigest()[:12]


def entry_name(kind: str, source: str, version: str, suffix: str = "") -> str:
    return f"{kind}-{source}-{version}{suffix}"


def supersede(kept: Path, kind: str, source: str, suffix: str = "",
              busy: Callable[[Path], bool] | None = None) -> int:
    """Removes the other versions of `kept` (same kind and source) beside it, with their
    DuckDB write-ahead logs, and old leftovers of killed builds; not an entry `busy`
    says a running process still reads. Returns how many entries went."""
    pattern = re.compile(re.escape(f"{kind}-{source}-") + r"[0-9a-f]+"
                         + re.escape(suffix) + r"(\.wal)?")
    removed = 0
    for entry in _entries(kept.parent):
        if entry.name not in (kept.name, f"{kept.name}.wal") and pattern.fullmatch(entry.name) \
                and not (busy is not None and busy(entry)):
            removed += _remove(entry)
    return removed + sweep_leftovers(kept.parent)


def used(entry: Path) -> None:
    """Marks an entry as used now, so that the sweep keeps it another UNUSED_DAYS."""
    try:
        os.utime(entry)
    except OSError:
        pass  # read-only cache or gone: at worst it is rebuilt some day


def sweep_leftovers(folder: Path, older_than: float = TEMP_AGE) -> int:
    """Removes temporary files and folders of builds that ended more than `older_than`
    seconds ago without finishing, entries not used for UNUSED_DAYS, and entries named
    as older acctsec versions did."""
    removed = 0
    for entry in _entries(folder):
        if LEGACY.fullmatch(entry.name):
            removed += _remove(entry)
            continue
        if entry.name.endswith(TEMP_SUFFIXES):
            limit = older_than
        elif ENTRY.fullmatch(entry.name):
            limit = UNUSED_DAYS * 24 * 3600.0
        else:
            continue
        if stale(entry, limit):
            removed += _remove(entry)
    return removed


def stale(path: Path, seconds: float) -> bool:
    """Whether `path` was last changed more than `seconds` ago (False when it is gone)."""
    try:
        return time.time() - path.stat().st_mtime > seconds
    except OSError:
        return False


def _entries(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir())
    except OSError:
        return []


def _remove(entry: Path) -> int:
    try:
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    except OSError:
        return 0  # in use on a system that refuses, or already gone: left for next time
    return 1
