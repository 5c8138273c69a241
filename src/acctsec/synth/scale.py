"""Scale mode: a large population streamed in chunks, numpy-vectorised for the ordinary bulk."""

from __future__ import annotations

import base64
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from acctsec.synth import values as v
from acctsec.synth.context import Ctx, build_proxies, campaign_days
from acctsec.synth.generate import (
    FAMILIES,
    Cast,
    Family,
    _setup,
    add_accounts,
    assign_uids,
    hostile_rows,
    hostile_text,
    play,
)
from acctsec.synth.tables import COLUMNS, TRUTH_COLUMNS, Tables, write_csv
from acctsec.synth.world import ASSETS, END, HOME_COUNTRIES, NETBLOCKS, START, new_person

EVENTS_PER_CHUNK = 1_000_000
BULK_NETWORKS = {
    "USDT": ("TRX", "TRX", "ETH", "BSC"), "BTC": ("BTC",), "ETH": ("ETH", "ARB"),
    "USDC": ("ETH", "ARB"), "BNB": ("BSC",),
}
SCHEMAS = {name: pa.schema([(c, pa.string()) for c in cols]) for name, cols in COLUMNS.items()}
LOGIN_EVENTS = np.array(
    ["login_success", "session_refresh", "logout", "login_failure", "mfa_failure"], dtype=object
)
LOGIN_P = np.array([0.55, 0.30, 0.08, 0.05, 0.02])
MFA = np.array(["totp", "sms", "email", "passkey", "hardware_key", "none"], dtype=object)
FAILURES = np.array(["bad_password", "captcha", "locked", "bad_mfa"], dtype=object)
MFA_P = np.array([0.45, 0.25, 0.10, 0.10, 0.03, 0.07])
T0 = int(START.timestamp())
SPAN = int((END - START).total_seconds())


class Sinks:
    """One streaming writer per table, Parquet or CSV."""

    def __init__(self, out: Path, fmt: str) -> None:
        out.mkdir(parents=True, exist_ok=True)
        self.fmt = fmt
        self.writers: dict[str, Any] = {}
        for name, schema in SCHEMAS.items():
            path = out / f"{name}.{fmt}"
            if fmt == "parquet":
                import pyarrow.parquet as pq

                self.writers[name] = pq.ParquetWriter(path, schema, compression="zstd")
            else:
                import pyarrow.csv as pcsv

                opts = pcsv.WriteOptions(quoting_style="needed")
                self.writers[name] = pcsv.CSVWriter(path, schema, write_options=opts)

    def write(self, name: str, columns: dict[str, Any]) -> None:
        n = len(next(iter(columns.values())))
        arrays = [_as_string(columns.get(c), n) for c in COLUMNS[name]]
        self.writers[name].write_table(pa.Table.from_arrays(arrays, schema=SCHEMAS[name]))

    def write_rows(self, name: str, rows: list[dict[str, str]]) -> None:
        if rows:
            self.write(name, {c: [r[c] or None for r in rows] for c in COLUMNS[name]})

    def close(self) -> None:
        for w in self.writers.values():
            w.close()


def _as_string(values: Any, n: int) -> pa.Array:
    if values is None:
        return pa.nulls(n, pa.string())
    if isinstance(values, pa.ChunkedArray | pa.Array):
        return values.cast(pa.string())
    return pa.array(values, type=pa.string())


def fixed_strings(buf: bytes, width: int) -> pa.Array:
    """A string array over a buffer of equal-width ASCII items, without copying each item."""
    n = len(buf) // width
    offsets = pa.py_buffer(np.arange(0, n * width + 1, width, dtype=np.int32).tobytes())
    return pa.StringArray.from_buffers(n, offsets, pa.py_buffer(buf))


