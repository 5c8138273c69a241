"""Every generated row obeys the input contract, and the truth file covers every account."""

from __future__ import annotations

from synth.synth_contract import row_problems

TABLES = ("accounts", "logins", "security_events", "transactions", "alerts")


def test_every_row_obeys_the_contract(tables: dict[str, list[dict[str, str]]]) -> None:
    uids = {r["uid"] for r in tables["accounts"]}
    problems = [
        f"{t}:{i + 2}: {p}"
        for t in TABLES
        for i, row in enumerate(tables[t])
        for p in row_problems(t, dict(row), uids)
    ]
    assert problems == []


def test_contract_checker_catches_broken_rows() -> None:
    uids = {"1"}
    assert row_problems("logins", {"ts": "yesterday", "uid": "1", "event": "login"}, uids)
    assert row_problems("transactions", {"ts": "2026-01-01T00:00:00Z", "uid": "2",
                                         "kind": "deposit", "asset": "BTC", "amount": "-1"}, uids)


def test_uids_are_numeric_and_unique(tables: dict[str, list[dict[str, str]]]) -> None:
    uids = [r["uid"] for r in tables["accounts"]]
    assert len(uids) == len(set(uids)) and all(u.isdigit() for u in uids)
    assert 250 <= len(uids) <= 400


def test_truth_covers_every_uid(tables: dict[str, list[dict[str, str]]]) -> None:
    truth = {r["uid"]: r for r in tables["truth"]}
    assert set(truth) == {r["uid"] for r in tables["accounts"]}
    assert {r["label"] for r in truth.values()} == {"takeover", "fraud", "clear"}
    assert all(r["family"] and r["description"] for r in truth.values())


def test_first_phishing_is_10007(tables: dict[str, list[dict[str, str]]]) -> None:
    truth = {r["uid"]: r for r in tables["truth"]}
    assert truth["10007"]["family"] == "phishing"
    assert truth["10007"]["label"] == "takeover"


def test_every_family_has_several_accounts(tables: dict[str, list[dict[str, str]]]) -> None:
    counts: dict[str, int] = {}
    for r in tables["truth"]:
        counts[r["family"]] = counts.get(r["family"], 0) + 1
    expected = {"phishing", "sim_swap", "stolen_session", "credential_stuffing",
                "slow_takeover", "traveller", "new_phone", "vpn_always", "shared_ip",
                "big_withdrawal", "forgot_password", "stuffing_survivor",
                "shared_device_couple", "wallet_trader", "ring", "money_mule", "chargeback",
                "ordinary"}
    assert set(counts) == expected
    assert all(n >= 3 for n in counts.values()), counts


def test_takeovers_drain_to_an_address_or_a_mule(tables: dict[str, list[dict[str, str]]]) -> None:
    takeovers = {r["uid"] for r in tables["truth"] if r["label"] == "takeover"}
    out = {r["uid"] for r in tables["transactions"]
           if r["kind"] in ("withdrawal", "internal_out")}
    assert takeovers <= out


def test_data_folder_holds_only_contract_tables(dataset) -> None:
    names = sorted(p.name for p in (dataset / "data").iterdir())
    assert names == sorted(f"{t}.csv" for t in TABLES)
    assert (dataset / "truth.csv").exists()
