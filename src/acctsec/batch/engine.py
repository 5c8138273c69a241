"""Deciding a chunk of accounts: their rows streamed once, shared figures looked up, assess()."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from acctsec.batch.population import PopulationIndex
from acctsec.batch.records import CONTENT_TABLES, build_records, own_logins
from acctsec.batch.rows import Group, RawRow, TableRows, table_rows
from acctsec.config import Settings
from acctsec.errors import AcctsecError
from acctsec.link.sql import QUIET
from acctsec.model import AccountRecords, PopulationStats

if TYPE_CHECKING:
    from acctsec.batch.linking import Linker
    from acctsec.core.report import Report
    from acctsec.intel.interface import IpIntel
    from acctsec.sources.sql import SqlSource

TABLES = ("accounts", *CONTENT_TABLES)
# A DuckDB source's memory in each worker: its scans ran as fast in 256 MB as in 512 MB
# (3,000 accounts of the 10 M-sign-in file: 57 s and 62 s) for ~150 MB less per worker.
SQL_MEMORY = "256MB"


@dataclass(frozen=True)
class Plan:
    """Everything a worker needs, computed once by the driver; picklable for other processes."""

    folder: Path
    files: dict[str, Path]
    population: PopulationIndex
    link_store: Path | None
    settings: Settings
    since: datetime | None = None
    until: datetime | None = None
    key: str = field(default="")  # tells worker processes apart from other runs' plans
    threads: int = 2  # DuckDB threads per worker
    memory_limit: str = "1GB"  # DuckDB memory per worker; sorts spill to disk beyond it
    extracted: dict[str, Path] = field(default_factory=dict)  # table -> the queue's rows
    copies: dict[str, Path] = field(default_factory=dict)  # CSV table -> its exact Parquet copy
    url: str | None = None  # a SQL source: each account is read from it as investigate does
    link_problem: str | None = None  # why there is no link store, when it could not be made


@dataclass(frozen=True, slots=True)
class Outcome:
    """One account's result: its report as the JSON object, or why it could not be decided."""

    uid: str
    report: dict[str, Any] | None = None
    error: str | None = None


