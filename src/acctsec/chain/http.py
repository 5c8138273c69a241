"""HTTP for chain backends: rate limit, retries with back-off, cache, secrets kept out."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from acctsec.chain.cache import ResponseCache, disabled_cache
from acctsec.chain.interface import BackendUnavailable, ChainError

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


class RetryableAnswer(Exception):
    """A well-formed answer that says "try again later" (e.g. a rate-limit envelope)."""


class NotFoundAnswer(Exception):
    """The backend answered that the thing asked for does not exist (HTTP 404)."""


@dataclass
class Fetcher:
    """GETs and POSTs JSON through one httpx.Client with the rules every backend shares.

    `secret_params` and `secret_headers` are sent but never enter cache keys,
    messages or exceptions. `body_statuses` are HTTP error statuses whose JSON
    body is handed to `check` instead of failing at once (TronGrid explains a
    refusal, including its rate limit, in the body).
    """

    client: httpx.Client
    name: str
    cache: ResponseCache = field(default_factory=disabled_cache)
    requests_per_second: float = 4.0
    retries: int = 4
    backoff_s: float = 0.5
    max_backoff_s: float = 20.0
    secret_params: Mapping[str, str] = field(default_factory=dict)
    secret_headers: Mapping[str, str] = field(default_factory=dict)
    body_statuses: frozenset[int] = frozenset()
    sleep: Callable[[float], None] = time.sleep
    calls: int = 0
    _last: float = 0.0

    def scrub(self, text: str) -> str:
        """The text with every secret this fetcher sends replaced by ***."""
        for secret in (*self.secret_params.values(), *self.secret_headers.values()):
            if secret:
                text = text.replace(secret, "***")
        return text

    def get_json(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        *,
        max_age_s: float | None = None,
        check: Callable[[Any], None] | None = None,
        store: Callable[[Any], bool] | None = None,
    ) -> Any:
        """The decoded JSON answer; `check` raises RetryableAnswer for soft failures,
        `store` decides whether an answer may be cached."""
        return self._cached("GET", url, dict(params or {}), None, max_age_s, check, store)

    def post_json(
        self,
        url: str,
        body: Mapping[str, Any],
        *,
        max_age_s: float | None = None,
        check: Callable[[Any], None] | None = None,
        store: Callable[[Any], bool] | None = None,
    ) -> Any:
        """Like get_json; `store` decides whether an answer may be cached."""
        return self._cached("POST", url, {}, dict(body), max_age_s, check, store)

    def _cached(
        self,
        method: str,
        url: str,
        params: dict[str, Any],
        body: dict[str, Any] | None,
        max_age_s: float | None,
        check: Callable[[Any], None] | None,
        store: Callable[[Any], bool] | None = None,
    ) -> Any:
        key = self.cache.key(self.name, method, url, params, body)
        cached = self.cache.get(key, max_age_s=max_age_s)
        if cached is not None:
            return cached
        value = self._with_retries(method, url, params, body, check)
        if store is None or store(value):
            self.cache.put(key, value)
        return value

    def _with_retries(
        self,
        method: str,
        url: str,
        params: dict[str, Any],
        body: dict[str, Any] | None,
        check: Callable[[Any], None] | None,
    ) -> Any:
        why = "no attempt"
        for attempt in range(self.retries + 1):
            if attempt:
                self.sleep(min(self.backoff_s * 2 ** (attempt - 1), self.max_backoff_s))
            try:
                value = self._once(method, url, params, body)
                if check is not None:
                    check(value)
                return value
            except RetryableAnswer as exc:
                why = str(exc)
            except _Retry as exc:
                why = exc.why
                if exc.wait:
                    self.sleep(min(exc.wait, self.max_backoff_s))
        host = urlsplit(url).netloc or url
        raise BackendUnavailable(
            f"{self.name} at {host} unreachable after {self.retries + 1} attempts: {why}"
        )

    def _throttle(self) -> None:
        gap = 1.0 / self.requests_per_second if self.requests_per_second > 0 else 0.0
        wait = self._last + gap - time.monotonic()
        if wait > 0:
            self.sleep(wait)
        self._last = time.monotonic()

    def _once(
        self, method: str, url: str, params: dict[str, Any], body: dict[str, Any] | None
    ) -> Any:
        self._throttle()
        self.calls += 1
        try:
            response = self.client.request(
                method, url, params={**params, **self.secret_params} or None,
                json=body, headers=dict(self.secret_headers) or None,
            )
        except httpx.TimeoutException:
            raise _Retry("timed out") from None
        except httpx.TransportError as exc:
            raise _Retry(f"connection failed ({type(exc).__name__})") from None
        return self._decode(response)

    def _decode(self, response: httpx.Response) -> Any:
        status = response.status_code
        if status in self.body_statuses:
            try:
                return response.json()
            except ValueError:
                pass
        if status in RETRY_STATUS:
            raise _Retry(f"HTTP {status}", _retry_after(response))
        if status == 404:
            raise NotFoundAnswer(f"{self.name}: not found")
        if status >= 400:
            raise ChainError(f"{self.name} answered HTTP {status}")
        try:
            return response.json()
        except ValueError:
            text = response.text.strip()
            if text and not text.startswith(("{", "[")):
                return text  # Esplora answers some errors and ids as plain text
            raise _Retry("answer is not JSON") from None


class _Retry(Exception):
    def __init__(self, why: str, wait: float | None = None) -> None:
        super().__init__(why)
        self.why = why
        self.wait = wait


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value else None
    except ValueError:
        return None
