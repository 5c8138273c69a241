"""Realistic field values: user agents, ids, on-chain addresses and hashes, e-mails, phones."""

from __future__ import annotations

import base64
import hashlib
import random
from dataclasses import dataclass

from eth_hash.auto import keccak

APP = "Northmark"
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

CHROME = ("140.0.0.0", "141.0.0.0", "142.0.0.0", "143.0.0.0")
FIREFOX = ("143.0", "144.0", "145.0")
EDGE = ("141.0.0.0", "142.0.0.0", "143.0.0.0")
SAFARI = ("26.0", "26.0.1", "26.1")
APP_VERSIONS = ("5.31.0", "5.32.1", "5.33.0", "5.34.2", "5.35.0")
ANDROID_MODELS = (
    "SM-S928B", "SM-A556B", "Pixel 8", "Pixel 9 Pro", "2311DRK48G", "CPH2581", "SM-S921U",
)
IPHONES = ("iPhone15,3", "iPhone16,1", "iPhone16,2", "iPhone17,1", "iPhone14,5")


@dataclass(frozen=True, slots=True)
class Device:
    """A browser or app install the exchange fingerprints as one device_id."""

    device_id: str
    user_agent: str
    channel: str


def windows_chrome(rng: random.Random) -> str:
    v = rng.choice(CHROME)
    return (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
        f"(KHTML, like Gecko) Chrome/{v} Safari/537.36"
    )


def windows_edge(rng: random.Random) -> str:
    v = rng.choice(EDGE)
    return (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
        f"(KHTML, like Gecko) Chrome/{v} Safari/537.36 Edg/{v}"
    )


def windows_firefox(rng: random.Random) -> str:
    v = rng.choice(FIREFOX)
    return f"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:{v}) Gecko/20100101 Firefox/{v}"


def mac_safari(rng: random.Random) -> str:
    v = rng.choice(SAFARI)
    return (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
        f"(KHTML, like Gecko) Version/{v} Safari/605.1.15"
    )


def mac_chrome(rng: random.Random) -> str:
    v = rng.choice(CHROME)
    return (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
        f"(KHTML, like Gecko) Chrome/{v} Safari/537.36"
    )


def iphone_safari(rng: random.Random) -> str:
    v = rng.choice(SAFARI)
    return (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 "
        f"(KHTML, like Gecko) Version/{v} Mobile/15E148 Safari/604.1"
    )


def android_chrome(rng: random.Random) -> str:
    v = rng.choice(CHROME)
    return (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 "
        f"(KHTML, like Gecko) Chrome/{v} Mobile Safari/537.36"
    )


def ios_app(rng: random.Random) -> str:
    ios = rng.choice(("18.6.2", "26.0.1", "26.1"))
    return f"{APP}/{rng.choice(APP_VERSIONS)} ({rng.choice(IPHONES)}; iOS {ios}; Scale/3.00)"


def android_app(rng: random.Random) -> str:
    android = rng.choice(("14", "15", "16"))
    model = rng.choice(ANDROID_MODELS)
    return f"{APP}/{rng.choice(APP_VERSIONS)} (Linux; Android {android}; {model}) okhttp/4.12.0"


def desktop_app(rng: random.Random) -> str:
    return f"{APP}Desktop/{rng.choice(APP_VERSIONS)} (Windows NT 10.0; x64) Electron/37.2.0"


WEB_UA = (windows_chrome, windows_edge, windows_firefox, mac_safari, mac_chrome)
MOBILE_WEB_UA = (iphone_safari, android_chrome)


def automation_ua(rng: random.Random) -> str:
    """What credential-stuffing and scripted clients send: tool defaults or stale spoofs."""
    pick = rng.randrange(6)
    if pick == 0:
        return f"python-requests/2.{rng.choice((28, 31, 32))}.{rng.randint(0, 3)}"
    if pick == 1:
        return f"curl/8.{rng.randint(4, 11)}.{rng.randint(0, 1)}"
    if pick == 2:
        v = rng.choice(CHROME)
        return (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
            f"(KHTML, like Gecko) HeadlessChrome/{v} Safari/537.36"
        )
    if pick == 3:
        return "Go-http-client/2.0"
    # spoofed browser strings a few years out of date, typical of combo-list tools
    old = rng.randint(96, 118)
    return (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
        f"(KHTML, like Gecko) Chrome/{old}.0.0.0 Safari/537.36"
    )


