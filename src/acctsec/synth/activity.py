"""Building blocks of activity: sessions, everyday logins and everyday money movements."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal

from acctsec.synth import values as v
from acctsec.synth.tables import Tables
from acctsec.synth.world import (
    ASSETS,
    END,
    START,
    Person,
    Wallet,
    own_wallet,
    price,
    quantize,
    usd,
)

IpChooser = Callable[[Person, v.Device], str]
_counter = {"tx": 0}


def default_ip(p: Person, device: v.Device) -> str:
    """Home Wi-Fi most of the time; phones are often on the carrier network."""
    if device.channel in ("ios", "android") or "Mobile" in device.user_agent:
        if p.rng.random() < 0.35:
            return p.mobile_ip()
    return p.home_ip()


def login_method(p: Person, device: v.Device) -> str:
    if p.mfa == "passkey" and device.channel == "api":
        return "none"
    return p.mfa


def session(
    t: Tables, p: Person, ts: datetime, device: v.Device, ip: str, *,
    refreshes: int | None = None, logout: bool | None = None,
) -> tuple[str, datetime]:
    """A login with its refreshes and maybe a logout; returns (session_id, last time)."""
    rng = p.rng
    if rng.random() < 0.04:
        t.add("logins", ts=ts - timedelta(seconds=rng.randint(20, 90)), uid=p.uid,
              event="login_failure", ip=ip, user_agent=device.user_agent,
              device_id=device.device_id, channel=device.channel, failure_reason="bad_password")
    sid = v.token(rng)
    if p.mfa not in ("none", "passkey") and rng.random() < 0.015:
        t.add("logins", ts=ts - timedelta(seconds=rng.randint(5, 40)), uid=p.uid,
              event="mfa_failure", ip=ip, user_agent=device.user_agent,
              device_id=device.device_id, mfa_method=p.mfa, channel=device.channel,
              failure_reason="bad_mfa")
    t.add("logins", ts=ts, uid=p.uid, event="login_success", ip=ip,
          user_agent=device.user_agent, device_id=device.device_id, session_id=sid,
          mfa_method=login_method(p, device), channel=device.channel)
    now = ts
    for _ in range(rng.choice((0, 0, 0, 1, 1, 2)) if refreshes is None else refreshes):
        now += timedelta(minutes=rng.randint(12, 70), seconds=rng.randint(0, 59))
        refresh(t, p, now, device, ip, sid)
    if logout if logout is not None else rng.random() < 0.3:
        now += timedelta(minutes=rng.randint(2, 40), seconds=rng.randint(0, 59))
        t.add("logins", ts=now, uid=p.uid, event="logout", ip=ip, user_agent=device.user_agent,
              device_id=device.device_id, session_id=sid, channel=device.channel)
    return sid, now


def refresh(t: Tables, p: Person, ts: datetime, device: v.Device, ip: str, sid: str) -> None:
    t.add("logins", ts=ts, uid=p.uid, event="session_refresh", ip=ip,
          user_agent=device.user_agent, device_id=device.device_id, session_id=sid,
          channel=device.channel)


def app_open(t: Tables, p: Person, ts: datetime, device: v.Device, ip: str) -> str:
    """Apps keep one long-lived session and refresh it from wherever the phone is."""
    sid = p.app_sessions.get(device.device_id)
    if sid is None or p.rng.random() < 0.04:
        sid, _ = session(t, p, ts, device, ip, refreshes=0)
        p.app_sessions[device.device_id] = sid
        return sid
    refresh(t, p, ts, device, ip, sid)
    return sid


def everyday_logins(
    t: Tables, p: Person, start: datetime, end: datetime, ip_fn: IpChooser = default_ip,
    devices: list[v.Device] | None = None,
) -> None:
    """Logins and app opens of an ordinary user, following their day rhythm."""
    rng = p.rng
    devices = devices or p.devices
    day = max(start, p.created_at).replace(hour=0, minute=0, second=0)
    while day < end:
        n = _sessions_today(p)
        for _ in range(n):
            ts = p.local_hour_ts(day)
            if not start <= ts < end:
                continue
            device = rng.choice(devices)
            ip = ip_fn(p, device)
            if device.channel in ("ios", "android"):
                app_open(t, p, ts, device, ip)
            else:
                session(t, p, ts, device, ip)
        day += timedelta(days=1)


def _sessions_today(p: Person) -> int:
    rate = p.activity * (1.6 if p.rng.random() < 0.1 else 1.0)
    n = 0
    while p.rng.random() < rate / (1 + rate) and n < 6:
        n += 1
    return n


def next_tx_id(prefix: str = "T") -> str:
    _counter["tx"] += 1
    return f"{prefix}{_counter['tx']:09d}"


def reset_tx_ids(start: int = 0) -> None:
    _counter["tx"] = start


def tx(
    t: Tables, p: Person, ts: datetime, kind: str, asset: str, amount: Decimal,
    **extra: object,
) -> None:
    """One transaction, keeping the person's balance in step."""
    sign = 1 if kind in ("deposit", "internal_in", "fiat_deposit", "p2p_buy") else -1
    status = str(extra.get("status", "completed"))
    if status in ("completed", "pending"):
        p.balance[asset] = p.balance.get(asset, Decimal(0)) + sign * amount
    fields: dict[str, object] = {"status": "completed", **extra}
    t.add("transactions", ts=ts, uid=p.uid, kind=kind, tx_id=next_tx_id(), asset=asset,
          amount=amount, usd_value=usd(amount, asset, ts), **fields)


