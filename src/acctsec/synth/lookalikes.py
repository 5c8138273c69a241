"""Honest users whose logs resemble an attack: travel, new phones, VPNs, shared IPs, and more."""

from __future__ import annotations

from datetime import datetime, timedelta

from acctsec.synth import activity as a
from acctsec.synth import values as v
from acctsec.synth.context import Ctx
from acctsec.synth.world import (
    END,
    START,
    Block,
    Person,
    hosting,
    km_between,
    mobile,
    own_wallet,
    quantize,
    residential,
)

TRAVEL = {
    "DE": ("ES", "IT", "TR", "US", "AE", "GB"), "GB": ("ES", "FR", "US", "AE", "IT"),
    "US": ("GB", "FR", "JP", "BR", "CA"), "FR": ("ES", "IT", "US", "JP"),
    "NL": ("ES", "TR", "US"), "ES": ("FR", "GB", "BR"), "IT": ("DE", "US", "ES"),
}


def middle(p: Person, lo: int = 20, hi: int = 100) -> datetime:
    return (END - timedelta(days=p.rng.uniform(lo, hi))).replace(microsecond=0)


def traveller(ctx: Ctx, p: Person) -> str:
    rng = p.rng
    dest_country = rng.choice(TRAVEL.get(p.country, ("US", "GB", "ES")))
    dest: Block = rng.choice(residential(dest_country) or mobile(dest_country))
    leave = middle(p, 25, 100)
    flight = timedelta(hours=km_between(p.home, dest) / 780 + rng.uniform(2.5, 6))
    arrive, back = leave + flight, leave + timedelta(days=rng.uniform(4, 16))
    a.everyday_logins(ctx.t, p, START, leave)
    # phones on roaming data still exit through the home carrier; hotel Wi-Fi is local
    abroad = [dest.ip(rng) for _ in range(2)]

    def trip_ip(q: Person, d: v.Device) -> str:
        if d.channel in ("ios", "android") and rng.random() < 0.3:
            return q.mobile_ip()
        return rng.choice(abroad)

    first = arrive + timedelta(minutes=rng.randint(20, 240))
    phone = p.devices[0]
    a.app_open(ctx.t, p, first, phone, abroad[0])
    a.everyday_logins(ctx.t, p, first + timedelta(hours=3), back, trip_ip)
    a.everyday_logins(ctx.t, p, back + flight, END)
    a.everyday_money(ctx.t, p, START, END)
    if rng.random() < 0.5:
        ctx.alert(p.uid, first + timedelta(minutes=1), "fraud_rule", "new country login",
                  f"First login from {dest_country} for this account")
    return (f"holiday in {dest.city}, {dest_country} from {p.home.city}, same phone, "
            "flight-time plausible")


def new_phone(ctx: Ctx, p: Person) -> str:
    rng = p.rng
    switch = middle(p)
    a.everyday_logins(ctx.t, p, START, switch)
    old = p.devices[0]
    kind = "ios" if "iPhone" in old.user_agent or old.channel == "ios" else "android"
    if rng.random() < 0.25:
        kind = "android" if kind == "ios" else "ios"
    phone = v.make_device(rng, kind)
    p.devices = [phone, *p.devices[1:]]
    ip = p.home_ip()
    if rng.random() < 0.6:
        ctx.t.add("security_events", ts=switch - timedelta(seconds=rng.randint(20, 200)),
                  uid=p.uid, event="device_authorize", ip=ip,
                  detail={"device_id": phone.device_id})
    a.app_open(ctx.t, p, switch, phone, ip)
    a.everyday_logins(ctx.t, p, switch + timedelta(hours=2), END)
    a.everyday_money(ctx.t, p, START, END)
    return f"bought a new {kind} phone, first login from home IP in {p.home.city}, nothing changed"


def vpn_always(ctx: Ctx, p: Person) -> str:
    rng = p.rng
    exits = [b for b in hosting() if b.operator.startswith(rng.choice(("M247", "Datacamp")))]
    exits = exits or hosting()
    mine = [rng.choice(exits) for _ in range(rng.randint(1, 4))]
    ips = [b.ip(rng) for b in mine for _ in range(2)]
    a.everyday_logins(ctx.t, p, START, END, lambda q, d: rng.choice(ips))
    a.everyday_money(ctx.t, p, START, END)
    p.home_ips = ips
    a.occasional_security(ctx.t, p, START, END)
    if rng.random() < 0.3:
        ctx.alert(p.uid, middle(p, 5, 60), "fraud_rule", "hosting provider login",
                  "Login from datacenter ASN")
    return f"always-on VPN ({mine[0].operator}) for the whole history"


def shared_ip_group(ctx: Ctx, group: list[Person]) -> str:
    """A household or a carrier CGNAT: several accounts seen behind the same addresses."""
    rng = group[0].rng
    cgnat = rng.random() < 0.5 and bool(mobile(group[0].country))
    if cgnat:
        block = rng.choice(mobile(group[0].country))
        pool = [block.ip(rng) for _ in range(3)]
    else:
        pool = group[0].home_ips
    for p in group:
        p.country, p.home_ips = group[0].country, list(pool)
        p.home = group[0].home
        a.ordinary_life(ctx.t, p)
    kind = "mobile-carrier CGNAT" if cgnat else "one household"
    return f"{kind} shared by {len(group)} accounts"


