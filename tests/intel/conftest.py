"""Shared fixtures: one ASN index built per test session into a temporary cache dir."""

from __future__ import annotations

from pathlib import Path

import pytest

from acctsec.config import Settings
from acctsec.intel.ip import OfflineIpIntel


@pytest.fixture(scope="session")
def intel_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("acctsec-cache")


@pytest.fixture(scope="session")
def offline_settings(intel_cache: Path) -> Settings:
    return Settings(cache_dir=intel_cache, offline=True)


@pytest.fixture(scope="session")
def intel(offline_settings: Settings) -> OfflineIpIntel:
    return OfflineIpIntel(offline_settings)
