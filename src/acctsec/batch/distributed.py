"""Batch chunks on a Dask distributed cluster: shared figures broadcast once, chunks on workers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

from acctsec.batch.engine import Outcome, Plan, run_chunk
from acctsec.errors import DependencyError, InputError

IN_FLIGHT_PER_WORKER = 2


def local_workers(address: str) -> int | None:
    """The N of `local` (2) or `local:N`; None for a scheduler's address. InputError when
    `address` is neither, before the run has prepared anything."""
    expected = (f"--dask {address!r}: expected local:N (N at least 1) or a scheduler's "
                "address such as tcp://host:8786")
    if address == "local" or address.startswith("local:"):
        count = address[len("local:"):]
        try:
            workers = int(count or "2")
        except ValueError:
            raise InputError(expected) from None
        if workers < 1:
            raise InputError(expected)
        return workers
    host, colon, port = address.rpartition(":")
    if not colon or not port.isdigit() or not host.split("://")[-1]:
        raise InputError(expected)
    return None


def _client(address: str, stack: ExitStack) -> Any:
    """A client of the scheduler at `address`, or of a local cluster for `local:N`."""
    from distributed import Client, LocalCluster

    workers = local_workers(address)
    if workers is not None:
        cluster = stack.enter_context(LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None))
        return stack.enter_context(Client(cluster))
    try:
        return stack.enter_context(Client(address, timeout="5s"))
    except (OSError, TimeoutError) as exc:
        raise DependencyError(f"--dask {address}: cannot reach the scheduler ({exc})") from None


def dask_outcomes(address: str, plan: Plan, work: list[list[str]]) -> Iterator[list[Outcome]]:
    """Each chunk's outcomes as workers finish them; a few chunks in flight per worker."""
    from distributed import as_completed

    with ExitStack() as stack:
        client = _client(address, stack)
        shared = client.scatter(plan, broadcast=True)
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        queue = iter(work)
        first = [client.submit(run_chunk, shared, uids, pure=False)
                 for uids in _take(queue, workers * IN_FLIGHT_PER_WORKER)]
        running = as_completed(first)
        for future in running:
            yield future.result()
            for uids in _take(queue, 1):
                running.add(client.submit(run_chunk, shared, uids, pure=False))


def _take(queue: Iterator[list[str]], n: int) -> list[list[str]]:
    out = []
    for _ in range(n):
        item = next(queue, None)
        if item is None:
            break
        out.append(item)
    return out
