"""The folder source: the contract's tables as CSV, JSONL (optionally gzipped) or Parquet."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import IO, Any

from acctsec.errors import InputError
from acctsec.model import (
    LOGIN_EVENTS,
    Account,
    AccountRecords,
    KeyStats,
    Login,
    PopulationQuery,
    PopulationStats,
    RowProblem,
    RowRef,
)
from acctsec.sources.files import file_format, table_files
from acctsec.sources.parse import (
    BUILDERS,
    RowError,
    RowKept,
    cells_builder,
    login_from_row,
    row_problem,
    text,
)
from acctsec.sources.records import assemble
from acctsec.sources.tally import KeyCounter

Keep = Callable[[str], bool]
RawRows = Iterator[tuple[int, dict[str, Any]]]

csv.field_size_limit(16 * 1024 * 1024)

# Columns of other accounts' sign-ins kept while reading one account from a CSV
# file under REMEMBER_BELOW bytes, so the population pass needs no second read.
POPULATION_COLUMNS = ("uid", "event", "ts", "ip", "device_id", "session_id", "user_agent")
REMEMBER_BELOW = 64 * 1024 * 1024
# From this size on, a folder's population figures and links come from an index built
# once (batch.single); below it, one account's pass over the files is quicker.
LARGE_BYTES = 64 * 1024 * 1024


def open_text(path: Path) -> IO[str]:
    """A table file as text the way the reader reads it (gzip by name, UTF-8, newlines kept)."""
    if path.name.lower().endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return path.open("r", encoding="utf-8", newline="")


def _csv_cells(path: Path, keep: Keep) -> Iterator[tuple[int, list[str], list[str]]]:
    """(line, header, cells) of the non-empty rows whose uid `keep` accepts.

    The header is checked once; a row's cells may be more or fewer than its columns.
    """
    with open_text(path) as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            return
        header = header_names(path, header)
        uid_at = header.index("uid") if "uid" in header else -1
        remember, sink = (keep.remember, keep.skipped) if isinstance(keep, UidFilter) else ((), [])
        picks = [header.index(c) if c in header else len(header) for c in remember]
        line = reader.line_num
        for cells in reader:
            start, line = line + 1, reader.line_num
            if not cells:
                continue
            if uid_at >= 0 and uid_at < len(cells) and not keep(cells[uid_at].strip()):
                if picks and len(cells) == len(header):
                    padded = [*cells, ""]
                    sink.append(tuple(padded[i] for i in picks))
                continue
            yield start, header, cells


def header_names(path: Path, cells: list[str]) -> list[str]:
    """A CSV header's column names as rows are keyed by; InputError for a name twice."""
    header = [h.strip().lstrip("\ufeff").lower() for h in cells]
    twice = sorted({h for h in header if header.count(h) > 1})
    if twice:
        raise InputError(f"{path}: column {twice[0]!r} appears twice in the header")
    return header


def read_header(path: Path) -> tuple[list[str], int] | None:
    """A CSV file's column names as the reader names them, and the line its header ends
    on (1 unless a quoted name holds a line break); None when the header cannot be read
    (the reader says why where it reads the rows)."""
    import zlib

    try:
        with open_text(path) as fh:
            reader = csv.reader(fh)
            cells = next(reader, None)
            return None if cells is None else (header_names(path, cells), reader.line_num)
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, csv.Error, InputError):
        return None


def _csv_rows(path: Path, keep: Keep) -> RawRows:
    for line, header, cells in _csv_cells(path, keep):
        yield line, _row_of(header, cells)


def _row_of(header: list[str], cells: list[str]) -> dict[str, Any]:
    if len(cells) != len(header):
        return {"__problem__": f"{len(cells)} cells where the header has {len(header)}"}
    return dict(zip(header, cells, strict=True))


def _jsonl_rows(path: Path, keep: Keep) -> RawRows:
    with open_text(path) as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw)
            except json.JSONDecodeError as exc:
                yield number, {"__problem__": f"not valid JSON ({exc.msg})"}
                continue
            except (ValueError, RecursionError):
                yield number, {"__problem__": "not valid JSON"}
                continue
            if not isinstance(row, dict):
                yield number, {"__problem__": "a line is not a JSON object"}
                continue
            row = {str(k).lower(): v for k, v in row.items()}
            if keep(text(row.get("uid")) or ""):
                yield number, row


class UidFilter:
    """Keeps the rows of one uid, or all but one: readers of columnar files vectorise it.

    With `remember`, the CSV reader also keeps those columns of the rows it skips,
    so the population figures need no second pass over a small file.
    """

    def __init__(self, only: str | None = None, exclude: str | None = None,
                 remember: tuple[str, ...] = ()) -> None:
        self.only, self.exclude, self.remember = only, exclude, remember
        self.skipped: list[tuple[str, ...]] = []

    def __call__(self, uid: str) -> bool:
        return (self.only is None or uid == self.only) and uid != self.exclude


