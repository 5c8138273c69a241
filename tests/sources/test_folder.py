"""The folder source: formats, contract problems, strictness, population figures."""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acctsec.errors import InputError
from acctsec.model import PopulationQuery, RowRef
from acctsec.sources.folder import FolderSource
from acctsec.sources.parse import (
    RowError,
    cells_builder,
    login_from_row,
    parse_time,
    transaction_from_row,
)

ACCOUNTS = [
    {"uid": "7", "email": "a@example.com", "kyc_level": "2", "status": "active",
     "restrictions": "withdraw;api", "vip_tier": "gold"},
    {"uid": "8", "email": "b@example.com", "kyc_level": "", "status": "", "restrictions": "",
     "vip_tier": ""},
]
LOGINS = [
    {"ts": "2026-10-01T10:00:00+02:00", "uid": "7", "event": "login_success", "ip": "1.2.3.4",
     "device_id": "d1", "session_id": "s1"},
    {"ts": "1790000000", "uid": "7", "event": "login_failure", "ip": "5.6.7.8",
     "device_id": "", "session_id": ""},
    {"ts": "1790000000000", "uid": "8", "event": "login_failure", "ip": "5.6.7.8",
     "device_id": "", "session_id": ""},
    {"ts": "yesterday", "uid": "7", "event": "login_success", "ip": "1.2.3.4",
     "device_id": "d1", "session_id": ""},
    {"ts": "2026-10-02T10:00:00Z", "uid": "7", "event": "teleport", "ip": "1.2.3.4",
     "device_id": "d1", "session_id": ""},
]


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "wt", newline="", encoding="utf-8") as fh:  # type: ignore[operator]
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def write_jsonl(path: Path, rows: list[dict[str, str]]) -> None:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "wt", encoding="utf-8") as fh:  # type: ignore[operator]
        for row in rows:
            fh.write(json.dumps(row) + "\n")


def write_parquet(path: Path, rows: list[dict[str, str]]) -> None:
    pq.write_table(pa.Table.from_pylist(rows), path)


WRITERS = {".csv": write_csv, ".csv.gz": write_csv, ".jsonl": write_jsonl,
           ".jsonl.gz": write_jsonl, ".parquet": write_parquet}


