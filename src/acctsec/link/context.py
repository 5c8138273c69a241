"""The cluster around one account, asked of the source for that account's values only."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from acctsec.errors import InputError
from acctsec.intel.identity import lookalike_reason
from acctsec.link import query
from acctsec.link.model import AccountInfo, Edge, Hub, LinkContext, Member, SharedValue, money
from acctsec.link.sql import open_source
from acctsec.link.weights import (
    BASE,
    EXPAND_MIN,
    HUB_LIMIT,
    IpClassifier,
    apart,
    classify_ip,
    lookalike_weight,
    shared_weight,
)

if TYPE_CHECKING:
    import duckdb

# A deeper search stops pulling in accounts beyond this many.
MAX_CLUSTER = 200


_NAIVE_EPOCH = datetime(1970, 1, 1)
_UTC_EPOCH = _NAIVE_EPOCH.replace(tzinfo=UTC)


def utc(value: Any) -> datetime | None:
    """DuckDB's naive UTC TIMESTAMP as an aware datetime."""
    if isinstance(value, datetime):
        if value.tzinfo:
            return value
        if type(value) is datetime and not value.fold:
            # The same datetime as replace(tzinfo=UTC) gives, ten times faster; this
            # runs for every time of every account in every context.
            return _UTC_EPOCH + (value - _NAIVE_EPOCH)
        return value.replace(tzinfo=UTC)
    return None


def build_link_context(
    source_dir: Path,
    uid: str,
    depth: int = 1,
    ip_classifier: IpClassifier | None = None,
) -> LinkContext:
    """The accounts linked to `uid` within `depth` hops, read from a folder source.

    Only the values `uid` (and, deeper, its strong neighbours) use are looked up;
    nothing is built for the rest of the population.
    """
    con = open_source(source_dir)
    try:
        return ContextBuilder(con, "usage", ip_classifier).build(uid, depth)
    finally:
        con.close()