def big_withdrawal(ctx: Ctx, p: Person) -> str:
    rng = p.rng
    w = own_wallet(rng, rng.choice(("BTC", "USDT", "ETH")))
    p.wallets = [w]
    a.everyday_logins(ctx.t, p, START, END)
    t1 = START + timedelta(days=rng.uniform(2, 30))
    a.crypto_deposit(ctx.t, p, t1, rng.uniform(20000, 150000), own_wallet(rng, w.asset))
    a.withdraw_some(ctx.t, p, t1 + timedelta(days=rng.uniform(3, 20)), 0.05, w)
    ts = middle(p, 3, 40)
    device = p.devices[-1]
    a.session(ctx.t, p, ts - timedelta(minutes=rng.randint(2, 20)), device, p.home_ip())
    amount = quantize(w.asset, float(p.balance.get(w.asset, 0)) * rng.uniform(0.85, 1.0))
    a.withdraw(ctx.t, p, ts, w, amount, p.home_ip(), device)
    ctx.alert(p.uid, ts + timedelta(minutes=1), "fraud_rule", "large withdrawal",
              "Withdrawal > 90% of balance")
    return f"moved savings to long-used own wallet {w.address[:10]}… (used since before the window)"


def forgot_password(ctx: Ctx, p: Person) -> str:
    rng = p.rng
    ts = middle(p, 5, 100)
    a.everyday_logins(ctx.t, p, START, ts - timedelta(days=2))
    d = rng.choice(p.devices)
    ip = p.home_ip()
    for i in range(rng.randint(1, 5)):
        ctx.t.add("logins", ts=ts - timedelta(minutes=10 - i), uid=p.uid, event="login_failure",
                  ip=ip, user_agent=d.user_agent, device_id=d.device_id, channel=d.channel,
                  failure_reason="bad_password" if i < 3 else "locked")
    channel = "sms" if p.mfa == "sms" else "email"
    ctx.t.add("security_events", ts=ts, uid=p.uid, event="password_reset", ip=ip,
              device_id=d.device_id, user_agent=d.user_agent, detail={"channel": channel})
    a.session(ctx.t, p, ts + timedelta(minutes=rng.uniform(1, 8)), d, ip)
    a.everyday_logins(ctx.t, p, ts + timedelta(hours=3), END)
    a.everyday_money(ctx.t, p, START, END)
    if rng.random() < 0.5:
        ctx.alert(p.uid, ts - timedelta(minutes=3), "ticket", "login problem",
                  "I can't log in, it says my account is locked")
    return "forgot password: failures then reset from own device and home IP, nothing else"


def stuffing_survivor(ctx: Ctx, p: Person) -> str:
    rng = p.rng
    a.ordinary_life(ctx.t, p)
    for day in rng.sample(ctx.campaign_days, rng.randint(1, 2)):
        ts = day + timedelta(minutes=rng.randint(0, 300))
        for _ in range(rng.randint(1, 6)):
            ctx.t.add("logins", ts=ts, uid=p.uid, event="login_failure",
                      ip=rng.choice(ctx.proxies), user_agent=v.automation_ua(rng),
                      device_id=v.device_id(rng), channel="web",
                      failure_reason=rng.choice(("bad_password", "bad_password", "captcha",
                                                 "locked")))
            ts += timedelta(seconds=rng.randint(15, 1200))
        if rng.random() < 0.3:
            ctx.alert(p.uid, ts, "fraud_rule", "failed login burst",
                      "5+ failed logins from multiple IPs")
    return "credential stuffing failures only (has 2FA / other password); owner unaffected"


def couple(ctx: Ctx, group: list[Person]) -> str:
    shared = v.make_device(group[0].rng, "desktop_web")
    for p in group[1:]:
        p.country, p.home, p.home_ips = group[0].country, group[0].home, group[0].home_ips
    for p in group:
        p.devices = [p.devices[0], shared]
        a.ordinary_life(ctx.t, p)
    x, y = group[0], group[1]
    ts = middle(x, 10, 90)
    amount = quantize("USDT", x.rng.uniform(50, 900))
    a.tx(ctx.t, x, ts, "internal_out", "USDT", amount, counterparty_uid=y.uid,
         ip=x.home_ip(), device_id=shared.device_id)
    a.tx(ctx.t, y, ts + timedelta(seconds=1), "internal_in", "USDT", amount,
         counterparty_uid=x.uid)
    return "couple sharing the family laptop and home IP, each with own phone"


def wallet_trader(ctx: Ctx, p: Person) -> str:
    rng = p.rng
    p.activity = 1.6
    a.everyday_logins(ctx.t, p, START, END)
    assets = ("USDT", "ETH", "USDC", "SOL")
    own = [own_wallet(rng, rng.choice(assets)) for _ in range(rng.randint(8, 18))]
    ts = START + timedelta(days=rng.uniform(0, 5))
    while ts < END - timedelta(days=1):
        a.crypto_deposit(ctx.t, p, ts, rng.uniform(500, 25000), rng.choice(own))
        ts += timedelta(hours=rng.uniform(8, 120))
        if rng.random() < 0.35:
            a.withdraw_some(ctx.t, p, ts, rng.uniform(0.2, 0.7), None)
    return f"active trader depositing from {len(own)} of own DeFi wallets"
