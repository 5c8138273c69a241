"""A CSV table copied to Parquet by DuckDB, kept only when it provably reads as the folder reader.

The folder reader (Python's csv module) reads 10 M sign-ins in a minute or more;
DuckDB copies the same file in 10-13 s on two cores. The two readers differ on
some files: DuckDB drops the spaces between a delimiter and a quoted value, and
refuses a quote followed by text, a row of the wrong length, or a line break
inside a row's text, where the folder reader keeps the text, reports the row or
counts the extra line. So a copy is kept only when these hold:

- DuckDB read the file in strict mode: every row has the header's number of cells
  and every quoted value is closed, with nothing but a delimiter after it.
- Each row is one line: the file has as many lines as rows plus the header, and
  no line ends in a lone carriage return. Row N of the copy is then line N + 1 of
  the CSV, the line the folder reader names.
- No byte of the file was dropped or added. A row's bytes are its cells, the
  delimiters, the line break, and for each quoted cell two quotes plus one for
  each quote inside it; an unquoted cell's quotes are its own. Whatever the number
  of quoted cells, that makes (quotes in the file) - (bytes beyond cells,
  delimiters and line breaks) equal to the quotes inside the cells, summed over
  the file. Spaces DuckDB dropped around a quoted value break the equation.
- No quote is followed by spaces and another quote. DuckDB reads `"a" "b"` as
  one value `a b` (and `"" ",a"` as ` ,a`), where the folder reader keeps what
  follows the closing quote as text (`a "b"`); the quotes and bytes still balance.
  A quoted value that is only spaces (`" "`) is refused too, to be safe.

A `.csv.gz` file is checked on its decompressed bytes, as DuckDB reads it.
Otherwise the caller reads the CSV with the folder reader, as before; every file
the tests generate with the cells and layouts that tell the readers apart either
gives a copy with the folder reader's cells, or none (tests/sources/test_csvcopy.py).
"""

# SQL here is assembled from quoted paths and column names only.
# ruff: noqa: S608

from __future__ import annotations

import gzip
import os
import re
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, cast

from acctsec.sources.files import file_format, sql_path
from acctsec.sources.sql_db import quote as quote_name

if TYPE_CHECKING:
    import duckdb

# The line of a copy's first row in the CSV: the header is line 1, each row one line.
FIRST_LINE = 2
# Names the batch machinery adds next to a table's columns (DuckDB's row numbers too).
RESERVED_NAMES = ("__key__", "__row__", "__json__", "file_row_number")
_BLOCK = 8 * 1024 * 1024
_QUOTES_APART = re.compile(b'" +"')
_QUOTE_SPACE = re.compile(b'" ')  # found faster than the whole pattern, and rare
_BROKEN_GZ = (EOFError, zlib.error, gzip.BadGzipFile)


@dataclass(frozen=True)
class _Bytes:
    """Counts over the bytes of the file after its header line."""

    size: int = 0
    newlines: int = 0  # \n
    returns: int = 0  # \r
    crlf: int = 0  # \r\n
    quotes: int = 0
    ends_in_newline: bool = True
    quotes_apart: bool = False  # a quote, spaces, a quote


def copy_csv(con: duckdb.DuckDBPyConnection, path: Path, out: Path) -> bool:
    """Writes `out`: the CSV file `path` as Parquet, one text column per header name (as
    the folder reader names them), each row's cells as that reader reads them, in file
    order. False, and nothing written, when that cannot be shown for this file; the
    error, and nothing written, when the copy failed for another reason (a full disk)."""
    import duckdb

    if file_format(path) != "csv":
        return False
    found = _header(path)
    if found is None:
        return False
    names, header_bytes = found
    tmp = out.with_name(f"{out.name}.{os.getpid()}.tmp")  # several runs may copy it
    # The byte scan (~5 s on 2.3 GB) runs while DuckDB copies: DuckDB releases the GIL.
    with ThreadPoolExecutor(1) as pool:
        scan = pool.submit(_count_bytes, path, header_bytes)
        try:
            _copy(con, path, names, tmp)
            rows, cell_bytes, cell_quotes = _cell_totals(con, tmp, len(names))
            counted = scan.result()
        except (duckdb.InvalidInputException, duckdb.ConversionException, *_BROKEN_GZ):
            tmp.unlink(missing_ok=True)  # the file's content
            return False
        except duckdb.IOException:
            tmp.unlink(missing_ok=True)  # a broken .gz, or the machine's (a full disk)
            if _broken(scan):
                return False
            raise
        except BaseException:  # the machine's (out of memory, Ctrl-C): not the file's
            tmp.unlink(missing_ok=True)
            raise
    if not _same_reading(counted, rows, cell_bytes, cell_quotes, len(names)):
        tmp.unlink(missing_ok=True)
        return False
    os.replace(tmp, out)
    return True


