"""The link tables of a folder cached in a DuckDB file: same answers, rebuilt on change."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from acctsec.link.context import ContextBuilder
from acctsec.link.sql import open_cached, open_source


@pytest.fixture
def folder(examples_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(examples_dir, copy)
    return copy


def edges(con: object, uid: str) -> list[tuple[str, str, str, str]]:
    ctx = ContextBuilder(con, "usage").build(uid, 1)  # type: ignore[arg-type]
    return sorted((e.a, e.b, e.via, e.value) for e in ctx.edges)


def test_cached_tables_answer_like_fresh_ones_and_follow_changes(folder: Path,
                                                                 tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    fresh = edges(open_source(folder), "10290")
    assert fresh
    assert edges(open_cached(folder, cache), "10290") == fresh
    files = list((cache / "links").glob("*.duckdb"))
    assert len(files) == 1
    assert edges(open_cached(folder, cache), "10290") == fresh  # served from the file
    accounts = folder / "accounts.csv"
    accounts.write_text(accounts.read_text(encoding="utf-8").replace("10291,", "19291,", 1),
                        encoding="utf-8")
    changed = edges(open_cached(folder, cache), "10290")
    assert changed != fresh
    # The new version's file replaced the old one's (acctsec.cachefiles).
    now = list((cache / "links").glob("*.duckdb"))
    assert len(now) == 1 and now != files


@pytest.mark.parametrize("header", ["tab", "bom-quoted", "empty-name"])
def test_columns_are_named_as_the_folder_reader_names_them(folder: Path, header: str) -> None:
    """A header cell `device_id<TAB>`, or a header of quoted names after a BOM: the link
    views must name the columns as the folder reader (and the batch's exact CSV copies)
    do, or the same folder links accounts differently in `batch`. The folder reader strips
    the tab, and reads the BOM as text, so its first name is `"ts"` with the quotes."""
    path = folder / "logins.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    names = lines[0].rstrip("\n").split(",")
    if header == "tab":
        lines[0] = ",".join(f"{n}\t" if n == "device_id" else n for n in names) + "\n"
        path.write_text("".join(lines), encoding="utf-8")
    elif header == "bom-quoted":
        lines[0] = "\ufeff" + ",".join(f'"{n}"' for n in names) + "\n"
        path.write_text("".join(lines), encoding="utf-8")
    else:  # a trailing comma on every line: a column without a name, which DuckDB names
        path.write_text("".join(line.rstrip("\n") + ",\n" for line in lines), encoding="utf-8")
    con = open_source(folder)
    devices, times = con.execute("SELECT count(device_id), count(ts) FROM logins").fetchone()
    assert devices > 16_000
    assert times == (0 if header == "bom-quoted" else devices)
