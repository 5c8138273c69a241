"""`acctsec link|email|device|phone`: the accounts joined to one account or one identity value."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from acctsec.cli._app import app, config_path, say
from acctsec.errors import InputError
from acctsec.render.safe import literal

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from acctsec.intel.identity import EmailFacts, PhoneFacts
    from acctsec.link.lookup import ValueLookup
    from acctsec.link.model import LinkContext

LOOKUP_SCHEMA = "acctsec.lookup/1"


class LinkFormat(StrEnum):
    table = "table"
    json = "json"
    dot = "dot"
    svg = "svg"


class LookupFormat(StrEnum):
    table = "table"
    json = "json"


SOURCE_HELP = ("Folder with accounts/logins/… files, or a sqlite:///, duckdb:/// or "
               "postgresql:// URL (default: `source` from the config).")


@contextmanager
def _link_tables(source: str | None) -> Iterator[tuple[Any, str]]:
    """The source's link tables and the name of its table of uses: a database's copied
    link tables, a large folder's batch link store (each built once in the cache, said
    on stderr), else views over the folder's files."""
    from acctsec.config import load_settings
    from acctsec.link.sql import open_read_only, open_source
    from acctsec.sources.sql_db import is_database_url

    settings = load_settings(config_path())
    given = source or settings.source
    if not given:
        raise InputError("no source: give --source DIR or URL, or set `source` in the config")
    store = (_database_store(settings, str(given)) if is_database_url(str(given))
             else _large_folder_store(settings, Path(str(given)).expanduser()))
    if store is None:
        con, usage = open_source(Path(str(given)).expanduser()), "usage"
    else:
        con, usage = open_read_only(store), "usage_agg"
    try:
        yield con, usage
    finally:
        con.close()


def announce_link_copy(source: Any) -> None:
    """Says on stderr that a database's link tables are being copied (the first time)."""
    if source.link_store_cached():
        return
    kept = ("once (kept in the cache while the data is unchanged)"
            if source.cache_dir is not None else "(no cache: for this run only)")
    say(f"acctsec: copying the tables that link accounts from {source.name} {kept}")


def _database_store(settings: Any, url: str) -> Path:
    from acctsec.sources.sql import SqlSource

    if settings.no_cache:
        raise InputError("linking a database source needs the cache: its link tables are "
                         "copied there once")
    source = SqlSource(url, cache_dir=settings.resolved_cache_dir())
    try:
        announce_link_copy(source)
        return source.link_store()
    finally:
        source.close()


def _large_folder_store(settings: Any, folder: Path) -> Path | None:
    from acctsec.batch.single import build_link_store, large_link_store

    large = large_link_store(settings, folder)
    if large is None:
        return None
    store, missing = large
    if missing:
        say(f"acctsec: {folder} is large: building its link graph once (about 15-30 s per "
            "10 million sign-ins; cached while its files are unchanged)")
        build_link_store(settings, folder, store)
    return store


def _console() -> Console:
    from rich.console import Console

    return Console(highlight=False, markup=False, emoji=False, soft_wrap=False)


def _text(value: object) -> Any:
    from rich.text import Text

    return Text("" if value is None else literal(value))


def _ts(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def _emit_json(data: dict[str, Any]) -> None:
    from acctsec.render.json_format import json_default  # times with a T, as in reports

    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=True, default=json_default) + "\n")


@app.command("link")
def link_command(
    uid: str = typer.Argument(..., help="The account whose cluster to show."),
    depth: int = typer.Option(1, "--depth", "-d", min=1, max=4,
                              help="How many hops of strong links to follow."),
    source: str | None = typer.Option(None, "--source", "-s", help=SOURCE_HELP),
    fmt: LinkFormat = typer.Option(LinkFormat.table, "--format", "-f",
                                   help="Output: table, json, dot (for Graphviz) or svg (a "
                                        "picture, no Graphviz needed)."),
    min_weight: float = typer.Option(0.2, "--min-weight",
                                     help="Hide links weaker than this in table, dot and svg."),
) -> None:
    """Show the accounts linked to UID: what joins them, since when, and how strongly."""
    import math

    from acctsec.link.context import ContextBuilder
    from acctsec.link.export import context_dot, context_json, context_svg

    if not math.isfinite(min_weight):  # nan hid nothing in the table, all in the picture
        raise typer.BadParameter(f"{min_weight!r}: must be a finite number",
                                 param_hint="--min-weight")

    with _link_tables(source) as (con, usage):
        ctx = ContextBuilder(con, usage).build(uid, depth)
    if fmt is LinkFormat.json:
        _emit_json(context_json(ctx))
    elif fmt is LinkFormat.dot:
        sys.stdout.write(context_dot(ctx, min_weight))
    elif fmt is LinkFormat.svg:
        sys.stdout.write(context_svg(ctx, min_weight))
    else:
        console = _console()
        console.print(link_table(ctx, min_weight))
        for line in link_footer(ctx):
            console.print(_text(line))


def link_table(ctx: LinkContext, min_weight: float = 0.2) -> Table:
    """One row per link; every value from the data is literal text."""
    from rich.table import Table

    table = Table(title=f"accounts linked to {literal(ctx.uid)} (depth {ctx.depth})")
    for name in ("from", "to", "via", "value", "first seen", "last seen", "weight", "sharing"):
        table.add_column(name, overflow="fold")
    for e in ctx.edges:
        if e.weight < min_weight:
            continue
        table.add_row(_text(e.a), _text(e.b), _text(e.via), _text(e.value), _ts(e.first_seen),
                      _ts(e.last_seen), f"{e.weight:.2f}", str(e.accounts_sharing))
    return table


