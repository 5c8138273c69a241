"""`investigate` on a large folder: one account through the batch machinery.

Reading a folder of millions of rows for one account means scanning every table for
its population figures and links (tens of seconds). The batch run's population index
and link store, built once per version of the folder's files and kept in the cache
directory, answer the same questions in milliseconds; the account's own rows are
streamed from DuckDB. The report is the one `investigate` gives (the batch tests hold
batch and `investigate` to the same reports).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from acctsec.config import Settings

if TYPE_CHECKING:
    from acctsec.batch.runner import BatchOptions
    from acctsec.core.report import Report
    from acctsec.intel.interface import IpIntel


def _options(settings: Settings, folder: Path, since: datetime | None = None,
             until: datetime | None = None) -> BatchOptions:
    from acctsec.batch.queue import WorkQueue
    from acctsec.batch.runner import BatchOptions

    return BatchOptions(folder, WorkQueue(()), settings, since=since, until=until)


def is_prepared(settings: Settings, folder: Path) -> bool:
    """Whether the folder's population index, link store and sorted rows are in the cache."""
    from acctsec.batch.runner import cached_paths

    options = _options(settings, folder)
    return all(p.exists() for p in (*cached_paths(options), *_sorted_rows(options).values()))


def _sorted_rows(options: BatchOptions) -> dict[str, Path]:
    """Where each table's rows, sorted by uid, are kept for single accounts."""
    from acctsec.batch.engine import TABLES
    from acctsec.batch.runner import files_fingerprint, source_key, work_dir
    from acctsec.cachefiles import entry_name
    from acctsec.sources.files import table_files

    files = table_files(options.source)
    name = entry_name("rows-all", source_key(options), files_fingerprint(files))
    folder = work_dir(options) / name
    return {table: folder / f"{table}.parquet" for table in files if table in TABLES}


def _sort_rows(options: BatchOptions) -> dict[str, Path]:
    """Every account's rows of each table, sorted by uid, written once: one account's
    rows are then read from a few row groups instead of a scan of the table (10 M
    sign-ins: ~1.2 s per investigation). A CSV or JSONL table that cannot be read is
    left out: `investigate` then reports the reader's error."""
    from acctsec.batch.runner import csv_copies, driver_limits, extract_tables, work_dir
    from acctsec.cachefiles import sweep_leftovers
    from acctsec.sources.files import table_files

    wanted = _sorted_rows(options)
    missing = {t: p for t, p in wanted.items() if not p.exists()}
    if missing:
        folder = next(iter(missing.values())).parent
        folder.mkdir(parents=True, exist_ok=True)
        sweep_leftovers(folder)  # what a killed sort left, once a day old
        files, limits = table_files(options.source), driver_limits(work_dir(options))
        extract_tables(files, None, missing, limits, csv_copies(options, files, limits))
    return {table: path for table, path in wanted.items() if path.exists()}


def investigate_prepared(settings: Settings, folder: Path, uid: str, *,
                         since: datetime | None = None, until: datetime | None = None,
                         intel: IpIntel | None = None) -> Report:
    from acctsec.batch.engine import Worker
    from acctsec.batch.runner import prepare

    options = _options(settings, folder, since, until)
    plan = replace(prepare(options, {}), extracted=_sort_rows(options))
    worker = Worker(plan, intel)
    try:
        return worker.report(uid)
    finally:
        worker.close()


def large_link_store(settings: Settings, folder: Path) -> tuple[Path, bool] | None:
    """For a large folder (see FolderSource.large), the batch run's link store and whether
    it must be built first; None for a small folder or without a cache dir."""
    from acctsec.batch.runner import cached_paths
    from acctsec.sources.folder import FolderSource

    cache = None if settings.no_cache else settings.resolved_cache_dir()
    if not FolderSource(folder, cache_dir=cache).large:
        return None
    store = cached_paths(_options(settings, folder))[1]
    return store, not store.exists()


def build_link_store(settings: Settings, folder: Path, store: Path) -> None:
    from acctsec.batch.linking import build_link_store as build
    from acctsec.batch.runner import csv_copies, driver_limits, forget_older_versions
    from acctsec.sources.files import table_files

    store.parent.mkdir(parents=True, exist_ok=True)
    options, files = _options(settings, folder), table_files(folder)
    forget_older_versions(options, files)
    limits = driver_limits(store.parent)
    build(folder, store, limits, {**files, **csv_copies(options, files, limits)})
