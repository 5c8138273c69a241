"""Benchmark of account linking: whole-population graph build and one account's context.

    .venv/bin/python -m acctsec.synth --out /tmp/big --accounts 100000 \
        --events 10000000 --format parquet
    .venv/bin/python benchmarks/bench_link.py /tmp/big [uid ...]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path


def _timed(label: str, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    print(f"{label}: {time.perf_counter() - start:.3f} s", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("source", type=Path)
    parser.add_argument("uids", nargs="*")
    parser.add_argument("--skip-graph", action="store_true")
    parser.add_argument("--singles", type=int, default=5, help="accounts to time one by one")
    args = parser.parse_args()

    import duckdb

    from acctsec.link.context import build_link_context
    from acctsec.link.graph import build_link_graph

    con = duckdb.connect()
    files = sorted(args.source.glob("*.*"))
    for f in files:
        print(f"{f.name}: {f.stat().st_size / 1e6:.1f} MB", end="")
        if f.suffix == ".parquet":
            rows = con.execute(f"SELECT count(*) FROM read_parquet('{f}')").fetchone()
            print(f", {rows[0]:,} rows" if rows else "", end="")
        print()
    uids = args.uids or [
        str(r[0]) for r in con.execute(
            f"SELECT uid FROM read_parquet('{args.source / 'accounts.parquet'}') "
            f"USING SAMPLE {args.singles} ROWS (reservoir, 7)"
        ).fetchall()
    ] if (args.source / "accounts.parquet").exists() else args.uids

    times = []
    for uid in uids:
        start = time.perf_counter()
        ctx = build_link_context(args.source, uid)
        times.append(time.perf_counter() - start)
        print(f"single account {uid}: {times[-1]:.3f} s, {len(ctx.edges)} edges, "
              f"{len(ctx.hubs)} hubs", flush=True)
    if times:
        print(f"single account, median of {len(times)}: {statistics.median(times):.3f} s")
    if args.skip_graph:
        return
    graph = _timed("population graph build", build_link_graph, args.source)
    print(graph.stats)
    clusters = _timed("clusters", graph.clusters)
    print(f"{len(clusters)} clusters, largest {len(clusters[0]) if clusters else 0}")
    for uid in uids:
        _timed(f"context from graph {uid}", graph.context, uid)


if __name__ == "__main__":
    main()