def link_footer(ctx: LinkContext) -> list[str]:
    lines = []
    for hub in ctx.hubs:
        lines.append(f"not linked through {hub.family} {hub.value} ({hub.accounts} accounts use "
                     f"it{', ' + hub.network if hub.network else ''}: too common to mean much)")
    if ctx.referral_cycle:
        lines.append("referral chain goes round: " + " -> ".join(ctx.referral_chain))
    return lines


def _lookup_json(found: ValueLookup, facts: dict[str, Any]) -> dict[str, Any]:
    return {
        "schema": LOOKUP_SCHEMA, "kind": found.family, "asked": found.asked,
        "key": found.value, "facts": facts, "accounts": found.accounts,
        "members": [
            {"uid": m.uid, "as": m.role, "first_seen": m.first_seen, "last_seen": m.last_seen,
             "events": m.events,
             "email": found.info[m.uid].email if m.uid in found.info else None,
             "created_at": found.info[m.uid].created_at if m.uid in found.info else None,
             "status": found.info[m.uid].status if m.uid in found.info else None}
            for m in found.members
        ],
        "lookalikes": [{"uid": u, "email": e, "reason": r} for u, e, r in found.lookalikes],
    }


def lookup_table(found: ValueLookup, facts: dict[str, Any]) -> list[Table]:
    from rich.table import Table

    head = Table(show_header=False, title=f"{found.family} {literal(found.asked)}")
    head.add_column("field")
    head.add_column("value", overflow="fold")
    head.add_row("key", _text(found.value))
    head.add_row("accounts", str(found.accounts))
    for name, value in facts.items():
        head.add_row(name, _text(value))
    users = Table(title="accounts using it")
    for name in ("uid", "as", "first seen", "last seen", "events", "e-mail", "opened"):
        users.add_column(name, overflow="fold")
    for m in found.members:
        info = found.info.get(m.uid)
        users.add_row(_text(m.uid), _text(m.role), _ts(m.first_seen), _ts(m.last_seen),
                      str(m.events), _text(info.email if info else None),
                      _ts(info.created_at if info else None))
    tables = [head, users]
    if found.lookalikes:
        similar = Table(title="look-alike e-mails")
        for name in ("uid", "e-mail", "why"):
            similar.add_column(name, overflow="fold")
        for uid, email, reason in found.lookalikes:
            similar.add_row(_text(uid), _text(email), _text(reason))
        tables.append(similar)
    return tables


def _show(found: ValueLookup, facts: dict[str, Any], fmt: LookupFormat) -> None:
    if fmt is LookupFormat.json:
        _emit_json(_lookup_json(found, facts))
        return
    console = _console()
    for table in lookup_table(found, facts):
        console.print(table)


def email_facts_json(facts: EmailFacts) -> dict[str, Any]:
    return {"normalized": facts.normalized, "valid": facts.valid, "domain": facts.domain,
            "disposable": facts.disposable, "free_mail": facts.free_mail,
            "own_domain": facts.own_domain, "stem": facts.stem, "digits": facts.digits}


def phone_facts_json(facts: PhoneFacts) -> dict[str, Any]:
    return {"e164": facts.e164, "region": facts.region, "country_code": facts.country_code,
            "line_type": facts.line_type, "valid": facts.valid, "possible": facts.possible}


@app.command("email")
def email_command(
    address: str = typer.Argument(..., help="The e-mail address to look up."),
    source: str | None = typer.Option(None, "--source", "-s", help=SOURCE_HELP),
    fmt: LookupFormat = typer.Option(LookupFormat.table, "--format", "-f",
                                     help="Output: table or json."),
) -> None:
    """Which accounts use (or used) an e-mail address, look-alikes, and what the address is."""
    from acctsec.intel.identity import email_facts
    from acctsec.link.lookup import lookup_in

    with _link_tables(source) as (con, usage):
        found = lookup_in(con, usage, "email", address)
    _show(found, email_facts_json(email_facts(address)), fmt)


@app.command("phone")
def phone_command(
    number: str = typer.Argument(..., help="The phone number, E.164 preferred (+4915112345678)."),
    region: str | None = typer.Option(None, "--region",
                                      help="Country (ISO alpha-2) to read a national number."),
    source: str | None = typer.Option(None, "--source", "-s", help=SOURCE_HELP),
    fmt: LookupFormat = typer.Option(LookupFormat.table, "--format", "-f",
                                     help="Output: table or json."),
) -> None:
    """Which accounts use (or used) a phone number, and its country and line type."""
    import phonenumbers

    from acctsec.intel.identity import phone_facts
    from acctsec.link.lookup import lookup_in

    if not number.strip():
        raise InputError("phone: no number given")
    if region is not None and region.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise InputError(f"--region {region!r}: not a country code libphonenumber knows "
                         "(ISO alpha-2, such as DE or GB)")
    facts = phone_facts(number, region)
    with _link_tables(source) as (con, usage):
        found = lookup_in(con, usage, "phone", facts.e164 or number)
    _show(found, phone_facts_json(facts), fmt)


@app.command("device")
def device_command(
    device_id: str = typer.Argument(..., help="The exchange's device fingerprint id."),
    source: str | None = typer.Option(None, "--source", "-s", help=SOURCE_HELP),
    fmt: LookupFormat = typer.Option(LookupFormat.table, "--format", "-f",
                                     help="Output: table or json."),
) -> None:
    """Which accounts used a device id, how often and how recently."""
    from acctsec.intel.identity import is_placeholder_device
    from acctsec.link.lookup import lookup_in

    with _link_tables(source) as (con, usage):
        found = lookup_in(con, usage, "device_id", device_id)
    facts = {"placeholder": is_placeholder_device(device_id)}
    _show(found, facts, fmt)
