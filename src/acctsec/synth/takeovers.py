"""Account takeovers: AiTM phishing, SIM swap, stolen session, stuffing, slow takeover."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from acctsec.synth import activity as a
from acctsec.synth import values as v
from acctsec.synth.context import Attacker, Ctx, attacker_for
from acctsec.synth.world import END, START, Person, Wallet, price, quantize

SECURITY_CHANGES = ("api_key", "address", "mfa", "anti_phishing", "whitelist_off")


def attack_time(p: Person, lo_days: int = 4, hi_days: int = 75) -> datetime:
    ts = END - timedelta(days=p.rng.uniform(lo_days, hi_days))
    return ts.replace(microsecond=0)


def victim_history(ctx: Ctx, p: Person, until: datetime, funding: float) -> None:
    """The victim's honest life before the attack, with enough balance to be worth stealing."""
    a.everyday_logins(ctx.t, p, START, until)
    funded = max(START, p.created_at) + timedelta(days=p.rng.uniform(1, 20))
    a.fund(ctx.t, p, funded, funding)
    a.everyday_money(ctx.t, p, funded, until - timedelta(days=1))
    a.occasional_security(ctx.t, p, START, until - timedelta(days=2))


def victim_after(ctx: Ctx, p: Person, since: datetime, noticed: float) -> None:
    """The victim comes back; with probability `noticed` they complain and support freezes."""
    rng = p.rng
    back = since + timedelta(hours=rng.uniform(1.5, 40))
    if back < END:
        d = p.devices[0]
        a.session(ctx.t, p, back, d, a.default_ip(p, d))
    if rng.random() < noticed and back < END:
        note = rng.choice((
            "My balance is gone, I did not make this withdrawal!!",
            "someone withdrew all my USDT, please freeze my account",
            "Got an email about a new API key I never created. Funds missing.",
            "I can't log in and my crypto was sent somewhere I don't know",
        ))
        ctx.alert(p.uid, back + timedelta(minutes=rng.randint(3, 50)), "ticket",
                  "unauthorized withdrawal", note)
        frozen = back + timedelta(minutes=rng.randint(20, 300))
        if frozen < END:
            ctx.t.add("security_events", ts=frozen, uid=p.uid, event="account_freeze",
                      detail={"reason": "customer reported unauthorized access"})
            p.status, p.restrictions = "frozen", "withdraw;trade;api"


def attacker_login(ctx: Ctx, p: Person, atk: Attacker, ts: datetime, mfa: str) -> str:
    sid = v.token(p.rng)
    ctx.t.add("logins", ts=ts, uid=p.uid, event="login_success", ip=atk.ips[0],
              user_agent=atk.device.user_agent, device_id=atk.device.device_id,
              session_id=sid, mfa_method=mfa, channel=atk.device.channel)
    return sid


def sec(ctx: Ctx, p: Person, atk: Attacker, ts: datetime, event: str, sid: str | None,
        detail: dict[str, object] | None = None) -> None:
    ctx.t.add("security_events", ts=ts, uid=p.uid, event=event, ip=p.rng.choice(atk.ips),
              device_id=atk.device.device_id, user_agent=atk.device.user_agent,
              session_id=sid, detail=detail)


def change(ctx: Ctx, p: Person, atk: Attacker, ts: datetime, what: str, sid: str) -> None:
    rng = p.rng
    if what == "api_key":
        perms = ["read", "trade", "withdraw"] if rng.random() < 0.85 else ["read", "withdraw"]
        sec(ctx, p, atk, ts, "api_key_create", sid,
            {"key_id": v.token(rng, 12), "permissions": perms,
             "ip_whitelist": atk.ips[:1] if rng.random() < 0.6 else []})
    elif what == "address":
        w = atk.wallet
        sec(ctx, p, atk, ts, "withdrawal_address_add", sid,
            {"address": w.address, "network": w.network, "asset": w.asset})
    elif what == "mfa":
        event = rng.choice(("mfa_disable", "mfa_reset"))
        sec(ctx, p, atk, ts, event, sid, {"method": p.mfa if p.mfa != "none" else "totp"})
    elif what == "anti_phishing":
        sec(ctx, p, atk, ts, "anti_phishing_change", sid)
    else:
        sec(ctx, p, atk, ts, "withdrawal_whitelist_off", sid)


