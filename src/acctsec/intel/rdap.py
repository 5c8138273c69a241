"""RDAP registration data of an IP (network name, owner AS, abuse contact) via ipwhois, cached."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from acctsec.config import Settings

CACHE_TTL = timedelta(days=7)
CACHE_VERSION = 1

# The network edge: takes an IP and a timeout in seconds, returns ipwhois's
# `lookup_rdap()` result dict, raises on any failure. Tests replace it.
Fetch = Callable[[str, float], Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class RdapInfo:
    """The fields of an RDAP answer an analyst reads."""

    asn: int | None = None
    asn_cidr: str | None = None
    asn_country: str | None = None
    asn_description: str | None = None
    asn_registry: str | None = None
    network_name: str | None = None
    network_handle: str | None = None
    network_cidr: str | None = None
    network_country: str | None = None
    abuse_emails: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class RdapOutcome:
    """An RDAP answer, or why there is none (a not_checked entry)."""

    info: RdapInfo | None = None
    problem: str | None = None
    cached: bool = False


def fetch_with_ipwhois(ip: str, timeout_s: float) -> Mapping[str, Any]:
    """Asks the registries through ipwhois: one try, no sleeping on rate limits."""
    from ipwhois import IPWhois

    whois = IPWhois(ip, timeout=max(1, round(timeout_s)))
    result: Mapping[str, Any] = whois.lookup_rdap(
        retry_count=0, depth=0, rate_limit_timeout=0, inc_nir=False
    )
    return result


def rdap_lookup(ip: str, settings: Settings, fetch: Fetch = fetch_with_ipwhois) -> RdapOutcome:
    """RDAP for `ip`: from the disk cache, else from the network within rdap_timeout_s."""
    if settings.offline:
        return RdapOutcome(problem="rdap: offline mode")
    path = None if settings.no_cache else _cache_path(settings.resolved_cache_dir(), ip)
    cached = _read_cache(path) if path is not None else None
    if cached is not None:
        return RdapOutcome(info=cached, cached=True)
    outcome = _fetch_within(ip, settings.rdap_timeout_s, fetch)
    if outcome.info is not None and path is not None:
        _write_cache(path, outcome.info)
    return outcome


def _fetch_within(ip: str, timeout_s: float, fetch: Fetch) -> RdapOutcome:
    """Runs `fetch` in a daemon thread so a stuck socket can never hang the process."""
    box: dict[str, RdapOutcome] = {}

    def work() -> None:
        box["outcome"] = _fetch_once(ip, timeout_s, fetch)

    worker = threading.Thread(target=work, name=f"rdap-{ip}", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if "outcome" not in box:
        return RdapOutcome(problem=f"rdap: timeout after {timeout_s:g} s")
    return box["outcome"]


def _fetch_once(ip: str, timeout_s: float, fetch: Fetch) -> RdapOutcome:
    from ipwhois.exceptions import BaseIpwhoisException

    try:
        result = fetch(ip, timeout_s)
    except (BaseIpwhoisException, OSError, ValueError) as exc:
        return RdapOutcome(problem=f"rdap: {_describe(exc, timeout_s)}")
    if not isinstance(result, Mapping):
        return RdapOutcome(problem="rdap: the answer was not an RDAP result")
    return RdapOutcome(info=parse_rdap(result))


def _describe(exc: BaseException, timeout_s: float) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, TimeoutError) or "timed out" in text.lower():
        return f"timeout after {timeout_s:g} s"
    return f"{type(exc).__name__}: {text}"[:200] if text else type(exc).__name__


def parse_rdap(result: Mapping[str, Any]) -> RdapInfo:
    """The analyst's fields of an ipwhois `lookup_rdap()` result (its documented shape)."""
    network = result.get("network")
    network = network if isinstance(network, Mapping) else {}
    return RdapInfo(
        asn=_first_asn(result.get("asn")),
        asn_cidr=_text(result.get("asn_cidr")),
        asn_country=_text(result.get("asn_country_code")),
        asn_description=_text(result.get("asn_description")),
        asn_registry=_text(result.get("asn_registry")),
        network_name=_text(network.get("name")),
        network_handle=_text(network.get("handle")),
        network_cidr=_text(network.get("cidr")),
        network_country=_text(network.get("country")),
        abuse_emails=_abuse_emails(result.get("objects")),
    )


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text if text and text.upper() != "NA" else None


def _first_asn(value: object) -> int | None:
    # ipwhois gives "15169", or several space-separated ASNs for multi-origin prefixes.
    text = _text(value)
    if text is None:
        return None
    first = text.split()[0].upper().removeprefix("AS")
    return int(first) if first.isdigit() else None


def _abuse_emails(objects: object) -> tuple[str, ...]:
    if not isinstance(objects, Mapping):
        return ()
    emails: list[str] = []
    for entity in objects.values():
        if not isinstance(entity, Mapping) or "abuse" not in (entity.get("roles") or ()):
            continue
        contact = entity.get("contact")
        for item in (contact.get("email") or ()) if isinstance(contact, Mapping) else ():
            value = item.get("value") if isinstance(item, Mapping) else None
            if isinstance(value, str) and value not in emails:
                emails.append(value)
    return tuple(emails)


def _cache_path(cache_dir: Path, ip: str) -> Path:
    return cache_dir / "rdap" / (ip.replace(":", "_").replace("/", "_") + ".json")


def _read_cache(path: Path) -> RdapInfo | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        fetched = datetime.fromisoformat(data["fetched_at"])
        if data.get("version") != CACHE_VERSION or datetime.now(UTC) - fetched > CACHE_TTL:
            return None
        info = dict(data["info"])
        info["abuse_emails"] = tuple(info.get("abuse_emails") or ())
        return RdapInfo(**info)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        return None  # a damaged cache entry is refetched, never trusted


def _write_cache(path: Path, info: RdapInfo) -> None:
    payload = {
        "version": CACHE_VERSION,
        "fetched_at": datetime.now(UTC).isoformat(),
        "info": asdict(info),
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(payload), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        return  # caching is an optimisation; the answer is still returned