def _broken(scan: Future[_Bytes]) -> bool:
    """Whether the byte scan found the .gz file broken (as the folder reader would)."""
    try:
        scan.result()
    except _BROKEN_GZ:
        return True
    return False


def _header(path: Path) -> tuple[list[str], int] | None:
    """The folder reader's column names and the header line's length in bytes; None when
    the header is not one plain line of distinct names with a uid among them."""
    from acctsec.sources.folder import read_header

    header = read_header(path)
    if header is None or header[1] != 1:
        return None
    names = header[0]
    try:
        with _open_bytes(path) as raw:
            line = raw.readline()
    except (OSError, EOFError, zlib.error):
        return None
    if b"\r" in line.removesuffix(b"\r\n"):  # a lone \r ends the csv module's line
        return None
    if "uid" not in names or "" in names or any(n in RESERVED_NAMES for n in names):
        return None
    if len(names) == 1:  # DuckDB reads a blank line as one empty cell, Python skips it
        return None
    return names, len(line)


def _copy(con: duckdb.DuckDBPyConnection, path: Path, names: list[str], out: Path) -> None:
    positions = [f"c{i}" for i in range(len(names))]
    columns = ", ".join(f"'{p}': 'VARCHAR'" for p in positions)
    renamed = ", ".join(f"{p} AS {quote_name(n)}" for p, n in zip(positions, names, strict=True))
    con.execute("SET preserve_insertion_order = true")
    con.execute(f"""
    COPY (SELECT {renamed} FROM read_csv({sql_path(path)}, auto_detect = false, header = true,
                 delim = ',', quote = '"', escape = '"', columns = {{{columns}}},
                 strict_mode = true, null_padding = false, ignore_errors = false,
                 force_not_null = [{", ".join(f"'{p}'" for p in positions)}]))
    TO {sql_path(out)} (FORMAT parquet, ROW_GROUP_SIZE 100000)""")


def _cell_totals(con: duckdb.DuckDBPyConnection, copy: Path, width: int) -> tuple[int, int, int]:
    """Rows of the copy, the bytes of all its cells, and the quotes inside them."""
    cells = [f"column{i}" for i in range(width)]
    size = " + ".join(f"strlen({c})" for c in cells)
    quotes = " + ".join(f"strlen({c}) - strlen(replace({c}, '\"', ''))" for c in cells)
    row = con.execute(f"""
    SELECT count(*), coalesce(sum({size}), 0), coalesce(sum({quotes}), 0)
    FROM read_parquet({sql_path(copy)}) AS t({", ".join(cells)})""").fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def _count_bytes(path: Path, skip: int) -> _Bytes:
    newlines = returns = crlf = quotes = size = 0
    last, tail, apart = b"", b"", False
    with _open_bytes(path) as fh:
        fh.read(skip)
        while block := fh.read(_BLOCK):
            size += len(block)
            newlines += block.count(b"\n")
            quotes += block.count(b'"')
            if b"\r" in block or last == b"\r":  # most files have none: counting is slower
                returns += block.count(b"\r")
                crlf += block.count(b"\r\n") + (last == b"\r" and block[:1] == b"\n")
            last = block[-1:]
            # A quote and spaces at the end of a block may meet a quote in the next.
            view = tail + block if tail else block
            apart = apart or (_QUOTE_SPACE.search(view) is not None
                              and _QUOTES_APART.search(view) is not None)
            kept = view.rstrip(b" ")
            tail = view[len(kept) - 1:] if kept.endswith(b'"') else b""
    return _Bytes(size, newlines, returns, crlf, quotes, last in (b"", b"\n"), apart)


def _open_bytes(path: Path) -> BinaryIO:
    """The file's bytes; a .gz file's once decompressed (DuckDB reads it so too)."""
    if path.name.lower().endswith(".gz"):
        return cast(BinaryIO, gzip.open(path, "rb"))
    return path.open("rb")


def _same_reading(counted: _Bytes, rows: int, cell_bytes: int, cell_quotes: int,
                  width: int) -> bool:
    """Whether DuckDB's rows are the folder reader's (see the module's docstring)."""
    if counted.returns != counted.crlf:  # a lone \r ends a line for the csv module
        return False
    if counted.quotes_apart:
        return False
    lines = counted.newlines + (0 if counted.ends_in_newline else 1)
    if lines != rows:  # a row over several lines, or a blank line
        return False
    beyond = counted.size - cell_bytes - rows * (width - 1) - counted.newlines - counted.crlf
    return counted.quotes - beyond == cell_quotes
