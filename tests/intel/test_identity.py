"""E-mail, phone and device facts: normalisation, look-alikes, parsing of arbitrary text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acctsec.intel.identity import (
    bounded_edit_distance,
    email_facts,
    email_stem,
    is_placeholder_device,
    lookalike_reason,
    normalize_email,
    normalize_phone,
    phone_facts,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Anna.Kern+promo@Gmail.com", "annakern@gmail.com"),
        ("a.n.n.a@googlemail.com", "anna@gmail.com"),
        ("anna.kern+x@outlook.com", "anna.kern@outlook.com"),  # dots matter outside Gmail
        ("  Bob@Example.ORG \n", "bob@example.org"),
        ("+tag@gmail.com", "+tag@gmail.com"),  # nothing before the + : keep it
        ("not an address", "not an address"),
        ("", None),
        ("   ", None),
    ],
)
def test_normalize_email(raw: str, expected: str | None) -> None:
    assert normalize_email(raw) == expected


def test_email_facts_flags() -> None:
    assert email_facts("x@mailinator.com").disposable
    assert email_facts("x@sub.mailinator.com").disposable
    gmail = email_facts("J.Doe77@gmail.com")
    assert gmail.free_mail and not gmail.own_domain and not gmail.disposable
    assert gmail.stem == "jdoe" and gmail.digits == "77"
    own = email_facts("leon@hb-trading.de")
    assert own.own_domain and own.valid
    assert not email_facts("no-at-sign").valid
    assert not email_facts('"[bold]x"@gmail.com').valid


@pytest.mark.parametrize(
    ("a", "b", "reason"),
    [
        ("lucky.star1@outlook.com", "lucky.star2@outlook.com", "digits"),
        ("lucky.star1@outlook.com", "lucky.star.3@outlook.com", "digits"),
        ("ctran77@gmx.de", "ctran77@gmail.com", "same_local"),
        ("maximilian@x.de", "maximillian@y.de", "edit_1"),
        ("jo1@x.de", "jo2@x.de", None),  # short stems are common to strangers
        ("anna@x.de", "anna@x.de", None),  # the same mailbox is not a look-alike
        ("anna.kern@gmail.com", "tom.berg@gmail.com", None),
    ],
)
def test_lookalike_reason(a: str, b: str, reason: str | None) -> None:
    assert lookalike_reason(a, b) == reason


def _levenshtein(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


@given(st.text(max_size=12), st.text(max_size=12), st.integers(0, 4))
def test_bounded_edit_distance_matches_levenshtein(a: str, b: str, limit: int) -> None:
    assert bounded_edit_distance(a, b, limit) == min(_levenshtein(a, b), limit + 1)


@st.composite
def _near(draw: st.DrawFn) -> tuple[str, str]:
    """A word and the word after 0-2 random edits, over a small alphabet so that
    edits often meet: the cases where one edit apart is decided."""
    a = draw(st.text(alphabet="abc", max_size=8))
    b = a
    for _ in range(draw(st.integers(0, 2))):
        i = draw(st.integers(0, len(b)))
        kind = draw(st.sampled_from(["insert", "delete", "replace"]))
        c = draw(st.sampled_from("abc"))
        if kind == "insert":
            b = b[:i] + c + b[i:]
        elif i < len(b):
            b = b[:i] + (c if kind == "replace" else "") + b[i + 1:]
    return a, b


@given(_near())
def test_one_edit_apart_is_levenshtein_within_one(pair: tuple[str, str]) -> None:
    a, b = pair
    assert bounded_edit_distance(a, b, 1) == min(_levenshtein(a, b), 2)
    assert bounded_edit_distance(b, a, 1) == min(_levenshtein(a, b), 2)


@given(st.text(max_size=200))
def test_email_functions_take_any_text(raw: str) -> None:
    facts = email_facts(raw)
    assert facts.raw == raw
    if facts.normalized is not None:
        assert normalize_email(facts.normalized) == facts.normalized  # idempotent
    email_stem(raw)


@given(st.text(max_size=300))
@settings(max_examples=200)
def test_phone_facts_take_any_text(raw: str) -> None:
    facts = phone_facts(raw, "DE")
    assert facts.raw == raw
    if facts.valid:
        assert facts.e164 is not None and facts.e164.startswith("+")
    key = normalize_phone(raw)
    assert key is None or key.lstrip("+").isdigit()


def test_phone_facts_country_and_line_type() -> None:
    mobile = phone_facts("+49 151 12345678")
    assert mobile.valid and mobile.region == "DE" and mobile.line_type == "mobile"
    national = phone_facts("030 1234567", "DE")
    assert national.e164 == "+49301234567" and national.line_type == "fixed_line"
    assert not phone_facts("call me maybe").valid
    assert normalize_phone("0049 151 1234567") == normalize_phone("+49-151-1234567")
    # 00 is read as + here too: the lookup found the account but called the number invalid.
    dialled = phone_facts("0049 151 12345678")
    assert dialled.valid and dialled.e164 == "+4915112345678" and dialled.region == "DE"


@pytest.mark.parametrize("device", [None, "", "unknown", "00000000-0000-0000-0000-000000000000",
                                    "NULL", "-"])
def test_placeholder_devices(device: str | None) -> None:
    assert is_placeholder_device(device)


def test_real_device_is_not_placeholder() -> None:
    assert not is_placeholder_device("a931cc682f5d440ed19d0b8e13d23ab4")
