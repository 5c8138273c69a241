"""Deterministic generator of realistic example data in the acctsec input contract."""

from __future__ import annotations

from pathlib import Path

__all__ = ["generate"]


def generate(out_dir: Path, seed: int = 7, accounts: int = 300,
             truth_path: Path | None = None) -> Path:
    """Write the small example data set; see acctsec.synth.generate."""
    from acctsec.synth.generate import generate as _generate

    return _generate(out_dir, seed, accounts, truth_path)
