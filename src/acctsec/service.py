"""Gathers what an investigation needs from the outside world, then runs the pure core."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from acctsec.config import Settings
from acctsec.core.investigation import Inputs, in_window, run
from acctsec.core.report import Report
from acctsec.core.signals import NotChecked, Signal
from acctsec.errors import InputError
from acctsec.intel.interface import IpInfo, IpIntel
from acctsec.model import AccountRecords, GeoHint, PopulationQuery, PopulationStats
from acctsec.sources.interface import LogSource

if TYPE_CHECKING:
    from acctsec.link.model import LinkContext


def open_source(settings: Settings, source: str | Path | None, *,
                strict: bool = False) -> LogSource:
    """The source named by the flag, else by the config: a database URL (sqlite:///…,
    duckdb:///…, postgresql://…) opens the SQL source, anything else a folder."""
    from acctsec.sources.folder import FolderSource
    from acctsec.sources.sql_db import is_database_url

    given = source if source is not None and str(source) != "" else settings.source
    if given is None:
        raise InputError("no source given: pass --source DIR or URL, or set `source` in the "
                         "config")
    cache = None if settings.no_cache else settings.resolved_cache_dir()
    if is_database_url(str(given)):
        from acctsec.sources.sql import SqlSource

        return SqlSource(str(given), strict=strict, cache_dir=cache)
    return FolderSource(Path(os.path.expanduser(str(given))), strict=strict, cache_dir=cache)


def ip_hints(records: AccountRecords) -> dict[str, GeoHint]:
    """Geo columns the exchange put in its logs, per IP (the latest row wins)."""
    return {lg.ip: lg.geo for lg in records.logins if lg.ip and lg.geo is not None}


def account_ips(records: AccountRecords) -> set[str]:
    ips = {x.ip for x in records.logins if x.ip}
    ips |= {x.ip for x in records.security_events if x.ip}
    ips |= {x.ip for x in records.transactions if x.ip}
    return ips


def enrich_ips(intel: IpIntel, ips: Iterable[str],
               hints: Mapping[str, GeoHint]) -> dict[str, IpInfo]:
    from acctsec.intel.ip import enrich_with_hint

    found = intel.lookup_all(sorted(ips))
    return {ip: enrich_with_hint(info, hints.get(ip)) for ip, info in found.items()}


def population_query(records: AccountRecords) -> PopulationQuery:
    return PopulationQuery(
        ips=frozenset(account_ips(records)),
        devices=frozenset(x.device_id for x in records.logins if x.device_id),
        sessions=frozenset(x.session_id for x in records.logins if x.session_id),
        user_agents=frozenset(x.user_agent for x in records.logins if x.user_agent),
        own_uid=records.account.uid,
        own_logins=records.logins,
    )


@dataclass(frozen=True)
class FraudEvidence:
    """What account linking found: fraud signals, linked accounts, what it could not check."""

    signals: list[Signal] = field(default_factory=list)
    linked: list[dict[str, Any]] = field(default_factory=list)
    not_checked: list[NotChecked] = field(default_factory=list)


def investigate(settings: Settings, source: LogSource, uid: str, *,
                since: datetime | None = None, until: datetime | None = None,
                intel: IpIntel | None = None) -> Report:
    """One account's report from a source; the network is used only when settings allow."""
    from acctsec.intel.ip import OfflineIpIntel
    from acctsec.sources.folder import FolderSource

    if isinstance(source, FolderSource) and source.large:
        from acctsec.batch.single import investigate_prepared

        return investigate_prepared(settings, source.folder, uid, since=since, until=until,
                                    intel=intel)
    with collector_paused():
        records = in_window(source.account(uid), until)
        population = source.population(population_query(records))
        return investigate_records(settings, records, population, link_context(source, uid),
                                   intel or OfflineIpIntel(settings), since=since, until=until,
                                   unlinked=getattr(source, "link_problem", None))


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector off while an account's records are read and judged.

    They are hundreds of thousands of objects that live until the report is done, so
    the collector, started by every 700 new objects, finds nothing to free yet keeps
    walking them (0.3 s of a 2.5 s investigation of 100,000 sign-ins; ~7% of deciding a
    batch chunk). Objects without cycles are still freed at once; cycles wait until the
    collector is back on.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def link_context(source: LogSource, uid: str) -> LinkContext | None:
    """The accounts linked to `uid`, when the source can link accounts."""
    make = getattr(source, "link_builder", None)
    builder = make() if make is not None else None
    return builder.build(uid, depth=1) if builder is not None else None


def investigate_records(settings: Settings, records: AccountRecords,
                        population: PopulationStats, links: LinkContext | None,
                        intel: IpIntel, *, since: datetime | None = None,
                        until: datetime | None = None,
                        generated_at: datetime | None = None,
                        unlinked: str | None = None) -> Report:
    """Everything after reading an account: attribution of its deposits, fraud findings
    from its links, the verdict, and the on-chain trail of suspicious withdrawals.

    `investigate` and batch runs both call this, so they reach the same reports.
    `unlinked`: why there are no links, when the source could not give them.
    """
    from acctsec.core.fraud import fraud_signals, linked_accounts

    records = in_window(records, until)
    payouts = [v.value for v in links.shared if v.family == "address"] if links else []
    labels, unchecked = deposit_attribution(settings, records, payouts)
    if links is None:
        fraud = FraudEvidence(not_checked=[NotChecked(
            "linking", unlinked or "the source cannot link accounts")])
    else:
        fraud = FraudEvidence(fraud_signals(records, links, address_labels=labels),
                              linked_accounts(links))
    fraud.not_checked.extend(unchecked)
    report = assess(records, population, intel, fraud, since=since, until=until,
                    generated_at=generated_at)
    return with_funds(settings, report, records)


def assess(records: AccountRecords, population: PopulationStats, intel: IpIntel,
           fraud: FraudEvidence, *, since: datetime | None = None,
           until: datetime | None = None, generated_at: datetime | None = None) -> Report:
    """The report on one account from its records and what was gathered around them.

    `investigate` and batch runs both end here, so they reach the same verdicts.
    """
    infos = enrich_ips(intel, account_ips(records), ip_hints(records))
    return run(Inputs(
        records=records, ip_info=infos, population=population,
        generated_at=generated_at or datetime.now(UTC), since=since, until=until,
        extra_signals=fraud.signals, linked_accounts=fraud.linked,
        not_checked=_not_checked(infos) + fraud.not_checked,
        stats={"logins": len(records.logins), "security_events": len(records.security_events),
               "transactions": len(records.transactions), "ips": len(infos),
               "population_logins": population.total_logins,
               "skipped_rows": len(records.problems)},
    ))


def deposit_attribution(settings: Settings, records: AccountRecords,
                        shared: Sequence[str] = ()) -> tuple[dict[str, str], list[NotChecked]]:
    """Attribution categories (hack, scam, mixer, sanctioned, exchange, …) of deposit source
    addresses, and of the `shared` addresses other accounts pay too (an exchange's
    omnibus deposit address is no ring's payout)."""
    deposits = [(t.address, t.network or t.asset) for t in records.transactions
                if t.kind == "deposit" and t.address]
    # the network each shared address was paid on here (links hold hex addresses
    # lower-cased)
    paid_on = {t.address.lower(): t.network or t.asset for t in records.transactions
               if t.kind == "withdrawal" and t.address}
    payouts = [(a, paid_on[a.lower()]) for a in shared if a.lower() in paid_on]
    if not deposits and not payouts:
        return {}, []
    from acctsec.chain.report import attribute_address, attribution_paths

    if not any(attribution_paths(settings)):
        # only deposits' sources are worth saying so: without data, a shared payout
        # address is judged as it always was
        return {}, [NotChecked("attribution", "no TagPack, OFAC or Forta data: run `acctsec "
                               "intel update` or set tagpacks/ofac in the config")
                    ] if deposits else []
    labels: dict[str, str] = {}
    problems: set[str] = set()
    for address, network in deposits + payouts:
        try:
            found = attribute_address(settings, str(address), network)
        except InputError as exc:
            problems.add(str(exc))
            continue
        if found is not None:
            labels[str(address)] = found.category
    return labels, [NotChecked("attribution", p) for p in sorted(problems)]


# Withdrawals worth following on-chain: the ones the verdict rests on (the only
# findings that name their transaction in the evidence).
TRACED_SIGNALS = frozenset({"withdrawal_to_new_address"})


def with_funds(settings: Settings, report: Report, records: AccountRecords) -> Report:
    """The report with the on-chain endpoints of its suspicious withdrawals in `funds`."""
    from dataclasses import replace

    from acctsec.chain.report import trace_withdrawals

    if report.verdict.label == "clear":
        return report
    top = report.stats.get("top_actor")
    hashes = {str(s.evidence["transaction"].get("txhash")) for s in report.signals
              if s.id in TRACED_SIGNALS and isinstance(s.evidence.get("transaction"), dict)
              and s.evidence.get("actor") in (top, None)}
    chosen = [t for t in records.transactions if t.kind == "withdrawal" and t.txhash in hashes]
    if not chosen:
        return report
    if settings.offline:  # say so without loading the chain clients (httpx, web3)
        networks = sorted({t.network or t.asset for t in chosen})
        offline = [NotChecked("funds", f"{n}: offline mode (pass --online or set offline = "
                              "false to trace withdrawals on-chain)") for n in networks]
        return replace(report, not_checked=report.not_checked + tuple(offline))
    funds, problems = trace_withdrawals(settings, chosen[:10])
    unchecked = [NotChecked("funds", p.removeprefix("not checked: ").split(": ", 1)[-1])
                 for p in problems]
    unchecked = list(dict.fromkeys(unchecked))
    return replace(report, funds=tuple(funds), not_checked=report.not_checked + tuple(unchecked))


def _not_checked(infos: Mapping[str, IpInfo]) -> list[NotChecked]:
    """Each distinct reason an IP fact could not be checked, once, with how many IPs."""
    counts: dict[tuple[str, str], int] = {}
    for info in infos.values():
        for reason in info.not_checked:
            check, _, why = reason.partition(": ")
            key = (check, why) if why else ("ip", reason)
            counts[key] = counts.get(key, 0) + 1
    return [NotChecked(check, f"{why} ({n} IP{'s' if n != 1 else ''})")
            for (check, why), n in sorted(counts.items())]
