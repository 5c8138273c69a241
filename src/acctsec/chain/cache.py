"""An on-disk cache of backend answers, so a repeated trace makes no network call."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any


class ResponseCache:
    """JSON answers under `<cache dir>/chain/<2 hex>/<sha256>.json`.

    Keys are hashed from the request without its secrets (callers strip API keys
    before building the key), so neither file names nor contents hold a key.
    """

    def __init__(self, root: Path, *, enabled: bool = True) -> None:
        self.root = root / "chain"
        self.enabled = enabled
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(*parts: object) -> str:
        text = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str, *, max_age_s: float | None = None) -> Any | None:
        """The stored answer, or None when absent, too old, or unreadable."""
        if not self.enabled:
            return None
        path = self._path(key)
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.misses += 1
            return None
        if max_age_s is not None and time.time() - float(stored.get("at", 0)) > max_age_s:
            self.misses += 1
            return None
        self.hits += 1
        return stored.get("value")

    def put(self, key: str, value: Any) -> None:
        if not self.enabled:
            return
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"at": time.time(), "value": value}), encoding="utf-8")
        os.replace(tmp, path)


def disabled_cache() -> ResponseCache:
    """A cache that stores nothing (for --no-cache and for tests that must hit the wire)."""
    return ResponseCache(Path(os.devnull), enabled=False)
