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
        # The rows of every value, in the SQL's order (the chunk reads them in vid order).
        assert asked.shared_values(uids[:10]) == plain.shared_values(uids[:10])
        assert asked.shared_values(inside[:1]) == plain.shared_values(inside[:1])
        values = linker.con.execute("SELECT family, value FROM value_counts ORDER BY vid")
        numbered = values.fetchall()
        assert numbered == sorted(numbered) and len(numbered) > 100
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


def test_hub_values_give_the_chunk_the_same_rows_as_the_query(tmp_path: Path) -> None:
    """One IP used by more accounts than its hub limit, one by exactly the limit, one
    device id by two: the chunk's rows (counts taken from the store's value_counts) are
    query.shared_values's, hub rows only for the asking accounts."""
    from acctsec.link import query
    from acctsec.link.weights import HUB_LIMIT

    data = tmp_path / "data"
    data.mkdir()
    hub, edge = HUB_LIMIT["ip"] + 1, HUB_LIMIT["ip"]
    uids = [f"u{n:03d}" for n in range(hub + edge)]
    (data / "accounts.csv").write_text(
        "uid,email,created_at\n" + "".join(f"{u},{u}@x.io,2026-01-01T00:00:00Z\n" for u in uids),
        encoding="utf-8")
    logins = ["uid,ts,ip,device_id,event"]
    for n, uid in enumerate(uids):
        ip = "203.0.113.7" if n < hub else "198.51.100.9"
        device = "dev-shared" if n in (0, hub) else f"dev-{n}"
        logins.append(f"{uid},2026-02-0{1 + n % 9}T10:00:00Z,{ip},{device},login_success")
    (data / "logins.csv").write_text("\n".join(logins) + "\n", encoding="utf-8")
    linker = Linker(build_link_store(data, tmp_path / "links.duckdb"))
    try:
        counts = dict(linker.con.execute(
            "SELECT value, accounts FROM value_counts WHERE family = 'ip'").fetchall())
        assert counts == {"203.0.113.7": hub, "198.51.100.9": edge}
        plain = ContextBuilder(linker.con, "usage_agg")
        for chunk in (["u000", "u001"], [uids[hub], uids[-1]], uids[hub - 2:hub + 2]):
            asked = ChunkQueries(linker.con, "usage_agg", chunk)
            for uid in chunk:
                assert asked.shared_values([uid]) == query.shared_values(
                    linker.con, "usage_agg", [uid]), uid
            linker.prepare(chunk)
            for uid in chunk:
                context = linker.context(uid)
                assert context == plain.build(uid, depth=1), uid
                assert [h.value for h in context.hubs] == (["203.0.113.7"] if uid in uids[:hub]
                                                           else [])
    finally:
        linker.close()
