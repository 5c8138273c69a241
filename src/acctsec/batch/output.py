"""Where batch results go, durably: append-only JSON lines or atomically committed part files.

A run killed at any point leaves only whole results behind: a torn or damaged
line at the end of a JSONL file is cut off on restart, a part file exists only
once it was completely written (written aside, fsynced, renamed). The uids in
what is left are the accounts a restarted run skips.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import IO, Any, Protocol

from acctsec.batch.engine import Outcome
from acctsec.errors import InputError

FLAT_COLUMNS = ("uid", "alert_ids", "label", "risk", "confidence", "attack", "summary",
                "top_signals", "actions", "signals", "skipped_rows", "error", "leaning")
# Columns added after the first release: files written before them read as empty there.
ADDED_COLUMNS = ("leaning",)
TOP_SIGNALS = 5


class BatchFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"
    parquet = "parquet"


class Sink(Protocol):
    def done(self) -> set[str]: ...

    def add(self, outcome: Outcome, alert_ids: Sequence[str]) -> None: ...

    def commit(self) -> None: ...

    def finish(self) -> None: ...


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def recover_lines(path: Path) -> list[dict[str, Any]]:
    """The whole JSON objects at the start of `path`; the file is cut after the last one."""
    if not path.exists():
        return []
    good: list[dict[str, Any]] = []
    keep = 0
    with path.open("rb") as fh:
        for raw in fh:
            if not raw.endswith(b"\n"):
                break
            try:
                obj = json.loads(raw)
            except ValueError:
                break
            if not isinstance(obj, dict) or not isinstance(obj.get("uid"), str):
                break
            good.append(obj)
            keep += len(raw)
    if keep != path.stat().st_size:
        with path.open("r+b") as fh:
            fh.truncate(keep)
            fh.flush()
            os.fsync(fh.fileno())
    return good


class AppendLog:
    """A JSONL file only ever appended to; `commit` makes what was written durable."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.records = recover_lines(path)
        self._fh: IO[str] | None = None

    def write(self, obj: dict[str, Any]) -> None:
        if self._fh is None:
            self._fh = self.path.open("a", encoding="utf-8")
        self._fh.write(json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n")

    def commit(self) -> None:
        if self._fh is not None:
            self._fh.flush()
            os.fsync(self._fh.fileno())

    def close(self) -> None:
        if self._fh is not None:
            self.commit()
            self._fh.close()
            self._fh = None


def report_line(outcome: Outcome, alert_ids: Sequence[str]) -> dict[str, Any]:
    report = dict(outcome.report or {})
    if alert_ids:
        report["alert_ids"] = list(alert_ids)
    return report


def error_line(outcome: Outcome, alert_ids: Sequence[str]) -> dict[str, Any]:
    return {"uid": outcome.uid, "error": outcome.error, "alert_ids": list(alert_ids)}


class JsonlSink:
    """Reports in OUT, one per line; accounts that failed in OUT.errors.jsonl."""

    def __init__(self, path: Path) -> None:
        self.reports = AppendLog(path)
        self.errors = AppendLog(errors_path(path))

    def done(self) -> set[str]:
        return {r["uid"] for r in (*self.reports.records, *self.errors.records)}

    def add(self, outcome: Outcome, alert_ids: Sequence[str]) -> None:
        if outcome.report is not None:
            self.reports.write(report_line(outcome, alert_ids))
        else:
            self.errors.write(error_line(outcome, alert_ids))

    def commit(self) -> None:
        self.reports.commit()
        self.errors.commit()

    def finish(self) -> None:
        self.reports.close()
        self.errors.close()
        # OUT exists at the end even when no account could be decided, as CSV and
        # Parquet output does: a script reading it finds an empty file, not none.
        self.reports.path.touch(exist_ok=True)


class StreamSink:
    """JSON lines on stdout: nothing to resume from."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def done(self) -> set[str]:
        return set()

    def add(self, outcome: Outcome, alert_ids: Sequence[str]) -> None:
        obj = (report_line(outcome, alert_ids) if outcome.report is not None
               else error_line(outcome, alert_ids))
        self.stream.write(json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n")

    def commit(self) -> None:
        self.stream.flush()

    def finish(self) -> None:
        self.stream.flush()


def errors_path(out: Path) -> Path:
    return out.with_name(out.name + ".errors.jsonl")


def parts_dir(out: Path) -> Path:
    return out.with_name(out.name + ".parts")


def flat_row(outcome: Outcome, alert_ids: Sequence[str]) -> dict[str, Any]:
    """One account as one row: the verdict and what it rests on, for spreadsheets and SQL."""
    r = outcome.report
    if r is None:
        return {**dict.fromkeys(FLAT_COLUMNS), "uid": outcome.uid,
                "alert_ids": ";".join(alert_ids), "error": outcome.error}
    v = r["verdict"]
    return {
        "uid": outcome.uid, "alert_ids": ";".join(alert_ids), "label": v["label"],
        "risk": v["risk"], "confidence": v["confidence"], "attack": v.get("attack"),
        "summary": v["summary"],
        "top_signals": ";".join(list(dict.fromkeys(s["id"] for s in r["signals"]))[:TOP_SIGNALS]),
        "actions": ";".join(a["action"] for a in r["actions"]),
        "signals": len(r["signals"]), "skipped_rows": len(r["skipped_rows"]), "error": None,
        "leaning": v.get("leaning"),
    }


class TableSink:
    """CSV or Parquet: rows gathered into part files, joined into OUT when the run ends."""

    def __init__(self, path: Path, fmt: BatchFormat, part_rows: int = 2000) -> None:
        self.path, self.fmt, self.part_rows = path, fmt, part_rows
        self.parts = parts_dir(path)
        self.parts.mkdir(parents=True, exist_ok=True)
        for stale in self.parts.glob("*.tmp"):
            stale.unlink()
        self.rows: list[dict[str, Any]] = []

    def _part_files(self) -> list[Path]:
        return sorted(self.parts.glob(f"part-*.{self.fmt.value}"))

    def done(self) -> set[str]:
        uids: set[str] = set()
        for part in ([self.path] if self.path.exists() else []) + self._part_files():
            uids.update(str(u) for u in read_table(part, self.fmt)["uid"])
        return uids

    def add(self, outcome: Outcome, alert_ids: Sequence[str]) -> None:
        self.rows.append(flat_row(outcome, alert_ids))
        if len(self.rows) >= self.part_rows:
            self.commit()

    def commit(self) -> None:
        if not self.rows:
            return
        number = len(self._part_files())
        final = self.parts / f"part-{number:06d}.{self.fmt.value}"
        tmp = final.with_name(final.name + ".tmp")
        write_table(tmp, self.fmt, self.rows)
        os.replace(tmp, final)
        _fsync_dir(self.parts)
        self.rows = []

    def finish(self) -> None:
        """Existing output and parts, each uid once, into OUT atomically; then the parts go."""
        self.commit()
        seen: set[str] = set()
        rows: list[dict[str, Any]] = []
        for part in ([self.path] if self.path.exists() else []) + self._part_files():
            table = read_table(part, self.fmt)
            for row in _records(table):
                if row["uid"] not in seen:
                    seen.add(row["uid"])
                    rows.append(row)
        tmp = self.path.with_name(self.path.name + ".tmp")
        write_table(tmp, self.fmt, rows, written=True)
        os.replace(tmp, self.path)
        _fsync_dir(self.path.parent)
        for part in self._part_files():
            part.unlink()
        self.parts.rmdir()


def _records(table: dict[str, list[Any]]) -> Iterable[dict[str, Any]]:
    n = len(table["uid"])
    for i in range(n):
        yield {c: table[c][i] for c in FLAT_COLUMNS}


def write_table(path: Path, fmt: BatchFormat, rows: Sequence[dict[str, Any]],
                written: bool = False) -> None:
    """`rows` to a part or output file; `written`: rows read back from such files, whose
    CSV cells are made spreadsheet-safe already (a second pass would prefix them again)."""
    if fmt is BatchFormat.parquet:
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = pa.schema([(c, pa.int64() if c in ("risk", "signals", "skipped_rows")
                             else pa.string()) for c in FLAT_COLUMNS])
        pq.write_table(pa.Table.from_pylist(list(rows), schema=schema), path)
    else:
        _write_csv(path, rows, written)
    with path.open("rb+") as fh:
        os.fsync(fh.fileno())


def _write_csv(path: Path, rows: Sequence[dict[str, Any]], written: bool) -> None:
    import csv

    from acctsec.render.safe import csv_cell

    cell = str if written else csv_cell
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(FLAT_COLUMNS)
        for row in rows:
            writer.writerow(["" if row[c] is None else
                             (row[c] if isinstance(row[c], int) else cell(row[c]))
                             for c in FLAT_COLUMNS])


def read_table(path: Path, fmt: BatchFormat) -> dict[str, list[Any]]:
    """A part or output file as columns (CSV cells come back as the text written)."""
    if fmt is BatchFormat.parquet:
        import pyarrow.parquet as pq

        table = pq.read_table(path).to_pydict()
        _check_columns(path, list(table))
    else:
        import csv

        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            _check_columns(path, list(reader.fieldnames or []))
            table = {c: [] for c in reader.fieldnames or []}
            for row in reader:
                for c in table:
                    table[c].append(row[c])
    rows = len(table["uid"])
    return {c: table.get(c, [None] * rows) for c in FLAT_COLUMNS}


def _check_columns(path: Path, columns: list[str]) -> None:
    older = [c for c in FLAT_COLUMNS if c not in ADDED_COLUMNS]
    if columns not in (list(FLAT_COLUMNS), older):
        raise InputError(f"{path}: not a batch output file (columns differ); "
                         "choose another --out")
