"""Ctrl-C and a scheduler's stop while a command runs, told apart from other failures."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass
class StopRequest:
    """Whether SIGINT or SIGTERM arrived while the run was on."""

    asked: bool = False


@contextlib.contextmanager
def stop_signals() -> Iterator[StopRequest]:
    """Ctrl-C (SIGINT) and a scheduler's stop (SIGTERM: systemd, Kubernetes, `kill`) both
    raise KeyboardInterrupt, and are remembered: DuckDB turns a KeyboardInterrupt that
    arrives inside a query into an error of its own ("Query interrupted"), which must
    still end the run as an interruption rather than as a failure."""
    request = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield request  # signals reach the main thread only
        return

    def stop(signum: int, frame: object) -> None:
        request.asked = True
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield request
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
