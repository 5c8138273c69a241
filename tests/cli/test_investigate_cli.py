"""`acctsec investigate` as a user runs it: exit codes, stdout and stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROWS_ACCOUNTS = "uid,email\n1,\"[bold]x[/bold]@evil.com\"\n2,b@example.com\n"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCTSEC_")}
    env["XDG_CONFIG_HOME"] = str(cwd or Path.cwd())
    return subprocess.run([sys.executable, "-m", "acctsec", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=120)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    (data / "accounts.csv").write_text(ROWS_ACCOUNTS, encoding="utf-8")
    (data / "logins.csv").write_text(
        "ts,uid,event,ip,user_agent,device_id\n"
        "2026-10-01T10:00:00Z,1,login_success,84.150.3.4,\"\x1b[31mevil\",d1\n"
        "not-a-time,1,login_success,84.150.3.4,x,d1\n",
        encoding="utf-8",
    )
    return data


def test_json_report_on_stdout_and_skipped_rows_on_stderr(source: Path) -> None:
    result = run("investigate", "1", "--source", str(source), "--format", "json",
                 cwd=source.parent)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["schema"] == "acctsec.report/1"
    assert report["uid"] == "1"
    assert report["verdict"]["label"] in ("takeover", "fraud", "suspicious", "clear")
    assert report["account"]["email"] == "[bold]x[/bold]@evil.com"
    assert report["skipped_rows"][0]["line"] == 3
    assert "skipped 1 rows" in result.stderr and "logins.csv:3" in result.stderr


def test_table_report_shows_hostile_text_literally(source: Path) -> None:
    result = run("investigate", "1", "--source", str(source), "--width", "120",
                 cwd=source.parent)
    assert result.returncode == 0, result.stderr
    assert "[bold]x[/bold]@evil.com" in result.stdout
    assert "\x1b" not in result.stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["investigate", "99"], 1, "unknown uid '99'"),
        (["investigate", "1", "--since", "last tuesday"], 1, "--since 'last tuesday'"),
        (["investigate", "1", "--format", "xml"], 2, "xml"),
        (["investigate", "1", "--width", "0"], 2, "--width"),  # printed nothing, exit 0
        (["investigate", "1", "--strict"], 1, "logins.csv:3"),
    ],
)
def test_bad_input_is_one_line_and_the_documented_exit_code(
    source: Path, args: list[str], code: int, message: str
) -> None:
    result = run(*args, "--source", str(source), cwd=source.parent)
    assert result.returncode == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    if code == 1:
        assert len(result.stderr.strip().splitlines()) == 1
        assert result.stdout == ""


def test_missing_source_is_exit_1(tmp_path: Path) -> None:
    result = run("investigate", "1", "--source", str(tmp_path / "none"), cwd=tmp_path)
    assert result.returncode == 1
    assert "does not exist" in result.stderr
