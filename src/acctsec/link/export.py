"""A LinkContext as plain JSON values, as a Graphviz DOT picture and as an SVG picture."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from acctsec.link.model import DIRECT_VIAS, AccountInfo, Edge, LinkContext
from acctsec.render.graph_svg import Graph, GraphEdge, GraphNode, render_svg
from acctsec.render.safe import literal

JSON_SCHEMA = "acctsec.link/1"
VIA_COLOURS = {
    "device_id": "firebrick", "email": "firebrick", "phone": "firebrick",
    "email_lookalike": "darkorange", "withdrawal_address": "purple", "address_flow": "purple",
    "deposit_address": "orchid", "internal_transfer": "blue", "p2p": "steelblue",
    "referral": "darkgreen", "ip": "gray50",
}


def _iso(ts: datetime | None) -> str | None:
    return ts.isoformat() if ts else None


def edge_json(edge: Edge) -> dict[str, Any]:
    return {
        "a": edge.a, "b": edge.b, "via": edge.via, "value": edge.value,
        "first_seen": _iso(edge.first_seen), "last_seen": _iso(edge.last_seen),
        "weight": edge.weight, "accounts_sharing": edge.accounts_sharing,
        "detail": dict(edge.detail),
    }


def account_json(info: AccountInfo) -> dict[str, Any]:
    return {
        "uid": info.uid, "email": info.email, "phone": info.phone,
        "created_at": _iso(info.created_at), "kyc_country": info.kyc_country,
        "status": info.status, "referrer_uid": info.referrer_uid,
        "security_changes": [{"ts": _iso(ts), "event": ev} for ts, ev in info.security_changes],
        "alerts": [{"ts": _iso(ts), "what": what} for ts, what in info.alerts],
    }


def context_json(ctx: LinkContext) -> dict[str, Any]:
    """Every account, edge and hub of the cluster; untrusted text stays as data."""
    return {
        "schema": JSON_SCHEMA,
        "uid": ctx.uid,
        "depth": ctx.depth,
        "total_accounts": ctx.total_accounts,
        "accounts": [account_json(ctx.accounts[u]) for u in sorted(ctx.accounts)],
        "edges": [edge_json(e) for e in ctx.edges],
        "hubs": [{"family": h.family, "value": h.value, "accounts": h.accounts,
                  "network": h.network} for h in ctx.hubs],
        "referral_chain": list(ctx.referral_chain),
        "referral_cycle": ctx.referral_cycle,
    }


def _dot_escape(text: object) -> str:
    return literal(text).replace("\\", "\\\\").replace('"', '\\"')


def dot_string(*lines: object) -> str:
    """A DOT quoted string holding each of `lines` literally, one per line of the label."""
    return '"' + "\\n".join(_dot_escape(line) for line in lines) + '"'


def context_dot(ctx: LinkContext, min_weight: float = 0.2) -> str:
    """A Graphviz picture: accounts as boxes, one line per link, coloured by what joins them."""
    lines = ["graph acctsec_link {", '  graph [overlap=false, splines=true];',
             '  node [shape=box, fontname="Helvetica"];']
    for uid in sorted(ctx.accounts):
        lines.append(f"  {dot_string(uid)} [label={dot_string(*_node_label(ctx.accounts[uid]))}"
                     + (', style=filled, fillcolor="gold"' if uid == ctx.uid else "") + "];")
    lines += _dot_edges(e for e in ctx.edges if e.weight >= min_weight)
    lines.append("}")
    return "\n".join(lines) + "\n"


def _node_label(info: AccountInfo) -> tuple[str, str, str]:
    created = info.created_at.date().isoformat() if info.created_at else "?"
    return info.uid, info.email or "", f"opened {created}"


def _dot_edges(edges: Iterable[Edge]) -> list[str]:
    out = []
    for e in edges:
        label = e.via if e.value is None else f"{e.via}: {e.value}"
        colour = VIA_COLOURS.get(e.via, "black")
        width = min(4.0, 0.5 + e.weight)
        direction = ", dir=forward" if e.via in ("referral", "internal_transfer", "p2p",
                                                 "address_flow") else ""
        out.append(f"  {dot_string(e.a)} -- {dot_string(e.b)} [label={dot_string(label)}, "
                   f'color="{colour}", penwidth={width:.1f}{direction}];')
    return out


# Account statuses that mean nothing is wrong; any other status (frozen, closed,
# restricted …) or an alert on the account marks it in the picture.
_PLAIN_STATUS = frozenset({"", "active", "normal", "ok"})


def _account_category(ctx: LinkContext, info: AccountInfo) -> str:
    if info.uid == ctx.uid:
        return "root"
    if info.alerts or (info.status or "").strip().lower() not in _PLAIN_STATUS:
        return "flagged"
    return "account"


def _account_node(ctx: LinkContext, info: AccountInfo) -> GraphNode:
    uid, email, opened = _node_label(info)
    notes = []
    if info.status and info.status.strip().lower() not in _PLAIN_STATUS:
        notes.append(info.status)
    if info.alerts:
        notes.append(f"{len(info.alerts)} alert(s)")
    if notes:  # the date alone, so the notes fit in the box
        opened = " · ".join([opened.removeprefix("opened "), *notes])
    return GraphNode(uid, (uid, email or "(no e-mail)", opened), _account_category(ctx, info))


def _edge_text(edge: Edge) -> str:
    return edge.via if edge.value is None else f"{edge.via}: {edge.value}"


def _svg_edges(edges: Iterable[Edge]) -> list[GraphEdge]:
    """One line per pair of accounts (one arrow per direction for directed links), what joins
    them in its label, strongest link first."""
    merged: dict[tuple[str, str, bool], list[Edge]] = {}
    for e in edges:
        directed = e.via in DIRECT_VIAS and e.via != "email_lookalike"
        a, b = (e.a, e.b) if directed or e.a <= e.b else (e.b, e.a)
        merged.setdefault((a, b, directed), []).append(e)
    out = []
    for (a, b, directed), group in merged.items():
        group.sort(key=lambda e: -e.weight)
        out.append(GraphEdge(a, b, "; ".join(_edge_text(e) for e in group), directed))
    return out


def context_graph(ctx: LinkContext, min_weight: float = 0.2) -> Graph:
    """The cluster as a neutral graph: the asked account as root, the accounts a shown link
    joins, and what joins them; the title says how many accounts only weaker links join."""
    edges = _svg_edges(e for e in ctx.edges if e.weight >= min_weight
                       and e.a in ctx.accounts and e.b in ctx.accounts)
    shown = {ctx.uid} | {e.source for e in edges} | {e.target for e in edges}
    nodes = tuple(_account_node(ctx, ctx.accounts[uid]) for uid in sorted(ctx.accounts)
                  if uid in shown)
    title = f"accounts linked to {ctx.uid} (depth {ctx.depth}, links of weight >= {min_weight:g})"
    hidden = len(ctx.accounts) - len(nodes)
    if hidden:
        title += f"; {hidden} account(s) with only weaker links not drawn"
    return Graph(title, nodes, tuple(edges), ctx.uid if ctx.uid in ctx.accounts else None)


def context_svg(ctx: LinkContext, min_weight: float = 0.2) -> str:
    """An SVG picture of the cluster: the asked account first, linked accounts by distance."""
    return render_svg(context_graph(ctx, min_weight))
