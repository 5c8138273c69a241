"""Directed graphs as standalone SVG pictures: layered layout, no Graphviz, hostile text escaped."""

from __future__ import annotations

import html
import re
import unicodedata
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from acctsec.render.safe import literal


@dataclass(frozen=True, slots=True)
class GraphNode:
    """One box: `lines` (1-3 shown, the rest only in the tooltip), coloured by `category`."""

    id: str
    lines: tuple[str, ...]
    category: str = "unknown"


@dataclass(frozen=True, slots=True)
class GraphEdge:
    """An arrow from `source` to `target` (a plain line when not `directed`)."""

    source: str
    target: str
    label: str | None = None
    directed: bool = True


@dataclass(frozen=True, slots=True)
class Graph:
    """What to draw; `root` goes in the first column and the others by their distance to it."""

    title: str
    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]
    root: str | None = None


@dataclass(frozen=True, slots=True)
class Style:
    fill: str
    stroke: str
    legend: str


# Fixed colours per category; a category from the data that is not here is drawn
# as OTHER and named (escaped) in the legend.
STYLES: Mapping[str, Style] = {
    "root": Style("#ffd54f", "#8d6e00", "root"),
    "sanctioned": Style("#ef5350", "#8e0000", "sanctioned"),
    "hack": Style("#ff8a80", "#b71c1c", "hack / scam"),
    "scam": Style("#ff8a80", "#b71c1c", "hack / scam"),
    "mixer": Style("#ffb74d", "#a65c00", "mixer"),
    "blacklisted": Style("#f48fb1", "#880e4f", "blacklisted"),
    "bridge": Style("#81d4fa", "#01579b", "bridge"),
    "exchange": Style("#a5d6a7", "#1b5e20", "exchange"),
    "service": Style("#ce93d8", "#4a148c", "service"),
    "likely_service": Style("#e1bee7", "#6a1b9a", "likely service (fan-out)"),
    "unknown": Style("#eceff1", "#546e7a", "unattributed"),
    "flagged": Style("#ff8a80", "#b71c1c", "frozen or alerted"),
    "account": Style("#e3f2fd", "#1565c0", "account"),
}
OTHER = Style("#fff9c4", "#827717", "other")

FONT_SIZE = 12
CHAR_W = 7.3  # advance of one monospace character at FONT_SIZE, a little generous
LINE_H = 15
PAD = 8
BOX_W = 260
MAX_LINES = 3
GAP_X = 190  # between columns: room for an edge label
GAP_Y = 18
DUMMY_H = 6  # the slot a long edge takes in a column it crosses
DUMMY_GAP = 8
MARGIN = 20
TITLE_H = 30
LEGEND_H = 22
LABEL_SIZE = 11
LABEL_CHARS = int((GAP_X - 16) / (CHAR_W * LABEL_SIZE / FONT_SIZE))
BOX_CHARS = int((BOX_W - 2 * PAD) / CHAR_W)
SWEEPS = 6
TITLE_CHARS = 160
TITLE_CHAR_W = 9.2  # bold monospace at 15px
ALIGN_PASSES = 4

_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")


def clean(text: object) -> str:
    """Literal text that XML 1.0 can hold: controls as visible escapes, lone surrogates too."""
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", literal(text))


def xml_text(text: object) -> str:
    """Text from the data, safe as XML character data or a quoted attribute value."""
    return html.escape(clean(text), quote=True)


def _char_width(char: str) -> int:
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def shorten(text: str, limit: int) -> str:
    """`text` in at most `limit` columns: the middle replaced by … so head and tail show."""
    widths = [_char_width(c) for c in text]
    if sum(widths) <= limit:
        return text
    budget = limit - 1
    head_budget = budget - budget // 3
    head, used = [], 0
    for char, width in zip(text, widths, strict=True):
        if used + width > head_budget:
            break
        head.append(char)
        used += width
    tail: list[str] = []
    for char, width in zip(reversed(text), reversed(widths), strict=True):
        if used + width > budget:
            break
        tail.append(char)
        used += width
    return "".join(head) + "…" + "".join(reversed(tail))


