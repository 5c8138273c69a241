"""Network classification: the tables are sound and the reasons read as evidence."""

# ruff: noqa: E501 - the expected reasons are whole sentences, kept on one line each

from __future__ import annotations

import re
from collections import Counter

import pytest

from acctsec.intel.interface import NETWORK_KINDS
from acctsec.intel.netclass import (
    NAME_HINTS,
    ORG_ASNS,
    PROVIDERS,
    asn_from_org,
    classify_network,
)


def test_tables_are_well_formed() -> None:
    kinds = {p.kind for p in PROVIDERS} | {kind for _, kind in NAME_HINTS}
    assert kinds <= set(NETWORK_KINDS)
    for provider in PROVIDERS:
        assert provider.asns or provider.org_patterns, provider.name
        for pattern in provider.org_patterns:
            re.compile(pattern)
    duplicated = [asn for asn, n in Counter(a for p in PROVIDERS for a in p.asns).items() if n > 1]
    assert duplicated == []


@pytest.mark.parametrize(
    ("asn", "org", "kind", "reason"),
    [
        (16509, "AMAZON-02", "hosting", "AS16509 AMAZON-02 is Amazon.com, a cloud hosting provider"),
        (14061, "DIGITALOCEAN-ASN", "hosting", "AS14061 DIGITALOCEAN-ASN is a cloud hosting provider"),
        (24940, "Hetzner Online GmbH", "hosting", "AS24940 Hetzner Online GmbH is a cloud hosting provider"),
        (9009, "M247 Europe SRL", "vpn", "AS9009 M247 Europe SRL is an operator of commercial VPN exit servers (used by most large VPN services)"),
        (62371, "Proton AG", "vpn", "AS62371 Proton AG is Proton AG (Proton VPN), an operator of commercial VPN exit servers"),
        (22394, "CELLCO", "mobile", "AS22394 CELLCO is Verizon Wireless, a mobile carrier"),
        (7922, "COMCAST-7922", "residential", "AS7922 COMCAST-7922 is a consumer internet provider"),
    ],
)
def test_known_providers(asn: int, org: str, kind: str, reason: str) -> None:
    result = classify_network(asn, org)
    assert (result.kind, result.reason) == (kind, reason)


def test_as_number_beats_a_misleading_name() -> None:
    # A hoster's AS registered under a name that says "Broadband" is still hosting.
    assert classify_network(16276, "Totally Home Broadband").kind == "hosting"


@pytest.mark.parametrize(
    ("org", "kind"),
    [
        ("Vultr Holdings LLC", "hosting"),
        ("The Constant Company, LLC", "hosting"),
        ("Reliance Jio Infocomm Limited", "mobile"),
        ("Telefonica Moviles Chile", "mobile"),
        ("MTN Nigeria Communication limited", "mobile"),
        ("Safaricom", "mobile"),
        ("Acme Wireless Inc", "mobile"),
        ("Example Hosting Ltd", "hosting"),
        ("SuperFast VPN Ltd", "vpn"),
        ("Kabel Nord GmbH", "residential"),
        ("AMAZONIA TELECOMUNICACOES LTDA", "unknown"),
        ("GOOGLE-FIBER", "residential"),  # Google's consumer ISP, not its cloud
        ("EE Limited", "mobile"),
        ("Telefonica Germany GmbH & Co.OHG", "mobile"),
        ("Turkcell Iletisim Hizmetleri A.s.", "mobile"),
        ("1337 Services GmbH", "hosting"),
        ("Proton66 OOO", "hosting"),
    ],
)
def test_organisation_names_without_as_number(org: str, kind: str) -> None:
    assert classify_network(None, org).kind == kind


def test_reason_without_as_number_says_so() -> None:
    result = classify_network(None, "Example Hosting Ltd")
    assert result.reason == (
        "Example Hosting Ltd (AS number unknown offline) is probably a cloud hosting provider "
        "(its name contains 'Hosting')"
    )


def test_nothing_known() -> None:
    assert classify_network(None, None).kind == "unknown"
    unknown = classify_network(64500, "Example Widgets GmbH")
    assert unknown.kind == "unknown"
    assert unknown.reason == "AS64500 Example Widgets GmbH is on no hosting, VPN, mobile or ISP list"


def test_asn_from_org() -> None:
    assert asn_from_org("GOOGLE") == 15169
    assert asn_from_org("T-MOBILE-AS21928") == 21928
    assert asn_from_org("Example Networks") is None
    assert asn_from_org(None) is None
    assert all(isinstance(v, int) and 0 < v < 2**32 for v in ORG_ASNS.values())
