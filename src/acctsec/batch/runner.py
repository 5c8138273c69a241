"""A whole batch run: shared figures once, chunks of accounts decided in parallel, results kept."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from acctsec.batch.engine import Outcome, Plan, run_chunk
from acctsec.batch.output import BatchFormat, JsonlSink, Sink, StreamSink, TableSink
from acctsec.batch.population import PopulationIndex
from acctsec.batch.queue import WorkQueue
from acctsec.batch.summary import Tally
from acctsec.cachefiles import (
    TEMP_AGE,
    entry_name,
    source_id,
    stale,
    supersede,
    sweep_leftovers,
    used,
)
from acctsec.config import Settings
from acctsec.errors import AcctsecError, InputError, UsageError
from acctsec.interrupt import StopRequest, stop_signals
from acctsec.link.sql import QUIET
from acctsec.sources.sql_db import masked_url

Progress = Any

# DuckDB memory of the driver's one-off passes (population figures, link graph); past
# it, DuckDB spills to OUT.work/spill. Workers have their own limit (Plan.memory_limit).
DRIVER_MEMORY = "1GB"


class BatchInterrupted(AcctsecError):
    """Ctrl-C: what was finished is kept; the same command continues the run."""

    exit_code = 130


@dataclass(frozen=True)
class BatchOptions:
    source: Path
    queue: WorkQueue
    settings: Settings
    out: Path | None = None
    fmt: BatchFormat = BatchFormat.jsonl
    jobs: int = 1
    since: datetime | None = None
    until: datetime | None = None
    chunk_size: int | None = None
    dask: str | None = None  # scheduler address, or "local:N" for a local cluster
    url: str | None = None  # a SQL source (sqlite:///, duckdb:///, postgresql://) instead
    work: Path | None = None  # the working files' folder, when not the usual (see work_dir)
    top: int = 10  # riskiest accounts listed in the summary
    # --since/--until as given when they were spans ago (30d): a restart keeps the first
    # start's times, which its manifest records.
    spans: tuple[str | None, str | None] = (None, None)


@dataclass
class BatchResult:
    tally: Tally = field(default_factory=Tally)
    resumed: int = 0
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)


# Part of every cache entry's version: raised when what the entries hold changes meaning,
# so that entries an older acctsec wrote are superseded, never read.
CACHE_FORMAT = 4  # 3: the link store holds value_counts; 4: usage_agg in vid order


def files_fingerprint(files: dict[str, Path], version: bool = True) -> str:
    """The files' names, sizes and times; with `version`, the cache format too."""
    parts = [f"format:{CACHE_FORMAT}"] if version else []
    for table, path in sorted(files.items()):
        st = path.stat()
        parts.append(f"{table}:{path.resolve()}:{st.st_size}:{st.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def work_dir(opts: BatchOptions) -> Path:
    """Where the run keeps its working files: OUT.work beside --out, else the cache dir
    (both reused by later runs on the same files); --no-cache gives a folder of its own."""
    if opts.work is not None:
        return opts.work
    if opts.out is not None:
        return opts.out.with_name(opts.out.name + ".work")
    from platformdirs import user_cache_dir

    base = opts.settings.cache_dir or Path(user_cache_dir("acctsec"))
    return base / "batch"


def driver_limits(work: Path) -> dict[str, str]:
    """DuckDB settings of the one-off passes over a source: past DRIVER_MEMORY, spill."""
    return {"memory_limit": DRIVER_MEMORY, "temp_directory": str(work / "spill")}


def cached_paths(opts: BatchOptions, files: dict[str, Path] | None = None,
                 ) -> tuple[Path, Path]:
    """Where the population index and the link store of the source's files are kept."""
    from acctsec.sources.files import table_files

    key = files_fingerprint(files or table_files(opts.source))
    work = work_dir(opts)
    return (work / entry_name("population", source_key(opts), key, ".pickle"),
            work / entry_name("links", source_key(opts), key, ".duckdb"))


def source_key(opts: BatchOptions) -> str:
    return source_id(str(opts.source.resolve()))


# What a folder source leaves in the work dir, by kind: removed when its files change.
CACHED_KINDS = (("population", ".pickle"), ("links", ".duckdb"), ("rows", ""), ("rows-all", ""),
                ("csvcopy", ""))


def forget_older_versions(opts: BatchOptions, files: dict[str, Path]) -> None:
    """Removes what the work dir holds for earlier versions of the source's files (and
    for sources unused for a month); marks the current version's entries as used."""
    key, work = files_fingerprint(files), work_dir(opts)
    current = [(work / entry_name(kind, source_key(opts), key, suffix), kind, suffix)
               for kind, suffix in CACHED_KINDS]
    for path, _, _ in current:
        if path.exists():
            used(path)
    for path, kind, suffix in current:
        supersede(path, kind, source_key(opts), suffix,
                  busy=_rows_in_use if kind == "rows" else None)


def _rows_in_use(entry: Path) -> bool:
    """Whether a running run still reads its rows in this (older) rows entry: it reads
    them chunk by chunk and removes them itself at its end. Finished runs' are removed."""
    for run in entry.glob("run-*"):
        if run.is_dir():
            _remove_unless_locked(run)
    return any(entry.glob("run-*"))


def prepare(opts: BatchOptions, timings: dict[str, float], todo: Sequence[str] = (),
            chunked: bool = False) -> Plan:
    """The population index and link store of the source, reused while its files are
    unchanged; with `chunked`, the rows of the `todo` accounts pulled out in one pass.
    A SQL source needs only the link store: each worker asks the database the rest."""
    from acctsec.sources.files import file_format, table_files
    from acctsec.sources.folder import open_parquet

    work = work_dir(opts)
    work.mkdir(parents=True, exist_ok=True)
    limits = driver_limits(work)
    if opts.url is not None:
        return _sql_plan(opts, timings, work, limits)

    files = table_files(opts.source)
    for path in files.values():
        if file_format(path) == "parquet":
            open_parquet(path)  # a damaged file named in one line, as investigate does
    key = files_fingerprint(files)
    forget_older_versions(opts, files)
    pickled, store = cached_paths(opts, files)
    start = time.perf_counter()
    copies = csv_copies(opts, files, limits,
                        make=chunked or not pickled.exists() or not store.exists())
    if any(file_format(p) == "csv" for p in files.values()):  # not "0.0 s" for Parquet
        timings["csv_copies"] = time.perf_counter() - start
    readable = {**files, **copies}
    start = time.perf_counter()
    population = _cached_population(pickled, readable, limits)
    timings["population"] = time.perf_counter() - start
    start = time.perf_counter()
    if not store.exists():
        from acctsec.batch.linking import build_link_store

        build_link_store(opts.source, store, limits, readable)
    timings["link_graph"] = time.perf_counter() - start
    extracted: dict[str, Path] = {}
    if chunked:
        start = time.perf_counter()
        rows = run_folder(work / entry_name("rows", source_key(opts), key))
        extracted = _extract_rows(files, todo, rows, limits, copies)
        timings["rows"] = time.perf_counter() - start
    return Plan(opts.source, files, population, store, opts.settings, opts.since, opts.until,
                key=f"{key}-{os.getpid()}-{time.time_ns()}", extracted=extracted,
                copies=copies, **_worker_limits(opts))


def _worker_limits(opts: BatchOptions) -> dict[str, Any]:
    """Each worker's DuckDB threads and memory: two workers and the driver under 2 GB."""
    workers = max(1, opts.jobs)
    return {"threads": 1 if workers > 1 or opts.dask else 2,
            "memory_limit": "512MB" if workers > 1 else "1GB"}


def csv_copies(opts: BatchOptions, files: dict[str, Path], limits: dict[str, str],
               make: bool = True) -> dict[str, Path]:
    """Table -> the exact Parquet copy of its CSV file (sources.csvcopy), kept in the work
    dir for this version of the folder's files. DuckDB then reads the copy instead of
    Python reading the CSV (10 M sign-ins: 10-14 s once, against 60-130 s for the population
    figures and ~18 s for each run's rows). A table the copy cannot stand in for is
    remembered (`<table>.refused`) and read as before; one whose copy failed for another
    reason (a full disk) is read as before this time. With `make` False, only the
    copies already made."""
    from acctsec.batch.engine import TABLES
    from acctsec.sources.csvcopy import copy_csv
    from acctsec.sources.files import file_format

    folder = work_dir(opts) / entry_name("csvcopy", source_key(opts), files_fingerprint(files))
    wanted = {t: p for t, p in files.items() if t in TABLES and file_format(p) == "csv"}
    sweep_leftovers(folder)  # what a killed copy left, once a day old
    import duckdb

    con: Any = None
    try:
        for table, path in wanted.items():
            copy, refused = folder / f"{table}.parquet", folder / f"{table}.refused"
            if not make or copy.exists() or refused.exists():
                continue
            if con is None:
                folder.mkdir(parents=True, exist_ok=True)
                con = duckdb.connect(":memory:", config=dict(limits))
                con.execute(QUIET)
            try:
                if not copy_csv(con, path, copy):
                    refused.touch()
            except (duckdb.Error, OSError):  # not the file's fault: read in Python this
                continue  # time, tried again next time
    finally:
        if con is not None:
            con.close()
    return {t: folder / f"{t}.parquet" for t in wanted if (folder / f"{t}.parquet").exists()}


def _sql_plan(opts: BatchOptions, timings: dict[str, float], work: Path,
              limits: dict[str, str]) -> Plan:
    """A SQL source: each worker asks the database for an account's rows and figures;
    the link tables are copied from it once (link.database) and shared like a folder's."""
    from acctsec.sources.sql import SqlSource

    start = time.perf_counter()
    source = SqlSource(opts.url or "", cache_dir=work)
    store, problem = None, None
    try:
        store = source.link_store(limits)
    except InputError as exc:  # every report then lists linking as not checked, and why
        problem = f"the link tables could not be copied: {exc}"
    finally:
        source.close()
    timings["link_graph"] = time.perf_counter() - start
    return Plan(opts.source, {}, PopulationIndex(), store, opts.settings, opts.since,
                opts.until, key=f"sql-{os.getpid()}-{time.time_ns()}", url=opts.url,
                link_problem=problem, **_worker_limits(opts))


def _extract_rows(files: dict[str, Path], todo: Sequence[str], folder: Path,
                  limits: dict[str, str], copies: dict[str, Path]) -> dict[str, Path]:
    """Each table's rows of the accounts to decide, sorted by uid, in `folder`: one read of
    each table for the whole run instead of one per chunk. Made afresh for each run (a
    resumed run has fewer accounts left)."""
    from acctsec.batch.engine import TABLES

    outs = {table: folder / f"{table}.parquet" for table in files if table in TABLES}
    return extract_tables(files, todo, outs, limits, copies)


# The open lock file (None where there is no flock) of each run folder this process holds.
_RUN_LOCKS: dict[Path, IO[str] | None] = {}


def run_folder(parent: Path, prefix: str = "run-", private: bool = False) -> Path:
    """A new folder of this run's own in `parent` (`<prefix>*`), locked until
    release_run_folder; `private`: readable by this user only (for a folder in TMPDIR).

    Two runs on the same files without --out share the work dir, and one must not touch
    the other's rows. The folders whose lock nobody holds (a killed run's) are removed
    first. The lock (flock) ends with the process however it ends, and tells runs on other
    machines sharing the folder apart too (NFS with locking on), where a process id would
    not. Where the lock cannot be taken (no flock: Windows; a file system without locks),
    a run's folder still works, and other runs leave it alone.
    """
    import secrets

    parent.mkdir(parents=True, exist_ok=True)
    for old in parent.glob(f"{prefix}*"):
        if old.is_dir():
            _remove_unless_locked(old)
    for old in parent.glob(f".{prefix}*"):  # a run killed while it made its folder
        if old.is_dir() and stale(old, TEMP_AGE):
            shutil.rmtree(old, ignore_errors=True)
    token = secrets.token_hex(8)
    new = parent / f".{prefix}{token}"
    new.mkdir(mode=0o700 if private else 0o777)
    lock = _locked(new / ".lock")
    # Named <prefix>* only once locked: another run never sees it unlocked.
    folder = parent / f"{prefix}{token}"
    new.rename(folder)
    _RUN_LOCKS[folder] = lock
    return folder


def release_run_folder(folder: Path) -> None:
    """Lets go of a folder run_folder made, and removes it."""
    lock = _RUN_LOCKS.pop(folder, None)
    if lock is not None:
        lock.close()
    shutil.rmtree(folder, ignore_errors=True)


def _locked(path: Path) -> IO[str] | None:
    """`path` opened and locked (flock, exclusive); None where it cannot be locked. The
    file stays either way: a folder with a lock file that cannot be tested is kept."""
    try:
        import fcntl
    except ImportError:  # Windows: no lock file, which would also block the rename
        return None
    fh = path.open("w")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX)
    except OSError:  # a file system without locks (NFS mounted nolock, some FUSE mounts)
        fh.close()
        return None
    return fh


