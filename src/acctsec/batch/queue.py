"""The work queue of a batch run: an alerts file, a list of uids, or every account."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from acctsec.errors import InputError
from acctsec.model import RowProblem, RowRef


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """One account to decide, and the alerts that put it in the queue."""

    uid: str
    alert_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class WorkQueue:
    """Accounts in first-seen order, each once, and the queue rows that were skipped."""

    entries: tuple[QueueEntry, ...]
    problems: tuple[RowProblem, ...] = field(default=())
    origin: str = "uids"

    def uids(self) -> list[str]:
        return [e.uid for e in self.entries]


def _grouped(pairs: Iterable[tuple[str, str | None]]) -> tuple[QueueEntry, ...]:
    alerts: dict[str, list[str]] = {}
    for uid, alert_id in pairs:
        ids = alerts.setdefault(uid, [])
        if alert_id is not None and alert_id not in ids:
            ids.append(alert_id)
    return tuple(QueueEntry(uid, tuple(ids)) for uid, ids in alerts.items())


def read_alerts(path: Path) -> WorkQueue:
    """The accounts of an alerts table (spec/data-model.md) in any of the five file formats."""
    from acctsec.sources.files import file_format
    from acctsec.sources.folder import read_rows
    from acctsec.sources.parse import RowError, alert_from_row

    if not path.is_file():
        raise InputError(f"--alerts {path}: no such file")
    file_format(path)  # a one-line error for an unknown suffix
    pairs: list[tuple[str, str | None]] = []
    problems: list[RowProblem] = []
    for line, row in read_rows(path, lambda _: True):
        try:
            if "__problem__" in row:
                raise RowError(row["__problem__"])
            alert = alert_from_row(row, RowRef(path.name, line))
        except RowError as exc:
            problems.append(RowProblem(path.name, line, str(exc)))
            continue
        pairs.append((alert.uid, alert.alert_id))
    if not pairs:
        first = f" (first problem: {problems[0]})" if problems else ""
        raise InputError(f"--alerts {path}: no usable alert rows{first}")
    return WorkQueue(_grouped(pairs), tuple(problems), "alerts")


def read_uids(path: Path) -> WorkQueue:
    """One uid a line; blank lines and lines starting with # are ignored, and so is the
    byte-order mark editors such as Notepad and Excel put at the start."""
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"--uids {path}: cannot be read ({exc})") from None
    uids = [line.strip() for line in raw.splitlines()]
    entries = _grouped((u, None) for u in uids if u and not u.startswith("#"))
    if not entries:
        raise InputError(f"--uids {path}: no uids in it (one a line)")
    return WorkQueue(entries)


def every_account(uids: Iterable[str]) -> WorkQueue:
    return WorkQueue(_grouped((u, None) for u in uids), origin="all")