AnyOf = Mapping[str, frozenset[str]]


def open_parquet(path: Path) -> Any:
    """A pyarrow ParquetFile; InputError naming the file when it is not one."""
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable Parquet file ({exc})") from None


def _parquet_rows(path: Path, keep: Keep, any_of: AnyOf | None = None) -> RawRows:
    parquet = open_parquet(path)
    offset = 0
    for batch in parquet.iter_batches(batch_size=65536):
        names = batch.schema.names
        columns = [name.lower() for name in names]
        for i in _parquet_candidates(batch, columns, keep, any_of):
            row = {col: batch.column(j)[i].as_py() for j, col in enumerate(columns)}
            if "uid" not in row or keep(text(row.get("uid")) or ""):
                yield offset + i + 1, row
        offset += batch.num_rows


def _parquet_candidates(batch: Any, columns: list[str], keep: Keep,
                        any_of: AnyOf | None) -> list[int]:
    """Row indexes worth a look, chosen with Arrow compute instead of Python per row."""
    import pyarrow as pa
    import pyarrow.compute as pc

    mask = None
    if isinstance(keep, UidFilter) and "uid" in columns:
        uids = pc.cast(batch.column(columns.index("uid")), pa.string())
        if keep.only is not None:
            mask = pc.equal(uids, keep.only)
    if any_of:
        hits = [pc.is_in(pc.cast(batch.column(columns.index(col)), pa.string()),
                         value_set=pa.array(sorted(values), pa.string()))
                for col, values in any_of.items() if col in columns and values]
        wanted = hits[0] if hits else pa.array([False] * batch.num_rows)
        for extra in hits[1:]:
            wanted = pc.or_(wanted, extra)
        mask = wanted if mask is None else pc.and_(mask, wanted)
    if mask is None:
        return list(range(batch.num_rows))
    return pc.indices_nonzero(pc.fill_null(mask, False)).to_pylist()