def device_id(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


def token(rng: random.Random, nbytes: int = 24) -> str:
    raw = rng.getrandbits(nbytes * 8).to_bytes(nbytes, "big")
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def make_device(rng: random.Random, kind: str) -> Device:
    """kind: desktop_web, mobile_web, ios, android, desktop."""
    if kind == "ios":
        return Device(device_id(rng), ios_app(rng), "ios")
    if kind == "android":
        return Device(device_id(rng), android_app(rng), "android")
    if kind == "desktop":
        return Device(device_id(rng), desktop_app(rng), "desktop")
    if kind == "mobile_web":
        return Device(device_id(rng), rng.choice(MOBILE_WEB_UA)(rng), "web")
    return Device(device_id(rng), rng.choice(WEB_UA)(rng), "web")


def _b58(raw: bytes) -> str:
    n = int.from_bytes(raw, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    pad = len(raw) - len(raw.lstrip(b"\0"))
    return "1" * pad + out


def _bech32_polymod(values: list[int]) -> int:
    gen = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (top >> i) & 1 else 0
    return chk


def _convertbits(data: bytes, frombits: int, tobits: int) -> list[int]:
    acc = bits = 0
    out: list[int] = []
    for b in data:
        acc = (acc << frombits) | b
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            out.append((acc >> bits) & ((1 << tobits) - 1))
    if bits:
        out.append((acc << (tobits - bits)) & ((1 << tobits) - 1))
    return out


def bech32_address(program: bytes, hrp: str = "bc") -> str:
    """A segwit v0 address (BIP 173), e.g. bc1q… for a 20-byte key hash."""
    data = [0, *_convertbits(program, 8, 5)]
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    polymod = _bech32_polymod(expanded + data + [0] * 6) ^ 1
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(BECH32[d] for d in data + checksum)


def eip55(hex40: str) -> str:
    """EIP-55 mixed-case checksum of a lower-case 40-hex-digit address."""
    digest = keccak(hex40.encode()).hex()
    return "0x" + "".join(c.upper() if int(d, 16) >= 8 else c for c, d in zip(hex40, digest[:40],
                                                                             strict=True))


def evm_address(rng: random.Random) -> str:
    return eip55(f"{rng.getrandbits(160):040x}")


def btc_address(rng: random.Random) -> str:
    return bech32_address(rng.getrandbits(160).to_bytes(20, "big"))


def tron_address(rng: random.Random) -> str:
    payload = b"\x41" + rng.getrandbits(160).to_bytes(20, "big")
    check = hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    return _b58(payload + check)


def sol_address(rng: random.Random) -> str:
    return _b58(rng.getrandbits(256).to_bytes(32, "big"))


def address_for(network: str, rng: random.Random) -> str:
    if network == "BTC":
        return btc_address(rng)
    if network == "TRX":
        return tron_address(rng)
    if network == "SOL":
        return sol_address(rng)
    return evm_address(rng)


def txhash_for(network: str, rng: random.Random) -> str:
    if network in ("BTC", "TRX"):
        return f"{rng.getrandbits(256):064x}"
    if network == "SOL":
        return _b58(rng.getrandbits(512).to_bytes(64, "big"))
    return "0x" + f"{rng.getrandbits(256):064x}"


FIRST = (
    "anna", "lukas", "marie", "jonas", "sophie", "leon", "emma", "paul", "julien", "camille",
    "oliver", "amelia", "james", "chloe", "daniel", "laura", "marco", "giulia", "carlos", "lucia",
    "mehmet", "elif", "joao", "ana", "kenji", "yuki", "wei", "minh", "olena", "andrii", "piotr",
    "kasia", "liam", "ava", "noah", "mia", "chidi", "ngozi", "arjun", "priya", "jose", "grace",
    "ahmed", "fatima", "tom", "sara", "david", "nina", "alex", "sam",
)
LAST = (
    "muller", "schmidt", "weber", "martin", "bernard", "dubois", "smith", "jones", "taylor",
    "brown", "garcia", "lopez", "rossi", "bianchi", "yilmaz", "kaya", "silva", "santos",
    "tanaka", "sato", "nguyen", "tran", "kowalski", "nowak", "shevchenko", "bondar", "okafor",
    "adeyemi", "sharma", "patel", "kim", "park", "lee", "chen", "wong", "haddad", "novak",
)
PROVIDERS = {
    "DE": ("gmail.com", "gmx.de", "web.de", "t-online.de", "posteo.de"),
    "FR": ("gmail.com", "orange.fr", "free.fr", "hotmail.fr", "laposte.net"),
    "GB": ("gmail.com", "outlook.com", "hotmail.co.uk", "btinternet.com", "icloud.com"),
    "US": ("gmail.com", "outlook.com", "yahoo.com", "icloud.com", "hotmail.com"),
    "ES": ("gmail.com", "hotmail.es", "outlook.es", "yahoo.es"),
    "IT": ("gmail.com", "libero.it", "hotmail.it", "virgilio.it"),
    "NL": ("gmail.com", "ziggo.nl", "outlook.com", "kpnmail.nl"),
    "TR": ("gmail.com", "hotmail.com", "yandex.com"),
    "BR": ("gmail.com", "hotmail.com", "uol.com.br", "bol.com.br"),
    "JP": ("gmail.com", "yahoo.co.jp", "docomo.ne.jp", "icloud.com"),
    "KR": ("naver.com", "gmail.com", "daum.net"),
    "UA": ("gmail.com", "ukr.net", "i.ua"),
}
DEFAULT_PROVIDERS = ("gmail.com", "outlook.com", "yahoo.com", "icloud.com", "proton.me")
OWN_TLDS = ("dev", "io", "me", "net", "eu")


def email_for(rng: random.Random, country: str) -> str:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    if rng.random() < 0.05:
        return f"{first}@{last}.{rng.choice(OWN_TLDS)}"
    style = rng.randrange(5)
    local = (
        f"{first}.{last}",
        f"{first}{last}{rng.randint(1, 99)}",
        f"{first[0]}{last}",
        f"{first}_{last}{rng.randint(1970, 2005)}",
        f"{last}.{first}{rng.randint(1, 9)}",
    )[style]
    return f"{local}@{rng.choice(PROVIDERS.get(country, DEFAULT_PROVIDERS))}"


# (calling code, national mobile prefixes, subscriber digits)
PHONE_PLANS = {
    "DE": ("49", ("151", "160", "170", "176", "157"), 8),
    "FR": ("33", ("6", "7"), 8),
    "GB": ("44", ("7400", "7700", "7911", "7825"), 6),
    "US": ("1", ("212", "312", "415", "305", "617", "206", "713"), 7),
    "CA": ("1", ("416", "514"), 7),
    "ES": ("34", ("6",), 8),
    "IT": ("39", ("33", "34", "32"), 8),
    "NL": ("31", ("6",), 8),
    "TR": ("90", ("53", "54"), 8),
    "BR": ("55", ("119", "219"), 8),
    "JP": ("81", ("90", "80"), 8),
    "SG": ("65", ("8", "9"), 7),
    "AE": ("971", ("50", "55"), 7),
    "UA": ("380", ("67", "50"), 7),
    "VN": ("84", ("9",), 8),
    "PL": ("48", ("5", "6"), 8),
    "AU": ("61", ("4",), 8),
    "KR": ("82", ("10",), 8),
    "NG": ("234", ("803", "806"), 7),
    "IN": ("91", ("98", "70"), 8),
    "PH": ("63", ("917", "918"), 7),
}


def phone_for(rng: random.Random, country: str) -> str:
    code, prefixes, digits = PHONE_PLANS.get(country, PHONE_PLANS["GB"])
    subscriber = "".join(str(rng.randint(0, 9)) for _ in range(digits))
    if country == "US" or country == "CA":
        subscriber = str(rng.randint(2, 9)) + subscriber[1:]
    return f"+{code}{rng.choice(prefixes)}{subscriber}"
