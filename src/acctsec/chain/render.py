"""Output of a trace: a rich tree for the terminal, JSON for a freeze request, DOT and SVG."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from enum import StrEnum
from typing import Any

from rich.console import Console
from rich.text import Text
from rich.tree import Tree

from acctsec.chain.interface import Transfer, format_amount
from acctsec.chain.trace import Endpoint, Hop, TraceResult
from acctsec.render.graph_svg import Graph, GraphEdge, GraphNode, render_svg
from acctsec.render.safe import literal

SCHEMA = "acctsec.trace/1"


class TraceFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    DOT = "dot"
    SVG = "svg"


def to_dict(result: TraceResult) -> dict[str, Any]:
    """Every hop and every endpoint, amounts as exact decimal text."""
    opts = result.options
    return {
        "schema": SCHEMA,
        "network": result.network,
        "txhash": result.txhash,
        "direction": opts.direction.value,
        "taint": opts.taint.value,
        "hop_limit": opts.hops,
        "min_amount": format_amount(opts.min_amount),
        "since": opts.window.since.isoformat() if opts.window.since else None,
        "until": opts.window.until.isoformat() if opts.window.until else None,
        "amount": {k: format_amount(v) for k, v in result.amount_by_asset().items()},
        "seeds": [_hop_dict(h) for h in result.seeds],
        "hops": [_hop_dict(h) for h in result.hops],
        "endpoints": [e.as_dict() for e in result.endpoints],
        "not_checked": list(result.not_checked),
    }


def _hop_dict(hop: Hop) -> dict[str, Any]:
    t = hop.transfer
    return {
        "hop": hop.hop, "txhash": t.txhash, "index": t.index, "from": t.sender, "to": t.receiver,
        "asset": t.asset_label, "amount": format_amount(hop.amount),
        "transfer_amount": format_amount(t.amount), "kind": t.kind,
        "time": t.ts.isoformat() if t.ts else None, "block": t.block,
    }


def render_json(result: TraceResult) -> str:
    return json.dumps(to_dict(result), indent=2, ensure_ascii=False)


def _dot_escaped(text: str) -> str:
    return literal(text).replace("\\", "\\\\").replace('"', '\\"')


def _dot_id(text: str) -> str:
    return '"' + _dot_escaped(text) + '"'


def _dot_label(lines: list[str]) -> str:
    """Lines of text as one DOT label: each escaped, joined by DOT's own line break."""
    return '"' + "\\n".join(_dot_escaped(line) for line in lines) + '"'


