"""One order of records for every source: time, then sign-in before what its session does."""

from __future__ import annotations

from datetime import UTC, datetime

from acctsec.model import Account, Login
from acctsec.sources.records import assemble

T = datetime(2026, 10, 1, tzinfo=UTC)


def test_a_refresh_listed_before_its_sign_in_at_the_same_instant_comes_after() -> None:
    refresh = Login(ts=T, uid="1", event="session_refresh", session_id="s")
    login = Login(ts=T, uid="1", event="login_success", session_id="s")
    failure = Login(ts=T, uid="1", event="login_failure")
    records = assemble(Account(uid="1"), {"logins": [refresh, login, failure]}, [])
    assert [x.event for x in records.logins] == ["login_failure", "login_success",
                                                 "session_refresh"]