def tokens(rng: np.random.Generator, n: int, nbytes: int = 18) -> pa.Array:
    """n opaque base64url tokens, vectorised (18 bytes -> 24 characters, no padding)."""
    return fixed_strings(base64.urlsafe_b64encode(rng.bytes(n * nbytes)), nbytes * 4 // 3)


def hexes(rng: np.random.Generator, n: int, nbytes: int) -> pa.Array:
    return fixed_strings(rng.bytes(n * nbytes).hex().encode(), nbytes * 2)


def iso(seconds: np.ndarray) -> pa.Array:
    ts = pa.array(seconds.astype(np.int64), pa.timestamp("s", tz="UTC"))
    return pc.strftime(ts, format="%Y-%m-%dT%H:%M:%SZ")


def pick(values: Any, idx: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """values[idx] as an arrow array; positions where `null` is true stay empty."""
    arr = values if isinstance(values, pa.Array) else pa.array(values, pa.string())
    return arr.take(pa.array(idx, mask=null))


def join_ip(prefix: pa.Array, octet: np.ndarray) -> pa.Array:
    return pc.binary_join_element_wise(prefix, pa.array(octet).cast(pa.string()), ".")


@dataclass
class Places:
    """Residential and mobile /24s indexed by home country for vectorised picks."""

    countries: np.ndarray
    weights: np.ndarray
    res: list[np.ndarray]
    mob: list[np.ndarray]


def places() -> Places:
    names = [c for c, _ in HOME_COUNTRIES]
    weights = np.array([w for _, w in HOME_COUNTRIES], dtype=float)
    res, mob = [], []
    for c in names:
        r = [b[0] for b in NETBLOCKS if b[1] == c and b[5] == "residential"]
        m = [b[0] for b in NETBLOCKS if b[1] == c and b[5] == "mobile"] or r
        res.append(np.array(r or m, dtype=object))
        mob.append(np.array(m, dtype=object))
    return Places(np.array(names, dtype=object), weights / weights.sum(), res, mob)


@dataclass
class Population:
    """Per-account attributes of one chunk of ordinary users."""

    uids: np.ndarray
    country: np.ndarray
    home_prefix: pa.Array
    home_octet: np.ndarray
    mobile_prefix: pa.Array
    devices: pa.Array  # two device ids per account: 2*i and 2*i+1
    ua: np.ndarray  # (n, 2) indices into the UA pool
    mfa: np.ndarray  # indices into MFA
    weight: np.ndarray


def ua_pool(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = random.Random(f"{seed}:ua-pool")
    kinds = ["desktop_web"] * 160 + ["ios"] * 90 + ["android"] * 90 + ["mobile_web"] * 60
    devs = [v.make_device(rng, k) for k in kinds]
    return (np.array([d.user_agent for d in devs], dtype=object),
            np.array([d.channel for d in devs], dtype=object))


def population(rng: np.random.Generator, pl: Places, first_uid: int, n: int,
               n_ua: int) -> Population:
    ci = rng.choice(len(pl.countries), size=n, p=pl.weights)
    home = np.empty(n, dtype=object)
    mob = np.empty(n, dtype=object)
    for k in np.unique(ci):
        idx = np.nonzero(ci == k)[0]
        home[idx] = rng.choice(pl.res[k], size=len(idx))
        mob[idx] = rng.choice(pl.mob[k], size=len(idx))
    return Population(
        uids=np.arange(first_uid, first_uid + n), country=pl.countries[ci],
        home_prefix=pa.array(home, pa.string()), home_octet=rng.integers(2, 254, size=n),
        mobile_prefix=pa.array(mob, pa.string()), devices=hexes(rng, n * 2, 16),
        ua=rng.integers(0, n_ua, size=(n, 2)), mfa=rng.choice(len(MFA), size=n, p=MFA_P),
        weight=rng.lognormal(0.0, 0.9, size=n),
    )


def login_chunk(rng: np.random.Generator, pop: Population, m: int,
                uas: tuple[np.ndarray, np.ndarray]) -> dict[str, Any]:
    """m login events spread over the chunk's accounts by their activity."""
    acc = rng.choice(len(pop.uids), size=m, p=pop.weight / pop.weight.sum())
    ts = T0 + rng.integers(0, SPAN, size=m)
    order = np.lexsort((ts, acc))
    acc, ts = acc[order], ts[order]
    ev = rng.choice(len(LOGIN_EVENTS), size=m, p=LOGIN_P)
    first = np.ones(m, dtype=bool)
    first[1:] = acc[1:] != acc[:-1]
    ev[first] = 0
    last_login = np.maximum.accumulate(np.where(ev == 0, np.arange(m), 0))
    # A session token lives in the cookie jar of the device that signed in: its
    # refreshes and its logout come from that device (the network may change).
    dev = acc * 2 + (rng.random(m) < 0.4)
    dev = np.where((ev == 1) | (ev == 2), dev[last_login], dev)
    on_mobile = rng.random(m) < 0.25
    take = pa.array(acc)
    prefix = pc.if_else(pa.array(on_mobile), pop.mobile_prefix.take(take),
                        pop.home_prefix.take(take))
    octet = np.where(on_mobile, rng.integers(2, 254, size=m), pop.home_octet[acc])
    ua_idx = pop.ua.reshape(-1)[dev]
    reasons = rng.choice(3, size=m, p=[0.85, 0.1, 0.05])
    return {
        "ts": iso(ts), "uid": pa.array(pop.uids[acc]).cast(pa.string()),
        "event": pick(LOGIN_EVENTS, ev), "ip": join_ip(prefix, octet),
        "user_agent": pick(uas[0], ua_idx), "device_id": pop.devices.take(pa.array(dev)),
        "session_id": tokens(rng, m).take(pa.array(last_login, mask=ev >= 3)),
        "mfa_method": pick(MFA, pop.mfa[acc], ~((ev == 0) | (ev == 4))),
        "channel": pick(uas[1], ua_idx),
        "failure_reason": pick(FAILURES, np.where(ev == 4, 3, reasons), ev < 3),
    }


def decimal_strings(units: np.ndarray, decimals: int) -> pa.Array:
    """Exact decimal text of integer minor units, e.g. 123456 with 2 decimals -> 1234.56."""
    scale = 10**decimals
    whole = pa.array(units // scale).cast(pa.string())
    frac = pc.utf8_lpad(pa.array(units % scale).cast(pa.string()), decimals, "0")
    return pc.binary_join_element_wise(whole, frac, ".")


def price_array(asset: str, ts: np.ndarray) -> np.ndarray:
    _, base, amp, _ = ASSETS[asset]
    days = (ts - T0) / 86400
    return base * (1 + amp * np.sin(days / 19.0) * 0.6 + amp * np.sin(days / 7.3) * 0.4)


def tx_chunk(rng: np.random.Generator, pop: Population, pyrng: random.Random,
             tx_base: int) -> dict[str, Any]:
    """Deposits and withdrawals of ordinary users to and from their own wallets."""
    n = len(pop.uids)
    asset_names = list(BULK_NETWORKS)
    acc_asset = rng.integers(0, len(asset_names), size=n)
    nets = [pyrng.choice(BULK_NETWORKS[asset_names[k]]) for k in acc_asset]
    wallets = np.array([v.address_for(nt, pyrng) for nt in nets], dtype=object)
    per = rng.poisson(3.0, size=n)
    acc = np.repeat(np.arange(n), per)
    m = len(acc)
    ts = T0 + rng.integers(0, SPAN, size=m)
    kind = np.where(rng.random(m) < 0.6, "deposit", "withdrawal").astype(object)
    fiat = (kind == "deposit") & (rng.random(m) < 0.3)
    kind[fiat] = "fiat_deposit"
    a_idx = np.where(fiat, 0, acc_asset[acc])
    usd_amt = rng.lognormal(6.0, 1.3, size=m)
    amount = np.empty(m, dtype=object)
    usd_text = decimal_strings(np.round(usd_amt * 100).astype(np.int64), 2)
    for k, name in enumerate(asset_names):
        sel = np.nonzero(a_idx == k)[0]
        dec = ASSETS[name][3]
        units = np.maximum(1, np.round(usd_amt[sel] / price_array(name, ts[sel]) * 10**dec))
        amount[sel] = decimal_strings(units.astype(np.int64), dec).to_numpy(zero_copy_only=False)
    network = np.array(nets, dtype=object)[acc]
    network[fiat] = None
    evm = np.isin(network, ["ETH", "ARB", "BSC"])
    h = hexes(rng, m, 32)
    txhash = pc.if_else(pa.array(evm), pc.binary_join_element_wise("0x", h, ""), h)
    addr = wallets[acc]
    addr[fiat] = None
    status = np.where(rng.random(m) < 0.985, "completed", "failed").astype(object)
    txhash = pc.if_else(pa.array(fiat | (status == "failed")), pa.scalar(None, pa.string()),
                        txhash)
    out = kind == "withdrawal"
    ip = join_ip(pop.home_prefix.take(pa.array(acc)), pop.home_octet[acc])
    ip = pc.if_else(pa.array(out), ip, pa.scalar(None, pa.string()))
    return {
        "ts": iso(ts), "uid": pa.array(pop.uids[acc]).cast(pa.string()), "kind": kind,
        "tx_id": [f"B{tx_base + i:010d}" for i in range(m)],
        "asset": np.array(asset_names, dtype=object)[a_idx], "network": network,
        "amount": amount, "usd_value": usd_text, "address": addr, "txhash": txhash,
        "status": status, "ip": ip, "device_id": pick(pop.devices, acc * 2, ~out),
        "payment_method": pick(["bank_transfer"], np.zeros(m, dtype=int), ~fiat),
    }


def accounts_chunk(pop: Population, pyrng: random.Random,
                   taken: set[str] | None = None) -> dict[str, Any]:
    """Accounts rows; `taken` holds the e-mails and phones already given out, since an
    exchange lets one mailbox or number open only one account (namesakes add digits)."""
    taken = set() if taken is None else taken
    created = T0 - (pyrng.random() * 0 + np.linspace(5 * 365 * 86400, 86400, len(pop.uids)))
    emails, phones = [], []
    for c in pop.country:
        email = v.email_for(pyrng, str(c))
        while email.lower() in taken:
            local, _, domain = email.partition("@")
            email = f"{local}{pyrng.randint(1, 999)}@{domain}"
        phone = v.phone_for(pyrng, str(c))
        while phone in taken:
            phone = v.phone_for(pyrng, str(c))
        taken.update((email.lower(), phone))
        emails.append(email)
        phones.append(phone)
    return {
        "uid": pa.array(pop.uids).cast(pa.string()), "email": emails, "phone": phones,
        "created_at": iso(created.astype(np.int64)),
        "kyc_level": [str(pyrng.choices((0, 1, 2, 3), (4, 16, 55, 25))[0]) for _ in emails],
        "kyc_country": pop.country, "status": ["active"] * len(emails),
    }


def security_chunk(rng: np.random.Generator, pop: Population) -> dict[str, Any]:
    """A few honest security tidy-ups (anti-phishing code, 2FA on)."""
    sel = np.nonzero(rng.random(len(pop.uids)) < 0.04)[0]
    m = len(sel)
    ts = T0 + rng.integers(0, SPAN, size=m)
    event = np.where(rng.random(m) < 0.5, "anti_phishing_change", "mfa_enable").astype(object)
    ip = join_ip(pop.home_prefix.take(pa.array(sel)), pop.home_octet[sel])
    return {
        "ts": iso(ts), "uid": pa.array(pop.uids[sel]).cast(pa.string()), "event": event,
        "ip": ip, "device_id": pop.devices.take(pa.array(sel * 2)),
        "detail": pick(['{"method": "totp"}'], np.zeros(m, dtype=int), event != "mfa_enable"),
    }


def stories(seed: int, repeat: int) -> tuple[Tables, int]:
    """Every family `repeat` times, with the small generator's stories; uids from 10001."""
    from acctsec.synth import activity

    activity.reset_tx_ids()
    rng = random.Random(seed)
    ctx = Ctx(Tables(), rng, proxies=build_proxies(rng), campaign_days=campaign_days(rng))
    groups: list[tuple[Family, list[Any]]] = []
    for r in range(repeat):
        for fam in FAMILIES:
            for gi, size in enumerate(fam.sizes):
                people = [new_person(f"{fam.name}:{r}:{gi}:{i}", seed) for i in range(size)]
                _setup(fam.name, people)
                groups.append((fam, people))
    ordinary = Family("ordinary", "clear", ())
    groups += [(ordinary, [new_person(f"ordinary:{i}", seed)]) for i in range(10)]
    cast = Cast(groups)
    assign_uids(cast)
    ctx.people = {p.uid: p for _, g in cast.groups for p in g}
    hostile = hostile_text(ctx, cast)
    from acctsec.synth.generate import _ordinary

    cast.groups = [(Family(f.name, f.label, f.sizes, f.single or _ordinary, f.group), g)
                   for f, g in cast.groups]
    play(ctx, cast)
    hostile_rows(ctx, hostile)
    add_accounts(ctx.t, cast)
    return ctx.t, len(ctx.people)


def generate_scale(out: Path, seed: int = 7, accounts: int = 100_000, events: int = 10_000_000,
                   fmt: str = "parquet", truth_path: Path | None = None) -> None:
    """Stream a large data set to `out` in chunks; memory stays bounded by the chunk size."""
    out = Path(out)
    story_tables, n_story = stories(seed, max(1, accounts // 25_000))
    sinks = Sinks(out, fmt)
    for name in COLUMNS:
        sinks.write_rows(name, story_tables.sorted_rows(name))
    truth = sorted(story_tables.truth, key=lambda r: int(r["uid"]))
    story_logins = len(story_tables.rows["logins"])
    taken = {str(r[k]).lower() for r in story_tables.rows["accounts"] for k in ("email", "phone")
             if r.get(k)}
    del story_tables
    bulk = max(accounts - n_story, 0)
    per_account = max(events - story_logins, 0) / max(bulk, 1)
    chunk = max(1000, int(EVENTS_PER_CHUNK / max(per_account, 1)))
    rng = np.random.default_rng(seed)
    pyrng = random.Random(f"{seed}:bulk")
    pl, uas = places(), ua_pool(seed)
    first_uid, done, tx_base = 10001 + n_story, 0, 0
    while done < bulk:
        n = min(chunk, bulk - done)
        pop = population(rng, pl, first_uid + done, n, len(uas[0]))
        sinks.write("accounts", accounts_chunk(pop, pyrng, taken))
        sinks.write("logins", login_chunk(rng, pop, round(per_account * n), uas))
        txs = tx_chunk(rng, pop, pyrng, tx_base)
        tx_base += len(txs["tx_id"])
        sinks.write("transactions", txs)
        sinks.write("security_events", security_chunk(rng, pop))
        truth += [{"uid": str(u), "family": "ordinary", "label": "clear",
                   "description": "ordinary user (bulk)"} for u in pop.uids]
        done += n
        print(f"{done}/{bulk} bulk accounts", file=sys.stderr)
    sinks.close()
    write_csv(truth_path or out.resolve().parent / f"{out.name}-truth.csv", TRUTH_COLUMNS, truth)