def drain(ctx: Ctx, p: Person, atk: Attacker, ts: datetime, to: Wallet | None = None,
          share: tuple[float, float] = (0.8, 1.0)) -> datetime:
    """Withdraw most of the largest balance, converting to the attacker's asset if needed."""
    rng = p.rng
    asset = a.asset_of_largest(p, ts)
    if asset is None:
        return ts
    w = to or atk.wallet
    total = float(p.balance[asset]) * rng.uniform(*share)
    if w.asset != asset:
        # sell on the spot market first: the balance arrives in the attacker's asset
        usd_total = total * price(asset, ts)
        p.balance[asset] -= quantize(asset, total)
        p.balance[w.asset] = p.balance.get(w.asset, Decimal(0)) + quantize(
            w.asset, usd_total / price(w.asset, ts))
        total = float(p.balance[w.asset]) * 0.995
    parts = 1 if rng.random() < 0.65 else rng.randint(2, 3)
    weights = [rng.uniform(0.6, 1.4) for _ in range(parts)]
    for i in range(parts):
        ts += timedelta(minutes=rng.randint(1, 9) if i else 0, seconds=rng.randint(0, 59))
        amount = quantize(w.asset, total * weights[i] / sum(weights) * 0.9999)
        if amount > 0:
            a.withdraw(ctx.t, p, ts, w, amount, rng.choice(atk.ips), atk.device,
                       status="pending" if rng.random() < 0.08 else "completed")
    return ts


def maybe_to_mule(ctx: Ctx, p: Person, atk: Attacker, ts: datetime) -> datetime:
    """Some crews move the loot internally to a mule account first (no chain fee, no trace)."""
    asset = a.asset_of_largest(p, ts)
    if not ctx.mule_uids or asset is None:
        return drain(ctx, p, atk, ts)
    mule = ctx.people[p.rng.choice(ctx.mule_uids)]
    amount = quantize(asset, float(p.balance[asset]) * p.rng.uniform(0.85, 0.99))
    a.tx(ctx.t, p, ts, "internal_out", asset, amount, counterparty_uid=mule.uid,
         ip=atk.ips[0], device_id=atk.device.device_id)
    a.tx(ctx.t, mule, ts + timedelta(seconds=1), "internal_in", asset, amount,
         counterparty_uid=p.uid)
    return ts


def takeover_alerts(ctx: Ctx, p: Person, ts: datetime, kinds: list[tuple[str, str, str]]) -> None:
    for source, kind, note in kinds:
        if p.rng.random() < 0.7:
            ctx.alert(p.uid, ts + timedelta(minutes=p.rng.randint(1, 30)), source, kind, note)


def phishing(ctx: Ctx, p: Person) -> str:
    rng = p.rng
    t0 = attack_time(p)
    victim_history(ctx, p, t0, rng.uniform(2500, 40000))
    atk = attacker_for(p, rng.choice(("vpn", "vpn", "foreign", "local")))
    sid = attacker_login(ctx, p, atk, t0, p.mfa)
    ts = t0
    if rng.random() < 0.4:
        ts += timedelta(seconds=rng.randint(30, 240))
        ctx.t.add("security_events", ts=ts, uid=p.uid, event="device_authorize",
                  ip=p.home_ip(), detail={"device_id": atk.device.device_id})
    steps = rng.sample(SECURITY_CHANGES, rng.randint(1, 3))
    if "address" not in steps and "whitelist_off" not in steps:
        steps.append("address")
    for step in steps:
        ts += timedelta(minutes=rng.uniform(0.5, 12))
        change(ctx, p, atk, ts, step, sid)
        if rng.random() < 0.3:
            a.refresh(ctx.t, p, ts + timedelta(seconds=rng.randint(5, 60)), atk.device,
                      atk.ips[0], sid)
    ts += timedelta(minutes=rng.uniform(1, 35))
    end = maybe_to_mule(ctx, p, atk, ts) if rng.random() < 0.25 else drain(ctx, p, atk, ts)
    takeover_alerts(ctx, p, end, [
        ("fraud_rule", "new device withdrawal", "Withdrawal from device first seen < 1h ago"),
        ("email", "security notification bounced", "user clicked 'this wasn't me' link"),
    ])
    victim_after(ctx, p, end, 0.7)
    return (f"AiTM phishing: login from new device {atk.device.channel} at {atk.ips[0]}, "
            f"{', '.join(steps)}, drained to {atk.wallet.address[:12]}…")


