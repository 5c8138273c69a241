"""`acctsec batch`: the verdicts of a whole alert queue (or list, or population) in one run."""

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from acctsec.cli._app import app, err_console, say
from acctsec.cli.options import is_span, parse_when, settings_with
from acctsec.errors import InputError, UsageError

if TYPE_CHECKING:
    from acctsec.batch.queue import WorkQueue
    from acctsec.sources.interface import LogSource


def _format_callback(value: str) -> str:
    if value not in ("jsonl", "csv", "parquet"):
        raise typer.BadParameter(f"{value!r} is not one of jsonl, csv, parquet")
    return value


@app.command("batch")
def batch_command(
    source: str | None = typer.Option(
        None, "--source", "-s", help="Folder with the account tables, or a sqlite:///, "
        "duckdb:/// or postgresql:// URL (default: config `source`)."
    ),
    alerts: Path | None = typer.Option(
        None, "--alerts", help="Alerts table (any contract format): its accounts are the queue."
    ),
    uids: Path | None = typer.Option(None, "--uids", help="File with one uid a line."),
    every: bool = typer.Option(False, "--all", help="Every account of the source."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Output file; a restart with the same arguments continues it. "
        "Without it, or with -, JSON lines go to stdout (not resumable).", dir_okay=False,
    ),
    fmt: str = typer.Option("jsonl", "--format", "-f", callback=_format_callback,
                            help="jsonl (one report per line), csv or parquet (one row each)."),
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="Local worker processes."),
    dask: str | None = typer.Option(
        None, "--dask", help="Run on a Dask cluster: scheduler address (tcp://host:8786) or "
        "local:N for N local worker processes.",
    ),
    since: str | None = typer.Option(
        None, "--since", help="Report findings from this time on: ISO date/time or 30d, 12h."
    ),
    until: str | None = typer.Option(
        None, "--until", help="Decide as of this time: the account's later records are ignored "
        "(population figures and linked accounts use all the data)."
    ),
    chunk: int | None = typer.Option(
        None, "--chunk", min=1,
        help="Accounts per work unit (default: two per worker, of 50-200 accounts each; "
             "250 from a database)."),
    top: int = typer.Option(10, "--top", min=0, help="Riskiest accounts listed on stderr."),
    cache_dir: Path | None = typer.Option(
        None, "--cache-dir", help="Where the run's working files (population figures, link "
        "graph, copies) are kept for later runs when there is no --out (default: the user "
        "cache dir; with --out: OUT.work).",
    ),
    no_cache: bool = typer.Option(
        False, "--no-cache", help="Keep no working files: build them in a temporary folder "
        "(TMPDIR) and remove it at the end. --out still resumes.",
    ),
) -> None:
    """Decide every account of an alert queue, uid list or the whole source, resumably."""
    from acctsec import service
    from acctsec.batch.output import BatchFormat
    from acctsec.batch.progress import progress_for
    from acctsec.batch.runner import BatchOptions, run_batch

    if out is not None and str(out) == "-":
        out = None  # stdout, as the usual `-` means
    chosen = [name for name, on in (("--alerts", alerts), ("--uids", uids), ("--all", every))
              if on]
    if len(chosen) != 1:
        raise UsageError("name the queue with exactly one of --alerts FILE, --uids FILE, --all")
    since_at, until_at = parse_when(since, "--since"), parse_when(until, "--until")
    if since_at and until_at and since_at > until_at:
        raise InputError(f"--since {since} is after --until {until}")
    from acctsec.sources.sql_db import is_database_url

    remote = False
    if dask is not None:
        from acctsec.batch.distributed import local_workers

        # A bad address named now, not after the run's preparation.
        remote = local_workers(dask) is None
    settings = settings_with(source=source, offline=True, cache_dir=cache_dir,
                             no_cache=True if no_cache else None)
    if settings.no_cache and remote:
        raise InputError("--no-cache (or no_cache in the config or environment) cannot be "
                         "used with a remote --dask cluster: its workers read the run's "
                         "working files, which are then kept in a local temporary folder")
    given = source or settings.source
    if not given:
        raise InputError("no source given: pass --source DIR or URL, or set `source` in the "
                         "config")
    url = str(given) if is_database_url(str(given)) else None
    folder = Path(".") if url else Path(os.path.expanduser(str(given)))
    queue = _queue(alerts, uids, service.open_source(settings, url or folder))
    spans = (since if is_span(since) else None, until if is_span(until) else None)
    opts = BatchOptions(folder, queue, settings, out, BatchFormat(fmt), jobs, since_at, until_at,
                        chunk, dask, url, top=top, spans=spans)
    result = run_batch(opts, sys.stdout, lambda total: progress_for(total, err_console.real()))
    for line in result.tally.lines(result.resumed, len(queue.problems), result.seconds,
                                  result.timings):
        say(line)
    if queue.problems:
        say(f"queue: first skipped row: {queue.problems[0]}")


def _queue(alerts: Path | None, uids: Path | None, source: "LogSource") -> "WorkQueue":
    from acctsec.batch.queue import every_account, read_alerts, read_uids

    if alerts is not None:
        return read_alerts(alerts)
    if uids is not None:
        return read_uids(uids)
    return every_account(source.uids())
