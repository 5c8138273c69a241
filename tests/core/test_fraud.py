"""Fraud detectors on hand-made records and link contexts."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from acctsec.core.fraud import fraud_actions, fraud_signals, linked_accounts
from acctsec.core.signals import BENIGN, FRAUD, Signal
from acctsec.link.model import AccountInfo, Edge, LinkContext, Member, SharedValue
from acctsec.model import Account, AccountRecords, Alert, Transaction

T0 = datetime(2026, 9, 1, tzinfo=UTC)


def _t(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def _tx(hours: float, kind: str, usd: str, **kw: object) -> Transaction:
    return Transaction(ts=_t(hours), uid="a", kind=kind, asset="USDT", amount=Decimal(usd),
                       usd_value=Decimal(usd), **kw)  # type: ignore[arg-type]


def _records(*txs: Transaction, created: float = -24 * 400, alerts: tuple[Alert, ...] = ()
             ) -> AccountRecords:
    return AccountRecords(Account("a", created_at=_t(created)), transactions=tuple(txs),
                          alerts=alerts)


def _ids(signals: list) -> dict[str, float]:  # type: ignore[type-arg]
    return {s.id: s.weight for s in signals}


def _device_ctx(n: int, spread_days: float, payout: bool = False) -> LinkContext:
    uids = ["a"] + [f"o{i}" for i in range(1, n)]
    created = {u: T0 + timedelta(days=spread_days * i / max(1, n - 1)) for i, u in enumerate(uids)}
    members = tuple(Member(u, created[u], created[u] + timedelta(days=3), 5, "device_id")
                    for u in uids)
    shared = [SharedValue("device_id", "dev1", n, members)]
    edges = [Edge("a", u, "device_id", "dev1", created[u], created[u], 2.5, n) for u in uids[1:]]
    if payout:
        pm = tuple(Member(u, created[u], created[u], 1, "withdrawal_address") for u in uids)
        shared.append(SharedValue("address", "0xpay", n, pm))
        edges += [Edge("a", u, "withdrawal_address", "0xpay", None, None, 2.0, n)
                  for u in uids[1:]]
    return LinkContext("a", 1, {u: AccountInfo(u, created_at=created[u]) for u in uids},
                       tuple(edges), tuple(shared))


def test_ring_on_one_device_with_one_payout() -> None:
    ctx = _device_ctx(6, spread_days=3, payout=True)
    signals = fraud_signals(AccountRecords(Account("a", created_at=T0)), ctx)
    found = _ids(signals)
    assert found["shared_device_ring"] == 3.0
    assert found["shared_payout_address"] == 2.5
    assert all(s.direction == FRAUD for s in signals)
    ring = next(s for s in signals if s.id == "shared_device_ring")
    assert len(ring.evidence["opened_together"]) == 6
    assert {a["action"] for a in fraud_actions(signals)} >= {"freeze_account", "hold_funds",
                                                             "report", "review_linked_accounts"}


def test_household_device_is_benign() -> None:
    ctx = _device_ctx(2, spread_days=700)
    signals = fraud_signals(AccountRecords(Account("a", created_at=T0)), ctx)
    assert [(s.id, s.direction) for s in signals] == [("household_scale_sharing", BENIGN)]
    assert fraud_actions(signals) == []


def test_many_accounts_on_a_device_spread_over_years_is_only_medium() -> None:
    found = _ids(fraud_signals(AccountRecords(Account("a", created_at=T0)),
                               _device_ctx(6, spread_days=900)))
    assert found == {"shared_device_ring": 1.5}


def _mule_txs(sources: int, out_after_h: float, reuse: bool = False) -> list[Transaction]:
    txs = []
    for i in range(sources):
        address = f"T{i % 3 if reuse else i}"
        txs.append(_tx(i * 48, "deposit", "500", address=address))
        txs.append(_tx(i * 48 + out_after_h, "withdrawal", "490", address="TExit"))
    return txs


def test_money_mule_pass_through() -> None:
    ctx = LinkContext("a", 1, {}, ())
    found = _ids(fraud_signals(_records(*_mule_txs(6, out_after_h=2)), ctx))
    assert found == {"money_mule_pass_through": 3.0}


def test_trader_with_recurring_own_wallets_is_no_mule() -> None:
    ctx = LinkContext("a", 1, {}, ())
    assert _ids(fraud_signals(_records(*_mule_txs(9, out_after_h=2, reuse=True)), ctx)) == {}


def test_saver_who_holds_is_no_mule() -> None:
    ctx = LinkContext("a", 1, {}, ())
    assert "money_mule_pass_through" not in _ids(
        fraud_signals(_records(*_mule_txs(6, out_after_h=24 * 10)), ctx))


def test_inflow_from_taken_over_account() -> None:
    victim = AccountInfo("v", security_changes=((_t(-3), "password_reset"),))
    ctx = LinkContext("a", 1, {"v": victim}, (Edge("v", "a", "internal_transfer", None, _t(0),
                                                   _t(0), 1.0),))
    records = _records(_tx(0, "internal_in", "900", counterparty_uid="v"))
    signal = next(s for s in fraud_signals(records, ctx)
                  if s.id == "inflow_from_taken_over_accounts")
    assert signal.weight == 2.0
    assert "password_reset 3 h before" in signal.evidence["senders"]["v"]["hint"]
    # a reset a week before is the owner's own business
    old = AccountInfo("v", security_changes=((_t(-24 * 7), "password_reset"),))
    assert not fraud_signals(records, LinkContext("a", 1, {"v": old}, ()))


def test_chargeback_then_cash_out_is_critical() -> None:
    records = _records(
        _tx(0, "fiat_deposit", "1000", payment_method="card", chargeback=True),
        _tx(0.5, "withdrawal", "980", address="bc1qxyz"), created=-24 * 5,
    )
    [signal] = fraud_signals(records, LinkContext("a", 1, {}, ()))
    assert (signal.id, signal.severity, signal.weight) == ("chargeback_fraud", "critical", 4.0)


def test_card_then_withdrawal_without_chargeback_is_weak() -> None:
    records = _records(_tx(0, "fiat_deposit", "1000", payment_method="card"),
                       _tx(5, "withdrawal", "990", address="bc1qxyz"))
    [signal] = fraud_signals(records, LinkContext("a", 1, {}, ()))
    assert signal.id == "fiat_in_crypto_out" and signal.weight < 1.5
    # even on an account opened days before, to an address never paid: still under a look
    new = _records(_tx(0, "fiat_deposit", "1000", payment_method="card"),
                   _tx(5, "withdrawal", "990", address="bc1qxyz"), created=-24 * 2)
    [signal] = fraud_signals(new, LinkContext("a", 1, {}, ()))
    assert signal.id == "fiat_in_crypto_out" and signal.weight == 1.2


def test_deposit_from_flagged_or_victim_address() -> None:
    victim = AccountInfo("v", security_changes=((_t(-1), "mfa_disable"),))
    edge = Edge("v", "a", "address_flow", "0xloot", _t(0), _t(0), 1.5)
    records = _records(_tx(2, "deposit", "700", address="0xLOOT"),
                       _tx(3, "deposit", "50", address="0xHack"))
    found = _ids(fraud_signals(records, LinkContext("a", 1, {"v": victim}, (edge,)),
                               address_labels={"0xhack": "hack"}))
    assert found["received_stolen_funds"] == 2.5
    assert found["deposit_from_flagged_address"] == 3.0


def test_linked_accounts_report_shape() -> None:
    ctx = _device_ctx(3, spread_days=1, payout=True)
    rows = linked_accounts(ctx, labels={"o1": "fraud"})
    assert [r["uid"] for r in rows] == ["o1", "o2"]
    assert rows[0]["via"] == ["device_id", "withdrawal_address"]
    assert rows[0]["label"] == "fraud" and rows[1]["label"] is None
    assert rows[0]["role"] == "same_holder_likely"


def _lookalike_ctx(namesakes: int) -> LinkContext:
    """`namesakes` look-alike e-mails; two of them opened in the same week as "a"."""
    uids = ["a"] + [f"n{i}" for i in range(namesakes)]
    created = {u: T0 - timedelta(days=30 * i) for i, u in enumerate(uids)}
    created["n0"], created["n1"] = T0 + timedelta(days=1), T0 + timedelta(days=2)
    edges = tuple(Edge("a", u, "email_lookalike", f"j.smith ~ {u}", created[u], created[u],
                       0.4, detail={"reason": "stem", "emails": ["jsmith@x.io", f"{u}@x.io"]})
                  for u in uids[1:])
    return LinkContext("a", 1, {u: AccountInfo(u, created_at=created[u]) for u in uids}, edges)


def test_lookalikes_opened_in_one_week_corroborate_only_among_few() -> None:
    records = AccountRecords(Account("a", created_at=T0))
    few = next(s for s in fraud_signals(records, _lookalike_ctx(5))
               if s.id == "lookalike_identities")
    assert few.evidence["corroborated"] == ["n0", "n1"] and few.weight >= 1.0
    # the week alone, with no device, mailbox, phone or payout in common: a look, not fraud
    strong = _lookalike_ctx(5)
    strong = LinkContext("a", 1, strong.accounts, tuple(
        dataclasses.replace(e, weight=1.5) for e in strong.edges))
    week = next(s for s in fraud_signals(records, strong) if s.id == "lookalike_identities")
    assert week.weight == 1.5
    device = Edge("a", "n0", "device_id", "dev1", T0, T0, 2.5)
    ring = LinkContext("a", 1, strong.accounts, (*strong.edges, device))
    with_device = next(s for s in fraud_signals(records, ring)
                       if s.id == "lookalike_identities")
    assert with_device.weight == 3.0
    # A common name: hundreds of namesakes, some of whom sign up in any given week.
    many = next(s for s in fraud_signals(records, _lookalike_ctx(300))
                if s.id == "lookalike_identities")
    assert many.evidence["corroborated"] == [] and many.weight == 0.3


def test_one_dispute_the_balance_still_covers_is_no_scheme_but_repeats_are() -> None:
    """A single charged-back card deposit with nothing sent out after it (a mistaken or
    "friendly" dispute) is worth a look, not a freeze; disputes that repeat are fraud."""
    one = _records(_tx(0, "fiat_deposit", "150", payment_method="card", chargeback=True),
                   _tx(24 * 20, "fiat_deposit", "200", payment_method="card"))
    [signal] = fraud_signals(one, LinkContext("a", 1, {}, ()))
    assert (signal.id, signal.severity, signal.weight) == ("chargeback_dispute", "medium", 1.5)
    assert signal.weight < 3.0  # FRAUD_THRESHOLD: not fraud on its own
    three = _records(*(_tx(24 * 7 * i, "fiat_deposit", "150", payment_method="card",
                           chargeback=True) for i in range(3)))
    [signal] = fraud_signals(three, LinkContext("a", 1, {}, ()))
    assert signal.weight >= 3.0 and (signal.id, signal.severity) == ("chargeback_fraud", "high")
    # sold on P2P an hour after the card paid: the money left, whatever the route
    sold = _records(_tx(0, "fiat_deposit", "5000", payment_method="card", chargeback=True),
                    _tx(1, "p2p_sell", "4990", counterparty_uid="buyer"))
    [signal] = fraud_signals(sold, LinkContext("a", 1, {}, ()))
    assert (signal.id, signal.severity, signal.weight) == ("chargeback_fraud", "critical", 4.0)


def test_a_mule_cashing_out_through_p2p_sales_is_a_mule() -> None:
    """Each P2P sale goes to whichever buyer the marketplace matched: one way out."""
    txs = []
    for i in range(6):
        txs.append(_tx(i * 30, "internal_in", "800", counterparty_uid=f"payer{i}"))
        txs.append(_tx(i * 30 + 3, "p2p_sell", "790", counterparty_uid=f"buyer{i}"))
    found = _ids(fraud_signals(_records(*txs), LinkContext("a", 1, {}, ())))
    assert found.get("money_mule_pass_through", 0) >= 2.5


def test_a_p2p_merchant_buying_and_selling_on_the_marketplace_is_no_mule() -> None:
    txs = [_tx(i * 50, "internal_in", "40", counterparty_uid=f"friend{i}") for i in range(3)]
    for i in range(12):
        txs.append(_tx(i * 20, "p2p_buy", "1000", counterparty_uid=f"seller{i}"))
        txs.append(_tx(i * 20 + 4, "p2p_sell", "1010", counterparty_uid=f"buyer{i}"))
    assert "money_mule_pass_through" not in _ids(
        fraud_signals(_records(*txs), LinkContext("a", 1, {}, ())))



def _shared(family: str, value: str, accounts: int, victim_first: float) -> SharedValue:
    """`value` used by the receiver "a" for months and by the sender "v" from
    `victim_first` hours on."""
    return SharedValue(family, value, accounts, (
        Member("a", _t(-24 * 90), _t(0), 40, family),
        Member("v", _t(victim_first), _t(victim_first + 1), 2, family)))


def test_a_receiver_whose_own_device_took_the_victims_account_is_the_thief() -> None:
    victim = AccountInfo("v", security_changes=((_t(-3), "password_reset"),))
    transfer = Edge("v", "a", "internal_transfer", None, _t(0), _t(0), 1.0)
    records = _records(_tx(0, "internal_in", "900", counterparty_uid="v"))

    def signal(*shared: tuple[Edge, SharedValue]) -> Signal:
        ctx = LinkContext("a", 1, {"v": victim}, (transfer, *(e for e, _ in shared)),
                          shared=tuple(v for _, v in shared))
        return next(s for s in fraud_signals(records, ctx)
                    if s.id == "inflow_from_taken_over_accounts")

    plain = signal()
    device = (Edge("a", "v", "device_id", "dev-thief", _t(-3), _t(-2), 2.5),
              _shared("device_id", "dev-thief", 2, victim_first=-3))
    cgnat = (Edge("a", "v", "ip", "10.0.0.1", _t(-3), _t(-2), 0.3, accounts_sharing=900),
             _shared("ip", "10.0.0.1", 900, victim_first=-3))
    own = signal(device, cgnat)
    assert (plain.weight, plain.severity) == (2.0, "high")
    assert (own.weight, own.severity) == (3.5, "critical")
    assert own.evidence["senders"]["v"]["shared_with_receiver"] == ["device_id dev-thief"]
    # a device id on hundreds of accounts, or one the sender had used for a year (a
    # household's), is no thief's own
    crowded = (Edge("a", "v", "device_id", "d", _t(-3), _t(-2), 0.5, accounts_sharing=900),
               _shared("device_id", "d", 900, victim_first=-3))
    household = (Edge("a", "v", "device_id", "d", _t(-24 * 400), _t(0), 2.5),
                 _shared("device_id", "d", 2, victim_first=-24 * 400))
    for stale in (crowded, household):
        assert signal(stale).weight == 2.0


def test_a_senders_account_used_through_the_receivers_address_alone_is_a_look() -> None:
    """No takeover shows on the sender, but its account was used, minutes before it
    sent, from an address the receiver has used for months: a look, not a verdict
    (a friend visiting may pay from the receiver's Wi-Fi)."""
    transfer = Edge("v", "a", "internal_transfer", None, _t(0), _t(0), 1.0)
    records = _records(_tx(0, "internal_in", "900", counterparty_uid="v"),
                       _tx(2, "withdrawal", "890", address="0xexit"))
    ip = Edge("a", "v", "ip", "185.206.1.1", _t(-0.2), _t(0), 1.0)
    ctx = LinkContext("a", 1, {"v": AccountInfo("v")}, (transfer, ip),
                      shared=(_shared("ip", "185.206.1.1", 2, victim_first=-0.2),))
    found = next(s for s in fraud_signals(records, ctx)
                 if s.id == "inflow_from_taken_over_accounts")
    assert (found.weight, found.severity) == (2.5, "medium")  # 1.5, +1.0 passed on at once
    # the receiver turned up on the sender's address of many months (a visit to the
    # sender's home): the sender was at home, not in the receiver's hands
    visited = SharedValue("ip", "185.206.1.1", 2, (
        Member("a", _t(-0.2), _t(0), 1, "ip"), Member("v", _t(-24 * 200), _t(0), 90, "ip")))
    quiet = LinkContext("a", 1, {"v": AccountInfo("v")}, (transfer, ip), shared=(visited,))
    assert "inflow_from_taken_over_accounts" not in _ids(fraud_signals(records, quiet))
    # a couple sharing the family laptop for months: their router's new address is theirs
    laptop = Edge("a", "v", "device_id", "laptop", _t(-24 * 90), _t(0), 2.5)
    home = LinkContext("a", 1, {"v": AccountInfo("v")}, (transfer, ip, laptop),
                       shared=(_shared("ip", "185.206.1.1", 2, victim_first=-0.2),))
    assert "inflow_from_taken_over_accounts" not in _ids(fraud_signals(records, home))


def test_a_victims_report_of_a_theft_soon_after_marks_the_receiver() -> None:
    """The sender's owner reported an unauthorised withdrawal two days after a transfer
    to this account. A report of a transaction the owner does not recognise (as families
    file about each other), or an automated rule's alert, does not count; nor does a
    P2P purchase alone (thieves sell victims' coins to real buyers too)."""
    transfer = Edge("v", "a", "internal_transfer", None, _t(0), _t(0), 1.0)
    for kind, alert, marked in (
            ("internal_in", "ticket: unauthorized_withdrawal", True),
            ("internal_in", "ticket: unrecognised_transaction", False),
            ("internal_in", "fraud_rule: credentials_compromised_in_breach", False),
            ("p2p_buy", "ticket: unauthorized_withdrawal", False)):
        records = _records(_tx(0, kind, "900", counterparty_uid="v"))
        victim = AccountInfo("v", alerts=((_t(48), alert),))
        found = _ids(fraud_signals(records, LinkContext("a", 1, {"v": victim}, (transfer,))))
        assert ("inflow_from_taken_over_accounts" in found) is marked, (kind, alert)


def test_a_shared_wallet_of_accounts_opened_months_apart_is_no_ring() -> None:
    """Three payers to one address: a ring when opened in a burst, a household's shared
    wallet when they joined months apart."""
    def ctx(spread_days: int) -> LinkContext:
        uids = ["a", "b", "c"]
        created = {u: T0 + timedelta(days=spread_days * i) for i, u in enumerate(uids)}
        members = tuple(Member(u, created[u], created[u], 1, "withdrawal_address")
                        for u in uids)
        edges = tuple(Edge("a", u, "withdrawal_address", "bc1family", None, None, 2.0, 3)
                      for u in uids[1:])
        return LinkContext("a", 1, {u: AccountInfo(u, created_at=created[u]) for u in uids},
                           edges, (SharedValue("address", "bc1family", 3, members),))

    records = AccountRecords(Account("a", created_at=T0))
    assert _ids(fraud_signals(records, ctx(2)))["shared_payout_address"] == 2.5
    family = _ids(fraud_signals(records, ctx(60)))
    assert family["shared_payout_address"] == 1.5
    # one account opened long before two that came together: a burst among the payers
    # weighs the same for each of them
    late_pair = ctx(60)
    infos = dict(late_pair.accounts)
    infos["c"] = AccountInfo("c", created_at=infos["b"].created_at + timedelta(days=2))
    late_pair = LinkContext("a", 1, infos, late_pair.edges, late_pair.shared)
    assert _ids(fraud_signals(records, late_pair))["shared_payout_address"] == 2.5
    # an exchange's deposit address (attribution data says so) takes many customers' money
    for category, ring in (("exchange", False), ("service", False), ("scam", True)):
        found = _ids(fraud_signals(records, ctx(2), address_labels={"BC1FAMILY": category}))
        assert ("shared_payout_address" in found) is ring


def test_stolen_money_sent_on_within_hours_marks_the_receiver() -> None:
    victim = AccountInfo("v", security_changes=((_t(-3), "password_reset"),))
    ctx = LinkContext("a", 1, {"v": victim}, (Edge("v", "a", "internal_transfer", None, _t(0),
                                                   _t(0), 1.0),))
    kept = _records(_tx(0, "internal_in", "900", counterparty_uid="v"),
                    _tx(24 * 5, "withdrawal", "880", address="bc1later"))
    sent_on = _records(_tx(0, "internal_in", "900", counterparty_uid="v"),
                       _tx(0.5, "withdrawal", "880", address="bc1exit"))
    assert _ids(fraud_signals(kept, ctx))["inflow_from_taken_over_accounts"] == 2.0
    signal = next(s for s in fraud_signals(sent_on, ctx)
                  if s.id == "inflow_from_taken_over_accounts")
    assert signal.weight == 3.0 and "passed on at once" in signal.explanation



def test_coins_bought_from_p2p_sellers_and_sent_to_a_wallet_are_no_payers_money() -> None:
    """Buying on P2P and moving the coins to one's own wallet at once is retail routine;
    the sellers are not payers of someone else's money."""
    txs = []
    for i in range(10):
        txs.append(_tx(i * 30, "p2p_buy", "2000", counterparty_uid=f"seller{i}"))
        txs.append(_tx(i * 30 + 2, "withdrawal", "1990", address="bc1mywallet"))
    assert "money_mule_pass_through" not in _ids(
        fraud_signals(_records(*txs), LinkContext("a", 1, {}, ())))


def test_referrals_inside_one_household_are_farming_only_when_opened_together() -> None:
    def ctx(days_apart: int) -> LinkContext:
        created = {"a": T0, "b": T0 + timedelta(days=days_apart),
                   "c": T0 + timedelta(days=2 * days_apart)}
        edges = (Edge("a", "b", "device_id", "tablet", T0, T0, 1.0),
                 Edge("a", "c", "device_id", "tablet", T0, T0, 1.0),
                 Edge("a", "b", "referral", None, created["b"], created["b"], 0.5))
        return LinkContext("a", 1, {u: AccountInfo(u, created_at=t) for u, t in created.items()},
                           edges)

    records = AccountRecords(Account("a", created_at=T0))
    assert _ids(fraud_signals(records, ctx(2)))["self_referral"] == 1.5
    assert _ids(fraud_signals(records, ctx(90)))["self_referral"] == 0.4


def test_a_charge_back_without_usd_values_is_judged_in_the_asset() -> None:
    """With no USD values, a $3 transfer out is no cash-out of a 5,000 deposit."""
    dep = Transaction(ts=_t(0), uid="a", kind="fiat_deposit", asset="USDT",
                      amount=Decimal("5000"), payment_method="card", chargeback=True)
    small = Transaction(ts=_t(1), uid="a", kind="internal_out", asset="USDT",
                        amount=Decimal("3"), counterparty_uid="x")
    [signal] = fraud_signals(_records(dep, small), LinkContext("a", 1, {}, ()))
    assert signal.id == "chargeback_dispute" and signal.weight == 1.5


def test_a_card_deposit_without_usd_values_is_cashed_out_only_in_its_own_asset() -> None:
    """No USD values: a withdrawal of another asset cannot be told to be worth half the
    deposit, and a small one of the same asset is not; a large one is."""
    def tx(hours: float, kind: str, asset: str, amount: str, **kw: object) -> Transaction:
        return Transaction(ts=_t(hours), uid="a", kind=kind, asset=asset,
                           amount=Decimal(amount), **kw)  # type: ignore[arg-type]

    dep = tx(0, "fiat_deposit", "EUR", "1000", payment_method="card")
    ctx = LinkContext("a", 1, {}, ())
    for out in (tx(5, "withdrawal", "BTC", "0.01", address="bc1qxyz"),
                tx(5, "withdrawal", "EUR", "20", address="bc1qxyz")):
        assert "fiat_in_crypto_out" not in _ids(fraud_signals(_records(dep, out), ctx))
    large = tx(5, "withdrawal", "EUR", "990", address="bc1qxyz")
    assert "fiat_in_crypto_out" in _ids(fraud_signals(_records(dep, large), ctx))


def test_the_holders_own_wallet_passing_money_on_is_no_payer() -> None:
    """A DeFi wallet that pays in again and again is the holder's; three friends' small
    transfers do not make its flows someone else's money."""
    txs = [_tx(i * 30, "deposit", "10000", address="0xmine") for i in range(5)]
    txs += [_tx(i * 30 + 2, "withdrawal", "9990", address="0xexit") for i in range(5)]
    txs += [_tx(200 + i, "internal_in", "50", counterparty_uid=f"friend{i}") for i in range(3)]
    assert "money_mule_pass_through" not in _ids(
        fraud_signals(_records(*txs), LinkContext("a", 1, {}, ())))


def test_outflows_spend_the_holders_own_older_money_first() -> None:
    """Savings of the holder's own, then five payers whose money each stays put while a
    like amount leaves: the money leaving is the savings (oldest first), not passed on.
    Without the savings, the same flows are a mule's."""
    flows = _mule_txs(5, out_after_h=2)
    savings = _tx(-24 * 30, "fiat_deposit", "3000")
    ctx = LinkContext("a", 1, {}, ())
    assert "money_mule_pass_through" not in _ids(fraud_signals(_records(savings, *flows), ctx))
    assert "money_mule_pass_through" in _ids(fraud_signals(_records(*flows), ctx))


def _phone_ctx(created_apart_days: float) -> tuple[AccountRecords, LinkContext]:
    """This account on +905324410003, linked by an IP to two accounts on ...0000 and
    ...0002, opened `created_apart_days` apart from it."""
    records = AccountRecords(Account("a", phone="+90 532 441 00 03", created_at=_t(0)))
    others = {u: AccountInfo(u, phone=p, created_at=_t(24 * created_apart_days))
              for u, p in (("b", "+905324410000"), ("c", "+905324410002"))}
    edges = tuple(Edge("a", u, "ip", "88.224.1.1", _t(0), _t(1), 0.6) for u in others)
    return records, LinkContext("a", 1, {"a": AccountInfo("a"), **others}, edges)


def test_linked_accounts_opened_together_on_consecutive_phone_numbers_are_one_operators() -> None:
    found = _ids(fraud_signals(*_phone_ctx(created_apart_days=2)))
    assert found.get("phone_batch") == 2.0
    # numbers bought months apart are a coincidence of a carrier's blocks
    assert "phone_batch" not in _ids(fraud_signals(*_phone_ctx(created_apart_days=200)))


def _p2p_bought_then(out_after_h: float, disputes: int) -> AccountRecords:
    """Three P2P purchases in a day, everything withdrawn `out_after_h` hours after the
    last, then `disputes` sellers' disputes about recalled bank payments."""
    buys = [_tx(h, "p2p_buy", "1400", counterparty_uid=f"m{h}") for h in (0, 2, 4)]
    out = _tx(4 + out_after_h, "withdrawal", "4150", address="bc1qexit")
    alerts = tuple(Alert(f"al{i}", "a", ts=_t(24 * (3 + i)), source="ticket",
                         kind="p2p_dispute") for i in range(disputes))
    return _records(*buys, out, alerts=alerts)


def test_p2p_purchases_cashed_out_then_disputed_by_their_sellers_are_fraud() -> None:
    ctx = LinkContext("a", 1, {}, ())
    scheme = fraud_signals(_p2p_bought_then(5, disputes=3), ctx)
    assert _ids(scheme).get("p2p_payment_reversed") == 4.5
    assert "suspend_p2p" in [a["action"] for a in fraud_actions(scheme)]
    # one seller's dispute is a look; coins kept for weeks are no cash-out
    assert _ids(fraud_signals(_p2p_bought_then(5, disputes=1), ctx)).get(
        "p2p_payment_reversed") == 2.5
    assert _ids(fraud_signals(_p2p_bought_then(24 * 20, disputes=1), ctx)).get(
        "p2p_payment_reversed") == 1.0
    assert "p2p_payment_reversed" not in _ids(fraud_signals(_p2p_bought_then(5, 0), ctx))
    # a seller's own disputes against buyers who never paid: no purchase of this account's
    seller = _records(alerts=_p2p_bought_then(5, disputes=3).alerts)
    assert "p2p_payment_reversed" not in _ids(fraud_signals(seller, ctx))


def test_p2p_trades_again_and_again_with_accounts_of_the_same_hand_are_self_dealing() -> None:
    """Six trades with an account that pays the same wallet: trading with oneself. The
    same trades with a stranger are a market's."""
    def ctx(shared_wallet: bool) -> LinkContext:
        edges = [Edge("a", "b", "p2p", None, _t(0), _t(48), 0.5, detail={"transfers": 3}),
                 Edge("b", "a", "p2p", None, _t(1), _t(49), 0.5, detail={"transfers": 3})]
        if shared_wallet:
            edges.append(Edge("a", "b", "withdrawal_address", "TWallet", _t(0), _t(0), 2.0))
        return LinkContext("a", 1, {"b": AccountInfo("b")}, tuple(edges))

    records = _records()
    assert _ids(fraud_signals(records, ctx(shared_wallet=True))).get("p2p_self_dealing") == 1.5
    assert "p2p_self_dealing" not in _ids(fraud_signals(records, ctx(shared_wallet=False)))
