"""Batch linking answers a chunk's questions from rows fetched at once: the same contexts."""

from __future__ import annotations

from pathlib import Path

import pytest

from acctsec.batch.linking import ChunkQueries, Linker, build_link_store
from acctsec.link.context import ContextBuilder


@pytest.fixture(scope="module")
def store(examples: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_link_store(examples, tmp_path_factory.mktemp("links") / "links.duckdb")


def _uids(linker: Linker) -> list[str]:
    return [str(r[0]) for r in linker.con.execute("SELECT uid FROM accounts ORDER BY uid")
            .fetchall()]


def test_chunk_answers_match_the_queries_for_every_example_account(store: Path) -> None:
    linker = Linker(store)
    try:
        uids = _uids(linker)
        plain = ContextBuilder(linker.con, "usage_agg")
        for chunk in (uids[:150], uids[150:]):
            linker.prepare(chunk)
            for uid in chunk:
                assert linker.context(uid) == plain.build(uid, depth=1), uid
    finally:
        linker.close()


def test_questions_beyond_the_chunk_go_to_the_database(store: Path) -> None:
    linker = Linker(store)
    try:
        uids = _uids(linker)
        linker.prepare(uids[:10])
        asked = ChunkQueries(linker.con, "usage_agg", uids[:10])
        plain = ContextBuilder(linker.con, "usage_agg").ask
        outside = uids[-3:]
        assert asked.money_links(outside) == plain.money_links(outside)
        assert asked.account_rows(outside) == plain.account_rows(outside)
        assert asked.referral_chain(outside[0]) == plain.referral_chain(outside[0])
        # Inside the chunk the answers come from memory and equal the SQL's.
        inside = uids[:3]
        assert asked.money_links(inside) == plain.money_links(inside)
        assert asked.referrals(inside) == plain.referrals(inside)
        assert asked.account_rows(inside) == plain.account_rows(inside)
        assert asked.sensitive_events(inside) == plain.sensitive_events(inside)
        assert asked.lookalike_emails(inside[:1]) == plain.lookalike_emails(inside[:1])
    finally:
        linker.close()


def test_past_the_look_alike_limit_the_chunk_keeps_the_queries_rows(tmp_path: Path) -> None:
    """3,000 accounts on one stem: more candidates than LOOKALIKE_LIMIT for each account,
    and the chunk must keep the same first 500 as the single-account query."""
    from acctsec.link import query

    data = tmp_path / "data"
    data.mkdir()
    rows = [f"u{n:04d},abcdef{n}@x.io,2026-01-01T00:00:00Z" for n in range(3000)]
    (data / "accounts.csv").write_text("uid,email,created_at\n" + "\n".join(rows) + "\n",
                                       encoding="utf-8")
    import duckdb

    # Several threads, as a worker of a one-process run has: rows reach the window in
    # no fixed order.
    con = duckdb.connect(str(build_link_store(data, tmp_path / "links.duckdb")),
                         read_only=True, config={"threads": 4})
    try:
        chunk = ["u0000", "u0001", "u1234", "u2999"]
        asked = ChunkQueries(con, "usage_agg", chunk)
        for uid in chunk:
            mine = asked.lookalike_emails([uid])
            assert len(mine) == query.LOOKALIKE_LIMIT
            assert mine == query.lookalike_emails(con, [uid]), uid
    finally:
        con.close()
