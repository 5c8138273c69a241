"""The quick paths of the link step give the values the plain ones give."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from acctsec.link.context import utc
from acctsec.link.weights import apart


@given(st.datetimes())
def test_utc_is_replace_tzinfo(naive: datetime) -> None:
    aware = utc(naive)
    assert aware == naive.replace(tzinfo=UTC)
    assert repr(aware) == repr(naive.replace(tzinfo=UTC))


def test_utc_keeps_aware_times_and_drops_what_is_not_a_time() -> None:
    moscow = datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=3)))
    assert utc(moscow) is moscow
    assert utc(None) is None
    assert utc("2026-01-01") is None


def test_apart_is_zero_on_overlap_and_none_when_a_time_is_missing() -> None:
    day = timedelta(days=1)
    t = datetime(2026, 1, 1, tzinfo=UTC)
    assert apart((t, t + day), (t + 3 * day, t + 4 * day)) == 2 * day
    assert apart((t + 3 * day, t + 4 * day), (t, t + day)) == 2 * day
    assert apart((t, t + 2 * day), (t + day, t + 3 * day)) == timedelta(0)
    assert apart((t, None), (t, t)) is None
