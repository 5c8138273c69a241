"""`acctsec intel update`: download TagPacks, OFAC and Forta lists into dated snapshots."""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from acctsec.errors import DependencyError, InputError

if TYPE_CHECKING:
    import httpx

_RAW = "https://raw.githubusercontent.com"
DEFAULT_BASES: Mapping[str, str] = {
    "tagpacks": f"{_RAW}/graphsense/graphsense-tagpacks/master/packs/",
    "ofac": f"{_RAW}/0xB10C/ofac-sanctioned-digital-currency-addresses/lists/",
    "forta": f"{_RAW}/forta-network/labelled-datasets/main/labels/1/",
}
DEFAULT_FILES: Mapping[str, tuple[str, ...]] = {
    "tagpacks": (
        "binance.yaml", "etherscan-wordcloud-exchange.yaml",
        "etherscan-wordcloud-mixing_service.yaml", "exchange-wallets-binance.yaml",
        "exchange-wallets-bitfinexcom.yaml", "exchange-wallets-bybit.yaml",
        "exchange-wallets-cryptocom.yaml", "exchange-wallets-deribit.yaml",
        "exchange-wallets-huobi.yaml", "exchange-wallets-okx.yaml",
        "exchange-wallets-swissborg.yaml", "hacks.yaml", "lazarus.yaml", "mixing_fc2021.yaml",
        "ofac.yaml", "ronin_bridge.yaml", "tornado_cash.yaml", "twitter_hack_scam.yaml",
        "usdt_blacklist.yaml",
    ),
    "ofac": tuple(
        f"sanctioned_addresses_{c}.json"
        for c in ("ARB", "BCH", "BSC", "BSV", "BTG", "DASH", "ETC", "ETH", "LTC", "TRX",
                  "USDC", "USDT", "XBT", "XMR", "XRP", "XVG", "ZEC")
    ),
    "forta": ("etherscan_malicious_labels.csv", "malicious_smart_contracts.csv",
              "phishing_scams.csv"),
}
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass
class UpdateResult:
    snapshot: Path
    files: dict[str, int] = field(default_factory=dict)  # relative path -> bytes
    failed: dict[str, str] = field(default_factory=dict)  # relative path -> why
    # relative path -> the earlier snapshot a failed file was kept from
    carried: dict[str, str] = field(default_factory=dict)


def intel_root(data_dir: Path) -> Path:
    return data_dir / "intel"


def current_snapshot(data_dir: Path) -> Path | None:
    """The snapshot `intel update` last completed, or None."""
    root = intel_root(data_dir)
    try:
        name = (root / "current").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    path = root / "snapshots" / name
    return path if name and path.is_dir() else None


def sources(intel_urls: Mapping[str, str]) -> dict[str, str]:
    """Relative path -> URL; `intel_urls` may replace the base of tagpacks, ofac, forta."""
    unknown = set(intel_urls) - set(DEFAULT_BASES)
    if unknown:
        raise InputError(f"intel_urls: unknown source {sorted(unknown)[0]!r} "
                         f"(known: {', '.join(DEFAULT_BASES)})")
    out: dict[str, str] = {}
    for kind, base in DEFAULT_BASES.items():
        base = intel_urls.get(kind, base)
        base = base if base.endswith("/") else base + "/"
        for name in DEFAULT_FILES[kind]:
            out[f"{kind}/{name}"] = base + name
    return out


def update(
    data_dir: Path,
    client: httpx.Client,
    intel_urls: Mapping[str, str],
    *,
    keep: int = 5,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], None] = time.sleep,
) -> UpdateResult:
    """Downloads every source into a new dated snapshot and makes it current.

    A source that fails is listed in `failed`, and the current snapshot's copy of it, if
    any, is kept in the new one (`carried`): a download that fails today must not drop
    yesterday's sanctions list from the attribution. When all fail, nothing changes and
    DependencyError is raised.
    """
    root = intel_root(data_dir)
    previous = current_snapshot(data_dir)
    started = now()
    name = started.strftime("%Y%m%dT%H%M%SZ")
    staging = root / "snapshots" / f".{name}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    result = UpdateResult(snapshot=root / "snapshots" / name)
    manifest: dict[str, dict[str, object]] = {}
    for rel, url in sources(intel_urls).items():
        try:
            body = _download(client, url, sleep)
            _validate(rel, body)
        except (DependencyError, InputError) as exc:
            result.failed[rel] = str(exc)
            if previous is not None and (previous / rel).is_file():
                target = staging / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(previous / rel, target)
                result.carried[rel] = previous.name
                manifest[rel] = {"url": url, "carried_from": result.carried[rel],
                                 "failed": str(exc)}
            continue
        target = staging / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
        result.files[rel] = len(body)
        manifest[rel] = {"url": url, "bytes": len(body),
                         "sha256": hashlib.sha256(body).hexdigest()}
    if not result.files:
        shutil.rmtree(staging, ignore_errors=True)
        first = next(iter(result.failed.values()), "no sources")
        raise DependencyError(f"intel update: every download failed ({first})")
    _publish(root, staging, result.snapshot, manifest, started)
    _prune(root, keep)
    return result


def _download(client: httpx.Client, url: str, sleep: Callable[[float], None],
              retries: int = 3) -> bytes:
    import httpx

    why = "no attempt"
    for attempt in range(retries + 1):
        if attempt:
            sleep(min(0.5 * 2 ** (attempt - 1), 10.0))
        try:
            response = client.get(url)
        except httpx.TimeoutException:
            why = "timed out"
            continue
        except httpx.TransportError as exc:
            why = f"connection failed ({type(exc).__name__})"
            continue
        if response.status_code in _RETRY_STATUS:
            why = f"HTTP {response.status_code}"
            continue
        if response.status_code != 200:
            raise DependencyError(f"{url}: HTTP {response.status_code}")
        return response.content
    raise DependencyError(f"{url}: {why} after {retries + 1} attempts")


def _validate(rel: str, body: bytes) -> None:
    """Refuses a download that is not what it should be (an HTML error page, say)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{rel}: not UTF-8 text") from None
    if rel.endswith(".json"):
        try:
            ok = isinstance(json.loads(text), list)
        except json.JSONDecodeError:
            ok = False
    elif rel.endswith((".yaml", ".yml")):
        import yaml

        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError:
            doc = None
        ok = isinstance(doc, dict) and isinstance(doc.get("tags"), list)
    else:
        ok = "," in text.split("\n", 1)[0] and "address" in text.split("\n", 1)[0]
    if not ok:
        raise InputError(f"{rel}: download is not a valid {rel.rsplit('.', 1)[-1]} list")


def _publish(root: Path, staging: Path, final: Path,
             manifest: Mapping[str, object], at: datetime) -> None:
    (staging / "manifest.json").write_text(
        json.dumps({"fetched_at": at.isoformat(), "files": manifest}, indent=2),
        encoding="utf-8",
    )
    if final.exists():
        shutil.rmtree(final)
    staging.rename(final)
    tmp = root / "current.tmp"
    tmp.write_text(final.name + "\n", encoding="utf-8")
    tmp.replace(root / "current")


def snapshots(data_dir: Path) -> list[Path]:
    folder = intel_root(data_dir) / "snapshots"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _prune(root: Path, keep: int) -> None:
    for old in snapshots(root.parent)[:-keep] if keep > 0 else []:
        shutil.rmtree(old, ignore_errors=True)
