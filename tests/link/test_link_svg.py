"""`acctsec link --format svg`: the cluster as a picture, hostile text inert, flags coloured."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

from tests.link.conftest import HOSTILE_DEVICE, HOSTILE_EMAIL
from typer.testing import CliRunner

from acctsec.cli import app
from acctsec.link.export import context_graph, context_svg
from acctsec.link.model import AccountInfo, Edge, LinkContext

SVG = "{http://www.w3.org/2000/svg}"
T0 = datetime(2026, 9, 1, tzinfo=UTC)


def _svg(*args: str) -> str:
    result = CliRunner().invoke(app, ["link", *args, "--format", "svg"])
    assert result.exit_code == 0, result.output
    return result.stdout


def _nodes(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if g.get("class") == "node"]


def _edges(root: ET.Element) -> list[ET.Element]:
    return [p for p in root.iter(f"{SVG}path") if p.get("class") == "edge"]


def test_the_ring_as_a_picture(world_dir: Path) -> None:
    root = ET.fromstring(_svg("r1", "--source", str(world_dir)))
    tips = [(g.find(f"{SVG}title").text or "").split("\n")[0]  # type: ignore[union-attr]
            for g in _nodes(root)]
    assert sorted(tips) == ["r1", "r2", "r3", "r4", "r5"]
    assert _edges(root)
    text = "\n".join(root.itertext())
    assert "device_id: ringdev" in text and "accounts linked to r1" in text


def test_hostile_device_and_email_stay_text(world_dir: Path) -> None:
    svg = _svg("e1", "--source", str(world_dir))
    assert "\x1b" not in svg and "\x07" not in svg
    root = ET.fromstring(svg)
    text = "\n".join(root.itertext())
    assert HOSTILE_EMAIL.replace("\x1b", "\\x1b") in text
    assert HOSTILE_DEVICE.replace("\x1b", "\\x1b").replace("\x07", "\\x07") in text
    assert "&quot;" in svg  # the device id's quote, escaped


def test_transfers_are_arrows_shared_values_plain_lines(world_dir: Path) -> None:
    root = ET.fromstring(_svg("v1", "--source", str(world_dir)))
    assert [p.get("marker-end") for p in _edges(root)] == ["url(#arrow)"]
    root = ET.fromstring(_svg("h1", "--source", str(world_dir)))
    assert [p.get("marker-end") for p in _edges(root)] == [None]


def _ctx() -> LinkContext:
    accounts = {
        "me": AccountInfo("me", "me@x.com", created_at=T0),
        "frozen": AccountInfo("frozen", "f@x.com", status="frozen"),
        "alerted": AccountInfo("alerted", None, alerts=((T0, "fraud_rule: new device"),)),
        "plain": AccountInfo("plain", "p@x.com", status="active"),
        "weak": AccountInfo("weak", "w@x.com"),
    }
    edges = (Edge("me", "frozen", "device_id", "d1", T0, T0, 2.5),
             Edge("frozen", "me", "email", "me@x.com", T0, T0, 3.0),
             Edge("alerted", "me", "internal_transfer", None, T0, T0, 1.0),
             Edge("me", "plain", "ip", "1.2.3.4", T0, T0, 0.5),
             Edge("me", "weak", "ip", "5.6.7.8", T0, T0, 0.1))
    return LinkContext("me", 1, accounts, edges)


def test_flags_colour_accounts_and_links_between_two_accounts_merge() -> None:
    graph = context_graph(_ctx())
    kinds = {n.id: n.category for n in graph.nodes}
    assert kinds == {"me": "root", "frozen": "flagged", "alerted": "flagged", "plain": "account"}
    assert "weaker links not drawn" in graph.title
    frozen = next(n for n in graph.nodes if n.id == "frozen")
    assert frozen.lines[2] == "? · frozen" and next(
        n for n in graph.nodes if n.id == "alerted").lines[1:] == ("(no e-mail)", "? · 1 alert(s)")
    labels = {(e.source, e.target, e.directed): e.label for e in graph.edges}
    assert labels == {("frozen", "me", False): "email: me@x.com; device_id: d1",
                      ("alerted", "me", True): "internal_transfer",
                      ("me", "plain", False): "ip: 1.2.3.4"}


def test_min_weight_decides_what_is_drawn() -> None:
    everything = ET.fromstring(context_svg(_ctx(), min_weight=0.0))
    assert len(_nodes(everything)) == 5 and len(_edges(everything)) == 4
