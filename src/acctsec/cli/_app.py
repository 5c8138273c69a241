"""The Typer application, shared options, and the error-to-exit-code boundary."""

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from acctsec.errors import AcctsecError

if TYPE_CHECKING:
    from acctsec.interrupt import StopRequest

app = typer.Typer(
    name="acctsec",
    help="Investigation toolkit for exchange account-security and risk analysts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


_state: dict[str, Any] = {"debug": False, "config": None}


def say(message: str) -> None:
    """One line on stderr, shown literally: stdout carries the report and nothing else."""
    from acctsec.render.safe import literal

    sys.stderr.write(literal(message) + "\n")
    sys.stderr.flush()


class _StderrConsole:
    """A rich Console on stderr, made on first use: importing rich costs ~0.1 s."""

    _console: Any = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real(), name)

    def real(self) -> Any:
        """The Console itself, for rich objects that need one (a progress bar enters it
        with `with`, which a stand-in forwarding attributes cannot serve)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=True, highlight=False, markup=False, emoji=False,
                                    soft_wrap=True)
        return self._console


err_console: Any = _StderrConsole()


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks of errors."),
    config: Path | None = typer.Option(
        None, "--config", help="Config file (default: the user config dir's config.toml).",
        dir_okay=False,
    ),
) -> None:
    """Investigation toolkit for exchange account-security and risk analysts."""
    _state["debug"] = debug
    _state["config"] = config


def config_path() -> Path | None:
    return _state["config"]


def run(application: typer.Typer) -> int:
    """Runs the app; AcctsecError becomes one line on stderr and its exit code.

    Typer's standalone mode already maps usage errors to exit 2. Ctrl-C (or SIGTERM)
    that a part turned into an error of its own (DuckDB's "Query interrupted") is an
    interruption, exit 130, not an internal error.
    """
    from acctsec.interrupt import stop_signals

    with stop_signals() as stop:
        return _run(application, stop)


def _run(application: typer.Typer, stop: "StopRequest") -> int:
    try:
        application(standalone_mode=True)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 0
    except Exception as exc:  # noqa: BLE001 - the last line of defence before a traceback
        if _state["debug"]:
            raise
        code, message = _failure(exc)
        if stop.asked and code != 130:  # whatever a part made of the Ctrl-C on its way up
            code, message = 130, "interrupted"
        say(f"acctsec: {message}")
        return code
    return 0


def _failure(exc: Exception) -> tuple[int, str]:
    """The exit code and the line on stderr of an error that reached the boundary."""
    if isinstance(exc, AcctsecError):
        return exc.exit_code, f"error: {exc}"
    if isinstance(exc, OSError):  # the system refused: a read-only place, a full disk
        where = f"{exc.filename}: " if exc.filename is not None else ""
        return 1, f"error: {where}{exc.strerror or exc}"
    return 70, f"internal error: {type(exc).__name__}: {exc} (run with --debug for details)"
