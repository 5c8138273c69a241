"""Benchmark of `acctsec trace`: a 5-hop forward trace over a 10-million-transfer snapshot,
and a repeated online trace served from the cache.

    .venv/bin/python benchmarks/bench_trace.py [--rows 10000000]

Data is generated on demand into benchmarks/data/ (git-ignored), never committed.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "snapshot"
PATH = [f"0x{i:040x}" for i in (0xA11CE, 0xB0B01, 0xB0B02, 0xB0B03, 0xB0B04)]
EXCHANGE = f"0x{0xE0C4A9:040x}"
SEED = "0x" + "5e" * 32


def generate(rows: int, folder: Path) -> None:
    """ethereum-etl shaped Parquet: 80% token transfers, 20% ETH transactions, 1M addresses,
    plus a planted path victim -> 4 hops -> a tagged exchange among the noise."""
    import duckdb

    folder.mkdir(parents=True, exist_ok=True)
    db = duckdb.connect()
    addr = "'0x' || substr(md5(CAST(({x}) % 1000000 AS VARCHAR)) || md5('s'), 1, 40)"
    tokens, natives = rows * 4 // 5, rows - rows * 4 // 5
    db.execute(f"""COPY (
        SELECT '0x' || md5(CAST(i AS VARCHAR)) || md5(CAST(-i AS VARCHAR)) AS transaction_hash,
               CAST(i % 300 AS BIGINT) AS log_index, {addr.format(x='i * 7919')} AS from_address,
               {addr.format(x='i * 104729 + 13')} AS to_address,
               '0xdac17f958d2ee523a2206206994597c13d831ec7' AS token_address,
               CAST(1 + i % 100000 AS VARCHAR) || '000000' AS value,
               CAST(10000000 + i // 300 AS BIGINT) AS block_number
        FROM range({tokens}) t(i)
        UNION ALL {_planted_tokens()}
    ) TO '{folder}/token_transfers.parquet' (FORMAT parquet)""")
    db.execute(f"""COPY (
        SELECT '0x' || md5(CAST(i AS VARCHAR) || 'n') || md5(CAST(i AS VARCHAR)) AS hash,
               {addr.format(x='i * 31')} AS from_address,
               {addr.format(x='i * 57 + 5')} AS to_address,
               CAST(1 + i % 1000 AS VARCHAR) || '000000000000000' AS value,
               CAST(10000000 + i // 150 AS BIGINT) AS block_number,
               CAST(i % 150 AS BIGINT) AS transaction_index,
               CAST(1700000000 + i // 150 * 12 AS BIGINT) AS block_timestamp
        FROM range({natives}) t(i)
    ) TO '{folder}/transactions.parquet' (FORMAT parquet)""")
    db.execute(f"""COPY (SELECT '0xdac17f958d2ee523a2206206994597c13d831ec7' AS address,
        'USDT' AS symbol, 6 AS decimals) TO '{folder}/tokens.csv' (HEADER)""")


def _planted_tokens() -> str:
    hops = [*PATH, EXCHANGE]
    rows = []
    for n, (a, b) in enumerate(zip(hops, hops[1:], strict=False)):
        txhash = SEED if n == 0 else "0x" + f"{n:02x}" * 32
        rows.append(f"SELECT '{txhash}', 0, '{a}', '{b}', "
                    f"'0xdac17f958d2ee523a2206206994597c13d831ec7', '250000000000', "
                    f"{20000000 + n}")
    return " UNION ALL ".join(rows)


def tagpack(folder: Path) -> Path:
    path = folder / "bench.yaml"
    path.write_text(f"title: bench\ncategory: exchange\ncurrency: ETH\ntags:\n"
                    f"- address: '{EXCHANGE}'\n  label: Bench Exchange\n  actor: benchexchange\n",
                    encoding="utf-8")
    return path


def bench_snapshot(rows: int) -> None:
    from acctsec.chain.interface import network
    from acctsec.chain.snapshot import SnapshotClient
    from acctsec.chain.trace import TraceOptions, trace
    from acctsec.intel.attribution import build_index

    if not (DATA / "token_transfers.parquet").exists():
        started = time.perf_counter()
        generate(rows, DATA)
        print(f"generated {rows:,} transfers in {time.perf_counter() - started:.1f} s")
    index = build_index(tagpacks=[tagpack(DATA.parent)])
    started = time.perf_counter()
    client = SnapshotClient(DATA, network("ETH"))
    client.connect()
    print(f"index ready (built once, reused) in {time.perf_counter() - started:.1f} s")
    for attempt in range(3):
        client = SnapshotClient(DATA, network("ETH"))
        started = time.perf_counter()
        result = trace(client, SEED, TraceOptions(hops=6), lambda a: index.lookup(a, "evm"))
        elapsed = time.perf_counter() - started
        [end] = [e for e in result.endpoints if e.entity]
        print(f"run {attempt + 1}: 5-hop forward trace in {elapsed:.3f} s -> {end.entity} "
              f"at hop {end.hops}, {end.amount} {end.symbol}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--fresh", action="store_true", help="regenerate the data")
    args = parser.parse_args()
    if args.fresh:
        shutil.rmtree(DATA, ignore_errors=True)
    bench_snapshot(args.rows)


if __name__ == "__main__":
    main()
