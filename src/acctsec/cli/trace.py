"""`acctsec trace`: follow a transaction's money on-chain to where it can be frozen."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import typer

from acctsec.cli._app import app, config_path, err_console
from acctsec.cli.options import parse_when
from acctsec.config import load_settings
from acctsec.errors import InputError, UsageError

if TYPE_CHECKING:
    import httpx

    from acctsec.chain.interface import ChainClient
    from acctsec.config import Settings

_NETWORK_HELP = "Chain: ETH, BSC, POLYGON, ARB, BASE, BTC or TRX."


def make_client(settings: Settings, code: str, http: httpx.Client,
                snapshot: Path | None = None) -> ChainClient:
    """The chain client for the command (a seam tests replace with a real in-process EVM)."""
    from acctsec.chain.clients import make_client as build

    return build(settings, code, http, snapshot=snapshot)


def _amount(value: str) -> Decimal:
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise InputError(f"--min-amount: not a number: {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise InputError(f"--min-amount: must be zero or more: {value!r}")
    return amount


@app.command("trace")
def trace_command(
    txhash: str = typer.Argument(..., help="Transaction hash to follow."),
    network_code: str = typer.Option("ETH", "--network", "-n", help=_NETWORK_HELP),
    direction: str = typer.Option("forward", "--direction",
                                  help="forward (where it went) or backward (where it came from)."),
    hops: int = typer.Option(5, "--hops", min=1, max=50, help="Hop limit."),
    min_amount: str = typer.Option("0", "--min-amount", help="Ignore smaller flows."),
    since: str | None = typer.Option(
        None, "--since", help="Only transfers from (ISO 8601, or a span ago: 30d, 12h)."),
    until: str | None = typer.Option(
        None, "--until", help="Only transfers up to (ISO 8601, or a span ago)."),
    taint: str = typer.Option("haircut", "--taint", help="Taint model: poison, haircut or fifo."),
    asset: str | None = typer.Option(None, "--asset", help="Only this asset (symbol, contract)."),
    fmt: str = typer.Option("table", "--format", "-f",
                            help="table, json, dot (for Graphviz) or svg (a picture of the flow)."),
    snapshot: Path | None = typer.Option(None, "--snapshot",
                                         help="Trace offline over an ethereum-etl export folder."),
    online: bool = typer.Option(False, "--online", help="Allow network calls (overrides offline)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not read or write the cache."),
    cache_dir: Path | None = typer.Option(None, "--cache-dir", help="Cache folder."),
    fan_out: int = typer.Option(50, "--fan-out", min=2,
                                help="Counterparties above which an address is a likely service."),
    picture: Path | None = typer.Option(
        None, "--picture", "--png",
        help="Also write the flow graph as an SVG picture to FILE (no Graphviz needed). "
             "--png is the old name: it writes SVG too, to FILE with .svg for .png."),
) -> None:
    """Follow a transaction's money on-chain to exchanges, mixers, bridges, sanctioned addresses."""
    from acctsec.chain.clients import http_client
    from acctsec.chain.interface import Window, network, validate_txhash
    from acctsec.chain.render import FORMATTERS, TraceFormat, render_trace_svg, render_tree
    from acctsec.chain.report import attribution_index
    from acctsec.chain.taint import TaintModel
    from acctsec.chain.trace import Direction, TraceOptions, trace

    net = network(network_code)
    txhash = validate_txhash(net, txhash)
    options = TraceOptions(
        direction=_choice(Direction, direction, "--direction"), hops=hops,
        min_amount=_amount(min_amount),
        window=Window(parse_when(since, "--since"), parse_when(until, "--until")),
        taint=_choice(TaintModel, taint, "--taint"), fan_out_limit=fan_out, asset=asset,
    )
    out_format = _choice(TraceFormat, fmt, "--format")
    overrides = {"no_cache": no_cache or None, "cache_dir": cache_dir,
                 "offline": False if online else None}
    settings = load_settings(config_path(), overrides=overrides)
    index = attribution_index(settings)
    if not len(index):
        err_console.print("acctsec: no attribution data loaded (configure tagpacks/ofac or run "
                          "`acctsec intel update`); endpoints will not be named")
    with http_client(settings) as http:
        client = make_client(settings, net.code, http, snapshot=snapshot)
        result = trace(client, txhash, options, lambda a: index.lookup(a, net.family))
    formatter = FORMATTERS[out_format]
    if formatter is None:
        from rich.console import Console

        render_tree(result, Console(highlight=False, markup=False, emoji=False))
    else:
        typer.echo(formatter(result), nl=False)
    if picture is not None:
        _draw(render_trace_svg(result), picture)


E = TypeVar("E", bound=StrEnum)


def _choice(kind: type[E], value: str, name: str) -> E:
    try:
        return kind(value.lower())
    except ValueError:
        choices = ", ".join(m.value for m in kind)
        raise UsageError(f"{name}: {value!r} is not one of {choices}") from None


def _draw(svg: str, picture: Path) -> None:
    """Writes the SVG picture; a .png name (the old --png) gets .svg so the name is true."""
    target = picture.with_suffix(".svg") if picture.suffix.lower() == ".png" else picture
    try:
        target.write_text(svg, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"--picture: cannot write {target}: {exc.strerror or exc}") from None
    err_console.print(f"acctsec: wrote the flow graph to {target} (SVG)")
