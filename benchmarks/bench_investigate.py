"""Benchmark of `acctsec investigate`: --help, an example account, one account with 100k logins.

Run: .venv/bin/python benchmarks/bench_investigate.py [--runs 7]
Prints a Markdown table for docs/benchmarks.md. Whole-process times are wall-clock
medians of separate `acctsec` processes (Python start-up included).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ACCTSEC = [sys.executable, "-m", "acctsec"]
UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/131.0.0.0 Safari/537.36")


def heavy_account(folder: Path, logins: int = 100_000, others: int = 200) -> None:
    """One account with `logins` sign-in events over two years, among `others` accounts."""
    rng = random.Random(7)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "accounts.csv").open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["uid", "email", "created_at"])
        for uid in range(1, others + 2):
            out.writerow([uid, f"user{uid}@example.com", "2024-01-01T00:00:00Z"])
    start = datetime(2024, 11, 1, tzinfo=UTC)
    homes = [f"84.150.{rng.randrange(256)}.{rng.randrange(1, 255)}" for _ in range(20)]
    with (folder / "logins.csv").open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["ts", "uid", "event", "ip", "user_agent", "device_id", "session_id"])
        for i in range(logins):
            ts = start + timedelta(seconds=i * 630 + rng.randrange(600))
            event = "login_success" if i % 10 else "session_refresh"
            out.writerow([ts.isoformat(), 1, event, rng.choice(homes), UA,
                          f"dev-{rng.randrange(3)}", f"s{i // 10}"])
        for uid in range(2, others + 2):
            for j in range(20):
                ts = start + timedelta(days=j * 30, hours=uid % 24)
                out.writerow([ts.isoformat(), uid, "login_success", rng.choice(homes), UA,
                              f"d{uid}", f"o{uid}-{j}"])
    with (folder / "transactions.csv").open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["ts", "uid", "kind", "asset", "amount", "usd_value", "address", "status",
                      "device_id"])
        for j in range(200):
            ts = start + timedelta(days=j * 3)
            out.writerow([ts.isoformat(), 1, "deposit", "USDT", "100", "100", "", "completed",
                          ""])


# As on a user's machine, Python may keep compiled bytecode (`__pycache__`). Some
# sandboxes set PYTHONDONTWRITEBYTECODE, which recompiles every module on every run
# (+0.3 s for investigate); it is removed here and the first, warming run is not counted.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(args: list[str], runs: int) -> float:
    times = []
    for _ in range(runs + 1):
        began = time.perf_counter()
        result = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, env=ENV)
        times.append(time.perf_counter() - began)
        if result.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed: {result.stderr.strip()}")
    return statistics.median(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    rows = [("`acctsec --help`", timed([*ACCTSEC, "--help"], runs), "well under 0.2 s")]
    examples = ["investigate", "10007", "--source", "examples/data", "--format", "json"]
    rows.append(("`acctsec investigate 10007` on examples/data (300 accounts, 16.8k logins)",
                 timed([*ACCTSEC, *examples], runs), "under 0.5 s"))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "heavy"
        heavy_account(folder)
        heavy = ["investigate", "1", "--source", str(folder), "--format", "json"]
        rows.append(("`acctsec investigate 1`, an account with 100,000 login events",
                     timed([*ACCTSEC, *heavy], max(3, runs // 2)), "under 2 s"))
    print("| what | median wall time (s) | target |")
    print("|---|---|---|")
    for what, seconds, target in rows:
        print(f"| {what} | {seconds:.3f} | {target} |")


if __name__ == "__main__":
    main()