@dataclass
class _Slot:
    """A box, or the place a long edge crosses a column, in one column of the layout."""

    layer: int
    height: float
    node: int | None  # index into graph.nodes, None for an edge's bend
    group: int = 0  # connected part of the graph: the root's is 0 and stays on top
    y: float = 0.0


@dataclass
class _Layout:
    slots: list[_Slot]
    columns: list[list[int]]  # slot indexes per layer, top to bottom
    routes: list[list[int]]  # per edge: the slots it passes, source first
    column_height: float = 0.0


def _index(graph: Graph) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, node in enumerate(graph.nodes):
        if node.id in index:
            raise ValueError(f"node {clean(node.id)!r} given twice")
        index[node.id] = i
    for edge in graph.edges:
        for end in (edge.source, edge.target):
            if end not in index:
                raise ValueError(f"edge to unknown node {clean(end)!r}")
    return index


def _neighbours(graph: Graph, index: Mapping[str, int]) -> list[list[tuple[int, int]]]:
    """Per node: (other node, +1 along an arrow or a plain line, -1 against an arrow)."""
    out: list[list[tuple[int, int]]] = [[] for _ in graph.nodes]
    for edge in graph.edges:
        s, t = index[edge.source], index[edge.target]
        out[s].append((t, 1))
        out[t].append((s, -1 if edge.directed else 1))
    return out


def _spread(near: Sequence[Sequence[tuple[int, int]]], layer: list[int | None],
            order: list[int], start: Iterable[int]) -> None:
    """Breadth-first along arrows (and plain lines) from placed nodes, one column per step."""
    queue = deque(start)
    while queue:
        here = queue.popleft()
        order.append(here)
        for other, step in near[here]:
            if step == 1 and layer[other] is None:
                layer[other] = (layer[here] or 0) + 1
                queue.append(other)


def _component(near: Sequence[Sequence[tuple[int, int]]], layer: list[int | None],
               order: list[int], start: int) -> None:
    """Places everything joined to `start`: forward first, a column back only where needed."""
    layer[start] = 0
    scanned = len(order)
    frontier = [start]
    while frontier:
        _spread(near, layer, order, frontier)
        frontier = []
        for here in order[scanned:]:
            for other, step in near[here]:
                if step == -1 and layer[other] is None:
                    layer[other] = (layer[here] or 0) - 1
                    frontier.append(other)
        scanned = len(order)


def _layers(graph: Graph, index: Mapping[str, int]) -> tuple[list[int], list[int], list[int]]:
    """Each node's column (signed distance from the root, shifted to start at 0) and BFS order.

    Arrows are followed before they are walked backwards, so a cycle back to an
    earlier address is a back edge, not a reason to move that address left. Also
    returns each node's connected part (0 for the root's).
    """
    near = _neighbours(graph, index)
    layer: list[int | None] = [None] * len(graph.nodes)
    order: list[int] = []
    starts = [index[graph.root]] if graph.root is not None and graph.root in index else []
    group = [0] * len(graph.nodes)
    parts = 0
    for start in [*starts, *range(len(graph.nodes))]:
        if layer[start] is None:
            placed = len(order)
            _component(near, layer, order, start)
            for i in order[placed:]:
                group[i] = parts
            parts += 1
    found = [value or 0 for value in layer]
    low = min(found, default=0)
    return [value - low for value in found], order, group


def _node_height(node: GraphNode) -> float:
    return min(max(len(node.lines), 1), MAX_LINES) * LINE_H + 2 * PAD - 4


