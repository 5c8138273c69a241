"""`acctsec ip`: where an IP address is, who runs its network, and what kind of network it is."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from acctsec.cli._app import app, config_path
from acctsec.errors import InputError
from acctsec.render.safe import literal

if TYPE_CHECKING:
    from rich.table import Table

    from acctsec.intel.interface import IpInfo
    from acctsec.intel.rdap import RdapOutcome

JSON_SCHEMA = "acctsec.ip/1"


class IpFormat(StrEnum):
    table = "table"
    json = "json"


@app.command("ip")
def ip_command(
    address: str = typer.Argument(..., help="The IPv4 or IPv6 address to look up."),
    fmt: IpFormat = typer.Option(IpFormat.table, "--format", "-f", help="Output: table or json."),
    online: bool = typer.Option(
        False, "--online", help="Also ask the regional registry (RDAP) over the network."
    ),
    tor_exits: Path | None = typer.Option(
        None, "--tor-exits", dir_okay=False,
        help="File of Tor exit addresses (one per line, or Tor's exit-addresses format).",
    ),
) -> None:
    """Show where an IP is, who runs its network, and whether it is hosting, VPN or mobile."""
    from acctsec.config import load_settings
    from acctsec.intel.ip import OfflineIpIntel, parse_ip

    if parse_ip(address) is None:
        raise InputError(f"ip: '{literal(address)}' is not an IPv4 or IPv6 address")
    settings = load_settings(config_path(), overrides={"offline": False} if online else None)
    intel = OfflineIpIntel(settings, tor_exit_list=tor_exits)
    info = intel.lookup(address)
    rdap = intel.rdap(info.ip) if online and info.network_kind != "private" else None
    if fmt is IpFormat.json:
        sys.stdout.write(json.dumps(ip_json(info, rdap), indent=2) + "\n")
    else:
        _print_table(info, rdap)


def ip_json(info: IpInfo, rdap: RdapOutcome | None) -> dict[str, Any]:
    """The JSON form: every IpInfo field, plus RDAP when it was asked for."""
    from dataclasses import asdict

    data: dict[str, Any] = {"schema": JSON_SCHEMA, **asdict(info)}
    data["sources"] = list(info.sources)
    data["not_checked"] = list(info.not_checked)
    if rdap is not None:
        data["rdap"] = asdict(rdap.info) if rdap.info is not None else None
        data["rdap_cached"] = rdap.cached
    return data


def _print_table(info: IpInfo, rdap: RdapOutcome | None) -> None:
    from rich.console import Console

    console = Console(highlight=False, markup=False, emoji=False, soft_wrap=False)
    console.print(ip_table(info, rdap))


def ip_table(info: IpInfo, rdap: RdapOutcome | None) -> Table:
    """A two-column table; every value from data is literal text, never markup."""
    from rich.table import Table
    from rich.text import Text

    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value")
    for label, value in _rows(info, rdap):
        table.add_row(Text(label), Text(literal(value)))
    return table


def _rows(info: IpInfo, rdap: RdapOutcome | None) -> list[tuple[str, str]]:
    rows = [
        ("Address", info.ip),
        ("Country", info.country or "-"),
        ("City", info.city or "-"),
        ("Position", _position(info)),
        ("AS", f"AS{info.asn}" if info.asn is not None else "-"),
        ("Organisation", info.as_org or "-"),
        ("Network", info.network_kind),
        ("Why", info.network_reason or "-"),
    ]
    if rdap is not None and rdap.info is not None:
        rows += _rdap_rows(rdap)
    rows += [("Source", source) for source in info.sources]
    rows += [("Not checked", item) for item in info.not_checked]
    return rows


def _position(info: IpInfo) -> str:
    if info.lat is None or info.lon is None:
        return "-"
    around = f" (within ~{info.accuracy_km:,.0f} km)" if info.accuracy_km is not None else ""
    return f"{info.lat:.4f}, {info.lon:.4f}{around}"


def _rdap_rows(rdap: RdapOutcome) -> list[tuple[str, str]]:
    assert rdap.info is not None
    data = rdap.info
    cached = " (cached)" if rdap.cached else ""
    rows = [
        ("RDAP registry", (data.asn_registry or "-") + cached),
        ("RDAP AS", f"AS{data.asn} {data.asn_description or ''}".strip() if data.asn else "-"),
        ("RDAP network", " ".join(filter(None, (data.network_name, data.network_cidr))) or "-"),
        ("RDAP country", data.network_country or data.asn_country or "-"),
    ]
    rows += [("Abuse contact", email) for email in data.abuse_emails]
    return rows
