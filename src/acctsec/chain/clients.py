"""Builds the ChainClient for a network from Settings: endpoints, keys, cache, rate limit."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from acctsec.chain.cache import ResponseCache
from acctsec.chain.http import Fetcher
from acctsec.chain.interface import BackendNotConfigured, ChainClient, Network, network
from acctsec.config import Settings

if TYPE_CHECKING:
    import httpx


def response_cache(settings: Settings) -> ResponseCache:
    return ResponseCache(settings.resolved_cache_dir(), enabled=not settings.no_cache)


def http_client(settings: Settings) -> httpx.Client:
    import httpx

    return httpx.Client(
        timeout=settings.http_timeout_s, headers={"User-Agent": "acctsec-trace"},
        follow_redirects=True,
    )


def fetcher(settings: Settings, client: httpx.Client, name: str, *,
            secret_params: dict[str, str] | None = None,
            secret_headers: dict[str, str] | None = None,
            cache: ResponseCache | None = None) -> Fetcher:
    return Fetcher(
        client=client, name=name, cache=cache or response_cache(settings),
        requests_per_second=settings.requests_per_second,
        secret_params=secret_params or {}, secret_headers=secret_headers or {},
    )


def make_client(settings: Settings, code: str, client: httpx.Client, *,
                snapshot: Path | None = None) -> ChainClient:
    """The client for one network; BackendNotConfigured says what setting is missing."""
    net = network(code)
    if snapshot is not None:
        import os

        from acctsec.cachefiles import source_id
        from acctsec.chain.snapshot import SnapshotClient

        index_dir = None
        if snapshot.is_dir() and not os.access(snapshot, os.W_OK):
            # A read-only export (a shared mount): its index goes to the cache dir instead.
            index_dir = (settings.resolved_cache_dir() / "snapshot-index"
                         / source_id(str(snapshot.resolve())))
        return SnapshotClient(snapshot, net, index_dir=index_dir)
    if settings.offline:
        raise BackendNotConfigured(
            f"{net.code}: acctsec runs offline (set offline = false or pass --online, "
            "or trace over a snapshot with --snapshot DIR)"
        )
    cache = response_cache(settings)
    if net.family == "evm":
        return _evm(settings, net, client, cache)
    if net.family == "btc":
        return _esplora(settings, net, client, cache)
    if net.family == "tron":
        return _trongrid(settings, net, client, cache)
    raise BackendNotConfigured(f"{net.code}: no {net.family} backend in this version of acctsec")


def _esplora(settings: Settings, net: Network, client: httpx.Client,
             cache: ResponseCache) -> ChainClient:
    from acctsec.chain.esplora import EsploraClient

    if not settings.esplora_url:
        raise BackendNotConfigured(f"{net.code}: no Esplora endpoint configured (esplora_url)")
    return EsploraClient(fetcher(settings, client, "esplora", cache=cache),
                         settings.esplora_url, net)


def _trongrid(settings: Settings, net: Network, client: httpx.Client,
              cache: ResponseCache) -> ChainClient:
    from acctsec.chain.tron import TronGridClient

    if not settings.trongrid_url:
        raise BackendNotConfigured(f"{net.code}: no TronGrid endpoint configured (trongrid_url)")
    key = settings.trongrid_api_key
    headers = {"TRON-PRO-API-KEY": key} if key else {}
    tron = fetcher(settings, client, "trongrid", secret_headers=headers, cache=cache)
    tron.body_statuses = frozenset({400, 403})
    return TronGridClient(tron, settings.trongrid_url, net)


def _evm(settings: Settings, net: Network, client: httpx.Client,
         cache: ResponseCache) -> ChainClient:
    from acctsec.chain.etherscan import EtherscanClient
    from acctsec.chain.evm import EvmClient, httpx_web3

    url = settings.rpc_urls.get(net.code)
    if not url:
        raise BackendNotConfigured(
            f"{net.code}: no JSON-RPC endpoint configured (set rpc_urls.{net.code} in the config)"
        )
    w3 = httpx_web3(fetcher(settings, client, f"{net.code} JSON-RPC", cache=cache), url)
    explorer = None
    key = settings.etherscan_api_key
    if key or "etherscan.io" not in settings.etherscan_url:
        params = {"apikey": key} if key else {}
        explorer = EtherscanClient(
            fetcher(settings, client, "etherscan", secret_params=params, cache=cache),
            settings.etherscan_url, net,
        )
    return EvmClient(w3, net, explorer=explorer)
