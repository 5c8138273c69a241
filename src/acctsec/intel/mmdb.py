"""Readers of .mmdb geolocation and ASN databases: DB-IP City Lite (shipped), MaxMind, IPinfo."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from acctsec.intel.geo import CITY_ACCURACY_KM, COUNTRY_ACCURACY_KM

if TYPE_CHECKING:
    from maxminddb.reader import Reader


@dataclass(frozen=True, slots=True)
class GeoFix:
    """Where a geolocation database places an address."""

    country: str | None
    city: str | None
    lat: float | None
    lon: float | None
    accuracy_km: float | None
    network: str
    source: str


@dataclass(frozen=True, slots=True)
class AsnFix:
    """Who announces an address, per an ASN database."""

    asn: int | None
    org: str | None
    network: str
    source: str


def open_reader(path: Path) -> Reader:
    """A memory-mapped reader (no file is read into memory up front)."""
    import maxminddb

    return maxminddb.open_database(str(path), maxminddb.MODE_AUTO)


def source_name(reader: Reader, path: Path) -> str:
    """A short name for where a fact came from: database type and build date."""
    meta = reader.metadata()
    built = datetime.fromtimestamp(meta.build_epoch, tz=UTC).strftime("%Y-%m-%d")
    kind = str(meta.database_type or path.name)
    if kind == "DBIP-City-Lite":
        kind = "dbip-city-lite"
    return f"{kind} {built}"


def geo_from_reader(reader: Reader, ip: str, source: str) -> GeoFix | None:
    """The position of `ip` in a city or country database, if it has one."""
    record, prefix = reader.get_with_prefix_len(ip)
    if not isinstance(record, Mapping):
        return None
    country = _country(record)
    city = _city(record)
    lat, lon, radius = _location(record)
    if country is None and lat is None:
        return None
    if radius is None and lat is not None:
        radius = CITY_ACCURACY_KM if city else COUNTRY_ACCURACY_KM
    return GeoFix(country, city, lat, lon, radius, _network(ip, prefix), source)


def asn_from_reader(reader: Reader, ip: str, source: str) -> AsnFix | None:
    """The AS of `ip` in a GeoLite2-ASN or IPinfo-style database, if it has one."""
    record, prefix = reader.get_with_prefix_len(ip)
    if not isinstance(record, Mapping):
        return None
    asn = _asn_number(record.get("autonomous_system_number", record.get("asn")))
    org = record.get("autonomous_system_organization", record.get("as_name", record.get("name")))
    org_text = str(org) if org else None
    if asn is None and org_text is None:
        return None
    return AsnFix(asn, org_text, _network(ip, prefix), source)


def _country(record: Mapping[str, Any]) -> str | None:
    country = record.get("country")
    if isinstance(country, Mapping):
        code = country.get("iso_code")
    else:
        code = record.get("country_code", country)
    return str(code).upper() if isinstance(code, str) and len(code) == 2 else None


def _city(record: Mapping[str, Any]) -> str | None:
    city = record.get("city")
    if isinstance(city, Mapping):
        names = city.get("names")
        city = names.get("en") if isinstance(names, Mapping) else None
    return str(city) if isinstance(city, str) and city else None


def _location(record: Mapping[str, Any]) -> tuple[float | None, float | None, float | None]:
    location = record.get("location")
    if isinstance(location, Mapping):
        lat, lon = location.get("latitude"), location.get("longitude")
        radius = location.get("accuracy_radius")
    else:
        lat = record.get("latitude", record.get("lat"))
        lon = record.get("longitude", record.get("lng", record.get("lon")))
        radius = None
    try:
        if lat is None or lon is None:
            return None, None, None
        return float(lat), float(lon), float(radius) if radius is not None else None
    except (TypeError, ValueError):
        return None, None, None


def _asn_number(value: object) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        digits = value.upper().removeprefix("AS")
        return int(digits) if digits.isdigit() else None
    return None


def _network(ip: str, prefix: int) -> str:
    import ipaddress

    return str(ipaddress.ip_interface(f"{ip}/{prefix}").network)
