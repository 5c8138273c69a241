"""Offline facts about an e-mail address, a phone number and a device id: pure functions."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from acctsec.model import SecurityEvent

# Providers that ignore dots in the local part (Gmail only, of the large ones).
DOT_BLIND_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
DOMAIN_ALIASES = {"googlemail.com": "gmail.com"}

# Large free-mail providers: an address there says nothing about an employer.
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "yahoo.de",
        "ymail.com", "outlook.com", "hotmail.com", "hotmail.co.uk", "hotmail.fr", "live.com",
        "msn.com", "icloud.com", "me.com", "mac.com", "aol.com", "gmx.de", "gmx.net",
        "gmx.com", "web.de", "t-online.de", "mail.ru", "bk.ru", "list.ru", "inbox.ru",
        "yandex.ru", "yandex.com", "rambler.ru", "protonmail.com", "proton.me", "pm.me",
        "tutanota.com", "tuta.io", "zoho.com", "mail.com", "qq.com", "163.com", "126.com",
        "naver.com", "daum.net", "orange.fr", "free.fr", "libero.it", "seznam.cz", "wp.pl",
        "o2.pl", "interia.pl", "fastmail.com", "hushmail.com", "rediffmail.com",
    }
)

# Device ids that SDKs emit when they could not fingerprint: they join strangers.
PLACEHOLDER_DEVICE_IDS = frozenset(
    {"", "0", "-", "null", "none", "nil", "unknown", "undefined", "n/a", "na", "default"}
)

_EMAIL = re.compile(r"(.*)@([^@]*)", re.DOTALL)
_EDGE_SPACE = re.compile(r"^[ \t\r\n]+|[ \t\r\n]+$")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})+")
_LOCAL_BAD = re.compile(r"[\x00-\x20\x7f\"(),:;<>\[\\\]]")
_STEM_DROP = re.compile(r"[0-9._-]")
_DIGIT_RUN = re.compile(r"[0-9]+")


@dataclass(frozen=True, slots=True)
class EmailFacts:
    """What an address says on its own, without asking any server."""

    raw: str
    normalized: str | None  # the mailbox it delivers to: case, dots, +tags folded
    local: str | None
    domain: str | None
    valid: bool  # syntactically a mailbox address
    disposable: bool
    free_mail: bool
    own_domain: bool  # neither free-mail nor disposable: a company or personal domain
    stem: str | None  # local part without digits and separators, for look-alikes
    digits: str | None  # the digit runs of the local part, joined


@dataclass(frozen=True, slots=True)
class PhoneFacts:
    """A phone number parsed with libphonenumber's offline metadata."""

    raw: str
    e164: str | None
    region: str | None  # ISO 3166-1 alpha-2 of the numbering plan
    country_code: int | None
    line_type: str | None  # mobile, fixed_line, voip, toll_free, … or None when unknown
    valid: bool
    possible: bool


@dataclass(frozen=True, slots=True)
class IdentityChange:
    """One e-mail or phone change from the security events."""

    ts: datetime
    event: str
    old: str | None
    new: str | None


def _clean(raw: str) -> str:
    return _EDGE_SPACE.sub("", raw).lower()


def normalize_email(raw: str | None) -> str | None:
    """The mailbox an address delivers to: lower case, `+tag` cut, Gmail dots dropped.

    Text without an `@` is returned cleaned and lower-cased, so that equal junk still
    matches equal junk; empty text is None. Mirrored in SQL by
    `acctsec.link.sql.email_norm_stage` (a test keeps the two equal).
    """
    if raw is None:
        return None
    text = _clean(raw)
    if not text:
        return None
    match = _EMAIL.fullmatch(text)
    if match is None:
        return text
    local, domain = match.group(1), match.group(2)
    domain = DOMAIN_ALIASES.get(domain, domain)
    cut = local.split("+", 1)[0]
    local = cut if cut else local
    if domain in DOT_BLIND_DOMAINS:
        local = local.replace(".", "")
    return f"{local}@{domain}"


def email_stem(local: str) -> str:
    """The local part without digits, dots, dashes and underscores: `j.doe_1987` -> `jdoe`."""
    return _STEM_DROP.sub("", local)


@lru_cache(maxsize=1)
def _disposable_domains() -> frozenset[str]:
    from disposable_email_domains import allowlist, blocklist

    return frozenset(blocklist) - frozenset(allowlist)


def is_disposable_domain(domain: str) -> bool:
    """A throw-away mailbox provider, or a subdomain of one."""
    listed = _disposable_domains()
    parts = domain.lower().split(".")
    return any(".".join(parts[i:]) in listed for i in range(len(parts) - 1))


