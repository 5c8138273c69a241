"""The SVG graph writer: valid XML, one element per node and edge, hostile text inert, layout."""

from __future__ import annotations

import random
import re
import time
import xml.etree.ElementTree as ET

import pytest

from acctsec.render.graph_svg import Graph, GraphEdge, GraphNode, render_svg, shorten

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = ("<script>alert(1)</script>", "\x1b[31mred", "say \"hi\" it's", "x]]>y", "&amp;",
           "\u202egnp.exe", "lone \ud800 surrogate")

ATTRIBUTES = frozenset({
    "width", "height", "viewBox", "font-family", "font-size", "font-weight", "id", "refX",
    "refY", "markerWidth", "markerHeight", "orient", "d", "fill", "fill-opacity", "stroke",
    "stroke-width", "marker-end", "x", "y", "rx", "class", "text-anchor"})


def _tree(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def _nodes(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if g.get("class") == "node"]


def _edges(root: ET.Element) -> list[ET.Element]:
    return [p for p in root.iter(f"{SVG}path") if p.get("class") == "edge"]


def _boxes(svg: str) -> dict[str, tuple[float, float]]:
    """Each node's first line (from its tooltip) and the top-left of its box."""
    out = {}
    for g in _nodes(_tree(svg)):
        title = g.find(f"{SVG}title")
        rect = g.find(f"{SVG}rect")
        assert title is not None and rect is not None and title.text
        out[title.text.split("\n")[0]] = (float(rect.get("x", "")), float(rect.get("y", "")))
    return out


def _hostile_graph() -> Graph:
    nodes = tuple(GraphNode(f"n{i}", (text, f"line 2 {text}", text), category)
                  for i, (text, category) in enumerate(zip(
                      HOSTILE, ("root", "exchange", "mixer", "<b>own</b>", "unknown",
                                "sanctioned", "hack"), strict=True)))
    edges = tuple(GraphEdge("n0", f"n{i}", text) for i, text in enumerate(HOSTILE) if i)
    return Graph("title " + HOSTILE[0], nodes, (*edges, GraphEdge("n3", "n0", HOSTILE[3])), "n0")


def test_one_element_per_node_and_edge() -> None:
    graph = _hostile_graph()
    root = _tree(render_svg(graph))
    assert root.tag == f"{SVG}svg"
    assert len(_nodes(root)) == len(graph.nodes)
    assert len(_edges(root)) == len(graph.edges)


def test_hostile_text_is_escaped_and_never_markup() -> None:
    svg = render_svg(_hostile_graph())
    root = _tree(svg)
    tags = {element.tag for element in root.iter()}
    assert tags <= {f"{SVG}{t}" for t in ("svg", "title", "style", "defs", "marker", "path",
                                            "rect", "text", "g")}
    assert "<script" not in svg and "<b>" not in svg and "\x1b" not in svg
    assert "\u202e" not in svg and "\ud800" not in svg
    text = "\n".join(root.itertext())
    for shown in ("<script>alert(1)</script>", "\\x1b[31mred", "say \"hi\" it's", "x]]>y",
                  "&amp;", "\\u202egnp.exe", "lone \\ud800 surrogate", "<b>own</b>"):
        assert shown in text
    assert "x]]&gt;y" in svg and "&amp;amp;" in svg and "&quot;hi&quot;" in svg


def test_data_never_reaches_an_attribute_and_nothing_external() -> None:
    root = _tree(render_svg(_hostile_graph()))
    for element in root.iter():
        for name, value in element.attrib.items():
            assert name in ATTRIBUTES, name
            assert not re.search(r"alert|x1b|own|surrogate|gnp|line 2", value), (name, value)
            assert "http" not in value and "href" not in name
            if "url(" in value:
                assert value == "url(#arrow)"


def test_long_labels_are_cut_visibly_and_kept_whole_in_the_tooltip() -> None:
    address = "0x" + "ab" * 19 + "cdef"
    label = "withdrawal_address: " + "9" * 120
    graph = Graph("t", (GraphNode("a", (address, "x" * 300)), GraphNode("b", ("b",))),
                  (GraphEdge("a", "b", label),), "a")
    root = _tree(render_svg(graph))
    shown = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert any(s.startswith("0xabab") and s.endswith("cdef") and "…" in s for s in shown)
    assert all(len(s) <= 40 for s in shown if s.startswith(("x", "0x", "with")))
    tips = [t.text or "" for t in root.iter(f"{SVG}title")]
    assert f"{address}\n{'x' * 300}" in tips and label in tips


def test_shorten_counts_wide_characters() -> None:
    assert shorten("abc", 5) == "abc"
    assert shorten("abcdefghij", 5) == "abc…j"
    assert len(shorten("网" * 20, 10)) <= 5


def test_same_input_same_bytes() -> None:
    first = render_svg(_big_graph(120, seed=3))
    assert render_svg(_big_graph(120, seed=3)) == first
    assert render_svg(_big_graph(120, seed=4)) != first


def _big_graph(size: int, seed: int) -> Graph:
    rng = random.Random(seed)
    nodes = [GraphNode(f"a{i}", (f"0x{i:040x}", f"hop {i % 7}", f"{i} ETH"),
                       rng.choice(("unknown", "exchange", "mixer", "bridge")))
             for i in range(size)]
    edges = [GraphEdge(f"a{rng.randrange(max(i // 3, 1))}", f"a{i}", f"{i}.5 ETH")
             for i in range(1, size)]
    edges += [GraphEdge(f"a{rng.randrange(size)}", f"a{rng.randrange(size)}", "x")
              for _ in range(size // 5)]
    return Graph("big", tuple(nodes), tuple(edges), "a0")


def test_three_hundred_nodes_render_fast() -> None:
    graph = _big_graph(300, seed=1)
    started = time.perf_counter()
    svg = render_svg(graph)
    assert time.perf_counter() - started < 1.0
    root = _tree(svg)
    assert len(_nodes(root)) == 300 and len(_edges(root)) == len(graph.edges)


def test_columns_follow_the_arrows_from_the_root() -> None:
    graph = Graph("t", tuple(GraphNode(n, (n,)) for n in ("r", "a", "b", "c")),
                  (GraphEdge("r", "a"), GraphEdge("a", "b"), GraphEdge("b", "a"),
                   GraphEdge("c", "r")), "r")
    box = _boxes(render_svg(graph))
    # a cycle back (b -> a) leaves a where the arrow from r put it; c pays r: left of it
    assert box["c"][0] < box["r"][0] < box["a"][0] < box["b"][0]


def test_a_backward_trace_ends_at_the_root_on_the_right() -> None:
    graph = Graph("t", tuple(GraphNode(n, (n,)) for n in ("r", "p", "q", "s")),
                  (GraphEdge("p", "r"), GraphEdge("q", "p"), GraphEdge("s", "r")), "r")
    box = _boxes(render_svg(graph))
    assert box["q"][0] < box["p"][0] == box["s"][0] < box["r"][0]


def test_barycentre_puts_a_child_beside_its_parents() -> None:
    # x is reached first (from a) but mostly hangs off b and c; y only off a: y goes up
    names = ("r", "a", "b", "c", "x", "y")
    edges = [GraphEdge("r", n) for n in "abc"]
    edges += [GraphEdge("a", "x"), GraphEdge("a", "y"), GraphEdge("b", "x"), GraphEdge("c", "x")]
    box = _boxes(render_svg(Graph("t", tuple(GraphNode(n, (n,)) for n in names),
                                  tuple(edges), "r")))
    assert box["y"][1] < box["x"][1]


def test_parts_not_joined_to_the_root_go_below_it() -> None:
    graph = Graph("t", (GraphNode("z", ("z",)), GraphNode("r", ("r",)), GraphNode("a", ("a",))),
                  (GraphEdge("r", "a", directed=False),), "r")
    box = _boxes(render_svg(graph))
    assert box["r"][1] < box["z"][1] and box["r"][0] == box["z"][0]


def test_plain_lines_have_no_arrow_and_self_loops_draw() -> None:
    graph = Graph("t", (GraphNode("a", ("a",)), GraphNode("b", ("b",))),
                  (GraphEdge("a", "b", "ip", directed=False), GraphEdge("a", "a", "self")), "a")
    paths = _edges(_tree(render_svg(graph)))
    assert [p.get("marker-end") for p in paths] == [None, "url(#arrow)"]


def test_bad_graphs_are_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        render_svg(Graph("t", (GraphNode("a", ("a",)), GraphNode("a", ("b",))), ()))
    with pytest.raises(ValueError, match="unknown node"):
        render_svg(Graph("t", (GraphNode("a", ("a",)),), (GraphEdge("a", "\x1bz"),)))


def test_an_empty_graph_is_still_a_picture() -> None:
    root = _tree(render_svg(Graph("nothing to draw", (), ())))
    assert "nothing to draw" in "".join(root.itertext())


def test_a_box_is_level_with_the_one_it_hangs_off() -> None:
    graph = Graph("t", tuple(GraphNode(n, (n,)) for n in ("r", "a", "b", "c")),
                  (GraphEdge("r", "a"), GraphEdge("r", "b"), GraphEdge("b", "c")), "r")
    box = _boxes(render_svg(graph))
    assert abs(box["c"][1] - box["b"][1]) < 5 and box["a"][1] < box["b"][1]
