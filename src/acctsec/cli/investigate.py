"""`acctsec investigate`: one account's evidence-backed verdict."""

import sys
from pathlib import Path

import typer

from acctsec.cli._app import app, say
from acctsec.cli.options import parse_when, settings_with
from acctsec.errors import InputError
from acctsec.render.formats import ReportFormat


@app.command("investigate")
def investigate_command(
    uid: str = typer.Argument(..., help="The exchange's account id."),
    source: str | None = typer.Option(
        None, "--source", "-s", help="Folder with the account tables, or a sqlite:///, "
        "duckdb:/// or postgresql:// URL (default: config `source`)."
    ),
    since: str | None = typer.Option(
        None, "--since", help="Report findings from this time on: ISO date/time or 30d, 12h."
    ),
    until: str | None = typer.Option(
        None, "--until", help="Investigate as of this time: the account's later records are "
        "ignored (population figures and linked accounts use all the data)."
    ),
    fmt: ReportFormat = typer.Option(
        ReportFormat.table, "--format", "-f", help="Output: table, json or markdown."
    ),
    strict: bool = typer.Option(
        False, "--strict", help="Stop at the first row that breaks the data contract."
    ),
    online: bool = typer.Option(
        False, "--online", help="Allow network look-ups (RDAP) besides the offline data."
    ),
    width: int | None = typer.Option(None, "--width", min=40,
                                     help="Terminal width for the table (40 or more)."),
    cache_dir: Path | None = typer.Option(
        None, "--cache-dir", help="Where look-ups are cached (default: the user cache dir)."
    ),
    no_cache: bool = typer.Option(False, "--no-cache", help="Neither read nor write the cache."),
) -> None:
    """Decide whether an account was taken over, is fraudulent, or is clear, with evidence."""
    from acctsec import service
    from acctsec.render.interface import formatter_for

    since_at = parse_when(since, "--since")
    until_at = parse_when(until, "--until")
    if since_at and until_at and since_at > until_at:
        raise InputError(f"--since {since} is after --until {until}")
    settings = settings_with(source=source, offline=False if online else None,
                             cache_dir=cache_dir, no_cache=True if no_cache else None)
    log_source = service.open_source(settings, source, strict=strict)
    from acctsec.sources.folder import FolderSource
    from acctsec.sources.sql import SqlSource

    if isinstance(log_source, SqlSource):
        from acctsec.cli.link import announce_link_copy

        announce_link_copy(log_source)
    if isinstance(log_source, FolderSource) and log_source.large:
        from acctsec.batch.single import is_prepared

        if not is_prepared(settings, log_source.folder):
            say(f"acctsec: {log_source.name} is large: building its population figures and "
                "link graph once (about a minute per 10 million sign-ins; cached for the next "
                "accounts while its files are unchanged)")
    try:
        report = service.investigate(settings, log_source, uid, since=since_at, until=until_at)
    finally:
        close = getattr(log_source, "close", None)
        if close is not None:
            close()  # a SQL source's temporary link tables go with it
    formatter_for(fmt, width=width).write(report, sys.stdout)
    if report.skipped_rows:
        say(f"acctsec: skipped {len(report.skipped_rows)} rows that break the data contract "
            f"(first: {report.skipped_rows[0]})")
