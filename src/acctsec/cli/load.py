"""`acctsec load`: a folder of the contract's tables into Parquet, DuckDB, SQLite or PostgreSQL."""

from pathlib import Path

import typer

from acctsec.cli._app import app, say


@app.command("load")
def load_command(
    src: Path = typer.Argument(..., help="Folder with the account tables (CSV, JSONL, Parquet)."),
    dest: str = typer.Argument(
        ..., help="Parquet folder, a .duckdb/.db file, or a postgresql://user@host:port/db URL."
    ),
    fmt: str | None = typer.Option(
        None, "--format", "-f",
        help="parquet, duckdb, sqlite or postgresql (default: from DEST's name).",
    ),
    replace: bool = typer.Option(
        False, "--replace", help="Overwrite DEST (PostgreSQL: the five tables) if it exists."
    ),
) -> None:
    """Load a folder source into a database or Parquet for fast repeated runs."""
    from acctsec.sources.sql_load import load

    result = load(src, dest, fmt.lower() if fmt else None, replace=replace)
    counts = ", ".join(f"{n} {table}" for table, n in result.rows.items())
    say(f"acctsec: loaded {counts} into {result.destination}")
    skipped = [p for p in result.problems if not p.kept]
    kept = len(result.problems) - len(skipped)
    if skipped:
        say(f"acctsec: skipped {len(skipped)} rows that break the data contract, "
            f"not loaded (first: {skipped[0]})")
    if kept:
        say(f"acctsec: loaded {kept} rows whose ip is no address with the address unknown "
            f"(first: {next(p for p in result.problems if p.kept)})")
