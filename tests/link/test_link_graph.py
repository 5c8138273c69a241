"""The whole-population graph: clusters, and contexts equal to the per-account ones."""

from __future__ import annotations

from pathlib import Path

from acctsec.link.context import build_link_context
from acctsec.link.graph import build_link_graph


def test_clusters_join_ring_and_household_not_carrier(world_dir: Path) -> None:
    graph = build_link_graph(world_dir)
    clusters = graph.clusters()
    assert ["r1", "r2", "r3", "r4", "r5"] in clusters
    assert ["h1", "h2"] in clusters
    assert not any(c for c in clusters if any(u.startswith("c") for u in c))
    assert graph.stats.hubs == 1 and graph.stats.accounts == 74


def test_graph_context_equals_single_account_context(world_dir: Path) -> None:
    graph = build_link_graph(world_dir)
    for uid in ("r2", "m1", "e1", "h1"):
        assert graph.context(uid).edges == build_link_context(world_dir, uid).edges
