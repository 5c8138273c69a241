"""Ctrl-C while a command is inside a DuckDB query: an interruption (exit 130), whatever
error DuckDB turns it into, not an internal error (exit 70)."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from conftest import EXAMPLES


def _run(*args: str) -> tuple[int, str]:
    from acctsec.cli import _app
    from acctsec.cli._app import app

    err = io.StringIO()
    saved = sys.argv
    sys.argv = ["acctsec", *args]
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            code = _app.run(app)
    finally:
        sys.argv = saved
    return code, err.getvalue()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to oneself")
def test_ctrl_c_inside_a_query_of_device_ends_as_interrupted(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from acctsec.link import lookup

    def slow_lookup(con: Any, *args: object, **kwargs: object) -> object:
        threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
        con.execute("SELECT count(*) FROM range(1000000000000) a")  # never finishes
        raise AssertionError("the query was not interrupted")

    monkeypatch.setattr(lookup, "lookup_in", slow_lookup)
    monkeypatch.setenv("ACCTSEC_CACHE_DIR", str(tmp_path))
    code, err = _run("device", "5bced317679d8db8527077df04c67a27", "--source", str(EXAMPLES))
    assert code == 130, err
    assert err.strip().endswith("acctsec: interrupted")
    assert "internal error" not in err
    # Outside a run the usual handler is back: Ctrl-C is Python's KeyboardInterrupt.
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_while_the_command_line_is_still_importing_is_one_line() -> None:
    """A KeyboardInterrupt raised by an import of `acctsec.cli` (Ctrl-C in the first tenth
    of a second) ends the console script as interrupted, without a traceback."""
    import subprocess

    code = (
        "import sys\n"
        "class Finder:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'acctsec.cli.batch':\n"
        "            raise KeyboardInterrupt\n"
        "sys.meta_path.insert(0, Finder())\n"
        "from acctsec.cli import main\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 130
    assert done.stderr == "acctsec: interrupted\n"
