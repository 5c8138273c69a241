"""Benchmark of `acctsec batch` at exchange scale, and the single-account path for comparison.

    .venv/bin/python benchmarks/bench_batch.py --data /tmp/big/data            # alert queue
    .venv/bin/python benchmarks/bench_batch.py --data /tmp/big/data --all --jobs 2
    .venv/bin/python benchmarks/bench_batch.py --data /tmp/big/data --singles 2
    .venv/bin/python benchmarks/bench_batch.py --data /tmp/bigcsv/data --format csv [--warm]
    .venv/bin/python benchmarks/bench_batch.py --data /tmp/big/data --database /tmp/big.duckdb

The data is generated on demand (never committed) with
    .venv/bin/python -m acctsec.synth --out DIR --accounts 100000 --events 10000000 \
        --format parquet   (or csv)
and with --database loaded into that DuckDB file (`acctsec load DIR FILE`) when missing;
the run then reads `duckdb:///FILE` with the same alert queue.
Wall time and peak memory are of the whole process tree (workers included), sampled
from /proc every 0.1 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tree_rss(pid: int) -> int:
    """Resident bytes of `pid` and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as fh:
                parent = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            with open(f"/proc/{current}/statm", encoding="utf-8") as fh:
                total += int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    return total


def measure(cmd: list[str]) -> tuple[float, int, str]:
    """(wall seconds, peak tree RSS bytes, stderr) of a command."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss(proc.pid))
        time.sleep(0.1)
    err = proc.stderr.read() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{cmd} failed ({proc.returncode}): {err}")
    return time.perf_counter() - start, peak, err


def generate(data: Path, accounts: int, events: int, fmt: str) -> None:
    if (data / f"accounts.{fmt}").exists():
        return
    cmd = [sys.executable, "-m", "acctsec.synth", "--out", str(data), "--accounts",
           str(accounts), "--events", str(events), "--format", fmt]
    print("generating:", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def batch(args: argparse.Namespace, warm: bool = False) -> float:
    """One batch run from a cold work dir, or with `warm` keeping what the last run left
    in it (CSV copies, population figures, link store): a second run on the same files."""
    out = args.work / "batch.jsonl"
    for leftover in args.work.glob("batch.jsonl*"):
        if warm and leftover.name in ("batch.jsonl.work", "batch.jsonl.cache"):
            continue
        shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
    queue = ["--all"] if args.all else ["--alerts", str(args.data / f"alerts.{args.format}")]
    source = str(args.data)
    if args.database:  # the link tables copied from it are kept in a cache dir of its own
        source = f"duckdb:///{args.database.resolve()}"
        queue += ["--cache-dir", str(args.work / "batch.jsonl.cache")]
    cmd = [sys.executable, "-m", "acctsec", "batch", "--source", source, *queue,
           "--out", str(out), "--jobs", str(args.jobs)]
    seconds, peak, err = measure(cmd)
    accounts = sum(1 for _ in out.open(encoding="utf-8"))
    print(f"{'warm: ' if warm else ''}batch {' '.join(queue)} --jobs {args.jobs}: "
          f"{accounts} accounts in {seconds:.1f} s "
          f"({accounts / seconds:.1f}/s), peak RSS {peak / 2**20:.0f} MiB (process tree)")
    print("\n".join(line for line in err.splitlines() if line.startswith(("batch:", "labels"))))
    return seconds


def singles(args: argparse.Namespace, batch_seconds: float | None) -> None:
    """The queue's first accounts through `service.investigate`, two ways: reading the
    folder's files for each account (the plain single-account path), and as
    `acctsec investigate` does on a large folder (from the cached index; the first
    call builds it and is left out)."""
    import duckdb

    from acctsec import service
    from acctsec.config import load_settings
    from acctsec.intel.ip import OfflineIpIntel
    from acctsec.sources.folder import FolderSource

    alerts = str(args.data / f"alerts.{args.format}").replace("'", "''")
    uids = sorted({str(r[0]) for r in duckdb.sql(f"SELECT uid FROM '{alerts}'").fetchall()})
    settings = load_settings(None, environ={}, overrides={"offline": True,
                                                          "cache_dir": args.work / "cache"})
    intel = OfflineIpIntel(settings)
    ways = {"reading the files": FolderSource(args.data),
            "from the cached index": service.open_source(settings, args.data)}
    start = time.perf_counter()
    service.investigate(settings, ways["from the cached index"], uids[0], intel=intel)
    print(f"building the cached index (first account): {time.perf_counter() - start:.1f} s")
    for way, source in ways.items():
        times = []
        for uid in uids[: args.singles]:
            start = time.perf_counter()
            service.investigate(settings, source, uid, intel=intel)
            times.append(time.perf_counter() - start)
        per = sum(times) / len(times)
        total = per * len(uids)
        line = (f"single-account path, {way}: {per:.1f} s per account, ~{total:.0f} s for "
                f"the {len(uids)}-account alert queue")
        if batch_seconds:
            line += f", {total / batch_seconds:.1f}x the batch run"
        print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT / "benchmarks" / "data" / "batch")
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--all", action="store_true", help="every account, not the alerts")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--format", choices=["parquet", "csv"], default="parquet",
                        help="the data's format (when generated: the one to generate)")
    parser.add_argument("--singles", type=int, default=0,
                        help="also time this many accounts through the single-account path")
    parser.add_argument("--skip-batch", action="store_true")
    parser.add_argument("--database", type=Path, default=None,
                        help="read the data from this DuckDB file (loaded from --data if missing)")
    parser.add_argument("--warm", action="store_true",
                        help="then run the batch again on what the first run cached")
    args = parser.parse_args()
    args.work = args.work or args.data.parent / (args.data.name + "-out")
    args.work.mkdir(parents=True, exist_ok=True)
    generate(args.data, args.accounts, args.events, args.format)
    if args.database and not args.database.exists():
        subprocess.run([sys.executable, "-m", "acctsec", "load", str(args.data),
                        str(args.database)], check=True)
    seconds = None if args.skip_batch else batch(args)
    if args.warm:
        batch(args, warm=True)
    if args.singles:
        singles(args, seconds)


if __name__ == "__main__":
    main()