def _remove_unless_locked(folder: Path) -> None:
    """Removes another run's folder when its lock is free: that run has ended."""
    try:
        import fcntl
    except ImportError:  # no way to tell a running run's folder: left alone
        return
    try:
        fh = (folder / ".lock").open("r")
    except FileNotFoundError:  # no lock file: no run holds it (an older acctsec's)
        shutil.rmtree(folder, ignore_errors=True)
        return
    except OSError:
        return
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # held by a running run, or no locks here: left alone
            return
        shutil.rmtree(folder, ignore_errors=True)


def extract_tables(files: dict[str, Path], uids: Sequence[str] | None, outs: dict[str, Path],
                   limits: dict[str, str], copies: dict[str, Path]) -> dict[str, Path]:
    """The rows of `uids` (None: all) of each table in `outs`, sorted by uid, written to
    its path there through one DuckDB connection (from the table's CSV copy when it has
    one); the tables that could be read."""
    import duckdb

    from acctsec.batch.rows import extract, extract_any
    from acctsec.sources.csvcopy import FIRST_LINE

    con = duckdb.connect(":memory:", config=dict(limits))
    con.execute(QUIET)
    try:
        kept = {table: extract(con, copies[table], uids, out, FIRST_LINE) if table in copies
                else extract_any(con, files[table], uids, out) for table, out in outs.items()}
    finally:
        con.close()
    return {table: path for table, path in kept.items() if path is not None}