def sim_swap(ctx: Ctx, p: Person) -> str:
    rng = p.rng
    p.mfa = "sms"
    t0 = attack_time(p)
    victim_history(ctx, p, t0, rng.uniform(3000, 60000))
    atk = attacker_for(p, rng.choice(("local", "local", "vpn")))
    ts = t0
    if rng.random() < 0.5:
        ctx.t.add("logins", ts=ts - timedelta(minutes=rng.randint(2, 15)), uid=p.uid,
                  event="login_failure", ip=atk.ips[0], user_agent=atk.device.user_agent,
                  device_id=atk.device.device_id, channel=atk.device.channel,
                  failure_reason="bad_password")
    sec(ctx, p, atk, ts, "password_reset", None, {"channel": "sms"})
    ts += timedelta(minutes=rng.uniform(0.5, 6))
    sid = attacker_login(ctx, p, atk, ts, "sms")
    order = ["mfa_reset", "email_change", "address"]
    rng.shuffle(order)
    for step in order[: rng.randint(2, 3)]:
        ts += timedelta(minutes=rng.uniform(1, 20))
        if step == "mfa_reset":
            sec(ctx, p, atk, ts, "mfa_reset", sid, {"method": "sms"})
        elif step == "email_change":
            new = v.email_for(rng, p.country)
            sec(ctx, p, atk, ts, "email_change", sid, {"old": p.email, "new": new})
            p.email = new
        else:
            change(ctx, p, atk, ts, "address", sid)
    ts += timedelta(minutes=rng.uniform(3, 90))
    end = drain(ctx, p, atk, ts)
    takeover_alerts(ctx, p, end, [
        ("sms", "password reset via sms", "Password reset OTP delivered to +…; device new"),
    ])
    if rng.random() < 0.7:
        ctx.alert(p.uid, end + timedelta(hours=rng.uniform(1, 20)), "ticket", "account access",
                  "My phone suddenly has no signal and now I can't log in to my account")
    victim_after(ctx, p, end, 0.5)
    return f"SIM swap: SMS password reset from new device at {atk.ips[0]}, then drain"


def stolen_session(ctx: Ctx, p: Person) -> str:
    rng = p.rng
    t0 = attack_time(p)
    web = next((d for d in p.devices if d.channel == "web"), None)
    if web is None:
        web = v.make_device(rng, "desktop_web")
        p.devices.append(web)
    victim_history(ctx, p, t0 - timedelta(hours=30), rng.uniform(2000, 30000))
    sid, last = a.session(ctx.t, p, t0 - timedelta(hours=rng.uniform(2, 28)), web, p.home_ip(),
                          refreshes=1, logout=False)
    atk = attacker_for(p, rng.choice(("vpn", "foreign", "foreign")))
    # infostealers copy cookie and user agent; some also copy the fingerprint
    device = web if rng.random() < 0.3 else v.Device(atk.device.device_id, web.user_agent, "web")
    atk = Attacker(device, atk.ips, atk.wallet)
    ts = max(t0, last + timedelta(minutes=20))
    for _ in range(rng.randint(1, 3)):
        a.refresh(ctx.t, p, ts, atk.device, rng.choice(atk.ips), sid)
        ts += timedelta(minutes=rng.uniform(0.5, 8))
    if rng.random() < 0.7:
        change(ctx, p, atk, ts, "address", sid)
        ts += timedelta(minutes=rng.uniform(1, 15))
    end = drain(ctx, p, atk, ts, share=(0.6, 0.97))
    takeover_alerts(ctx, p, end, [
        ("fraud_rule", "session anomaly", "Session token used from a second network"),
    ])
    victim_after(ctx, p, end, 0.6)
    return f"stolen session: victim's session reused from {atk.ips[0]} without login, then drain"


