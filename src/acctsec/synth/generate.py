"""The small example data set: cast of families, uid assignment, and writing the tables."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from acctsec.synth import activity, fraud, lookalikes, takeovers
from acctsec.synth import values as v
from acctsec.synth.context import Ctx, build_proxies, campaign_days
from acctsec.synth.tables import COLUMNS, TRUTH_COLUMNS, Tables, write_csv
from acctsec.synth.world import END, Person, new_person

Single = Callable[[Ctx, Person], str]
Group = Callable[[Ctx, list[Person]], str]
FIRST_PHISHING_UID = "10007"
FIRST_UID = 10001


@dataclass(frozen=True)
class Family:
    """One kind of story, how many groups of which size, and what plays it."""

    name: str
    label: str
    sizes: tuple[int, ...]
    single: Single | None = None
    group: Group | None = None


def _ordinary(ctx: Ctx, p: Person) -> str:
    activity.ordinary_life(ctx.t, p)
    return "ordinary user"


FAMILIES: tuple[Family, ...] = (
    Family("money_mule", "fraud", (1,) * 4, fraud.money_mule),
    Family("phishing", "takeover", (1,) * 8, takeovers.phishing),
    Family("sim_swap", "takeover", (1,) * 5, takeovers.sim_swap),
    Family("stolen_session", "takeover", (1,) * 5, takeovers.stolen_session),
    Family("credential_stuffing", "takeover", (1,) * 5, takeovers.credential_stuffing),
    Family("slow_takeover", "takeover", (1,) * 4, takeovers.slow_takeover),
    Family("traveller", "clear", (1,) * 10, lookalikes.traveller),
    Family("new_phone", "clear", (1,) * 10, lookalikes.new_phone),
    Family("vpn_always", "clear", (1,) * 8, lookalikes.vpn_always),
    Family("shared_ip", "clear", (3, 4, 2, 3), group=lookalikes.shared_ip_group),
    Family("big_withdrawal", "clear", (1,) * 6, lookalikes.big_withdrawal),
    Family("forgot_password", "clear", (1,) * 8, lookalikes.forgot_password),
    Family("stuffing_survivor", "clear", (1,) * 10, lookalikes.stuffing_survivor),
    Family("shared_device_couple", "clear", (2, 2), group=lookalikes.couple),
    Family("wallet_trader", "clear", (1,) * 3, lookalikes.wallet_trader),
    Family("ring", "fraud", (5, 3), group=fraud.ring),
    Family("chargeback", "fraud", (1,) * 4, fraud.chargeback),
)
PLAY_ORDER = ("money_mule", "ordinary", "traveller", "new_phone", "vpn_always", "shared_ip",
              "big_withdrawal", "forgot_password", "stuffing_survivor",
              "shared_device_couple", "wallet_trader", "ring", "chargeback", "phishing",
              "sim_swap", "stolen_session", "credential_stuffing", "slow_takeover")


@dataclass
class Cast:
    """Every group of people with the family it plays."""

    groups: list[tuple[Family, list[Person]]]


def make_cast(seed: int, accounts: int) -> Cast:
    groups: list[tuple[Family, list[Person]]] = []
    n = 0
    for fam in FAMILIES:
        for gi, size in enumerate(fam.sizes):
            people = [new_person(f"{fam.name}:{gi}:{i}", seed) for i in range(size)]
            _setup(fam.name, people)
            groups.append((fam, people))
            n += size
    ordinary = Family("ordinary", "clear", (), _ordinary)
    for i in range(max(accounts - n, 0)):
        groups.append((ordinary, [new_person(f"ordinary:{i}", seed)]))
    return Cast(groups)


def _setup(family: str, people: list[Person]) -> None:
    """Facts that must hold before uids are handed out in order of registration."""
    rng = people[0].rng
    if family == "ring":
        base = END - timedelta(days=rng.uniform(30, 90))
        for i, p in enumerate(people):
            p.created_at = base + timedelta(minutes=i * rng.uniform(3, 50))
    elif family == "chargeback":
        people[0].created_at = END - timedelta(days=rng.uniform(20, 90))
    elif family == "shared_device_couple":
        people[1].created_at = people[0].created_at + timedelta(days=rng.uniform(1, 300))


def assign_uids(cast: Cast) -> None:
    """uids follow registration order, as at a real exchange; the first phishing is 10007."""
    people = sorted((p for _, g in cast.groups for p in g), key=lambda p: p.created_at)
    for i, p in enumerate(people):
        p.uid = str(FIRST_UID + i)
    first = next(g[0] for fam, g in cast.groups if fam.name == "phishing")
    other = people[int(FIRST_PHISHING_UID) - FIRST_UID]
    first.uid, other.uid = other.uid, first.uid
    first.created_at, other.created_at = other.created_at, first.created_at


def play(ctx: Ctx, cast: Cast) -> None:
    order = {name: i for i, name in enumerate(PLAY_ORDER)}
    for fam, group in sorted(cast.groups, key=lambda fg: order[fg[0].name]):
        if fam.group is not None:
            text = fam.group(ctx, group)
            for p in group:
                ctx.t.add_truth(p.uid, fam.name, fam.label, text)
        elif fam.single is not None:
            for p in group:
                ctx.t.add_truth(p.uid, fam.name, fam.label, fam.single(ctx, p))
        if fam.name == "money_mule":
            ctx.mule_uids = [p.uid for p in group] + ctx.mule_uids
    for uid in ctx.mule_uids:
        fraud.mule_sweep(ctx, ctx.people[uid])


def add_accounts(t: Tables, cast: Cast) -> None:
    taken: set[str] = set()
    for _, group in cast.groups:
        for p in group:
            p.email = _unique_email(p.email, p.uid, taken)
            t.add("accounts", uid=p.uid, email=p.email, phone=p.phone, created_at=p.created_at,
                  kyc_level=p.kyc_level, kyc_country=p.country, status=p.status,
                  restrictions=p.restrictions or None, referrer_uid=p.referrer_uid or None)


def _unique_email(email: str, uid: str, taken: set[str]) -> str:
    """Exchanges allow one account per login e-mail: a chance repeat gets the uid's digits."""
    if email.lower() in taken:
        local, _, domain = email.rpartition("@")
        email = f"{local}{uid[-3:]}@{domain}"
    taken.add(email.lower())
    return email


