"""The keyed look-alike query finds exactly the rows of the plain one, on any addresses."""

from __future__ import annotations

from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from acctsec.link.query import LOOKALIKE_PAIRS, LOOKALIKE_PAIRS_KEYED, lookalike_pairs
from acctsec.link.sql import connect, create_emails

# Few letters, so stems and local parts collide; two accented letters, as DuckDB's
# levenshtein counts bytes and its substr characters. Most addresses are one random
# edit (or none) away from another, so every part of the match is exercised.
LETTERS = list("abé1._ñ")
LOCAL = st.lists(st.sampled_from(LETTERS), min_size=3, max_size=9).map("".join)


@st.composite
def _edited(draw: st.DrawFn) -> tuple[str, str]:
    local = draw(LOCAL)
    at = draw(st.integers(0, len(local)))
    letter = draw(st.sampled_from(LETTERS))
    edit = draw(st.sampled_from(["same", "substitute", "insert", "delete"]))
    if edit == "substitute" and at < len(local):
        return local, local[:at] + letter + local[at + 1:]
    if edit == "insert":
        return local, local[:at] + letter + local[at:]
    if edit == "delete" and at < len(local):
        return local, local[:at] + local[at + 1:]
    return local, local


@st.composite
def _accounts(draw: st.DrawFn) -> list[tuple[int, str, str]]:
    pairs = draw(st.lists(_edited(), min_size=1, max_size=12))
    locals_ = [x for pair in pairs for x in pair]
    return [(draw(st.integers(0, 12)), local, draw(st.sampled_from(["x.io", "y.io"])))
            for local in locals_]


ACCOUNTS = _accounts()


def _connection(accounts: list[tuple[int, str, str]]):  # type: ignore[no-untyped-def]
    con = connect()
    con.execute("CREATE TABLE accounts (uid VARCHAR, email VARCHAR, created_at TIMESTAMP)")
    con.executemany("INSERT INTO accounts VALUES (?, ?, ?)",
                    [(f"u{n}", f"{local}@{domain}", datetime(2026, 1, 1 + n))
                     for n, local, domain in accounts])
    create_emails(con, "TABLE")
    return con


@given(ACCOUNTS, st.sets(st.integers(0, 12), min_size=1, max_size=4))
@settings(max_examples=300, deadline=None)
def test_keyed_lookalikes_equal_plain(accounts: list[tuple[int, str, str]],
                                      asked: set[int]) -> None:
    con = _connection(accounts)
    uids = {"uids": [f"u{n}" for n in asked]}
    plain = sorted(con.execute(LOOKALIKE_PAIRS, uids).fetchall())
    keyed = sorted(con.execute(LOOKALIKE_PAIRS_KEYED, uids).fetchall())
    assert keyed == plain


def test_keyed_form_is_used_where_the_keys_exist() -> None:
    con = _connection([(1, "abcdefg", "x.io"), (2, "abcdefh", "x.io"), (3, "zzzzzz", "x.io")])
    assert lookalike_pairs(con) == LOOKALIKE_PAIRS_KEYED
    pairs = con.execute(LOOKALIKE_PAIRS_KEYED, {"uids": ["u1"]}).fetchall()
    assert [(r[0], r[1]) for r in pairs] == [("u1", "u2")]  # one edit away; u3 is not
    con.execute("DROP TABLE email_keys")
    assert lookalike_pairs(con) == LOOKALIKE_PAIRS