class Worker:
    """Per-process state: one IP intel (memoised), one DuckDB connection, one link connection."""

    def __init__(self, plan: Plan, intel: IpIntel | None = None) -> None:
        import duckdb

        from acctsec.intel.ip import OfflineIpIntel

        self.plan = plan
        self.intel: IpIntel = intel or OfflineIpIntel(plan.settings)
        self.con = duckdb.connect(":memory:", config={"threads": plan.threads,
                                                      "memory_limit": plan.memory_limit})
        self.con.execute("SET TimeZone = 'UTC'")
        self.con.execute(QUIET)
        self.readers: dict[str, TableRows] = {
            t: table_rows(p, self.con, plan.extracted.get(t), plan.copies.get(t))
            for t, p in plan.files.items() if t in TABLES
        }
        self.names = {t: p.name for t, p in plan.files.items()}
        self.linker: Linker | None = None
        self.sql: SqlSource | None = None
        if plan.url is not None:
            from acctsec.sources.sql import SqlSource

            self.sql = SqlSource(plan.url)
            self.sql.db.bound(SQL_MEMORY)
        if plan.link_store is not None:
            from acctsec.batch.linking import Linker

            self.linker = Linker(plan.link_store)

    def decide(self, uids: Sequence[str]) -> list[Outcome]:
        from acctsec.service import collector_paused

        wanted = sorted(set(uids))
        with collector_paused():  # as investigate does: the chunk's objects live until its end
            if self.linker is not None:
                self.linker.prepare(wanted)
            if self.sql is not None:
                return self._sql_outcomes(wanted)
            return [self._outcome(uid, partial(self._report, uid, rows))
                    for uid, rows in self._grouped(wanted)]

    def _grouped(self, uids: list[str]) -> Iterator[tuple[str, dict[str, list[RawRow]]]]:
        """Each wanted uid with its rows of every table, merging the uid-ordered streams."""
        streams = {t: _Peek(r.groups(uids)) for t, r in self.readers.items()}
        for uid in uids:
            yield uid, {t: s.take(uid) for t, s in streams.items()}

    def report(self, uid: str) -> Report:
        """One account's report (what `investigate` gives); AcctsecError when it cannot be."""
        wanted = uid.strip()
        if self.linker is not None:
            self.linker.prepare([wanted])
        if self.sql is not None:
            return self._sql_report(wanted)
        rows = next(self._grouped([wanted]))[1]
        return self._report(wanted, rows)

    def _report(self, uid: str, rows: dict[str, list[RawRow]]) -> Report:
        from acctsec.core.investigation import in_window

        # Up to --until before the population figures, as investigate reads them: the
        # account's own later sign-ins are neither counted nor asked about.
        records = in_window(build_records(uid, rows, self.names,
                                          str(self.plan.files["accounts"])), self.plan.until)
        population = self.plan.population.stats_for(records, own_logins(rows.get("logins", [])))
        return self._investigate(records, population)

    def _sql_outcomes(self, uids: list[str]) -> list[Outcome]:
        """The rows and population figures `investigate` reads, asked of the database for
        the whole chunk at once: a scan costs as much for 200 accounts as for one."""
        from acctsec.core.investigation import in_window
        from acctsec.service import population_query

        assert self.sql is not None
        read: dict[str, AccountRecords] = {}
        failed: dict[str, Outcome] = {}
        try:
            found = self.sql.accounts(uids)
            for uid in uids:
                records = found[uid.strip()]
                if isinstance(records, AcctsecError):
                    failed[uid] = Outcome(uid, error=str(records))
                else:
                    read[uid] = in_window(records, self.plan.until)
            figures = self.sql.populations([population_query(r) for r in read.values()])
        except Exception as exc:  # noqa: BLE001 - the chunk's accounts fail, not the run
            return [Outcome(uid, error=_failure(exc)) for uid in uids]
        population = dict(zip(read, figures, strict=True))
        return [failed.get(uid) or self._outcome(uid, partial(
            self._investigate, read[uid], population[uid])) for uid in uids]

    def _sql_report(self, uid: str) -> Report:
        """What `investigate` does with a SQL source, with the links from the run's store."""
        from acctsec.core.investigation import in_window
        from acctsec.service import population_query

        assert self.sql is not None
        records = in_window(self.sql.account(uid), self.plan.until)
        return self._investigate(records, self.sql.population(population_query(records)))

    def _outcome(self, uid: str, decide: Callable[[], Report]) -> Outcome:
        from acctsec.core.report import to_dict

        try:
            report = decide()
        except Exception as exc:  # noqa: BLE001 - one account's failure is recorded, not fatal
            return Outcome(uid, error=_failure(exc))
        return Outcome(uid, report=to_dict(report))

    def _investigate(self, records: AccountRecords, population: PopulationStats) -> Report:
        """`service.investigate` from here on, with the batch's records, figures and links."""
        from acctsec import service

        links = self.linker.context(records.account.uid) if self.linker is not None else None
        return service.investigate_records(
            self.plan.settings, records, population, links, self.intel,
            since=self.plan.since, until=self.plan.until, generated_at=datetime.now(UTC),
            unlinked=self.plan.link_problem)

    def close(self) -> None:
        self.con.close()
        if self.sql is not None:
            self.sql.close()
        if self.linker is not None:
            self.linker.close()


def _failure(exc: Exception) -> str:
    """Why an account could not be decided, as its outcome records it."""
    if isinstance(exc, AcctsecError):
        return str(exc)
    return f"internal error: {type(exc).__name__}: {exc}"


class _Peek:
    """A uid-ordered stream of groups, taken from in the same order."""

    def __init__(self, groups: Iterator[Group]) -> None:
        self.groups = groups
        self.head: Group | None = next(groups, None)

    def take(self, uid: str) -> list[RawRow]:
        while self.head is not None and self.head[0] < uid:
            self.head = next(self.groups, None)
        if self.head is not None and self.head[0] == uid:
            rows = self.head[1]
            self.head = next(self.groups, None)
            return rows
        return []


_WORKERS: dict[str, Worker] = {}


def run_chunk(plan: Plan, uids: Sequence[str]) -> list[Outcome]:
    """Decides `uids` in this process, reusing its Worker across chunks of the same plan."""
    worker = _WORKERS.get(plan.key)
    if worker is None:
        for old in _WORKERS.values():
            old.close()
        _WORKERS.clear()
        worker = _WORKERS[plan.key] = Worker(plan)
    return worker.decide(uids)