def credential_stuffing(ctx: Ctx, p: Person) -> str:
    rng = p.rng
    p.mfa = "none"
    day = rng.choice(ctx.campaign_days)
    victim_history(ctx, p, day, rng.uniform(800, 15000))
    ts = day + timedelta(minutes=rng.randint(0, 300))
    bot = v.Device(v.device_id(rng), v.automation_ua(rng), "web")
    for _ in range(rng.randint(0, 4)):
        ctx.t.add("logins", ts=ts, uid=p.uid, event="login_failure", ip=rng.choice(ctx.proxies),
                  user_agent=v.automation_ua(rng), device_id=v.device_id(rng), channel="web",
                  failure_reason=rng.choice(("bad_password", "bad_password", "captcha")))
        ts += timedelta(seconds=rng.randint(20, 900))
    hit_ip = rng.choice(ctx.proxies)
    ctx.t.add("logins", ts=ts, uid=p.uid, event="login_success", ip=hit_ip,
              user_agent=bot.user_agent, device_id=bot.device_id, session_id=v.token(rng),
              mfa_method="none", channel="web")
    # a human operator comes back later for the valid hits, with a real browser
    later = ts + timedelta(minutes=rng.uniform(5, 600))
    atk = attacker_for(p, rng.choice(("vpn", "foreign")))
    sid = attacker_login(ctx, p, atk, later, "none")
    change(ctx, p, atk, later + timedelta(minutes=rng.uniform(1, 10)), "address", sid)
    end = drain(ctx, p, atk, later + timedelta(minutes=rng.uniform(11, 45)))
    takeover_alerts(ctx, p, end, [
        ("fraud_rule", "withdrawal after failed logins",
         "Withdrawal within 24h of login burst from proxy IPs"),
    ])
    victim_after(ctx, p, end, 0.5)
    return f"credential stuffing hit from proxy {hit_ip} (no 2FA), operator drained later"


def slow_takeover(ctx: Ctx, p: Person) -> str:
    rng = p.rng
    t0 = attack_time(p, 16, 70)
    victim_history(ctx, p, t0, rng.uniform(3000, 50000))
    atk = attacker_for(p, rng.choice(("vpn", "local", "foreign")))
    sid = attacker_login(ctx, p, atk, t0, p.mfa)
    new = f"{rng.choice(v.FIRST)}.{rng.choice(v.LAST)}{rng.randint(10, 99)}@" + rng.choice(
        ("proton.me", "outlook.com", "gmail.com", "tutanota.com"))
    sec(ctx, p, atk, t0 + timedelta(minutes=rng.uniform(2, 15)), "email_change", sid,
        {"old": p.email, "new": new})
    p.email = new
    wait = timedelta(days=rng.uniform(3, 13))
    # the owner, unaware, goes on as usual in the meantime
    a.everyday_logins(ctx.t, p, t0 + timedelta(hours=5), t0 + wait)
    ts = t0 + wait
    sid = attacker_login(ctx, p, atk, ts, p.mfa)
    for step in rng.sample(("address", "api_key", "anti_phishing"), rng.randint(1, 2)):
        ts += timedelta(minutes=rng.uniform(1, 20))
        change(ctx, p, atk, ts, step, sid)
    if atk.wallet.address not in ctx.t.rows["security_events"][-1]["detail"]:
        change(ctx, p, atk, ts, "address", sid)
    end = drain(ctx, p, atk, ts + timedelta(minutes=rng.uniform(5, 60)))
    takeover_alerts(ctx, p, end, [
        ("fraud_rule", "withdrawal after email change", "E-mail changed 3+ days before"),
    ])
    victim_after(ctx, p, end, 0.6)
    return f"slow takeover: email changed from {atk.ips[0]}, {wait.days} days quiet, then drain"
