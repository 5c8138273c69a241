"""`acctsec ip`: output formats, exit codes, and hostile text shown literally."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from acctsec.cli import app

HOSTILE = "1.2.3.4\x1b[31m[bold red]pwned[/]\u202e"


@pytest.fixture()
def env(intel_cache: Path, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "ACCTSEC_CACHE_DIR": str(intel_cache),
        "ACCTSEC_CONFIG": "",
        "XDG_CONFIG_HOME": str(tmp_path),  # no user config file is read
        "COLUMNS": "100",
    }


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "acctsec", "ip", *args],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )


def test_json_output_is_the_only_thing_on_stdout(env: dict[str, str]) -> None:
    done = _run(env, "8.8.8.8", "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["schema"] == "acctsec.ip/1"
    assert (data["ip"], data["country"], data["asn"], data["network_kind"]) == (
        "8.8.8.8", "US", 15169, "hosting",
    )
    assert "rdap: offline mode" in data["not_checked"]
    assert "rdap" not in data


def test_table_output(env: dict[str, str]) -> None:
    done = _run(env, "91.0.0.1")
    assert done.returncode == 0, done.stderr
    assert "Deutsche Telekom AG" in done.stdout and "residential" in done.stdout
    assert "\x1b" not in done.stdout  # not a terminal: no colour codes either


@pytest.mark.parametrize("bad", ["not-an-ip", HOSTILE, "999.1.1.1"])
def test_invalid_address_exits_1_with_one_literal_line(env: dict[str, str], bad: str) -> None:
    done = _run(env, bad)
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert lines[0].endswith("is not an IPv4 or IPv6 address")
    assert "\x1b" not in done.stderr and "\u202e" not in done.stderr


def test_hostile_address_is_shown_escaped(env: dict[str, str]) -> None:
    line = _run(env, HOSTILE).stderr.strip()
    assert line == (
        "acctsec: error: ip: '1.2.3.4\\x1b[31m[bold red]pwned[/]\\u202e' "
        "is not an IPv4 or IPv6 address"
    )


def test_hostile_organisation_names_are_literal_in_the_table() -> None:
    from rich.console import Console

    from acctsec.cli.ip import ip_table
    from acctsec.intel.interface import IpInfo

    info = IpInfo(ip="192.0.2.1", as_org="[bold]Evil[/bold] \x1b]8;;http://x\x07Corp",
                  network_reason="AS1 [link=http://x]Evil[/link]")
    console = Console(width=120, record=True, markup=False, highlight=False, color_system=None)
    console.print(ip_table(info, None))
    text = console.export_text()
    assert "[bold]Evil[/bold] \\x1b]8;;http://x\\x07Corp" in text
    assert "AS1 [link=http://x]Evil[/link]" in text
    assert "\x1b" not in text


def test_help_and_registration() -> None:
    result = CliRunner().invoke(app, ["ip", "--help"])
    assert result.exit_code == 0
    assert "--online" in result.output and "--format" in result.output
    assert "--tor-exits" in result.output


def test_docs_page_exists() -> None:
    page = Path(__file__).parents[2] / "docs" / "commands" / "ip.md"
    text = page.read_text(encoding="utf-8")
    assert "acctsec ip" in text and "--online" in text
