"""`acctsec trace` errors: one clear line and the documented exit code."""

from __future__ import annotations

from typer.testing import CliRunner

from acctsec.chain.interface import BackendUnavailable, network
from acctsec.cli import _app, app
from acctsec.cli import trace as trace_cli

GOOD = "0x" + "ab" * 32


def _run(args, monkeypatch, tmp_path):
    monkeypatch.setenv("ACCTSEC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ACCTSEC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr("sys.argv", ["acctsec", *args])
    return _app.run(app)


def test_malformed_hash_unknown_chain_offline(monkeypatch, tmp_path, capsys) -> None:
    assert _run(["trace", "0x12"], monkeypatch, tmp_path) == 1
    assert "malformed ETH transaction hash '0x12'" in capsys.readouterr().err
    assert _run(["trace", GOOD, "--network", "DOGE"], monkeypatch, tmp_path) == 1
    assert "unknown network 'DOGE'" in capsys.readouterr().err
    assert _run(["trace", GOOD], monkeypatch, tmp_path) == 3
    assert "offline" in capsys.readouterr().err
    # An unknown choice is wrong usage (exit 2), as for --hops or --fan-out out of range.
    assert _run(["trace", GOOD, "--taint", "magic"], monkeypatch, tmp_path) == 2
    assert "'magic' is not one of poison, haircut, fifo" in capsys.readouterr().err


def test_unreachable_endpoint_is_exit_3_without_the_key(monkeypatch, tmp_path, capsys) -> None:
    class Down:
        network = network("ETH")

        def transfers_in_tx(self, txhash):
            raise BackendUnavailable("etherscan at api.etherscan.io unreachable after 5 attempts")

    monkeypatch.setenv("ACCTSEC_ETHERSCAN_API_KEY", "SECRETKEY123")
    monkeypatch.setattr(trace_cli, "make_client", lambda *a, **k: Down())
    assert _run(["trace", GOOD, "--online"], monkeypatch, tmp_path) == 3
    err = capsys.readouterr().err
    assert "unreachable" in err and "SECRETKEY123" not in err
    assert len(err.strip().splitlines()) == 2  # the no-attribution warning and the error


def test_help_names_every_option() -> None:
    out = CliRunner().invoke(app, ["trace", "--help"])
    for option in ("--network", "--direction", "--hops", "--min-amount", "--since", "--until",
                   "--taint", "--format", "--snapshot"):
        assert option in out.output