def _cached_population(path: Path, files: dict[str, Path],
                       limits: dict[str, str]) -> PopulationIndex:
    if path.exists():
        try:
            with path.open("rb") as fh:
                cached = pickle.load(fh)  # noqa: S301 - our own cache file, written below
        except Exception:  # noqa: BLE001 - written by another version, or cut short: rebuilt
            cached = None
        if isinstance(cached, PopulationIndex):
            return cached
    import duckdb

    from acctsec.batch.population import build_index

    con = duckdb.connect(":memory:", config=dict(limits))
    con.execute(QUIET)
    try:
        index = build_index(con, files)
    finally:
        con.close()
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")  # several runs may build it
    with tmp.open("wb") as fh:
        pickle.dump(index, fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)
    return index


def _check_manifest(opts: BatchOptions) -> BatchOptions:
    """A restart must ask for the same run; anything else would mix two runs in one file.

    A window given as a span ago (`--since 30d`) is recorded as the span, with the times
    it meant when the run first started: a restart with the same span continues that
    window, not one moved on by the time since.
    """
    if opts.out is None:
        return opts
    try:
        opts.out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{opts.out}: its folder cannot be made ({exc.strerror})") from None
    times = (opts.since, opts.until)
    wanted: dict[str, Any] = {
        "source": masked_url(opts.url) if opts.url else str(opts.source.resolve()),
        "format": opts.fmt.value,
        "queue": hashlib.sha256("\n".join(opts.queue.uids()).encode()).hexdigest(),
        "since": opts.spans[0] or _iso(opts.since),
        "until": opts.spans[1] or _iso(opts.until),
    }
    path = opts.out.with_name(opts.out.name + ".batch.json")
    if path.exists():
        try:
            found = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            found = None
        found = found if isinstance(found, dict) else {}
        recorded = {k: v for k, v in found.items() if k not in ("spans_at", "files")}
        if recorded != wanted:
            raise InputError(f"{opts.out} holds the results of a batch run with other arguments "
                             "(source, queue, format or window); choose another --out")
        files, meant = found.get("files"), found.get("spans_at")
        if files is not None and files != (now := _source_files(opts)):  # a database: none
            if not _kept_nothing(opts.out):
                raise InputError(
                    f"the source's files changed since {opts.out} was started: its reports "
                    "would mix two versions of the data; choose another --out, or remove "
                    f"{opts.out} and {path.name} to start again")
            # Nothing decided yet (the first start failed early, a file was mended): the
            # run starts over on the files as they are now.
            _write_manifest(path, {**found, "files": now})
        if isinstance(meant, list) and len(meant) == 2:
            times = (_from_iso(meant[0]), _from_iso(meant[1]))
        return replace(opts, since=times[0], until=times[1])
    if opts.out.exists() or (opts.out.with_name(opts.out.name + ".parts")).exists():
        raise InputError(f"{opts.out} exists and is not the output of a batch run; "
                         "choose another --out")
    if any(opts.spans):
        wanted["spans_at"] = [_iso(t) for t in times]
    if opts.url is None:
        wanted["files"] = _source_files(opts)
    _write_manifest(path, wanted)
    return opts


