"""`acctsec trace` as a picture: the flow graph built from a trace, --format svg, --picture."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from acctsec.chain.interface import Transfer
from acctsec.chain.render import FORMATTERS, TraceFormat, render_trace_svg, trace_graph
from acctsec.chain.trace import Direction, Endpoint, Hop, StopReason, TraceOptions, TraceResult
from acctsec.cli import app
from acctsec.intel.attribution import Attribution

SVG = "{http://www.w3.org/2000/svg}"
A, B, C, X, M = ("0x" + c * 40 for c in "abcde")
TOKEN = "0x" + "7" * 40
HOSTILE_ENTITY = "<script>alert(1)</script>\x1b[31m"


def _transfer(sender: str, receiver: str, amount: str, tx: str) -> Transfer:
    return Transfer("ETH", "0x" + tx * 64, "native", sender, receiver, "ETH", Decimal(amount), 18,
                    symbol="ETH")


def _result(direction: Direction = Direction.FORWARD) -> TraceResult:
    result = TraceResult("ETH", "0x" + "1" * 64, TraceOptions(direction=direction))
    result.seeds = [Hop(1, _transfer(A, B, "2", "1"), Decimal(2))]
    result.hops = [Hop(2, _transfer(B, C, "1", "2"), Decimal(1)),
                   Hop(2, _transfer(B, C, "0.5", "3"), Decimal("0.5")),
                   Hop(3, _transfer(C, X, "1.5", "4"), Decimal("1.5"))]
    exchange = Attribution(X, "evm", "exchange", HOSTILE_ENTITY)
    result.endpoints = [Endpoint(X, "ETH", "ETH", "ETH", 3, Decimal("1.5"),
                                 StopReason.ATTRIBUTED, attribution=exchange),
                        Endpoint(B, "ETH", "ETH", "ETH", 1, Decimal("0.5"), StopReason.UNSPENT)]
    return result


def test_every_trace_format_has_a_formatter() -> None:
    assert set(FORMATTERS) == set(TraceFormat)
    assert FORMATTERS[TraceFormat.SVG] is render_trace_svg


def test_the_graph_has_each_address_once_and_merges_parallel_transfers() -> None:
    graph = trace_graph(_result())
    assert [n.id for n in graph.nodes] == [A, B, C, X] and graph.root == A
    kinds = {n.id: n.category for n in graph.nodes}
    assert kinds == {A: "root", B: "unknown", C: "unknown", X: "exchange"}
    assert [(e.source, e.target, e.label) for e in graph.edges] == [
        (A, B, "2 ETH"), (B, C, "1.5 ETH (2 tx)"), (C, X, "1.5 ETH")]
    endpoint = next(n for n in graph.nodes if n.id == X)
    assert endpoint.lines == (X, HOSTILE_ENTITY, "exchange · 1.5 ETH · hop 3")
    assert "unspent" in next(n for n in graph.nodes if n.id == B).lines


def test_a_backward_trace_is_rooted_at_the_receiver() -> None:
    assert trace_graph(_result(Direction.BACKWARD)).root == B


def test_the_svg_keeps_the_entity_name_literal() -> None:
    svg = render_trace_svg(_result())
    root = ET.fromstring(svg)
    assert "<script" not in svg and "\x1b" not in svg
    assert any("<script>alert(1)</script>\\x1b[31m" in (t.text or "")
               for t in root.iter(f"{SVG}title"))
    assert len([g for g in root.iter(f"{SVG}g") if g.get("class") == "node"]) == 4
    assert len([p for p in root.iter(f"{SVG}path") if p.get("class") == "edge"]) == 3


def _snapshot(folder: Path) -> Path:
    folder.mkdir()
    (folder / "transactions.csv").write_text(
        "hash,nonce,block_hash,block_number,transaction_index,from_address,to_address,value,"
        "gas,gas_price,input,block_timestamp\n"
        f"0x{'1' * 64},0,0x0,10,0,{A},{B},2000000000000000000,21000,1,0x,1700000000\n"
        f"0x{'2' * 64},0,0x0,11,0,{B},{M},1500000000000000000,21000,1,0x,1700000012\n",
        encoding="utf-8")
    (folder / "token_transfers.csv").write_text(
        "token_address,from_address,to_address,value,transaction_hash,log_index,block_number\n",
        encoding="utf-8")
    return folder


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    pack = tmp_path / "pack.yaml"
    pack.write_text("title: t\ncreator: tests\nconfidence: service_data\ncurrency: ETH\n"
                    f"lastmod: 2024-01-01\ntags:\n- address: '{M}'\n  label: Mixer \"&\" Co\n"
                    "  category: mixing_service\n", encoding="utf-8")
    monkeypatch.setenv("ACCTSEC_TAGPACKS", str(pack))
    monkeypatch.setenv("ACCTSEC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ACCTSEC_CACHE_DIR", str(tmp_path / "cache"))
    return _snapshot(tmp_path / "snap")


def _trace(snap: Path, *extra: str) -> tuple[int, str, str]:
    out = CliRunner().invoke(app, ["trace", "0x" + "1" * 64, "--snapshot", str(snap), *extra])
    return out.exit_code, out.stdout, out.stderr


def test_format_svg_writes_the_picture_to_stdout(env: Path) -> None:
    code, out, err = _trace(env, "--format", "svg")
    assert code == 0, err
    root = ET.fromstring(out)
    text = "\n".join(root.itertext())
    assert 'Mixer "&" Co' in text and "mixer · 1.5 ETH · hop 2" in text


def test_picture_and_the_old_png_option_write_svg_files(env: Path, tmp_path: Path) -> None:
    code, out, err = _trace(env, "--format", "json", "--picture", str(tmp_path / "flow.svg"))
    assert code == 0 and out.startswith("{")
    assert ET.parse(tmp_path / "flow.svg").getroot().tag == f"{SVG}svg"
    code, _, err = _trace(env, "--png", str(tmp_path / "old.png"))
    assert code == 0 and "old.svg" in err
    assert not (tmp_path / "old.png").exists()
    assert (tmp_path / "old.svg").read_text(encoding="utf-8").startswith("<svg")
