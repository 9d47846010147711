"""Admission control against a real uvicorn: a burst of 1,000 cold requests cannot starve /healthz.

The burst comes from a child process (:mod:`tests.support.burst`) so its own work does not hold this
process's interpreter lock; /healthz is probed from here every 20 ms while it lasts. The seller's site
is slow (each page waits), so admitted runs hold their slot for a while, as real runs do.
"""

from __future__ import annotations

import dataclasses
import json
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from graph.settings import get_settings
from server.app import create_app
from tests.support.burst import start_burst
from tests.support.http_helpers import ENRICH, tablely_home
from tests.support.site_server import SiteServer, html, serve_site
from tests.support.uvicorn_server import UvicornThread

pytestmark = pytest.mark.slow
BURST = 1_000
HEALTHZ_LIMIT_S = 0.100


@pytest.fixture
def slow_site(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, offline_env: None) -> Iterator[SiteServer]:
    monkeypatch.setenv("BLUEPRINT_CACHE_DIR", str(tmp_path / "cache"))
    get_settings.cache_clear()
    with serve_site({"/": dataclasses.replace(html(tablely_home()), wait=0.5)}) as site:
        yield site


def _probe_healthz(url: str, until: float) -> list[float]:
    latencies: list[float] = []
    with httpx.Client(base_url=url, timeout=30) as client:
        while time.monotonic() < until:
            started = time.perf_counter()
            assert client.get("/healthz").status_code == 200
            latencies.append(time.perf_counter() - started)
            time.sleep(0.02)
    return latencies


def test_healthz_answers_fast_while_1000_cold_requests_arrive(slow_site: SiteServer) -> None:
    settings = get_settings()
    admitted = settings.max_runs + settings.run_queue
    with UvicornThread(create_app(), backlog=2048) as server:
        bodies = [{"website": slow_site.url, "icp": {"notes": f"burst variant {i}"}} for i in range(BURST)]
        burst = start_burst({"host": "127.0.0.1", "port": server.port, "path": ENRICH, "bodies": bodies,
                             "timeout_s": 25})
        latencies = sorted(_probe_healthz(server.url, until=time.monotonic() + 6))
        out, _ = burst.communicate(timeout=60)
    result = json.loads(out)
    worst, p95 = latencies[-1], latencies[int(len(latencies) * 0.95)]
    p99 = latencies[int(len(latencies) * 0.99)]
    print(f"\n/healthz under {BURST} cold requests: worst {worst * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
          f"p95 {p95 * 1000:.0f} ms, median {statistics.median(latencies) * 1000:.1f} ms over {len(latencies)} "
          f"probes; answers {result['statuses']} in {result['wall_ms']:.0f} ms")
    # every request got an answer, none timed out: the admitted ones a blueprint, the rest a 503 at once
    assert result["statuses"] == {"200": admitted, "503": BURST - admitted}, result
    assert len(result["retry_after"]) == BURST - admitted and min(result["retry_after"]) >= 1
    # On a shared machine (2 cores, several test suites at once) the scheduler alone adds hundreds of
    # milliseconds to a few probes (worst 93-134 ms at load 4, 300-550 ms at load 9), so the bound is on
    # the 95th percentile, and the worst only has to be far from the 1.7-5.3 s measured before admission
    # control (when 999 of the 1,000 requests also timed out).
    assert p95 < HEALTHZ_LIMIT_S, f"/healthz p95 {p95 * 1000:.0f} ms"
    assert worst < 10 * HEALTHZ_LIMIT_S, f"/healthz worst {worst * 1000:.0f} ms"
