"""On the example data: fraud accounts score as fraud, honest look-alikes do not."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from acctsec.core.fraud import fraud_signals, linked_accounts
from acctsec.core.signals import FRAUD
from acctsec.link.context import ContextBuilder
from acctsec.link.sql import open_source
from acctsec.sources.folder import FolderSource

LOOKALIKE_FAMILIES = {"shared_device_couple", "shared_ip", "wallet_trader", "vpn_always"}


def _truth(examples_dir: Path) -> dict[str, dict[str, str]]:
    with (examples_dir.parent / "truth.csv").open(newline="") as fh:
        return {row["uid"]: row for row in csv.DictReader(fh)}


@pytest.fixture(scope="module")
def scored(request: pytest.FixtureRequest) -> dict[str, tuple[str, str, float, list[str]]]:
    examples_dir: Path = request.getfixturevalue("examples_dir_module")
    truth = _truth(examples_dir)
    wanted = [u for u, t in truth.items()
              if t["label"] == "fraud" or t["family"] in LOOKALIKE_FAMILIES]
    source, builder = FolderSource(examples_dir), ContextBuilder(open_source(examples_dir))
    out = {}
    for uid in wanted:
        signals = fraud_signals(source.account(uid), builder.build(uid))
        weight = sum(s.weight for s in signals if s.direction == FRAUD)
        out[uid] = (truth[uid]["family"], truth[uid]["label"], weight, [s.id for s in signals])
    return out


@pytest.fixture(scope="module")
def examples_dir_module() -> Path:
    from tests.conftest import EXAMPLES

    if not (EXAMPLES / "accounts.csv").exists():
        pytest.skip("examples/data has not been generated")
    return EXAMPLES


def test_every_fraud_account_scores_as_fraud(scored: dict) -> None:  # type: ignore[type-arg]
    weak = {u: s for u, s in scored.items() if s[1] == "fraud" and s[2] < 3.0}
    assert not weak


def test_honest_lookalikes_do_not(scored: dict) -> None:  # type: ignore[type-arg]
    strong = {u: s for u, s in scored.items() if s[1] != "fraud" and s[2] >= 1.0}
    assert not strong


def test_ring_member_lists_its_ring(examples_dir_module: Path) -> None:
    truth = _truth(examples_dir_module)
    ring = sorted(u for u, t in truth.items() if t["family"] == "ring")
    ctx = ContextBuilder(open_source(examples_dir_module)).build(ring[0])
    linked = {row["uid"] for row in linked_accounts(ctx) if "device_id" in row["via"]
              or "withdrawal_address" in row["via"]}
    assert linked and linked <= set(ring)