def _write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def _kept_nothing(out: Path) -> bool:
    """Whether a run writing to `out` has kept no result yet (no report, failure or part)."""
    from acctsec.batch.output import errors_path

    parts = out.with_name(out.name + ".parts")
    files = [p for p in (out, errors_path(out)) if p.exists()]
    return all(p.stat().st_size == 0 for p in files) and not (
        parts.is_dir() and any(parts.iterdir()))


def _source_files(opts: BatchOptions) -> str:
    """A folder source's files as they are now (a database is not checked)."""
    from acctsec.sources.files import table_files

    return files_fingerprint(table_files(opts.source), version=False)


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


def _from_iso(text: object) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        raise InputError(f"the batch manifest records {text!r} as a time; "
                         "choose another --out") from None


def open_sink(opts: BatchOptions, stdout: IO[str]) -> Sink:
    if opts.out is None:
        if opts.fmt is not BatchFormat.jsonl:
            raise UsageError(f"--format {opts.fmt.value} needs --out FILE")
        return StreamSink(stdout)
    if opts.fmt is BatchFormat.jsonl:
        return JsonlSink(opts.out)
    return TableSink(opts.out, opts.fmt)


def chunks(uids: Sequence[str], size: int) -> list[list[str]]:
    ordered = sorted(uids)
    return [ordered[i:i + size] for i in range(0, len(ordered), size)]


