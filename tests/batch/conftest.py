"""Helpers of the batch tests: running the CLI, and one batch run over the example data."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLES


def run_cli(*args: str) -> tuple[int, str, str]:
    """`acctsec ARGS` in this process: (exit code, stdout, stderr)."""
    from acctsec.cli import _app
    from acctsec.cli._app import app

    out, err = io.StringIO(), io.StringIO()
    saved = sys.argv
    sys.argv = ["acctsec", *args]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = _app.run(app)
    finally:
        sys.argv = saved
    return code, out.getvalue(), err.getvalue()


def spawn(*args: str, cwd: Path) -> subprocess.Popen[str]:
    """`acctsec ARGS` as its own process, with no user config or ACCTSEC_* variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCTSEC_")}
    env["XDG_CONFIG_HOME"] = str(cwd)
    return subprocess.Popen([sys.executable, "-m", "acctsec", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def comparable(report: dict) -> dict:
    """A report without what differs between two runs of the same decision."""
    out = dict(report)
    out.pop("generated_at", None)
    out.pop("alert_ids", None)
    return out


@pytest.fixture(scope="session")
def examples() -> Path:
    if not (EXAMPLES / "accounts.csv").exists():
        pytest.skip("examples/data has not been generated")
    return EXAMPLES


@pytest.fixture(scope="session")
def batch_all(examples: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`acctsec batch --all` over the example data, as JSON lines."""
    out = tmp_path_factory.mktemp("batch") / "all.jsonl"
    code, _, err = run_cli("batch", "--source", str(examples), "--all", "--out", str(out))
    assert code == 0, err
    return out