def crypto_deposit(t: Tables, p: Person, ts: datetime, usd_amount: float,
                   source: Wallet | None = None) -> None:
    w = source or p.rng.choice(p.wallets)
    amount = quantize(w.asset, usd_amount / price(w.asset, ts))
    if amount <= 0:
        return
    tx(t, p, ts, "deposit", w.asset, amount, network=w.network, address=w.address,
       txhash=v.txhash_for(w.network, p.rng))


def fiat_deposit(t: Tables, p: Person, ts: datetime, usd_amount: float, method: str,
                 chargeback: bool = False) -> None:
    amount = quantize("USDT", usd_amount)
    tx(t, p, ts, "fiat_deposit", "USDT", amount, payment_method=method,
       chargeback=chargeback if method == "card" else None)


def withdraw(t: Tables, p: Person, ts: datetime, w: Wallet, amount: Decimal, ip: str,
             device: v.Device, status: str = "completed") -> None:
    tx(t, p, ts, "withdrawal", w.asset, amount, network=w.network, address=w.address,
       txhash=v.txhash_for(w.network, p.rng) if status != "failed" else None,
       ip=ip, device_id=device.device_id, status=status)


def fund(t: Tables, p: Person, ts: datetime, usd_amount: float) -> None:
    """Money coming in the way this person usually brings it."""
    if p.rng.random() < 0.45:
        method = p.rng.choice(("bank_transfer", "bank_transfer", "card"))
        fiat_deposit(t, p, ts, usd_amount, method)
    else:
        crypto_deposit(t, p, ts, usd_amount)


def everyday_money(t: Tables, p: Person, start: datetime, end: datetime) -> None:
    """A handful of deposits and withdrawals to the person's own wallets."""
    rng = p.rng
    first = max(start, p.created_at) + timedelta(hours=rng.uniform(1, 240))
    if first >= end:
        return
    size = rng.choice((80.0, 250.0, 600.0, 1500.0, 4000.0, 12000.0))
    fund(t, p, first, size * rng.uniform(0.5, 1.5))
    times = sorted(first + (end - first) * rng.random() for _ in range(rng.randint(1, 8)))
    for ts in times:
        if rng.random() < 0.55:
            fund(t, p, ts, size * rng.uniform(0.1, 1.0))
        else:
            withdraw_some(t, p, ts, rng.uniform(0.1, 0.6))


def withdraw_some(t: Tables, p: Person, ts: datetime, share: float,
                  wallet: Wallet | None = None) -> None:
    """Withdraw a share of a held asset to one of the owner's wallets (on-chain)."""
    rng = p.rng
    held = [a for a, amt in sorted(p.balance.items()) if amt > 0 and a != "USD"]
    if not held:
        return
    asset = rng.choice(held)
    w = wallet or next((w for w in p.wallets if w.asset == asset), None)
    if w is None:
        w = own_wallet(rng, asset)
        p.wallets.append(w)
        add_address(t, p, ts - timedelta(minutes=rng.randint(3, 600)), w)
    amount = quantize(asset, float(p.balance[asset]) * share)
    if amount <= 0:
        return
    device = rng.choice(p.devices)
    withdraw(t, p, ts, w, amount, default_ip(p, device), device)


def add_address(t: Tables, p: Person, ts: datetime, w: Wallet, ip: str | None = None,
                device: v.Device | None = None) -> None:
    device = device or p.rng.choice(p.devices)
    t.add("security_events", ts=ts, uid=p.uid, event="withdrawal_address_add",
          ip=ip or default_ip(p, device), device_id=device.device_id,
          user_agent=device.user_agent,
          detail={"address": w.address, "network": w.network, "asset": w.asset})


def occasional_security(t: Tables, p: Person, start: datetime, end: datetime) -> None:
    """Now and then an honest user tidies up security settings."""
    rng = p.rng
    if rng.random() < 0.12:
        d = rng.choice(p.devices)
        ts = start + (end - start) * rng.random()
        if p.mfa in ("none", "sms") and rng.random() < 0.5:
            t.add("security_events", ts=ts, uid=p.uid, event="mfa_enable", ip=p.home_ip(),
                  device_id=d.device_id, user_agent=d.user_agent, detail={"method": "totp"})
        else:
            t.add("security_events", ts=ts, uid=p.uid, event="anti_phishing_change",
                  ip=p.home_ip(), device_id=d.device_id, user_agent=d.user_agent)
    if rng.random() < 0.05:
        d = rng.choice(p.devices)
        ts = start + (end - start) * rng.random()
        t.add("security_events", ts=ts, uid=p.uid, event="api_key_create", ip=p.home_ip(),
              device_id=d.device_id, user_agent=d.user_agent,
              detail={"key_id": v.token(rng, 12), "permissions": ["read", "trade"],
                      "ip_whitelist": [p.home_ip()]})


def ordinary_life(t: Tables, p: Person, start: datetime = START, end: datetime = END) -> None:
    everyday_logins(t, p, start, end)
    everyday_money(t, p, start, end)
    occasional_security(t, p, start, end)


def asset_of_largest(p: Person, ts: datetime) -> str | None:
    held = [(float(a) * price(k, ts), k) for k, a in p.balance.items() if a > 0 and k in ASSETS]
    return max(held)[1] if held else None
