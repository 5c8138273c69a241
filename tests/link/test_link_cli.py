"""`acctsec link|email|device|phone`: output formats, and hostile text kept literal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.link.conftest import HOSTILE_DEVICE, HOSTILE_EMAIL
from typer.testing import CliRunner

from acctsec.cli import app

runner = CliRunner()


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.stdout


def test_link_json(world_dir: Path) -> None:
    data = json.loads(_run("link", "r1", "--source", str(world_dir), "--format", "json"))
    assert data["schema"] == "acctsec.link/1" and data["uid"] == "r1"
    assert {e["via"] for e in data["edges"]} >= {"device_id", "withdrawal_address", "referral"}


def test_link_table_and_dot_keep_hostile_text_literal(world_dir: Path) -> None:
    table = _run("link", "e1", "--source", str(world_dir))
    dot = _run("link", "e1", "--source", str(world_dir), "--format", "dot")
    for out in (table, dot):
        assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b" in table and "[bold]" in table  # shown, not interpreted
    assert dot.startswith("graph acctsec_link {")
    assert '[bold]dev\\"\\\\x1b]8;;' in dot  # quote and backslash escaped for DOT


def test_email_lookup_finds_current_and_past_holders(world_dir: Path) -> None:
    data = json.loads(_run("email", HOSTILE_EMAIL, "-s", str(world_dir), "-f", "json"))
    assert sorted(m["uid"] for m in data["members"]) == ["e1", "e2"]
    table = _run("email", "MAX.PAY1@gmail.com", "-s", str(world_dir))
    assert "maxpay2@gmail.com" in table and "digits" in table  # Gmail ignores dots


def test_device_and_phone_lookup(world_dir: Path) -> None:
    data = json.loads(_run("device", HOSTILE_DEVICE, "-s", str(world_dir), "-f", "json"))
    assert data["accounts"] == 2
    out = _run("device", "ringdev", "-s", str(world_dir))
    assert "r5" in out
    phone = json.loads(_run("phone", "+49 151 12345678", "-s", str(world_dir), "-f", "json"))
    assert phone["facts"]["region"] == "DE" and phone["accounts"] == 0


def test_phone_lookup_refuses_an_unknown_region_and_no_number(world_dir: Path) -> None:
    for args in (["+49 151 12345678", "--region", "XX"], [" "]):
        result = runner.invoke(app, ["phone", *args, "-s", str(world_dir)])
        assert result.exit_code == 1 and "Traceback" not in result.output, result.output


def test_lookup_json_times_are_iso_8601(world_dir: Path) -> None:
    """They were written '2021-04-12 23:02:10+00:00', unlike every other JSON of acctsec."""
    from datetime import datetime

    data = json.loads(_run("device", HOSTILE_DEVICE, "-s", str(world_dir), "-f", "json"))
    times = [m[k] for m in data["members"] for k in ("first_seen", "last_seen") if m.get(k)]
    assert times and all("T" in t and datetime.fromisoformat(t).tzinfo for t in times)


def test_min_weight_must_be_a_number(world_dir: Path) -> None:
    for value in ("nan", "inf"):
        result = runner.invoke(app, ["link", "r1", "-s", str(world_dir), "--min-weight", value])
        assert result.exit_code == 2 and "--min-weight" in result.output, result.output


def test_unknown_uid_exit_code(world_dir: Path) -> None:
    result = runner.invoke(app, ["link", "nobody", "--source", str(world_dir)])
    assert result.exit_code != 0


def test_a_large_folder_answers_from_the_batch_link_store(
        world_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past LARGE_BYTES the commands ask the cached link store a batch run uses instead
    of scanning the files; the answers are the same."""
    from acctsec.sources import folder

    asks = [("link", "r1", "-f", "json"), ("link", "e1", "--depth", "2", "-f", "json"),
            ("email", HOSTILE_EMAIL, "-f", "json"), ("email", "MAX.PAY1@gmail.com", "-f", "json"),
            ("device", "ringdev", "-f", "json"), ("phone", "+49 151 12345678", "-f", "json")]
    env = {"COLUMNS": "200", "ACCTSEC_CACHE_DIR": str(tmp_path)}

    def answers() -> list[tuple[str, str]]:
        out = []
        for ask in asks:
            result = runner.invoke(app, [*ask, "--source", str(world_dir)], env=env)
            assert result.exit_code == 0, result.output
            out.append((result.stdout, result.stderr))
        return out

    small = answers()
    assert not list(tmp_path.rglob("links-*.duckdb"))
    monkeypatch.setattr(folder, "LARGE_BYTES", 0)
    large = answers()
    assert [out for out, _ in large] == [out for out, _ in small]
    assert "building its link graph once" in large[0][1]
    assert "building" not in large[1][1]  # built once, then reused
    assert list(tmp_path.rglob("links-*.duckdb"))


def test_a_database_source_is_linked_as_its_folder(world_dir: Path, tmp_path: Path) -> None:
    """`--source sqlite:///…` (the folder loaded with `acctsec load`): the same answers."""
    from acctsec.sources.sql_load import load

    load(world_dir, str(tmp_path / "w.db"))
    env = {"COLUMNS": "200", "ACCTSEC_CACHE_DIR": str(tmp_path / "cache")}
    for ask in (("link", "r1", "-f", "json"), ("device", "ringdev", "-f", "json"),
                ("email", "MAX.PAY1@gmail.com", "-f", "json")):
        by_folder = runner.invoke(app, [*ask, "--source", str(world_dir)], env=env)
        by_sql = runner.invoke(app, [*ask, "--source", f"sqlite:///{tmp_path / 'w.db'}"],
                               env=env)
        assert by_sql.exit_code == 0, by_sql.output
        assert by_sql.stdout == by_folder.stdout, ask
