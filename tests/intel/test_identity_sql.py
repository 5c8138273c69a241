"""The SQL twins of e-mail and phone normalisation agree with the Python ones."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from acctsec.intel.identity import normalize_email, normalize_phone
from acctsec.link.sql import connect, email_norm_stage, phone_norm_stage

# ASCII plus a few characters that matter in addresses; exotic Unicode case folding may
# differ between DuckDB and Python and only changes which junk matches which junk.
ADDRESS_TEXT = st.lists(
    st.sampled_from(list("abcXYZ019.+-_@ \t\n\"[]()") + ["gmail.com", "googlemail.com"]),
    max_size=20,
).map("".join)

_CON = connect()


def _sql(stage: object, raw: str) -> str | None:
    source = "SELECT 'u', CAST($raw AS VARCHAR), NULL::TIMESTAMP, NULL::VARCHAR"
    sql = f"SELECT value FROM ({stage(source)})"  # type: ignore[operator]
    row = _CON.execute(sql, {"raw": raw}).fetchone()
    return None if row is None else row[0]


@given(ADDRESS_TEXT)
@settings(max_examples=300, deadline=None)
def test_email_sql_matches_python(raw: str) -> None:
    assert _sql(email_norm_stage, raw) == normalize_email(raw)


@given(st.text(alphabet=st.sampled_from(list("0123456789+- ()x\t")), max_size=25))
@settings(max_examples=300, deadline=None)
def test_phone_sql_matches_python(raw: str) -> None:
    assert _sql(phone_norm_stage, raw) == normalize_phone(raw)
