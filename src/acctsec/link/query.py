"""The SQL that asks a source about a few accounts only: their values, and who else uses them."""

# SQL here is assembled from this module's constants and quoted file paths only;
# every value that comes from the data or the user is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from acctsec.link.sql import value_ok_sql
from acctsec.link.weights import HUB_LIMIT

if TYPE_CHECKING:
    import duckdb

Row = tuple[Any, ...]

# Protection changes that, shortly before money leaves, point at a takeover.
SENSITIVE_EVENTS = (
    "password_reset", "password_change", "email_change", "phone_change", "mfa_disable",
    "mfa_reset", "withdrawal_whitelist_off", "api_key_create", "withdrawal_address_add",
    "device_authorize", "account_freeze",
)

_IN = "(SELECT unnest($uids::VARCHAR[]))"


def hub_case() -> str:
    cases = " ".join(f"WHEN '{family}' THEN {limit}" for family, limit in HUB_LIMIT.items())
    return f"CASE family {cases} ELSE 50 END"


def shared_values(con: duckdb.DuckDBPyConnection, usage: str, uids: Sequence[str]) -> list[Row]:
    """(family, via, value, uid, first, last, n, org, accounts) for every value `uids` use.

    Values used by more accounts than the family's hub limit come back with the
    rows of `uids` only (and their population-wide account count).
    """
    sql = f"""
    WITH mine AS (SELECT DISTINCT family, value FROM {usage} WHERE uid IN {_IN}
                  AND {value_ok_sql('family', 'value')}),
    hits AS (
        SELECT u.family, u.via, u.value, u.uid, min(u.first_seen) AS first_seen,
               max(u.last_seen) AS last_seen, sum(u.n) AS n, max(u.org) AS org
        FROM {usage} u SEMI JOIN mine ON u.family = mine.family AND u.value = mine.value
        GROUP BY ALL),
    counted AS (SELECT family, value, count(DISTINCT uid) AS accounts FROM hits GROUP BY ALL)
    SELECT h.family, h.via, h.value, h.uid, h.first_seen, h.last_seen, h.n, h.org, c.accounts
    FROM hits h JOIN counted c USING (family, value)
    WHERE c.accounts <= {hub_case()} OR h.uid IN {_IN}
    ORDER BY h.family, h.value, h.uid, h.via
    """
    return con.execute(sql, {"uids": list(uids)}).fetchall()


# (uid, other uid, e-mail, other e-mail, other created_at, accounts on the stem) of the
# e-mails of `uids` against everyone else's: the same stem, the same local part, or
# a local part one edit away.
LOOKALIKE_MATCH = """o.uid <> me.uid AND o.norm <> me.norm AND (
        (length(me.stem) >= 5 AND o.stem = me.stem)
        OR (length(me.local) >= 5 AND o.local = me.local)
        OR (length(me.local) > 5 AND length(o.local) > 5
            AND abs(length(o.local) - length(me.local)) <= 1
            AND levenshtein(o.local, me.local) <= 1))"""
LOOKALIKE_PAIRS = f"""
    SELECT me.uid, o.uid AS other, me.norm, o.norm AS other_norm, o.created_at,
           o.stem_accounts
    FROM (SELECT * FROM emails WHERE uid IN {_IN}) me JOIN emails o ON {LOOKALIKE_MATCH}
"""
# The same rows where the link tables have `email_keys` (link.sql.create_emails): each
# part of the match is an equality, so the database finds the candidates by hash joins
# instead of comparing every e-mail of `uids` with every other (2 s for 200 accounts
# among 100,000). Two local parts one edit apart share a key: the shorter one whole,
# or both without the changed character. The candidates are then held to the match
# itself, pair by pair of (uid, e-mail), which gives each row of the plain form once.
LOOKALIKE_PAIRS_KEYED = f"""
    WITH me AS (SELECT * FROM emails WHERE uid IN {_IN}),
    candidates AS (
        SELECT me.uid, me.norm, o.uid AS o_uid, o.norm AS o_norm
        FROM me JOIN emails o ON o.stem = me.stem WHERE length(me.stem) >= 5
        UNION
        SELECT me.uid, me.norm, o.uid, o.norm
        FROM me JOIN emails o ON o.local = me.local WHERE length(me.local) >= 5
        UNION
        SELECT k.uid, k.norm, o.uid, o.norm
        FROM email_keys k JOIN email_keys o ON o.key = k.key WHERE k.uid IN {_IN})
    SELECT me.uid, o.uid AS other, me.norm, o.norm AS other_norm, o.created_at,
           o.stem_accounts
    FROM candidates c JOIN me ON me.uid = c.uid AND me.norm = c.norm
    JOIN emails o ON o.uid = c.o_uid AND o.norm = c.o_norm
    WHERE {LOOKALIKE_MATCH}
"""
LOOKALIKE_LIMIT = 500
LOOKALIKE_ORDER = "1, 2, 3, 4"
# The same order by name, for a window: inside OVER (…) a number is a constant.
LOOKALIKE_COLUMNS = "uid, other, norm, other_norm"


def lookalike_emails(con: duckdb.DuckDBPyConnection, uids: Sequence[str]) -> list[Row]:
    """(uid, other uid, e-mail, other e-mail, other created_at, accounts on the stem).

    Candidates only: the caller names the reason with intel.identity.lookalike_reason.
    """
    sql = f"{lookalike_pairs(con)} ORDER BY {LOOKALIKE_ORDER} LIMIT {LOOKALIKE_LIMIT}"
    return con.execute(sql, {"uids": list(uids)}).fetchall()


