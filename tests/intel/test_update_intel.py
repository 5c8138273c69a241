"""`acctsec intel update` against a local HTTP server serving ../shared/data."""

from __future__ import annotations

import functools
import http.server
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from acctsec.chain.report import attribute_address
from acctsec.config import Settings
from acctsec.errors import DependencyError
from acctsec.intel.update import current_snapshot, snapshots, update

SHARED_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


@pytest.fixture(scope="module")
def server():
    if not (SHARED_DATA / "tagpacks").exists():
        pytest.skip(f"{SHARED_DATA} absent: ../shared is only beside a developer checkout")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler,
                                directory=str(SHARED_DATA))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def _urls(base: str) -> dict[str, str]:
    return {"tagpacks": f"{base}/tagpacks/packs/", "ofac": f"{base}/ofac/",
            "forta": f"{base}/forta/"}


def test_update_downloads_dated_snapshots_that_attribution_reads(server, tmp_path: Path) -> None:
    times = iter([datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=d) for d in range(3)])
    with httpx.Client() as client:
        for _ in range(3):
            result = update(tmp_path, client, _urls(server), keep=2, now=lambda: next(times))
    assert not result.failed and len(result.files) == 39
    assert [p.name for p in snapshots(tmp_path)] == ["20260102T000000Z", "20260103T000000Z"]
    assert current_snapshot(tmp_path) == result.snapshot
    assert (result.snapshot / "manifest.json").exists()
    settings = Settings(data_dir=tmp_path)
    hit = attribute_address(settings, "0x28c6c06298d514db089934071355e5743bf21d60", "ETH")
    assert hit and hit.category == "exchange" and str(result.snapshot) in hit.source


def test_update_with_every_source_failing_changes_nothing(tmp_path: Path) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(404))
    with httpx.Client(transport=transport) as client, pytest.raises(DependencyError):
        update(tmp_path, client, {}, sleep=lambda s: None)
    assert current_snapshot(tmp_path) is None


def test_an_html_error_page_is_not_taken_for_a_list(server, tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("ofac.yaml"):
            return httpx.Response(200, text="<html>rate limited</html>")
        return httpx.Response(503)

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(DependencyError):
            update(tmp_path, client, {}, sleep=lambda s: None)


def test_a_failed_download_keeps_the_lists_the_current_snapshot_had(server,
                                                                   tmp_path: Path) -> None:
    """The OFAC files missing for a day (404): the new snapshot keeps yesterday's copies,
    and an OFAC-listed address is still named as sanctioned. It was dropped."""
    days = iter([datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)])
    with httpx.Client() as client:
        first = update(tmp_path, client, _urls(server), now=lambda: next(days))
    ofac = sorted(rel for rel in first.files if rel.startswith("ofac/"))
    assert ofac
    urls = {**_urls(server), "ofac": f"{server}/no-such-folder/"}
    with httpx.Client() as client:
        second = update(tmp_path, client, urls, now=lambda: next(days), sleep=lambda s: None)
    assert sorted(second.failed) == ofac
    assert second.carried == {rel: first.snapshot.name for rel in ofac}
    assert current_snapshot(tmp_path) == second.snapshot
    for rel in ofac:
        assert (second.snapshot / rel).read_bytes() == (first.snapshot / rel).read_bytes()
    import json

    manifest = json.loads((second.snapshot / "manifest.json").read_text("utf-8"))
    assert all(manifest["files"][rel]["carried_from"] == first.snapshot.name for rel in ofac)
    listed = (SHARED_DATA / "ofac" / "sanctioned_addresses_ETH.txt").read_text().split()[0]
    hit = attribute_address(Settings(data_dir=tmp_path), listed, "ETH")
    assert hit is not None and "ofac" in hit.source.lower() and str(second.snapshot) in hit.source
