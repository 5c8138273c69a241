"""A LinkContext as plain JSON values and as a Graphviz DOT picture."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from acctsec.link.model import AccountInfo, Edge, LinkContext
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