@lru_cache(maxsize=4096)  # look-alike checks ask about one account's address per pair
def email_facts(raw: str) -> EmailFacts:
    """Normalisation, disposable and free-mail flags, stem and digits of one address."""
    normalized = normalize_email(raw)
    match = _EMAIL.fullmatch(normalized) if normalized else None
    if match is None:
        return EmailFacts(raw, normalized, None, None, False, False, False, False, None, None)
    local, domain = match.group(1), match.group(2)
    valid = bool(local) and not _LOCAL_BAD.search(local) and bool(_DOMAIN.fullmatch(domain))
    disposable = valid and is_disposable_domain(domain)
    free = domain in FREE_MAIL_DOMAINS
    return EmailFacts(
        raw=raw,
        normalized=normalized,
        local=local,
        domain=domain,
        valid=valid,
        disposable=disposable,
        free_mail=free,
        own_domain=valid and not free and not disposable,
        stem=email_stem(local),
        digits="".join(_DIGIT_RUN.findall(local)) or None,
    )


def bounded_edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance of a and b, or limit + 1 as soon as it must exceed limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    if a == b:
        return 0
    if limit == 1:  # the look-alike test: one pass instead of the table
        return 1 if _one_edit_apart(a, b) else 2
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
        if min(current) > limit:
            return limit + 1
        previous = current
    return min(previous[-1], limit + 1)


def _one_edit_apart(a: str, b: str) -> bool:
    """For a != b whose lengths differ by at most one: one substitution, insertion or
    deletion turns one into the other."""
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        return a[i + 1:] == b[i + 1:]  # substitute a[i]
    return a[i:] == b[i + 1:]  # insert b[i]


def lookalike_reason(a: str, b: str, min_stem: int = 5) -> str | None:
    """Why two different addresses look made by one hand, or None.

    `digits`: equal once digits and separators are dropped (`anna.k1@`, `anna.k2@`);
    `same_local`: one local part at two providers; `edit_1`: one typo apart.
    Short stems (`jo`, `info`) are common to strangers and never count.
    """
    fa, fb = email_facts(a), email_facts(b)
    if not (fa.local and fb.local) or fa.normalized == fb.normalized:
        return None
    if fa.local == fb.local and len(fa.local) >= min_stem:
        return "same_local"
    if fa.stem and fa.stem == fb.stem and len(fa.stem) >= min_stem:
        return "digits"
    long_enough = min(len(fa.local), len(fb.local)) > min_stem
    if long_enough and bounded_edit_distance(fa.local, fb.local, 1) <= 1:
        return "edit_1"
    return None


_LINE_TYPES = {
    0: "fixed_line",
    1: "mobile",
    2: "fixed_line_or_mobile",
    3: "toll_free",
    4: "premium_rate",
    5: "shared_cost",
    6: "voip",
    7: "personal_number",
    8: "pager",
    9: "uan",
    10: "voicemail",
}


def normalize_phone(raw: str | None) -> str | None:
    """Digits with a leading `+` for international form (`00` read as `+`), else digits.

    A cheap key that needs no numbering plan, mirrored in SQL by
    `acctsec.link.sql.phone_norm_stage`; `phone_facts` gives the full parse.
    """
    if raw is None:
        return None
    text = _EDGE_SPACE.sub("", raw)
    digits = re.sub(r"[^0-9]", "", text)
    if not digits:
        return None
    if text.startswith("+"):
        return "+" + digits
    if digits.startswith("00") and len(digits) > 2:
        return "+" + digits[2:]
    return digits


def phone_facts(raw: str, default_region: str | None = None) -> PhoneFacts:
    """Parse with libphonenumber; `default_region` (e.g. the KYC country) reads national form."""
    import phonenumbers

    region = default_region.upper() if default_region and len(default_region) == 2 else None
    text = _EDGE_SPACE.sub("", raw)
    if text.startswith("00"):  # the international prefix, read as + (as normalize_phone does)
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return PhoneFacts(raw, None, None, None, None, False, False)
    possible = phonenumbers.is_possible_number(number)
    valid = phonenumbers.is_valid_number(number)
    kind = phonenumbers.number_type(number) if valid else None
    return PhoneFacts(
        raw=raw,
        e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        region=phonenumbers.region_code_for_number(number) if valid else None,
        country_code=number.country_code,
        line_type=_LINE_TYPES.get(kind) if kind is not None else None,
        valid=valid,
        possible=possible,
    )


def is_placeholder_device(device_id: str | None) -> bool:
    """An id an SDK emits when it could not fingerprint (all zeros, `unknown`, …)."""
    if device_id is None:
        return True
    text = device_id.strip().lower()
    return text in PLACEHOLDER_DEVICE_IDS or set(text) <= set("0-")


def _change_value(event: SecurityEvent, key: str) -> str | None:
    value = event.detail_value(key)
    return str(value) if value is not None else None


def identity_changes(events: Iterable[SecurityEvent], kind: str) -> list[IdentityChange]:
    """The `email_change` or `phone_change` events (kind `email` / `phone`), oldest first."""
    name = f"{kind}_change"
    changes = [
        IdentityChange(e.ts, e.event, _change_value(e, "old"), _change_value(e, "new"))
        for e in events
        if e.event == name
    ]
    return sorted(changes, key=lambda c: c.ts)