def chunk_size(opts: BatchOptions, todo: int) -> int:
    if opts.chunk_size:
        return opts.chunk_size
    if opts.url is not None:
        from acctsec.sources.sql import OWNERS

        # A SQL source's chunk scans the sign-ins once per kind of population figure,
        # for 10 accounts as for 250 (SqlSource.populations): the 212-account queue over
        # 10 M sign-ins was decided in 4.0 s in one chunk, 7.5 s in four (DuckDB file),
        # and in 16.0 s against 33.7 s over PostgreSQL, whose scans use both cores.
        return OWNERS
    # A chunk's rows and link questions are fetched at once (a fraction of a second
    # from the run's extract); deciding takes ~0.03 s per account, so chunks of 50+
    # keep that a small share. Past 200, a worker holds more for no gain (500 took
    # ~0.2 GB more per worker on the 100k-account data).
    workers = max(1, opts.jobs)
    return max(50, min(200, -(-todo // (workers * 2))))


def run_batch(opts: BatchOptions, stdout: IO[str],
              progress_factory: Callable[[int], Progress]) -> BatchResult:
    if opts.settings.no_cache and opts.work is None:
        # Nothing read from or left in a cache: the working files live in a folder of
        # this run's own under TMPDIR, removed at the end (a killed run's by the next
        # --no-cache run). The output still resumes.
        import tempfile

        folder = run_folder(Path(tempfile.gettempdir()), "acctsec-batch-", private=True)
        try:
            return run_batch(replace(opts, work=folder), stdout, progress_factory)
        finally:
            release_run_folder(folder)
    with stop_signals() as stop:
        return _run(opts, stdout, progress_factory, stop)


def _run(opts: BatchOptions, stdout: IO[str], progress_factory: Callable[[int], Progress],
         stop: StopRequest) -> BatchResult:
    result = BatchResult(Tally(top=opts.top))
    held = set(_RUN_LOCKS)
    started = time.perf_counter()
    opts = _check_manifest(opts)
    sink = open_sink(opts, stdout)
    done = sink.done()
    todo = [u for u in opts.queue.uids() if u not in done]
    result.resumed = len(opts.queue.entries) - len(todo)
    alerts = {e.uid: e.alert_ids for e in opts.queue.entries}
    if todo:
        work = chunks(todo, chunk_size(opts, len(todo)))
        try:
            plan = prepare(opts, result.timings, todo, chunked=len(work) > 1)
            _decide(opts, plan, work, sink, result, progress_factory(len(todo)), alerts)
            if stop.asked:  # a Ctrl-C that some part swallowed: stop as asked, nothing lost
                raise KeyboardInterrupt
        except BaseException as exc:
            why = _stopped(exc, stop)
            if why is None:
                raise
            sink.commit()
            raise BatchInterrupted(
                f"{why}; {result.tally.decided + result.tally.failed} accounts kept, "
                "run the same command again to continue") from None
        finally:
            for folder in set(_RUN_LOCKS) - held:  # this run's rows
                release_run_folder(folder)
    sink.finish()
    result.seconds = time.perf_counter() - started
    return result


def _stopped(exc: BaseException, stop: StopRequest) -> str | None:
    """Why the run stopped early when it was asked to stop or lost a worker, else None."""
    if isinstance(exc, BrokenProcessPool):
        return "stopped: a worker process ended abruptly (killed, or out of memory)"
    if isinstance(exc, KeyboardInterrupt) or (stop.asked and isinstance(exc, Exception)):
        return "interrupted"
    return None


def _decide(opts: BatchOptions, plan: Plan, work: list[list[str]], sink: Sink,
            result: BatchResult, progress: Progress, alerts: dict[str, Any]) -> None:
    """The chunks decided and their outcomes kept, chunk by chunk."""
    mark = time.perf_counter()
    try:
        for outcomes in _dispatch(opts, plan, work):
            for outcome in outcomes:
                sink.add(outcome, alerts.get(outcome.uid, ()))
                result.tally.add(outcome)
            sink.commit()
            progress.advance(len(outcomes))
    finally:
        progress.close()
    result.timings["decide"] = time.perf_counter() - mark


def _dispatch(opts: BatchOptions, plan: Plan, work: list[list[str]]) -> Iterator[list[Outcome]]:
    if opts.dask:
        from acctsec.batch.distributed import dask_outcomes

        yield from dask_outcomes(opts.dask, plan, work)
    elif opts.jobs > 1 and len(work) > 1:
        yield from _pool_outcomes(plan, work, opts.jobs)
    else:
        for uids in work:
            yield run_chunk(plan, uids)


_PLAN: list[Plan] = []


def _init_worker(plan: Plan) -> None:
    import atexit

    _PLAN[:] = [plan]
    stop = threading.Event()
    watch = threading.Thread(target=_exit_with, args=(os.getppid(), stop), daemon=True)
    watch.start()
    # Ended before the interpreter's own teardown: a thread still running then kept
    # DuckDB's objects alive, and its bindings printed "leaked instances" on stderr.
    atexit.register(_end_watch, stop, watch)


def _end_watch(stop: threading.Event, watch: threading.Thread) -> None:
    stop.set()
    watch.join()


def _exit_with(driver: int, stop: threading.Event) -> None:
    """Ends this worker once the driver is gone (SIGKILL, SIGTERM, a crash): it would
    otherwise wait for work forever, holding its memory (~0.5 GB on 10 M sign-ins)."""
    while not stop.wait(1.0):
        if os.getppid() != driver:
            os._exit(1)


def _pool_chunk(uids: list[str]) -> list[Outcome]:
    return run_chunk(_PLAN[0], uids)


def _pool_outcomes(plan: Plan, work: Iterable[list[str]], jobs: int) -> Iterator[list[Outcome]]:
    """Chunks on `jobs` local processes, a few in flight each; results as they finish."""
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_init_worker,
                             initargs=(plan,)) as pool:
        pending: set[Future[list[Outcome]]] = set()
        queue = iter(work)
        try:
            while True:
                while len(pending) < jobs * 2:
                    uids = next(queue, None)
                    if uids is None:
                        break
                    pending.add(pool.submit(_pool_chunk, uids))
                if not pending:
                    return
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    yield future.result()
        except BaseException:
            for future in pending:
                future.cancel()
            raise
