"""The cluster around one account, read from a folder for that account's values only."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tests.link.conftest import HOSTILE_DEVICE, RING_ADDRESS

from acctsec.errors import InputError
from acctsec.link.context import ContextBuilder, build_link_context
from acctsec.link.sql import open_source


def _vias(ctx: object, uid: str, other: str) -> set[str]:
    return {e.via for e in ctx.edges if e.touches(uid) and e.touches(other)}  # type: ignore[attr-defined]


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_ring_member_is_linked_to_the_ring(make_world: Callable[[str], Path], fmt: str) -> None:
    ctx = build_link_context(make_world(fmt), "r3")
    others = set(ctx.neighbours("r3"))
    assert {"r1", "r2", "r4", "r5"} <= others
    assert {"device_id", "withdrawal_address", "email_lookalike"} <= _vias(ctx, "r3", "r1")
    assert "referral" in _vias(ctx, "r3", "r2")
    payout = next(e for e in ctx.edges if e.via == "withdrawal_address")
    assert payout.value == RING_ADDRESS.lower()  # hex addresses are case-blind
    assert payout.first_seen is not None and payout.first_seen.tzinfo is not None


def test_carrier_ip_is_a_hub_not_sixty_links(world_dir: Path) -> None:
    ctx = build_link_context(world_dir, "c7")
    assert not ctx.edges
    assert [(h.family, h.value, h.accounts) for h in ctx.hubs] == [("ip", "31.0.0.1", 60)]


def test_household_link_is_device_and_weak_ip(world_dir: Path) -> None:
    ctx = build_link_context(world_dir, "h1")
    assert _vias(ctx, "h1", "h2") == {"device_id", "ip"}
    ip = next(e for e in ctx.edges if e.via == "ip")
    assert ip.weight <= 1.0 < next(e for e in ctx.edges if e.via == "device_id").weight


def test_money_links_have_direction(world_dir: Path) -> None:
    ctx = build_link_context(world_dir, "m1")
    transfer = next(e for e in ctx.edges if e.via == "internal_transfer")
    assert (transfer.a, transfer.b) == ("v1", "m1")
    assert transfer.detail["transfers"] == 1  # both sides of one transfer, counted once
    assert ctx.accounts["v1"].security_changes[0][1] == "password_reset"


def test_referral_cycle_found(world_dir: Path) -> None:
    ctx = build_link_context(world_dir, "x1")
    assert ctx.referral_cycle
    assert ctx.referral_chain[0] == "x1" and ctx.referral_chain[-1] == "x1"


def test_email_history_and_hostile_device_link(world_dir: Path) -> None:
    ctx = build_link_context(world_dir, "e1")
    assert _vias(ctx, "e1", "e2") == {"email", "device_id"}  # the old e-mail of e2
    device = next(e for e in ctx.edges if e.via == "device_id")
    assert device.value == HOSTILE_DEVICE
    assert not any(e.via == "ip" for e in ctx.edges)  # 10.0.0.1 is private: no link


def test_depth_two_reaches_further(world_dir: Path) -> None:
    near = build_link_context(world_dir, "x1", depth=1)
    assert "x3" in near.accounts
    # the loop is 3 accounts: depth 2 adds nothing, but never loses what depth 1 found
    far = build_link_context(world_dir, "x1", depth=2)
    assert set(near.accounts) <= set(far.accounts)


def test_views_and_materialised_tables_agree(world_dir: Path) -> None:
    lazy = ContextBuilder(open_source(world_dir, materialise=False)).build("r2")
    eager = ContextBuilder(open_source(world_dir, materialise=True)).build("r2")
    assert lazy.edges == eager.edges


def test_unknown_uid_is_an_input_error(world_dir: Path) -> None:
    with pytest.raises(InputError, match="unknown uid"):
        build_link_context(world_dir, "nobody")


def test_missing_source_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        build_link_context(tmp_path / "absent", "r1")


def test_placeholder_device_never_links(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "accounts.csv").write_text("uid,email\n1,a@x.com\n2,b@y.com\n")
    (folder / "logins.csv").write_text(
        "ts,uid,event,device_id\n"
        "2026-01-01T00:00:00Z,1,login_success,00000000-0000-0000-0000-000000000000\n"
        "2026-01-01T00:00:00Z,2,login_success,00000000-0000-0000-0000-000000000000\n"
        "2026-01-01T00:00:00Z,1,login_success,unknown\n"
        "2026-01-01T00:00:00Z,2,login_success,unknown\n"
    )
    assert not build_link_context(folder, "1").edges


def test_an_ip_that_is_no_address_never_links(tmp_path: Path) -> None:
    """Exchanges log `unknown` or `-` where the address was lost: that is no network
    two accounts share. A real address shared (the control) is a link."""
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "accounts.csv").write_text("uid,email\n1,a@x.com\n2,b@y.com\n")
    rows = "".join(f"2026-01-01T00:00:00Z,{uid},login_success,{ip}\n"
                   for ip in ("unknown", "-", "1.2.3.400", "Unknown") for uid in (1, 2))
    (folder / "logins.csv").write_text("ts,uid,event,ip\n" + rows)
    assert not build_link_context(folder, "1").edges
    with (folder / "logins.csv").open("a") as fh:
        fh.write("2026-01-01T00:00:00Z,1,login_success,2A02:8109:9A00::1\n"
                 "2026-01-01T00:00:00Z,2,login_success,2a02:8109:9a00::1\n")
    assert [e.b for e in build_link_context(folder, "1").edges] == ["2"]


def test_a_look_alike_pair_is_one_edge_at_depth_two() -> None:
    """At depth 2 both accounts of a look-alike pair ask for their look-alikes, and the
    pair came back twice ("a ~ b" and "b ~ a"). Example account 10012 has such a pair."""
    from conftest import EXAMPLES

    ctx = build_link_context(EXAMPLES, "10012", depth=2)
    pairs = [tuple(sorted((e.a, e.b))) for e in ctx.edges if e.via == "email_lookalike"]
    assert pairs and len(pairs) == len(set(pairs))
    # Depth 1 reads the pair from the account's side, as before.
    near = build_link_context(EXAMPLES, "10012", depth=1)
    mine = [e for e in near.edges if e.via == "email_lookalike"]
    assert mine and all(e.a == "10012" for e in mine)