class ContextBuilder:
    """Builds LinkContexts from a connection holding the link views (link.sql)."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        usage: str = "usage",
        ip_classifier: IpClassifier | None = None,
        queries: query.Queries | None = None,
    ) -> None:
        self.con = con
        self.ask = queries or query.Queries(con, usage)
        self.classify = ip_classifier or classify_ip

    def build(self, uid: str, depth: int = 1) -> LinkContext:
        uid = uid.strip()
        if not self.ask.account_rows([uid]):
            raise InputError(f"unknown uid {uid!r}: not in the accounts table")
        found = _Found()
        frontier, seen = [uid], {uid}
        for _ in range(max(1, depth)):
            self._expand(frontier, found)
            nxt = found.strong_neighbours(frontier) - seen
            frontier = sorted(nxt)[: max(0, MAX_CLUSTER - len(seen))]
            seen.update(frontier)
            if not frontier:
                break
        return self._context(uid, depth, found)

    def _expand(self, frontier: Sequence[str], found: _Found) -> None:
        inner = set(frontier)
        for shared in self._shared(frontier, found):
            for edge in shared_edges(shared, inner):
                found.add(edge)
        for edge in self._lookalikes(frontier):
            found.add(edge)
        for edge in money_edges(self.ask.money_links(frontier)):
            found.add(edge)
        for child, referrer, created in self.ask.referrals(frontier):
            ts = utc(created)
            found.add(Edge(referrer, child, "referral", None, ts, ts, BASE["referral"]))

    def _shared(self, frontier: Sequence[str], found: _Found) -> list[SharedValue]:
        groups: dict[tuple[str, str], list[Any]] = {}
        for row in self.ask.shared_values(frontier):
            groups.setdefault((row[0], row[2]), []).append(row)
        fresh = []
        for key, rows in groups.items():
            family, value = key
            accounts = int(rows[0][8])
            if accounts > HUB_LIMIT.get(family, 50):
                found.hubs[key] = Hub(family, value, accounts,
                                      self._network(family, value, rows)[0])
            elif accounts >= 2 and key not in found.shared:
                members = tuple([Member(r[3], utc(r[4]), utc(r[5]), int(r[6]), r[1])
                                 for r in rows])
                shared = SharedValue(family, value, accounts, members,
                                     *self._network(family, value, rows))
                found.shared[key] = shared
                fresh.append(shared)
        return fresh

    def _network(self, family: str, value: str, rows: list[Any]) -> tuple[str | None, str | None]:
        if family != "ip":
            return None, None
        org = next((r[7] for r in rows if r[7]), None)
        return self.classify(value, org)

    def _lookalikes(self, frontier: Sequence[str]) -> Iterable[Edge]:
        for uid, other, mine, theirs, created, stem_accounts in self.ask.lookalike_emails(
            frontier
        ):
            reason = lookalike_reason(mine, theirs)
            if reason is None or (reason == "digits" and stem_accounts > HUB_LIMIT["email"]):
                continue  # a stem dozens of accounts share (user1, user2 …) is a common name
            ts = utc(created)
            yield Edge(
                uid, other, "email_lookalike", f"{mine} ~ {theirs}", ts, ts,
                lookalike_weight(reason, int(stem_accounts)),
                detail={"reason": reason, "emails": [mine, theirs],
                        "accounts_on_stem": int(stem_accounts)},
            )

    def _context(self, uid: str, depth: int, found: _Found) -> LinkContext:
        uids = {uid} | {u for e in found.edges.values() for u in (e.a, e.b)}
        chain = self.ask.referral_chain(uid)
        return LinkContext(
            uid=uid,
            depth=depth,
            accounts=self.account_info(uids),
            edges=tuple(sorted(found.edges.values(), key=_edge_order)),
            shared=tuple(found.shared.values()),
            hubs=tuple(found.hubs.values()),
            referral_chain=tuple(chain),
            referral_cycle=len(chain) > 1 and chain[-1] in chain[:-1],
            total_accounts=self.ask.total_accounts(),
        )

    def account_info(self, uids: set[str]) -> dict[str, AccountInfo]:
        """The accounts rows of `uids` with their recent protection changes and alerts."""
        changes: dict[str, list[tuple[datetime, str]]] = {}
        for who, ts, event in self.ask.sensitive_events(uids):
            stamp = utc(ts)
            if stamp is not None:
                changes.setdefault(who, []).append((stamp, event))
        alerts: dict[str, list[tuple[datetime | None, str]]] = {}
        for who, ts, source, kind in self.ask.alert_rows(uids):
            alerts.setdefault(who, []).append((utc(ts), f"{source or '?'}: {kind or '?'}"))
        out = {}
        for row in self.ask.account_rows(uids):
            who = str(row[0])
            out[who] = AccountInfo(
                who, row[1], row[2], utc(row[3]), row[4], row[5], row[6],
                tuple(changes.get(who, ())), tuple(alerts.get(who, ())),
            )
        return out


def _edge_order(edge: Edge) -> tuple[float, str, str, str]:
    return (-edge.weight, edge.via, edge.a, edge.b)


class _Found:
    """Edges, shared values and hubs collected while a search widens."""

    def __init__(self) -> None:
        self.edges: dict[tuple[str, str, str, str | None], Edge] = {}
        self.shared: dict[tuple[str, str], SharedValue] = {}
        self.hubs: dict[tuple[str, str], Hub] = {}

    def add(self, edge: Edge) -> None:
        a, b = edge.a, edge.b
        if b < a and edge.via not in _DIRECTED:
            a, b = b, a
        value = edge.value
        if edge.via == "email_lookalike":  # one pair of e-mails, from whichever side asked
            value = " ~ ".join(sorted(edge.detail.get("emails", ()))) or value
        key = (a, b, edge.via, value)
        known = self.edges.get(key)
        if known is None or edge.weight > known.weight:
            self.edges[key] = edge

    def strong_neighbours(self, frontier: Sequence[str]) -> set[str]:
        inner = set(frontier)
        return {
            u
            for e in self.edges.values()
            if e.weight >= EXPAND_MIN and (e.a in inner or e.b in inner)
            for u in (e.a, e.b)
        }


_DIRECTED = frozenset({"referral", "internal_transfer", "p2p", "address_flow"})


def shared_edges(shared: SharedValue, inner: set[str]) -> list[Edge]:
    """Pairwise edges between the `inner` accounts and every other user of the value."""
    detail: dict[str, Any] = {"accounts_sharing": shared.accounts}
    if shared.network:
        detail["network"] = shared.network
        detail["network_reason"] = shared.network_reason
    edges = []
    for mine in shared.members:
        if mine.uid in inner:
            for theirs in shared.members:
                if theirs.uid != mine.uid:
                    edge = _pair_edge(shared, mine, theirs, detail)
                    if edge is not None:
                        edges.append(edge)
    return edges


def _pair_edge(shared: SharedValue, mine: Member, theirs: Member,
               detail: dict[str, Any]) -> Edge | None:
    """The edge two users of `shared` make; `detail` is what every pair of it says."""
    via, a, b = shared.family, mine, theirs
    if via == "address":
        via, a, b = _address_link(mine, theirs)
    gap = apart((mine.first_seen, mine.last_seen), (theirs.first_seen, theirs.last_seen))
    weight = shared_weight(via, shared.accounts, shared.network, gap)
    if weight <= 0:
        return None
    if gap is not None:
        detail = {**detail, "days_apart": round(gap.total_seconds() / 86400, 1)}
    else:
        detail = dict(detail)
    return Edge(
        a.uid, b.uid, via, shared.value, _later(a.first_seen, b.first_seen),
        _later(a.last_seen, b.last_seen), weight, shared.accounts, detail,
    )


def _address_link(mine: Member, theirs: Member) -> tuple[str, Member, Member]:
    """(via, from, to) of two uses of one address."""
    if mine.role == theirs.role and mine.role in ("withdrawal_address", "deposit_address"):
        return mine.role, mine, theirs
    # one side paid out to the address, the other received from it
    if mine.role == "withdrawal_address":
        return "address_flow", mine, theirs
    return "address_flow", theirs, mine


def _later(one: datetime | None, other: datetime | None) -> datetime | None:
    """The later of two times, either of which may be missing."""
    return other if one is None or (other is not None and one < other) else one


def money_edges(rows: Iterable[Sequence[Any]]) -> list[Edge]:
    """Internal transfers and P2P trades as edges from payer to payee, both sides merged."""
    merged: dict[tuple[str, str, str], Edge] = {}
    for uid, other, kind, first, last, count, usd, amount, assets in rows:
        payer, payee = (uid, other) if kind in ("internal_out", "p2p_sell") else (other, uid)
        via = "internal_transfer" if kind.startswith("internal") else "p2p"
        n = int(count)
        weight = BASE[via] * min(2.0, 1.0 + 0.25 * math.log2(n)) if n > 0 else BASE[via]
        usd_total = money(usd)
        edge = Edge(
            str(payer), str(payee), via, None, utc(first), utc(last), round(weight, 3),
            detail={"transfers": n, "usd": str(usd_total) if usd_total is not None else None,
                    "amount": str(money(amount)), "assets": assets, "recorded_as": kind},
        )
        key = (edge.a, edge.b, via)
        known = merged.get(key)
        if known is None or n > int(known.detail["transfers"]):
            merged[key] = edge
    return list(merged.values())