def lookalike_pairs(con: duckdb.DuckDBPyConnection) -> str:
    """LOOKALIKE_PAIRS, in its keyed form where the connection has `email_keys`."""
    row = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'email_keys' "
                      "AND database_name = current_database() "
                      "AND schema_name = current_schema()").fetchone()
    return LOOKALIKE_PAIRS_KEYED if row and row[0] else LOOKALIKE_PAIRS


def money_links(con: duckdb.DuckDBPyConnection, uids: Sequence[str]) -> list[Row]:
    """(uid, counterparty, kind, first, last, count, usd, amount, assets) of internal/P2P moves."""
    sql = f"""
    SELECT uid, counterparty_uid, kind, min(ts), max(ts), count(*), sum(usd_value),
           sum(amount), string_agg(DISTINCT asset, ',' ORDER BY asset)
    FROM transactions
    WHERE counterparty_uid IS NOT NULL AND counterparty_uid <> uid
      AND kind IN ('internal_in', 'internal_out', 'p2p_buy', 'p2p_sell')
      AND coalesce(status, '') NOT IN ('failed', 'cancelled')
      AND (uid IN {_IN} OR counterparty_uid IN {_IN})
    GROUP BY ALL ORDER BY 1, 2, 3
    """
    return con.execute(sql, {"uids": list(uids)}).fetchall()


def referrals(con: duckdb.DuckDBPyConnection, uids: Sequence[str]) -> list[Row]:
    """(uid, referrer, created_at) where one side is in `uids`."""
    sql = f"""
    SELECT uid, referrer_uid, created_at FROM accounts
    WHERE referrer_uid IS NOT NULL AND referrer_uid <> uid
      AND (uid IN {_IN} OR referrer_uid IN {_IN})
    ORDER BY 1, 2
    """
    return con.execute(sql, {"uids": list(uids)}).fetchall()


def referrer(con: duckdb.DuckDBPyConnection, uid: str) -> str | None:
    sql = "SELECT referrer_uid FROM accounts WHERE uid = $uid AND referrer_uid IS NOT NULL LIMIT 1"
    row = con.execute(sql, {"uid": uid}).fetchone()
    return None if row is None or row[0] is None else str(row[0])


def account_rows(con: duckdb.DuckDBPyConnection, uids: Iterable[str]) -> list[Row]:
    sql = f"""
    SELECT uid, email, phone, created_at, kyc_country, status, referrer_uid
    FROM accounts WHERE uid IN {_IN} ORDER BY uid
    """
    return con.execute(sql, {"uids": sorted(set(uids))}).fetchall()


def sensitive_events(con: duckdb.DuckDBPyConnection, uids: Iterable[str]) -> list[Row]:
    events = ", ".join(f"'{e}'" for e in SENSITIVE_EVENTS)
    sql = f"""
    SELECT uid, ts, event FROM security_events
    WHERE uid IN {_IN} AND event IN ({events}) AND ts IS NOT NULL ORDER BY uid, ts, event
    """
    return con.execute(sql, {"uids": sorted(set(uids))}).fetchall()


def alert_rows(con: duckdb.DuckDBPyConnection, uids: Iterable[str]) -> list[Row]:
    sql = (f"SELECT uid, ts, source, kind FROM alerts WHERE uid IN {_IN} "
           "ORDER BY uid, ts, source, kind")
    return con.execute(sql, {"uids": sorted(set(uids))}).fetchall()


def total_accounts(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute("SELECT count(DISTINCT uid) FROM accounts").fetchone()
    return int(row[0]) if row else 0


class Queries:
    """The questions a ContextBuilder asks, put to one connection and its table of uses.

    Batch runs subclass it to answer a chunk of accounts from rows fetched at once.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, usage: str = "usage") -> None:
        self.con = con
        self.usage = usage
        self._total: int | None = None

    def shared_values(self, uids: Sequence[str]) -> list[Row]:
        return shared_values(self.con, self.usage, uids)

    def lookalike_emails(self, uids: Sequence[str]) -> list[Row]:
        return lookalike_emails(self.con, uids)

    def money_links(self, uids: Sequence[str]) -> list[Row]:
        return money_links(self.con, uids)

    def referrals(self, uids: Sequence[str]) -> list[Row]:
        return referrals(self.con, uids)

    def referrer(self, uid: str) -> str | None:
        return referrer(self.con, uid)

    def referral_chain(self, uid: str, limit: int = 30) -> list[str]:
        """uid, its referrer, that one's referrer, … stopping at the first repeat (a cycle)."""
        chain = [uid]
        while len(chain) <= limit:
            found = self.referrer(chain[-1])
            if found is None:
                break
            chain.append(found)
            if found in chain[:-1]:
                break
        return chain

    def account_rows(self, uids: Iterable[str]) -> list[Row]:
        return account_rows(self.con, uids)

    def sensitive_events(self, uids: Iterable[str]) -> list[Row]:
        return sensitive_events(self.con, uids)

    def alert_rows(self, uids: Iterable[str]) -> list[Row]:
        return alert_rows(self.con, uids)

    def total_accounts(self) -> int:
        """Counted once: the connection's tables do not change while it is asked."""
        if self._total is None:
            self._total = total_accounts(self.con)
        return self._total
