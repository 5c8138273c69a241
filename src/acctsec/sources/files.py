"""Finding the contract's tables in a folder: one file per table, in one of five formats."""

from __future__ import annotations

from pathlib import Path

from acctsec.errors import InputError
from acctsec.model import TABLES

SUFFIXES = (".csv", ".csv.gz", ".jsonl", ".jsonl.gz", ".parquet")


def sql_path(path: Path) -> str:
    """A file path as an SQL string literal, for DuckDB's readers and COPY."""
    return "'" + str(path).replace("'", "''") + "'"


def file_format(path: Path) -> str:
    """'csv', 'jsonl' or 'parquet', from the file name."""
    name = path.name.lower()
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return suffix.lstrip(".").split(".")[0]
    raise InputError(f"{path}: not a .csv, .csv.gz, .jsonl, .jsonl.gz or .parquet file")


def table_files(folder: Path) -> dict[str, Path]:
    """The file of each table present in `folder`; `accounts` is mandatory."""
    if not folder.exists():
        raise InputError(f"source {folder} does not exist")
    if not folder.is_dir():
        raise InputError(f"source {folder} is not a folder")
    found: dict[str, Path] = {}
    for table in TABLES:
        candidates = [folder / f"{table}{suffix}" for suffix in SUFFIXES]
        present = [p for p in candidates if p.is_file()]
        if len(present) > 1:
            names = ", ".join(p.name for p in present)
            raise InputError(f"source {folder}: table {table} is in several files ({names})")
        if present:
            found[table] = present[0]
    if "accounts" not in found:
        raise InputError(
            f"source {folder}: no accounts file (accounts.csv, .csv.gz, .jsonl, .jsonl.gz "
            "or .parquet)"
        )
    return found