@pytest.fixture(params=list(WRITERS))
def folder(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    suffix = request.param
    WRITERS[suffix](tmp_path / f"accounts{suffix}", ACCOUNTS)
    WRITERS[suffix](tmp_path / f"logins{suffix}", LOGINS)
    return tmp_path


def test_every_format_reads_the_same_records(folder: Path) -> None:
    records = FolderSource(folder).account("7")
    assert records.account.email == "a@example.com"
    assert records.account.kyc_level == 2
    assert records.account.restrictions == ("withdraw", "api")
    assert records.account.extra == {"vip_tier": "gold"}
    assert [lg.event for lg in records.logins] == ["login_failure", "login_success"]
    # The offset is honoured; epoch seconds are read as UTC.
    assert records.logins[1].ts == datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
    assert records.logins[0].ts == datetime.fromtimestamp(1790000000, tz=UTC)


def test_rows_that_break_the_contract_are_reported_and_skipped(folder: Path) -> None:
    records = FolderSource(folder).account("7")
    reasons = {p.line: p.reason for p in records.problems}
    assert len(records.problems) == 2
    assert any("'yesterday'" in r for r in reasons.values())
    assert any("'teleport'" in r for r in reasons.values())
    if folder.joinpath("logins.csv").exists():
        # CSV lines count the header: the 4th data row is line 5.
        assert "'yesterday'" in reasons[5]


def test_strict_turns_the_first_problem_into_an_error(folder: Path) -> None:
    with pytest.raises(InputError, match="yesterday|teleport"):
        FolderSource(folder, strict=True).account("7")


def test_unknown_uid_and_missing_source_are_input_errors(folder: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown uid '99'"):
        FolderSource(folder).account("99")
    with pytest.raises(InputError, match="does not exist"):
        FolderSource(tmp_path / "nope")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="no accounts file"):
        FolderSource(empty)


def test_population_counts_failures_across_accounts(folder: Path) -> None:
    stats = FolderSource(folder).population(PopulationQuery(ips=frozenset({"5.6.7.8"})))
    ip = stats.ips["5.6.7.8"]
    assert (ip.failures, ip.failure_accounts, ip.successes) == (2, 2, 0)
    assert stats.total_logins == len(LOGINS)


def test_malformed_lines_do_not_stop_the_run(tmp_path: Path) -> None:
    write_csv(tmp_path / "accounts.csv", ACCOUNTS)
    (tmp_path / "transactions.jsonl").write_text(
        '{"ts": "2026-10-01T00:00:00Z", "uid": "7", "kind": "deposit", "asset": "usdt", '
        '"amount": "10.50"}\n'
        "not json\n"
        '{"ts": "2026-10-01T00:00:00Z", "uid": "7", "kind": "deposit", "asset": "BTC", '
        '"amount": "-1"}\n'
        + "[" * 5000 + "\n",
        encoding="utf-8",
    )
    records = FolderSource(tmp_path).account("7")
    assert [t.amount for t in records.transactions] == [Decimal("10.50")]
    assert records.transactions[0].asset == "USDT"
    assert {p.line for p in records.problems} >= {3}


def test_an_address_that_is_no_ip_is_a_row_problem_naming_it(tmp_path: Path) -> None:
    """A placeholder such as "unknown" would otherwise be one 'IP' shared by every
    account that logged it: a stuffing campaign and a ring out of a logging gap."""
    write_csv(tmp_path / "accounts.csv", ACCOUNTS)
    good = {"ts": "2026-10-01T10:00:00Z", "uid": "7", "event": "login_success"}
    write_csv(tmp_path / "logins.csv", [{**good, "ip": "2001:db8::1"}, {**good, "ip": ""},
                                        {**good, "ip": "unknown"}, {**good, "ip": "1.2.3.400"}])
    records = FolderSource(tmp_path).account("7")
    # the rows are kept (a sign-in happened), their address unknown
    assert [lg.ip for lg in records.logins] == ["2001:db8::1", None, None, None]
    kept = "(the row is kept, the address read as unknown)"
    assert [(p.line, p.reason) for p in records.problems] == [
        (4, f"ip 'unknown' is not an IPv4 or IPv6 address {kept}"),
        (5, f"ip '1.2.3.400' is not an IPv4 or IPv6 address {kept}")]
    with pytest.raises(InputError, match="1.2.3.400|unknown"):
        FolderSource(tmp_path, strict=True).account("7")


def test_a_withdrawal_logged_without_a_real_address_still_moved_the_money(
        tmp_path: Path) -> None:
    write_csv(tmp_path / "accounts.csv", ACCOUNTS)
    write_csv(tmp_path / "transactions.csv", [
        {"ts": "2026-10-01T10:00:00Z", "uid": "7", "kind": "withdrawal", "asset": "BTC",
         "amount": "1.5", "ip": "203.0.113.5:51234"}])
    records = FolderSource(tmp_path).account("7")
    assert [(t.amount, t.ip) for t in records.transactions] == [(Decimal("1.5"), None)]
    assert "203.0.113.5:51234" in records.problems[0].reason


def test_times_accept_iso_epoch_seconds_and_milliseconds() -> None:
    assert parse_time("2026-11-20T10:00:00Z") == datetime(2026, 11, 20, 10, tzinfo=UTC)
    assert parse_time("2026-11-20 10:00:00") == datetime(2026, 11, 20, 10, tzinfo=UTC)
    assert parse_time(1763632800) == parse_time("1763632800000")
    assert parse_time("") is None
    with pytest.raises(RowError):
        parse_time("20/11/2026")


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(
    st.sampled_from(["ts", "uid", "event", "ip", "asn", "lat", "amount", "kind", "asset",
                     "chargeback", "usd_value", "detail", "extra"]),
    st.one_of(st.text(), st.integers(), st.floats(), st.none(), st.booleans()),
))
def test_any_cell_values_give_a_record_or_a_row_error(row: dict[str, object]) -> None:
    for build in (login_from_row, transaction_from_row):
        try:
            build(row, RowRef("f.csv", 2))
        except RowError as exc:
            assert str(exc)


LOGIN_HEADERS = st.lists(st.sampled_from(["ts", "uid", "event", "ip", "user_agent", "device_id",
                                           "session_id", "mfa_method", "channel",
                                           "failure_reason", "country", "vip"]),
                         min_size=1, unique=True)