def _slots(graph: Graph) -> _Layout:
    index = _index(graph)
    layer, order, group = _layers(graph, index)
    slots = [_Slot(layer[i], _node_height(graph.nodes[i]), i, group[i])
             for i in range(len(graph.nodes))]
    columns: list[list[int]] = [[] for _ in range(max(layer, default=-1) + 1)]
    for i in order:
        columns[layer[i]].append(i)
    routes = []
    for edge in graph.edges:
        s, t = index[edge.source], index[edge.target]
        step = 1 if layer[t] > layer[s] else -1
        route = [s]
        for between in range(layer[s] + step, layer[t], step):
            slots.append(_Slot(between, DUMMY_H, None, group[s]))
            columns[between].append(len(slots) - 1)
            route.append(len(slots) - 1)
        routes.append([*route, t])
    return _Layout(slots, columns, routes)


def _adjacent(layout: _Layout) -> list[list[int]]:
    """Per slot: the slots one column away that an edge joins it to."""
    out: list[list[int]] = [[] for _ in layout.slots]
    for route in layout.routes:
        for a, b in zip(route, route[1:], strict=False):
            if layout.slots[a].layer != layout.slots[b].layer:
                out[a].append(b)
                out[b].append(a)
    return out


def _sweep(layout: _Layout, adjacent: Sequence[Sequence[int]], layers: Iterable[int],
           towards: int) -> None:
    position: dict[int, float] = {}
    for column in layout.columns:
        for rank, slot in enumerate(column):
            position[slot] = (rank + 0.5) / len(column)
    for number in layers:
        column = layout.columns[number]
        keys = {}
        for slot in column:
            near = [position[o] for o in adjacent[slot]
                    if layout.slots[o].layer == number + towards]
            keys[slot] = sum(near) / len(near) if near else position[slot]
        column.sort(key=lambda s: (layout.slots[s].group, keys[s]))
        for rank, slot in enumerate(column):
            position[slot] = (rank + 0.5) / len(column)


def _order(layout: _Layout) -> None:
    """Barycentre passes down and up the columns so fewer edges cross; stable, deterministic."""
    adjacent = _adjacent(layout)
    count = len(layout.columns)
    for _ in range(SWEEPS):
        _sweep(layout, adjacent, range(1, count), -1)
        _sweep(layout, adjacent, range(count - 2, -1, -1), 1)
    _sweep(layout, adjacent, range(1, count), -1)


def _gap(a: _Slot, b: _Slot) -> float:
    return GAP_Y if a.node is not None and b.node is not None else DUMMY_GAP


def _offsets(layout: _Layout, column: Sequence[int]) -> list[float]:
    """Where each slot of a column starts when they are stacked as tightly as allowed."""
    out, cursor = [], 0.0
    for number, slot in enumerate(column):
        if number:
            cursor += _gap(layout.slots[column[number - 1]], layout.slots[slot])
        out.append(cursor)
        cursor += layout.slots[slot].height
    return out


def _stack(layout: _Layout) -> None:
    """Each column stacked tightly, centred on the tallest: the start for `_align`."""
    bottoms = []
    for column in layout.columns:
        for slot, offset in zip(column, _offsets(layout, column), strict=True):
            layout.slots[slot].y = offset
        bottoms.append(max((layout.slots[s].y + layout.slots[s].height for s in column),
                           default=0.0))
    tallest = max(bottoms, default=0.0)
    for column, bottom in zip(layout.columns, bottoms, strict=True):
        for slot in column:
            layout.slots[slot].y += (tallest - bottom) / 2