def _parquet_totals(path: Path) -> tuple[int, int]:
    """Rows and distinct uids of a Parquet file, read with Arrow (only the uid column)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    columns = _parquet_columns(path)
    if "uid" not in columns:
        return pq.ParquetFile(path).metadata.num_rows, 0
    table = pq.read_table(path, columns=[columns["uid"]])
    return table.num_rows, pc.count_distinct(table.column(0)).as_py()


def _parquet_columns(path: Path) -> dict[str, str]:
    import pyarrow.parquet as pq

    return {name.lower(): name for name in pq.ParquetFile(path).schema_arrow.names}


def read_rows(path: Path, keep: Keep, any_of: AnyOf | None = None) -> RawRows:
    """(line or row number, raw row) of every row whose uid `keep` accepts.

    `any_of` (column -> values) lets columnar readers skip rows holding none of
    the values; other readers return them and leave the check to the caller.
    """
    fmt = file_format(path)
    with _read_errors(path):
        if fmt == "parquet":
            yield from _parquet_rows(path, keep, any_of)
        else:
            yield from (_csv_rows if fmt == "csv" else _jsonl_rows)(path, keep)


def read_columns(path: Path, columns: Sequence[str]) -> Iterator[tuple[Any, ...]]:
    """The raw values of `columns` (None where a column is absent) of every row the
    reader yields whole: a row with a problem (a CSV row of the wrong length, a line
    that is not JSON) is left out. CSV rows are picked from their cells, without the
    dict per row of `read_rows` (the population pass reads every sign-in)."""
    if file_format(path) != "csv":
        for _, row in read_rows(path, lambda _: True):
            if "__problem__" not in row:
                yield tuple(row.get(c) for c in columns)
        return
    with _read_errors(path):
        pick: Callable[[list[str]], tuple[Any, ...]] | None = None
        for _, header, cells in _csv_cells(path, lambda _: True):
            if len(cells) != len(header):
                continue
            if pick is None:
                pick = _picker(header, columns)
            yield pick(cells)


def _picker(header: list[str], columns: Sequence[str]) -> Callable[[list[str]], tuple[Any, ...]]:
    at = [header.index(c) if c in header else None for c in columns]
    if len(at) > 1 and None not in at:
        return itemgetter(*at)
    return lambda cells: tuple(None if i is None else cells[i] for i in at)


@contextmanager
def _read_errors(path: Path) -> Iterator[None]:
    """A file that cannot be read, or not as its format, becomes an InputError."""
    try:
        yield
    except (OSError, EOFError, UnicodeDecodeError, csv.Error, gzip.BadGzipFile) as exc:
        raise InputError(f"{path}: cannot be read ({exc})") from None


Build = Callable[[Any, RowRef], Any]


def _buildable_rows(table: str, path: Path, keep: Keep) -> Iterator[tuple[int, Any, Build]]:
    """(line, raw row, what builds its record) of the rows whose uid `keep` accepts.

    CSV rows stay lists of cells, for a builder made once from the header.
    """
    if file_format(path) != "csv":
        build = BUILDERS[table]
        for line, row in read_rows(path, keep):
            yield line, row, _problem if "__problem__" in row else build
        return
    build_cells: Build | None = None
    with _read_errors(path):
        for line, header, cells in _csv_cells(path, keep):
            if len(cells) != len(header):
                yield line, _row_of(header, cells), _problem
                continue
            if build_cells is None:
                build_cells = cells_builder(table, header)
            yield line, cells, build_cells


def _problem(row: Mapping[str, Any], origin: RowRef) -> Any:
    raise RowError(row["__problem__"])


@dataclass
class _Collected:
    records: list[Any] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)


class FolderSource:
    """A folder with one file per table (spec/data-model.md)."""

    def __init__(self, folder: Path, *, strict: bool = False,
                 cache_dir: Path | None = None) -> None:
        self.folder = folder
        self.strict = strict
        self.cache_dir = cache_dir
        self.files = table_files(folder)
        self._links: Any = None
        # Other accounts' sign-ins seen while reading one account: (uid, rows).
        self._others: tuple[str, list[tuple[str, ...]]] | None = None

    def link_builder(self) -> Any:
        """The account-linking query builder over this folder, opened once and reused."""
        if self._links is None:
            from acctsec.link.context import ContextBuilder
            from acctsec.link.sql import open_cached, open_source

            con = (open_cached(self.folder, self.cache_dir) if self.cache_dir is not None
                   else open_source(self.folder))
            self._links = ContextBuilder(con, "usage")
        return self._links

    @property
    def name(self) -> str:
        return str(self.folder)

    @property
    def large(self) -> bool:
        """Too big to scan per account: `investigate` then uses the cached population index
        and link store of batch runs (not with --strict or without a cache)."""
        return self.cache_dir is not None and not self.strict and \
            sum(p.stat().st_size for p in self.files.values()) >= LARGE_BYTES

    def _collect(self, table: str, keep: Keep) -> _Collected:
        path = self.files.get(table)
        out = _Collected()
        if path is None:
            return out
        name = path.name
        for line, row, build in _buildable_rows(table, path, keep):
            try:
                out.records.append(build(row, RowRef(name, line)))
            except RowError as exc:
                problem = row_problem(name, line, exc)
                if self.strict:
                    raise InputError(f"{self.folder / problem.file}:{line}: {exc}") from None
                out.problems.append(problem)
                if isinstance(exc, RowKept):
                    out.records.append(exc.record)
        return out

    def account(self, uid: str) -> AccountRecords:
        wanted = uid.strip()
        keep = UidFilter(only=wanted)
        accounts = self._collect("accounts", keep)
        if not accounts.records:
            reason = "; ".join(str(p) for p in accounts.problems)
            detail = f" (its row was skipped: {reason})" if reason else ""
            raise InputError(f"unknown uid {wanted!r}: not in {self.files['accounts']}{detail}")
        logins_keep = UidFilter(only=wanted, remember=self._remember_for_population())
        parts = {t: self._collect(t, logins_keep if t == "logins" else keep) for t in
                 ("logins", "security_events", "transactions", "alerts")}
        self._others = (wanted, logins_keep.skipped) if logins_keep.remember else None
        problems = [p for c in (accounts, *parts.values()) for p in c.problems]

        account: Account = accounts.records[0]
        return assemble(account, {t: c.records for t, c in parts.items()}, problems)

    def _remember_for_population(self) -> tuple[str, ...]:
        path = self.files.get("logins")
        if path is None or file_format(path) != "csv" or path.stat().st_size > REMEMBER_BELOW:
            return ()
        return POPULATION_COLUMNS

    def uids(self) -> Iterator[str]:
        seen: set[str] = set()
        for _, row in read_rows(self.files["accounts"], lambda _: True):
            uid = text(row.get("uid"))
            if uid is not None and uid not in seen:
                seen.add(uid)
                yield uid

    def population(self, query: PopulationQuery) -> PopulationStats:
        path = self.files.get("logins")
        if path is None:
            return PopulationStats()
        counter = _PopulationCounter(query)
        own = query.own_uid
        counter.add_own(query.own_logins)
        if self._others is not None and self._others[0] == own:
            wanted = (query.ips, query.devices, query.sessions, query.user_agents)
            for values in self._others[1]:
                counter.total += 1
                counter.accounts.add(values[0].strip())
                # CSV cells are text: stripping is all text() would do to a wanted value.
                if any(v.strip() in w for v, w in zip(values[3:], wanted, strict=True)):
                    counter.add(dict(zip(POPULATION_COLUMNS, values, strict=True)), path.name, 0)
            return counter.result()
        any_of = {"ip": query.ips, "device_id": query.devices, "session_id": query.sessions,
                  "user_agent": query.user_agents}
        for line, row in read_rows(path, UidFilter(exclude=own), any_of):
            if "__problem__" not in row and counter.wants(row):
                counter.add(row, path.name, line)
        stats = counter.result()
        if file_format(path) == "parquet":  # rows were skipped unread: count them apart
            rows, accounts = _parquet_totals(path)
            stats = replace(stats, total_logins=rows, total_accounts=accounts)
        return stats


KINDS = ("ips", "devices", "sessions", "user_agents")
ATTRIBUTES = {"ips": "ip", "devices": "device_id", "sessions": "session_id",
              "user_agents": "user_agent"}


class _PopulationCounter:
    """Counts, in one pass over all logins, only the attribute values a query asks for."""

    def __init__(self, query: PopulationQuery) -> None:
        self.query = query
        self.total = 0
        self.accounts: set[str] = set()
        self.keys: dict[str, dict[str, KeyCounter]] = {
            "ips": {}, "devices": {}, "sessions": {}, "user_agents": {},
        }

    def wants(self, row: dict[str, Any]) -> bool:
        """Counts the row toward the totals; True when it holds an asked-for value."""
        self.total += 1
        uid = row.get("uid")
        if uid is not None:
            self.accounts.add(str(uid).strip())  # as the reader matches rows to accounts
        q = self.query
        return (
            text(row.get("ip")) in q.ips
            or text(row.get("device_id")) in q.devices
            or text(row.get("session_id")) in q.sessions
            or text(row.get("user_agent")) in q.user_agents
        )

    def add_own(self, logins: Sequence[Login]) -> None:
        """Counts the account's own sign-ins, grouped first: they may be many and alike."""
        q = self.query
        self.total += len(logins)
        self.accounts.update(map(attrgetter("uid"), logins))
        kept = [lg for lg in logins if not ((q.since and lg.ts < q.since)
                                            or (q.until and lg.ts > q.until))] \
            if q.since or q.until else logins
        alike: dict[tuple[str, str], list[Login]] = {}
        for login in kept:
            alike.setdefault((login.uid, login.event), []).append(login)
        for (uid, event), group in alike.items():
            for kind, wanted in zip(KINDS, (q.ips, q.devices, q.sessions, q.user_agents),
                                    strict=True):
                # Counted in C, then only the distinct values are looked at.
                for value, n in Counter(map(attrgetter(ATTRIBUTES[kind]), group)).items():
                    if value is not None and value in wanted:
                        self._counter(kind, value).add(uid, event, n)

    def _counter(self, kind: str, value: str) -> KeyCounter:
        bucket = self.keys[kind]
        found = bucket.get(value)
        if found is None:
            found = bucket[value] = KeyCounter()
        return found

    def add(self, row: dict[str, Any], file: str, line: int) -> None:
        """Counts a row holding an asked-for value; rows breaking the contract do not count."""
        q = self.query
        event = (text(row.get("event")) or "").lower()
        uid = text(row.get("uid"))
        if uid is None or event not in LOGIN_EVENTS:
            return
        if q.since or q.until:
            try:
                login = login_from_row(row, RowRef(file, line))
            except RowKept as kept:
                login = kept.record
            except RowError:
                return
            if (q.since and login.ts < q.since) or (q.until and login.ts > q.until):
                return
        for kind, column, wanted in (
            ("ips", "ip", q.ips),
            ("devices", "device_id", q.devices),
            ("sessions", "session_id", q.sessions),
            ("user_agents", "user_agent", q.user_agents),
        ):
            value = text(row.get(column))
            if value is not None and value in wanted:
                self._counter(kind, value).add(uid, event)

    def result(self) -> PopulationStats:
        def done(kind: str) -> dict[str, KeyStats]:
            return {k: c.stats() for k, c in self.keys[kind].items()}

        return PopulationStats(
            total_logins=self.total,
            total_accounts=len(self.accounts),
            ips=done("ips"),
            devices=done("devices"),
            sessions=done("sessions"),
            user_agents=done("user_agents"),
        )