def hostile_text(ctx: Ctx, cast: Cast) -> list[str]:
    """Put hostile strings on a few ordinary (honest) accounts so render tests can use them."""
    ordinary = sorted((g[0] for fam, g in cast.groups if fam.name == "ordinary"),
                      key=lambda p: int(p.uid))
    picks = ctx.rng.sample(ordinary, 5)
    esc_ua = ("Mozilla/5.0 (X11; Linux x86_64) \x1b[31mAppleWebKit\x1b[0m "
              "\x1b]8;;http://evil.example/\x1b\\click me\x1b]8;;\x1b\\ Firefox/144.0")
    picks[0].email = '"[bold red]vip[/]"@gmail.com'
    picks[1].devices[0] = v.Device(picks[1].devices[0].device_id, esc_ua, "web")
    picks[2].devices[0] = v.Device(picks[2].devices[0].device_id,
                                   '=HYPERLINK("http://x","y")', "web")
    picks[3].email = "=2+5+cmd@outlook.com"
    return [p.uid for p in picks]


def hostile_rows(ctx: Ctx, uids: list[str]) -> None:
    p = ctx.people[uids[3]]
    d = p.devices[-1]
    ts = END - timedelta(days=12, hours=3)
    ctx.t.add("security_events", ts=ts, uid=p.uid, event="api_key_create", ip=p.home_ip(),
              device_id=d.device_id, user_agent=d.user_agent,
              detail={"key_id": "k_9f2a", "permissions": ["read"],
                      "label": "<script>alert(1)</script> [bold red]x[/]"})
    ctx.t.add("security_events", ts=ts + timedelta(minutes=4), uid=p.uid,
              event="anti_phishing_change", ip=p.home_ip(), device_id=d.device_id,
              user_agent=d.user_agent,
              detail={"code": '\x1b[31mPWNED\x1b[0m =HYPERLINK("http://x","y")'})
    q = ctx.people[uids[4]]
    ctx.alert(q.uid, END - timedelta(days=9), "ticket", "general question",
              'Customer wrote: "[bold red]URGENT[/] <script>alert(1)</script>\n'
              '=HYPERLINK("http://x","y")", please call back, thanks')
    ctx.alert(uids[0], END - timedelta(days=20), "email", "reply",
              "\x1b]8;;http://evil.example/\x1b\\support link\x1b]8;;\x1b\\ \x1b[2J cleared")


def build(seed: int = 7, accounts: int = 300) -> Tables:
    """Generate every table in memory (the small data set only)."""
    activity.reset_tx_ids()
    rng = random.Random(seed)
    ctx = Ctx(Tables(), rng, proxies=build_proxies(rng), campaign_days=campaign_days(rng))
    cast = make_cast(seed, accounts)
    assign_uids(cast)
    ctx.people = {p.uid: p for _, g in cast.groups for p in g}
    hostile = hostile_text(ctx, cast)
    play(ctx, cast)
    hostile_rows(ctx, hostile)
    for row in ctx.t.truth:
        if row["uid"] in hostile:
            row["description"] += " (carries hostile text for render tests)"
    add_accounts(ctx.t, cast)
    return ctx.t


def generate(out_dir: Path, seed: int = 7, accounts: int = 300,
             truth_path: Path | None = None) -> Path:
    """Write the five tables to out_dir and the ground truth beside it; returns truth path."""
    t = build(seed, accounts)
    out_dir = Path(out_dir)
    for table, columns in COLUMNS.items():
        write_csv(out_dir / f"{table}.csv", columns, t.sorted_rows(table))
    truth_path = truth_path or out_dir.resolve().parent / "truth.csv"
    truth = sorted(t.truth, key=lambda r: int(r["uid"]))
    write_csv(truth_path, TRUTH_COLUMNS, truth)
    return truth_path