@settings(max_examples=300, deadline=None)
@given(LOGIN_HEADERS.flatmap(lambda header: st.tuples(st.just(header), st.lists(
    st.sampled_from(["", " ", "NULL", "7", "login_success", "MFA_Failure", "teleport",
                     "2026-10-01T10:00:00+02:00", "1790000000", "yesterday", " 1.2.3.4 ",
                     "API", "DE"]), min_size=len(header), max_size=len(header)))))
def test_sign_ins_built_from_cells_equal_those_built_from_dicts(
        header_cells: tuple[list[str], list[str]]) -> None:
    header, cells = header_cells
    origin = RowRef("logins.csv", 2)

    def outcome(build: Callable[[], object]) -> object:
        try:
            return build()
        except RowError as exc:
            return f"RowError: {exc}"

    assert outcome(lambda: cells_builder("logins", header)(cells, origin)) == \
        outcome(lambda: login_from_row(dict(zip(header, cells, strict=True)), origin))


def test_population_from_remembered_rows_equals_a_second_pass(folder: Path) -> None:
    from acctsec.service import population_query

    warm = FolderSource(folder)
    records = warm.account("7")
    query = population_query(records)
    cold = FolderSource(folder)
    assert warm.population(query) == cold.population(query)
    assert warm.population(query).ips["5.6.7.8"].failure_accounts == 2


def test_offsets_are_converted_to_utc_and_huge_amounts_are_row_problems(tmp_path: Path) -> None:
    write_csv(tmp_path / "accounts.csv", ACCOUNTS)
    (tmp_path / "transactions.csv").write_text(
        "ts,uid,kind,asset,amount\n"
        "2026-03-01T10:05:00+05:00,7,deposit,BTC,1\n"
        "2026-03-01T10:05:00Z,7,deposit,BTC,1e999999999\n", encoding="utf-8")
    (tmp_path / "logins.jsonl").write_text(
        '{"ts": "2026-03-01T00:00:00Z", "uid": "8", "event": "login_success", '
        '"device_id": [1], "asn": "3320.0"}\n', encoding="utf-8")
    source = FolderSource(tmp_path)
    records = source.account("7")
    assert records.transactions[0].ts == datetime(2026, 3, 1, 5, 5, tzinfo=UTC)
    assert records.transactions[0].ts.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert "out of range" in records.problems[0].reason
    # An unhashable cell from JSON does not break the population pass.
    assert source.population(PopulationQuery(devices=frozenset({"[1]"}))).devices


def test_a_column_twice_in_the_header_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "accounts.csv").write_text("uid,email,uid\n7,a@x,8\n", encoding="utf-8")
    with pytest.raises(InputError, match="'uid' appears twice"):
        FolderSource(tmp_path).account("7")


def test_a_bad_optional_geo_cell_keeps_the_sign_in(tmp_path: Path) -> None:
    write_csv(tmp_path / "accounts.csv", ACCOUNTS)
    (tmp_path / "logins.csv").write_text(
        "ts,uid,event,ip,lat,asn\n2026-03-01T00:00:00Z,7,login_success,1.2.3.4,north,3320.0\n",
        encoding="utf-8")
    records = FolderSource(tmp_path).account("7")
    assert len(records.logins) == 1 and not records.problems


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_read_columns_gives_the_whole_rows_values_as_read_rows_does(
        tmp_path: Path, suffix: str) -> None:
    """The population pass's reader: the same values as `read_rows` for the rows it
    yields whole, None for an absent column, problem rows left out."""
    from acctsec.sources.folder import read_columns, read_rows

    path = tmp_path / f"logins{suffix}"
    if suffix == ".csv":
        path.write_text("uid,ip,event\n1,1.2.3.4,login_success\nragged\n 2 ,,x\n",
                        encoding="utf-8")
    else:
        path.write_text('{"uid": "1", "ip": "1.2.3.4", "event": "login_success"}\n'
                        "{not json\n"
                        '{"uid": 2, "ip": null, "event": "x"}\n', encoding="utf-8")
    columns = ("uid", "event", "device_id", "ip")
    expected = [tuple(row.get(c) for c in columns)
                for _, row in read_rows(path, lambda _: True) if "__problem__" not in row]
    assert list(read_columns(path, columns)) == expected
    assert len(expected) == 2 and expected[0][2] is None