def _increasing(values: Sequence[float]) -> list[float]:
    """The non-decreasing sequence nearest to `values` (least squares: pool adjacent violators)."""
    blocks: list[list[float]] = []  # [mean, count]
    for value in values:
        blocks.append([value, 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            mean, count = blocks.pop()
            before = blocks[-1]
            before[0] = (before[0] * before[1] + mean * count) / (before[1] + count)
            before[1] += count
    return [mean for mean, count in blocks for _ in range(int(count))]


def _fit(layout: _Layout, column: Sequence[int], adjacent: Sequence[Sequence[int]]) -> None:
    """Moves a column's slots towards the mean height of their neighbours, keeping their order
    and the gaps between them."""
    slots = layout.slots
    offsets = _offsets(layout, column)
    wanted = []
    for slot, offset in zip(column, offsets, strict=True):
        near = [slots[o].y + slots[o].height / 2 for o in adjacent[slot]]
        centre = sum(near) / len(near) if near else slots[slot].y + slots[slot].height / 2
        wanted.append(centre - slots[slot].height / 2 - offset)
    for slot, offset, start in zip(column, offsets, _increasing(wanted), strict=True):
        slots[slot].y = start + offset


def _align(layout: _Layout) -> None:
    """A few passes of `_fit` over the columns, then the picture moved to start at 0."""
    adjacent = _adjacent(layout)
    count = len(layout.columns)
    for _ in range(ALIGN_PASSES):
        for number in [*range(count), *range(count - 1, -1, -1)]:
            _fit(layout, layout.columns[number], adjacent)
    low = min((slot.y for slot in layout.slots), default=0.0)
    for slot in layout.slots:
        slot.y -= low
    layout.column_height = max((slot.y + slot.height for slot in layout.slots), default=0.0)


def layout_graph(graph: Graph) -> _Layout:
    """Columns by distance from the root, ordered to reduce crossings, each box moved level
    with the boxes it is joined to as far as the order and gaps allow."""
    layout = _slots(graph)
    _order(layout)
    _stack(layout)
    _align(layout)
    return layout


# --- drawing ---------------------------------------------------------------------------------


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _style(category: str) -> Style:
    return STYLES.get(category, OTHER)


def _legend_entries(graph: Graph) -> list[tuple[Style, str]]:
    """The categories drawn, in the fixed order of STYLES, then the data's own ones."""
    used = {node.category for node in graph.nodes}
    seen: dict[str, Style] = {}
    for category, style in STYLES.items():
        if category in used:
            seen.setdefault(style.legend, style)
    for node in graph.nodes:
        if node.category not in STYLES:
            seen.setdefault(clean(node.category), OTHER)
    return [(style, name) for name, style in seen.items()]


def _legend(graph: Graph, top: float, width: float) -> tuple[list[str], float]:
    parts, x, y = [], float(MARGIN), top
    for style, name in _legend_entries(graph):
        text = shorten(name, 28)
        step = 22 + _width(text) * CHAR_W + 18
        if x + step > width - MARGIN and x > MARGIN:
            x, y = float(MARGIN), y + LEGEND_H
        parts.append(f'<rect x="{_fmt(x)}" y="{_fmt(y)}" width="14" height="14" rx="2" '
                     f'fill="{style.fill}" stroke="{style.stroke}"/>')
        parts.append(f'<text x="{_fmt(x + 20)}" y="{_fmt(y + 11)}">{xml_text(text)}'
                     f"<title>{xml_text(name)}</title></text>")
        x += step
    return parts, y + LEGEND_H - top


def _x(layer: int) -> float:
    return MARGIN + layer * (BOX_W + GAP_X)


def _node_svg(node: GraphNode, slot: _Slot, top: float, is_root: bool) -> str:
    style = _style(node.category)
    x, y = _x(slot.layer), top + slot.y
    tip = "\n".join(clean(line) for line in (node.lines or (node.id,)))
    width = 2.5 if is_root else 1.2
    parts = [f'<g class="node"><title>{html.escape(tip, quote=True)}</title>',
             f'<rect x="{_fmt(x)}" y="{_fmt(y)}" width="{BOX_W}" height="{_fmt(slot.height)}" '
             f'rx="5" fill="{style.fill}" stroke="{style.stroke}" stroke-width="{width}"/>']
    for number, line in enumerate((node.lines or (node.id,))[:MAX_LINES]):
        weight = ' font-weight="bold"' if number == 0 else ""
        baseline = y + PAD + 8 + number * LINE_H
        parts.append(f'<text x="{_fmt(x + PAD)}" y="{_fmt(baseline)}"{weight}>'
                     f"{xml_text(shorten(clean(line), BOX_CHARS))}</text>")
    parts.append("</g>")
    return "".join(parts)


@dataclass(frozen=True, slots=True)
class _End:
    """Where an edge meets a box: the y on its side, and how many edges share that side."""

    y: float
    crowd: int


def _sides(layout: _Layout) -> dict[tuple[int, int], list[tuple[float, int, int]]]:
    """Per (box, side 1 right / 0 left): (y of the far end, edge, 0 source / 1 target)."""
    sides: dict[tuple[int, int], list[tuple[float, int, int]]] = {}
    for number, route in enumerate(layout.routes):
        source, target = layout.slots[route[0]], layout.slots[route[-1]]
        out_side = 1 if target.layer >= source.layer else 0
        in_side = 0 if target.layer > source.layer else 1
        after, before = layout.slots[route[1]], layout.slots[route[-2]]
        sides.setdefault((route[0], out_side), []).append(
            (after.y + after.height / 2, number, 0))
        sides.setdefault((route[-1], in_side), []).append(
            (before.y + before.height / 2, number, 1))
    return sides


def _ends(layout: _Layout) -> list[list[_End]]:
    """Per edge its source and target end, spread along the box side in the order of the
    far ends, so edges leave a box apart instead of from one point."""
    ends = [[_End(0.0, 1), _End(0.0, 1)] for _ in layout.routes]
    for (slot_index, _side), items in _sides(layout).items():
        slot = layout.slots[slot_index]
        items.sort()
        room = slot.height - 12
        for rank, (_far, number, which) in enumerate(items):
            y = slot.y + 6 + room * (rank + 1) / (len(items) + 1)
            ends[number][which] = _End(y, len(items))
    return ends


def _points(layout: _Layout, route: Sequence[int], ends: Sequence[_End],
            top: float) -> list[tuple[float, float]]:
    """Where an edge runs: out of its source's side, straight through each column it crosses."""
    slots = [layout.slots[i] for i in route]
    first, last = slots[0], slots[-1]
    rightwards = last.layer >= first.layer
    points = [(_x(first.layer) + (BOX_W if rightwards else 0), top + ends[0].y)]
    for bend in slots[1:-1]:
        y = top + bend.y + bend.height / 2
        near, far = (_x(bend.layer), _x(bend.layer) + BOX_W)
        points += [(near, y), (far, y)] if rightwards else [(far, y), (near, y)]
    points.append((_x(last.layer) + (0 if rightwards else BOX_W), top + ends[1].y))
    return points


def _curve(points: Sequence[tuple[float, float]]) -> str:
    """Horizontal-tangent cubic segments between the gaps, straight runs through columns."""
    d = [f"M{_fmt(points[0][0])},{_fmt(points[0][1])}"]
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        if y0 == y1 and abs(x1 - x0) == BOX_W:
            d.append(f"L{_fmt(x1)},{_fmt(y1)}")
            continue
        mid = (x0 + x1) / 2
        d.append(f"C{_fmt(mid)},{_fmt(y0)} {_fmt(mid)},{_fmt(y1)} {_fmt(x1)},{_fmt(y1)}")
    return " ".join(d)


def _loop(slot: _Slot, ends: Sequence[_End], top: float) -> tuple[str, tuple[float, float]]:
    """An edge within one column (or to itself): a bow out of the right side."""
    right = _x(slot.layer) + BOX_W
    y0, y1 = top + ends[0].y, top + ends[1].y
    bulge = right + 30 + min(abs(y1 - y0), 400) / 8
    d = (f"M{_fmt(right)},{_fmt(y0)} C{_fmt(bulge)},{_fmt(y0)} {_fmt(bulge)},{_fmt(y1)} "
         f"{_fmt(right)},{_fmt(y1)}")
    return d, (right + (bulge - right) * 0.75, (y0 + y1) / 2)


def _width(text: str) -> int:
    return sum(_char_width(c) for c in text)


def _label_width(text: str) -> float:
    return _width(text) * CHAR_W * LABEL_SIZE / FONT_SIZE + 6


def _label_place(points: Sequence[tuple[float, float]], ends: Sequence[_End],
                 width: float) -> tuple[float, float]:
    """Beside the end whose box side is not crowded, so fanned-out labels do not pile up."""
    (x0, y0), (x1, y1) = points[0], points[-1]
    sign = 1 if x1 > x0 else -1
    if ends[0].crowd > 1 and ends[1].crowd == 1:
        return x1 - sign * (width / 2 + 14), y1
    if ends[1].crowd > 1 and ends[0].crowd == 1:
        return x0 + sign * (width / 2 + 6), y0
    (ax, ay), (bx, by) = points[0], points[1]
    return (ax + bx) / 2, (ay + by) / 2


def _label_svg(label: str, text: str, x: float, y: float) -> str:
    """An edge's label on a white patch so the line behind it does not cross the text."""
    width = _label_width(text)
    return (f'<g class="label"><title>{xml_text(label)}</title>'
            f'<rect x="{_fmt(x - width / 2)}" y="{_fmt(y - 8)}" width="{_fmt(width)}" '
            f'height="15" fill="#ffffff" fill-opacity="0.9"/>'
            f'<text x="{_fmt(x)}" y="{_fmt(y + 4)}" text-anchor="middle" '
            f'font-size="{LABEL_SIZE}">{xml_text(text)}</text></g>')


def _edge_svg(edge: GraphEdge, layout: _Layout, route: Sequence[int], ends: Sequence[_End],
              top: float) -> str:
    source, target = layout.slots[route[0]], layout.slots[route[-1]]
    text = shorten(clean(edge.label or ""), LABEL_CHARS)
    if source.layer == target.layer:
        d, (lx, ly) = _loop(source, ends, top)
    else:
        points = _points(layout, route, ends, top)
        d = _curve(points)
        lx, ly = _label_place(points, ends, _label_width(text))
    marker = ' marker-end="url(#arrow)"' if edge.directed else ""
    parts = [f'<path class="edge" d="{d}" fill="none" stroke="#607d8b" stroke-width="1.3"'
             f"{marker}/>"]
    if edge.label:
        parts.append(_label_svg(edge.label, text, lx, ly))
    return "".join(parts)


_DEFS = ('<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
         'markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
         'fill="#607d8b"/></marker></defs>')
_CSS = "<style>text{fill:#1a1a1a}</style>"


def render_svg(graph: Graph) -> str:
    """The graph as one self-contained SVG document (no script, no external reference)."""
    layout = layout_graph(graph)
    columns = max(len(layout.columns), 1)
    title = shorten(clean(graph.title), TITLE_CHARS)
    width = max(2 * MARGIN + columns * BOX_W + (columns - 1) * GAP_X + 80,
                2 * MARGIN + _width(title) * TITLE_CHAR_W)
    legend, legend_h = _legend(graph, MARGIN + TITLE_H, width)
    top = MARGIN + TITLE_H + legend_h + 10
    height = top + layout.column_height + MARGIN
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_fmt(width)}" height="{_fmt(height)}" '
        f'viewBox="0 0 {_fmt(width)} {_fmt(height)}" font-family="DejaVu Sans Mono, Menlo, '
        f'Consolas, monospace" font-size="{FONT_SIZE}">',
        f"<title>{xml_text(graph.title)}</title>", _CSS, _DEFS,
        f'<rect width="{_fmt(width)}" height="{_fmt(height)}" fill="#ffffff"/>',
        f'<text x="{MARGIN}" y="{MARGIN + 16}" font-size="15" font-weight="bold">'
        f"{xml_text(title)}</text>",
        *legend,
    ]
    ends = _ends(layout)
    parts += [_edge_svg(e, layout, r, end, top)
              for e, r, end in zip(graph.edges, layout.routes, ends, strict=True)]
    parts += [_node_svg(n, layout.slots[i], top, n.id == graph.root)
              for i, n in enumerate(graph.nodes)]
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
