"""Holders who are the bad actors: multi-account rings, money mules, chargeback fraud."""

from __future__ import annotations

from datetime import timedelta

from acctsec.synth import activity as a
from acctsec.synth import values as v
from acctsec.synth.context import Ctx
from acctsec.synth.world import END, START, Person, Wallet, own_wallet, price, quantize


def ring(ctx: Ctx, group: list[Person]) -> str:
    """Bonus-abuse ring: one operator, many sign-ups, look-alike e-mails, one cash-out address."""
    boss = group[0]
    rng = boss.rng
    base = rng.choice(("jdoe", "alex.k", "cryptomax", "m.petrov", "lucky.star"))
    domain = rng.choice(("gmail.com", "outlook.com", "proton.me", "mail.ru"))
    laptop = v.make_device(rng, "desktop_web")
    phones = [v.make_device(rng, "android") for _ in range(2)]
    cashout = own_wallet(rng, "USDT")
    for i, p in enumerate(group):
        p.email = f"{base}{i + 1}@{domain}" if i % 3 != 2 else f"{base}.{i + 1}@{domain}"
        p.country, p.home, p.home_ips = boss.country, boss.home, boss.home_ips[:1]
        p.devices = [laptop, rng.choice(phones)]
        p.kyc_level = rng.choice((1, 1, 2))
        p.referrer_uid = group[i - 1].uid if i else ""
        p.activity = 0.2
        _ring_member(ctx, p, cashout)
    return (f"ring of {len(group)} sharing a laptop, e-mails {base}N@{domain}, "
            "cash-out to one address")


def _ring_member(ctx: Ctx, p: Person, cashout: Wallet) -> None:
    rng = p.rng
    a.everyday_logins(ctx.t, p, p.created_at, END)
    ts = p.created_at + timedelta(hours=rng.uniform(1, 30))
    a.fiat_deposit(ctx.t, p, ts, rng.uniform(100, 220), "card")
    ts += timedelta(days=rng.uniform(1, 9))
    amount = quantize("USDT", float(p.balance["USDT"]) * rng.uniform(1.0, 1.15))
    # the referral/welcome bonus lands as an internal credit from the exchange's promo account
    a.tx(ctx.t, p, ts, "internal_in", "USDT", quantize("USDT", float(amount) * 0.2),
         counterparty_uid=p.referrer_uid or None)
    ts += timedelta(days=rng.uniform(0.5, 6))
    d = p.devices[0]
    if rng.random() < 0.7 or p.referrer_uid == "":
        a.add_address(ctx.t, p, ts - timedelta(minutes=rng.randint(2, 30)), cashout,
                      p.home_ips[0], d)
    out = quantize("USDT", float(p.balance["USDT"]) * 0.99)
    a.withdraw(ctx.t, p, ts, cashout, out, p.home_ips[0], d)


def money_mule(ctx: Ctx, p: Person) -> str:
    rng = p.rng
    a.everyday_logins(ctx.t, p, START, END)
    exit_wallet = own_wallet(rng, "USDT")
    a.add_address(ctx.t, p, START + timedelta(days=rng.uniform(1, 10)), exit_wallet)
    ts = START + timedelta(days=rng.uniform(10, 20))
    while ts < END - timedelta(days=2):
        for _ in range(rng.randint(2, 6)):
            src = own_wallet(rng, "USDT")  # a different scam victim's wallet every time
            a.crypto_deposit(ctx.t, p, ts, rng.uniform(150, 4000), src)
            ts += timedelta(minutes=rng.uniform(10, 600))
        ts += timedelta(hours=rng.uniform(0.3, 6))
        out = quantize("USDT", float(p.balance.get("USDT", 0)) * rng.uniform(0.9, 0.99))
        d = rng.choice(p.devices)
        if out > 0:
            a.withdraw(ctx.t, p, ts, exit_wallet, out, a.default_ip(p, d), d)
        ts += timedelta(days=rng.uniform(1, 9))
    return ("money mule: many unrelated deposits (and victims' internal transfers) "
            "out to one address")


def mule_sweep(ctx: Ctx, p: Person) -> None:
    """After takeovers moved loot in internally, the mule forwards everything."""
    held = {k: amt for k, amt in p.balance.items() if amt > 0 and k != "USDT"}
    d = p.devices[0]
    for asset, amount in sorted(held.items()):
        w = own_wallet(p.rng, asset)
        ts = END - timedelta(hours=p.rng.uniform(1, 20))
        a.add_address(ctx.t, p, ts - timedelta(minutes=4), w)
        a.withdraw(ctx.t, p, ts, w, quantize(asset, float(amount) * 0.99), p.home_ip(), d)


def chargeback(ctx: Ctx, p: Person) -> str:
    rng = p.rng
    p.created_at = END - timedelta(days=rng.uniform(20, 90))
    p.kyc_level = 1
    a.everyday_logins(ctx.t, p, p.created_at, END)
    ts = p.created_at + timedelta(hours=rng.uniform(2, 72))
    cards = rng.randint(1, 3)
    for _ in range(cards):
        a.fiat_deposit(ctx.t, p, ts, rng.uniform(300, 2500), "card", chargeback=True)
        ts += timedelta(minutes=rng.uniform(1, 25))
    asset = rng.choice(("BTC", "USDT", "ETH"))
    w = own_wallet(rng, asset)
    d = rng.choice(p.devices)
    a.add_address(ctx.t, p, ts, w, p.home_ip(), d)
    amount = quantize(asset, float(p.balance["USDT"]) * 0.985 / price(asset, ts))
    p.balance["USDT"] = quantize("USDT", 0.0)
    p.balance[asset] = p.balance.get(asset, quantize(asset, 0.0)) + amount
    a.withdraw(ctx.t, p, ts + timedelta(minutes=rng.uniform(3, 50)), w, amount, p.home_ip(), d)
    ctx.alert(p.uid, ts + timedelta(days=rng.uniform(10, 40)), "chargeback", "card chargeback",
              f"{cards} card deposit(s) disputed by issuer: reason 'fraudulent'")
    return f"chargeback fraud: {cards} card deposits then immediate {asset} withdrawal"
