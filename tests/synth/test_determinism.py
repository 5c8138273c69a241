"""Same seed, same bytes; another seed, other data."""

from __future__ import annotations

from pathlib import Path

from acctsec.synth import generate

TABLES = ("accounts", "logins", "security_events", "transactions", "alerts")


def _bytes(root: Path) -> dict[str, bytes]:
    out = {t: (root / "data" / f"{t}.csv").read_bytes() for t in TABLES}
    out["truth"] = (root / "truth.csv").read_bytes()
    return out


def test_same_seed_gives_identical_bytes(dataset: Path, tmp_path: Path) -> None:
    generate(tmp_path / "data", seed=7)
    assert _bytes(tmp_path) == _bytes(dataset)


def test_different_seed_gives_different_data(dataset: Path, tmp_path: Path) -> None:
    generate(tmp_path / "data", seed=8)
    other, base = _bytes(tmp_path), _bytes(dataset)
    assert all(other[t] != base[t] for t in TABLES)


def test_committed_example_matches_generator(dataset: Path) -> None:
    repo = Path(__file__).resolve().parents[2] / "examples"
    assert _bytes(repo) == _bytes(dataset)