def render_dot(result: TraceResult) -> str:
    """The flow graph: addresses as nodes, followed amounts on the edges, endpoints filled
    (an address where money both stayed and left in small flows gets one node, both said)."""
    lines = ["digraph trace {", "  rankdir=LR;", '  node [shape=box, fontname="monospace"];']
    at: dict[str, list[Any]] = {}
    for e in result.endpoints:
        at.setdefault(e.address, []).append(e)
    for address, ends in at.items():
        label = [address]
        for e in ends:
            label += [f"{e.entity or e.reason.value} ({e.category or '-'})",
                      f"{format_amount(e.amount)} {e.symbol or e.asset} at hop {e.hops}"]
        bad = any(e.category in ("sanctioned", "hack", "scam", "mixer") for e in ends)
        lines.append(f"  {_dot_id(address)} [label={_dot_label(label)}, style=filled, "
                     f"fillcolor={'tomato' if bad else 'palegreen'}];")
    for hop in [*result.seeds, *result.hops]:
        t = hop.transfer
        edge = f"{format_amount(hop.amount)} {t.asset_label}"
        lines.append(f"  {_dot_id(t.sender)} -> {_dot_id(t.receiver)} [label={_dot_id(edge)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


# Most severe first, as in intel.attribution: an address with several endpoints
# (one per asset) takes the colour of the worst.
_SEVERITY = ("sanctioned", "hack", "scam", "mixer", "blacklisted", "bridge", "exchange",
             "service", "likely_service")


def _worst(endpoints: list[Endpoint]) -> Endpoint:
    def rank(e: Endpoint) -> int:
        return _SEVERITY.index(e.category) if e.category in _SEVERITY else len(_SEVERITY)

    return min(endpoints, key=rank)


def _endpoint_lines(address: str, stops: list[Endpoint]) -> tuple[str, ...]:
    """The address, who it is (or why the trace stopped), then category, amounts and hop."""
    worst = _worst(stops)
    amounts = ", ".join(f"{format_amount(e.amount)} {e.symbol or e.asset}" for e in stops)
    where = f"{amounts} · hop {min(e.hops for e in stops)}"
    what = worst.entity or worst.reason.value.replace("_", " ")
    return address, what, f"{worst.category} · {where}" if worst.category else where


def _trace_node(address: str, stops: list[Endpoint], hop: int | None,
                root_role: str | None) -> GraphNode:
    if root_role is not None:
        extra = _endpoint_lines(address, stops)[1:2] if stops else ()
        return GraphNode(address, (address, root_role, *extra), "root")
    if stops:
        return GraphNode(address, _endpoint_lines(address, stops), _worst(stops).category
                         or "unknown")
    return GraphNode(address, (address, f"hop {hop}"), "unknown")


def _flow_edges(hops: list[Hop]) -> list[GraphEdge]:
    """One arrow per (from, to, asset): amounts added up, the number of transfers shown."""
    merged: dict[tuple[str, str, str], tuple[Decimal, int]] = {}
    for hop in hops:
        t = hop.transfer
        key = (t.sender, t.receiver, t.asset_label)
        amount, count = merged.get(key, (Decimal(0), 0))
        merged[key] = (amount + hop.amount, count + 1)
    return [GraphEdge(s, r, f"{format_amount(a)} {asset}" + (f" ({n} tx)" if n > 1 else ""))
            for (s, r, asset), (a, n) in merged.items()]


def trace_graph(result: TraceResult) -> Graph:
    """The flow as a neutral graph: addresses, followed amounts, endpoints by category."""
    forward = result.options.direction.value == "forward"
    hops = [*result.seeds, *result.hops]
    root = None
    if result.seeds:
        root = result.seeds[0].transfer.sender if forward else result.seeds[0].transfer.receiver
    stops: dict[str, list[Endpoint]] = {}
    for e in result.endpoints:
        stops.setdefault(e.address, []).append(e)
    first_hop: dict[str, int] = {}
    for hop in hops:
        for address in (hop.transfer.sender, hop.transfer.receiver):
            first_hop.setdefault(address, hop.hop)
    for address in stops:
        first_hop.setdefault(address, 0)
    role = "sent the traced transaction" if forward else "received the traced transaction"
    nodes = tuple(_trace_node(a, stops.get(a, []), h, role if a == root else None)
                  for a, h in first_hop.items())
    title = (f"{result.network} {result.txhash}  {result.options.direction.value}, "
             f"{result.options.taint.value}, {len(result.endpoints)} endpoint(s)")
    return Graph(title, nodes, tuple(_flow_edges(hops)), root)


def render_trace_svg(result: TraceResult) -> str:
    """The flow graph as a standalone SVG picture."""
    return render_svg(trace_graph(result))


def _short(address: str) -> str:
    return address if len(address) <= 20 else f"{address[:10]}…{address[-6:]}"


def _hop_text(hop: Hop, stop: Endpoint | None, forward: bool) -> Text:
    t: Transfer = hop.transfer
    other = t.receiver if forward else t.sender
    text = Text()
    text.append(literal(_short(other)), style="bold")
    text.append(f"  {format_amount(hop.amount)} {literal(t.asset_label)}")
    text.append(f"  tx {literal(t.txhash[:12])}…", style="dim")
    if stop is not None:
        text.append("  ■ ", style="red")
        text.append(literal(stop.entity or stop.reason.value), style="bold red")
        if stop.category:
            text.append(f" ({literal(stop.category)})", style="red")
    return text


def render_tree(result: TraceResult, console: Console) -> None:
    """The flow as a tree: each branch one transfer, endpoints marked with what they are."""
    forward = result.options.direction.value == "forward"
    title = Text(f"{result.network} {result.txhash}  ")
    title.append(f"{result.options.direction.value}, {result.options.taint.value}", style="dim")
    tree = Tree(title)
    stops = {e.address: e for e in result.endpoints}
    children: dict[str, list[Hop]] = {}
    for hop in result.hops:
        parent = hop.transfer.sender if forward else hop.transfer.receiver
        children.setdefault(parent, []).append(hop)
    for seed in result.seeds:
        _grow(tree, seed, children, stops, forward, set())
    console.print(tree)
    console.print(_endpoint_summary(result))
    for line in result.not_checked:
        console.print(Text(literal(line), style="yellow"))


def _grow(parent: Tree, hop: Hop, children: dict[str, list[Hop]], stops: dict[str, Endpoint],
          forward: bool, path: set[str]) -> None:
    address = hop.transfer.receiver if forward else hop.transfer.sender
    node = parent.add(_hop_text(hop, stops.get(address), forward))
    if address in path:
        return
    for child in children.get(address, []):
        _grow(node, child, children, stops, forward, path | {address})


def _endpoint_summary(result: TraceResult) -> Text:
    text = Text(f"\n{len(result.endpoints)} endpoint(s):\n", style="bold")
    for e in result.endpoints:
        text.append(f"  {literal(e.address)}  ")
        text.append(literal(e.entity or "-"), style="bold")
        text.append(f"  {literal(e.category or e.reason.value)}  hops {e.hops}  ")
        text.append(f"{format_amount(e.amount)} {literal(e.symbol or e.asset)}\n")
    return text


FORMATTERS: dict[TraceFormat, Callable[[TraceResult], str] | None] = {
    TraceFormat.TABLE: None,  # printed through rich, see render_tree
    TraceFormat.JSON: render_json,
    TraceFormat.DOT: render_dot,
    TraceFormat.SVG: render_trace_svg,
}
