"""What kind of network an IP is on (hosting, VPN exit, mobile, residential), from data tables."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class Provider:
    """A network operator we recognise, by AS number or by organisation name."""

    name: str
    kind: str  # "hosting", "vpn", "mobile" or "residential"
    asns: tuple[int, ...] = ()
    org_patterns: tuple[str, ...] = ()  # case-insensitive regexes on the AS organisation name
    note: str = ""  # appended to the reason, e.g. what else the network carries
    description: str = ""  # replaces the kind's usual phrase when that would mislead


KIND_PHRASES: Mapping[str, str] = MappingProxyType(
    {
        "hosting": "a cloud hosting provider",
        "vpn": "an operator of commercial VPN exit servers",
        "mobile": "a mobile carrier",
        "residential": "a consumer internet provider",
        "tor": "a Tor exit node",
    }
)

_H, _V, _M, _R = "hosting", "vpn", "mobile", "residential"

# Looked up in order; an AS-number match beats an organisation-name match.
PROVIDERS: tuple[Provider, ...] = (
    # Commercial VPN exits (many rent from hosters; these operators mostly carry VPN traffic).
    Provider("M247", _V, (9009,), (r"^M247\b",), "used by most large VPN services"),
    Provider("Datacamp/CDN77", _V, (60068,), (r"^Datacamp Limited", r"CDN77")),
    Provider("Packethub", _V, (147049,), (r"^Packethub",)),
    Provider("Clouvider", _V, (62240,), (r"^Clouvider",)),
    Provider("xTom", _V, (3214,), (r"^xTom",)),
    Provider("31173 Services (Mullvad VPN)", _V, (39351,), (r"^31173 Services",)),
    Provider("Proton AG (Proton VPN)", _V, (62371,), (r"^Proton AG$",)),
    Provider("Tefincom (NordVPN)", _V, (136787,), (r"^TEFINCOM",)),
    Provider("GSL Networks", _V, (137409,), (r"^GSL Networks",)),
    Provider("Performive", _V, (), (r"^Performive",)),
    Provider("Surfshark", _V, (), (r"Surfshark",)),
    Provider("HostRoyale", _V, (), (r"HostRoyale",)),
    Provider("Zenlayer", _V, (21859,), (r"^Zenlayer",)),
    Provider(
        "Cloudflare", _V, (13335,), (r"^CLOUDFLARENET", r"^Cloudflare"),
        "logins rarely come from its CDN",
        "the operator of the WARP VPN and of iCloud Private Relay exits",
    ),
    # Clouds and hosters.
    Provider(
        "Amazon.com", _H, (16509, 14618, 8987),
        (r"^AMAZON-(02|AES|AS)\b", r"^Amazon\.com", r"^Amazon Data Services",
         r"^Amazon Technologies"),
    ),
    Provider(
        "Google", _H, (15169, 396982, 19527, 139070),
        (r"^GOOGLE$", r"^GOOGLE-CLOUD", r"^GOOGLE CLOUD", r"^GOOGLE-2$",
         r"^Google (LLC|Ireland|Asia Pacific)"),
    ),
    Provider(
        "Microsoft", _H, (8075, 8068, 8069),
        (r"^MICROSOFT(-CORP)?\b", r"^Microsoft (Corp|Limited|Azure)"),
    ),
    Provider("DigitalOcean", _H, (14061,), (r"DIGITALOCEAN",)),
    Provider("OVH", _H, (16276,), (r"^OVH\b",)),
    Provider("Hetzner", _H, (24940, 213230, 212317), (r"^Hetzner",)),
    Provider("Linode/Akamai", _H, (63949,), (r"^LINODE", r"Akamai Connected Cloud")),
    Provider("Akamai", _H, (20940, 16625), (r"^AKAMAI", r"^Akamai")),
    Provider(
        "Vultr (The Constant Company/Choopa)", _H, (20473,),
        (r"CHOOPA", r"^VULTR", r"Constant Company"),
    ),
    Provider("Contabo", _H, (51167,), (r"^Contabo",)),
    Provider("Leaseweb", _H, (60781, 16265, 30633, 59253), (r"leaseweb",)),
    Provider("Scaleway", _H, (12876,), (r"^Scaleway", r"^Online S\.?A\.?S\.?$")),
    Provider("Alibaba Cloud", _H, (45102, 37963), (r"Alibaba", r"Aliyun")),
    Provider("Tencent Cloud", _H, (132203, 45090), (r"Tencent",)),
    Provider("Oracle Cloud", _H, (31898,), (r"^ORACLE-BMC", r"^Oracle")),
    Provider("IONOS", _H, (8560,), (r"IONOS", r"^1&1 ")),
    Provider("Hostinger", _H, (47583,), (r"Hostinger",)),
    Provider("Fastly", _H, (54113,), (r"^FASTLY",)),
    Provider("ColoCrossing", _H, (36352,), (r"ColoCrossing", r"^AS-COLOCROSSING")),
    Provider("FranTech (BuyVM)", _H, (53667,), (r"^PONYNET", r"FranTech")),
    Provider("Psychz Networks", _H, (40676,), (r"Psychz",)),
    Provider("QuadraNet", _H, (8100,), (r"QUADRANET",)),
    Provider("G-Core Labs", _H, (199524,), (r"G-Core",)),
    Provider("Selectel", _H, (49505,), (r"Selectel",)),
    Provider("Timeweb", _H, (9123,), (r"Timeweb",)),
    Provider("WorldStream", _H, (49981,), (r"WorldStream",)),
    Provider("GoDaddy", _H, (26496,), (r"GODADDY",)),
    Provider("Kamatera", _H, (), (r"Kamatera",)),
    Provider("Hostwinds", _H, (54290,), (r"HOSTWINDS",)),
    Provider("Servers.com", _H, (), (r"^Servers\.com",)),
    Provider("1337 Services", _H, (210558,), (r"^1337 Services",)),
    Provider("Proton66", _H, (198953,), (r"^Proton66",), "known for bulletproof hosting"),
    Provider("Stark Industries", _H, (44477,), (r"^Stark Industries",)),
    Provider("Aeza", _H, (210644,), (r"^Aeza",)),
    Provider("IP Volume", _H, (202425,), (r"^IP Volume",)),
    Provider("NForce Entertainment", _H, (43350,), (r"^NForce",)),
    Provider("Sharktech", _H, (46844,), (r"^SHARKTECH", r"^Sharktech")),
    Provider("Hivelocity", _H, (29802,), (r"^HIVELOCITY",)),
    Provider("Alexhost", _H, (200019,), (r"^ALEXHOST", r"^Alexhost")),
    # Mobile carriers.
    Provider("T-Mobile", _M, (21928,), (r"T-Mobile",)),
    Provider("Verizon Wireless", _M, (22394, 6167), (r"^CELLCO", r"Verizon Wireless")),
    Provider("AT&T Mobility", _M, (20057,), (r"ATT-MOBILITY", r"AT&T Mobility")),
    Provider("Telefonica Movil", _M, (), (r"Telef[oó]nica M[oó]vil",)),
    Provider("Reliance Jio", _M, (55836,), (r"Reliance Jio",)),
    Provider("Bharti Airtel", _M, (9498, 45609), (r"\bAirtel\b",)),
    Provider("MTN", _M, (), (r"\bMTN\b",)),
    Provider("Safaricom", _M, (33771,), (r"Safaricom",)),
    Provider("Vodafone", _M, (), (r"Vodafone",), "it runs fixed lines too in some countries"),
    Provider("EE", _M, (12576,), (r"^EE Limited",)),
    Provider("Three UK (Hutchison 3G)", _M, (206067,), (r"Hutchison 3G",)),
    Provider("O2 UK (Telefonica UK)", _M, (35228,), (r"^Telefonica UK",)),
    Provider("O2 Germany (Telefonica Germany)", _M, (6805,), (r"^Telefonica Germany",),
             "it sells some fixed lines too"),
    Provider("Free Mobile", _M, (51207,), (r"^Free Mobile",)),
    Provider("Turkcell", _M, (16135,), (r"^Turkcell",)),
    Provider("Telcel (Radiomovil Dipsa)", _M, (28403,), (r"Radiomovil Dipsa",)),
    Provider("Globe Telecom", _M, (132199,), (r"^Globe Telecom",)),
    Provider("Smart Communications", _M, (10139,), (r"^Smart Communications",)),
    # Consumer ISPs.
    Provider(
        "Deutsche Telekom", _R, (3320,), (r"^Deutsche Telekom AG$",),
        "its German mobile customers share this network",
    ),
    Provider("Comcast", _R, (7922,), (r"^COMCAST",)),
    Provider("Charter Spectrum", _R, (20115, 11427, 20001), (r"^CHARTER", r"Charter Comm")),
    Provider("Cox", _R, (22773,), (r"^ASN-CXA", r"Cox Comm")),
    Provider("AT&T Internet", _R, (7018,), (r"^ATT-INTERNET",)),
    Provider("BT", _R, (2856,), (r"British Telecommunications",)),
    Provider("Virgin Media", _R, (5089,), (r"Virgin Media",)),
    Provider("Sky UK", _R, (5607,), (r"^Sky UK",)),
    Provider("Orange", _R, (3215,), (r"^Orange\b",)),
    Provider("Free", _R, (12322,), (r"^Free SAS",)),
    Provider("Telefonica de Espana", _R, (3352,), (r"Telefonica de Espana",)),
    Provider("Telecom Italia", _R, (3269,), (r"Telecom Italia",)),
)

# Words in an organisation name that say what the network is, when no provider matched.
NAME_HINTS: tuple[tuple[str, str], ...] = (
    (r"\bVPN\b", _V),
    (r"\b(Mobile|Mobility|Wireless|Cellular|LTE|GPRS|[345]G)\b", _M),
    (r"\b(Hosting|Hoster|Datacenter|Data Cent(er|re)|Servers?|VPS|Colo(cation)?|Cloud)\b", _H),
    (r"\b(Telecom|Telekom|Telecommunications?|Broadband|Cable|DSL|Fib(er|re)|Kabel)\b", _R),
)

# geoip2fast's ASN data names organisations but not their AS numbers; these exact
# GeoLite2 names map to the AS that carries the name.
ORG_ASNS: Mapping[str, int] = MappingProxyType(
    {
        "GOOGLE": 15169,
        "GOOGLE-CLOUD-PLATFORM": 396982,
        "AMAZON-02": 16509,
        "AMAZON-AES": 14618,
        "MICROSOFT-CORP-MSN-AS-BLOCK": 8075,
        "CLOUDFLARENET": 13335,
        "DIGITALOCEAN-ASN": 14061,
        "OVH SAS": 16276,
        "Hetzner Online GmbH": 24940,
        "Akamai Connected Cloud": 63949,
        "AS-CHOOPA": 20473,
        "Contabo GmbH": 51167,
        "M247 Europe SRL": 9009,
        "Datacamp Limited": 60068,
        "Clouvider Limited": 62240,
        "31173 Services AB": 39351,
        "Proton AG": 62371,
        "TEFINCOM S.A.": 136787,
        "Deutsche Telekom AG": 3320,
        "CELLCO": 22394,
        "CELLCO-PART": 6167,
        "Reliance Jio Infocomm Limited": 55836,
        "COMCAST-7922": 7922,
    }
)
_AS_SUFFIX = re.compile(r"-AS(\d{1,10})$")  # handles like "T-MOBILE-AS21928"


@dataclass(frozen=True, slots=True)
class NetworkClass:
    """The kind of network and a sentence saying why, for the evidence."""

    kind: str
    reason: str


def asn_from_org(org: str | None) -> int | None:
    """The AS number an organisation name stands for, when the name says so."""
    if not org:
        return None
    if org in ORG_ASNS:
        return ORG_ASNS[org]
    match = _AS_SUFFIX.search(org)
    return int(match.group(1)) if match and int(match.group(1)) < 2**32 else None


def classify_network(asn: int | None, org: str | None) -> NetworkClass:
    """Hosting, VPN, mobile, residential or unknown, from the AS number and organisation name."""
    label = _label(asn, org)
    provider = _provider_by_asn(asn) if asn is not None else None
    if provider is None and org:
        provider = _provider_by_org(org)
    if provider is not None:
        return NetworkClass(provider.kind, _provider_reason(label, provider))
    hint = _name_hint(org) if org else None
    if hint is not None:
        kind, word = hint
        return NetworkClass(
            kind, f"{label} is probably {KIND_PHRASES[kind]} (its name contains {word!r})"
        )
    if asn is None and not org:
        return NetworkClass("unknown", "no network owner found for this address")
    return NetworkClass("unknown", f"{label} is on no hosting, VPN, mobile or ISP list")


def _label(asn: int | None, org: str | None) -> str:
    if asn is not None:
        return f"AS{asn} {org}" if org else f"AS{asn}"
    return f"{org} (AS number unknown offline)"


def _provider_reason(label: str, provider: Provider) -> str:
    phrase = provider.description or KIND_PHRASES[provider.kind]
    reason = f"{label} is {provider.name}, {phrase}"
    if provider.name.lower() in label.lower():
        reason = f"{label} is {phrase}"
    return f"{reason} ({provider.note})" if provider.note else reason


@lru_cache(maxsize=1)
def _asn_table() -> Mapping[int, Provider]:
    table: dict[int, Provider] = {}
    for provider in PROVIDERS:
        for asn in provider.asns:
            table.setdefault(asn, provider)
    return table


@lru_cache(maxsize=1)
def _org_table() -> tuple[tuple[re.Pattern[str], Provider], ...]:
    return tuple(
        (re.compile(pattern, re.IGNORECASE), provider)
        for provider in PROVIDERS
        for pattern in provider.org_patterns
    )


@lru_cache(maxsize=1)
def _hint_table() -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((re.compile(p, re.IGNORECASE), kind) for p, kind in NAME_HINTS)


def _provider_by_asn(asn: int) -> Provider | None:
    return _asn_table().get(asn)


@lru_cache(maxsize=4096)
def _provider_by_org(org: str) -> Provider | None:
    for pattern, provider in _org_table():
        if pattern.search(org):
            return provider
    return None


def _name_hint(org: str) -> tuple[str, str] | None:
    for pattern, kind in _hint_table():
        match = pattern.search(org)
        if match:
            return kind, match.group(0)
    return None
