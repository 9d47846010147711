"""Server CPU per cold run: the process CPU time (user + system) the server spends, divided by runs.

Measured from outside, on a server with one worker (``blueprint serve --workers 1``: one process does
all the work, so its CPU time is the whole cost), with the stand-ins in the benchmark's process:

    python -m bench.cpu                    # 20 distinct cold runs per engine, one-page and multi-page site
    python -m bench.cpu --runs 40 --site one --engine catalog

Each run is a distinct seller address (its own run key: nothing is shared from a previous run's
caches), sent sequentially with ``cache: refresh`` and ``providers: []`` (Apollo/Clearbit would add
the provider clients' work, which the figure does not grade). The **one-page site** is the fixture's
homepage with its internal links pointed at itself (no sub-page is read); the **multi-page site** is
the fixture site (the homepage and six sub-pages).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from bench.measure import ENRICH
from bench.world import SITE_DIR, Latencies, SlowSite, World, stub_world

__all__ = ["CpuPerRun", "one_page_site", "server_cpu_per_run"]

log = logging.getLogger("bench")

_INTERNAL_LINK = re.compile(r'href="/[^"]*"')


@dataclass(frozen=True)
class CpuPerRun:
    engine: str
    site: str  # "one-page" | "multi-page"
    runs: int
    cpu_ms: float  # server process CPU time over the runs
    wall_ms: float

    @property
    def per_run_ms(self) -> float:
        return self.cpu_ms / self.runs


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of the server process and its children (uvicorn's workers, if any)."""
    root = psutil.Process(pid)
    total = 0.0
    for proc in (root, *root.children(recursive=True)):
        with contextlib.suppress(psutil.NoSuchProcess):
            times = proc.cpu_times()
            total += times.user + times.system
    return total


def server_cpu_per_run(
    world: World, client: httpx.Client, site_url: str, engine: str, runs: int, *, site: str, tag: str
) -> CpuPerRun:
    """``runs`` sequential distinct cold runs against ``site_url``; the server's CPU time per run."""
    url = world.server.url + ENRICH
    options = {"engine": engine, "cache": "refresh", "providers": []}

    def body(i: int) -> dict[str, object]:
        return {"website": f"{site_url}/?cpu={tag}-{engine}-{i}", "options": options}

    for i in range(3):  # warm: the first runs of an engine pay lazy imports and first-use caches
        client.post(url, json=body(-1 - i)).raise_for_status()
    before = _cpu_seconds(world.server.pid)
    started = time.perf_counter()
    for i in range(runs):
        client.post(url, json=body(i)).raise_for_status()
    wall = time.perf_counter() - started
    cpu = _cpu_seconds(world.server.pid) - before
    return CpuPerRun(engine, site, runs, cpu * 1000, wall * 1000)


@contextlib.contextmanager
def one_page_site(latency: float) -> Iterator[SlowSite]:
    """The fixture homepage alone: every internal link points at the homepage itself."""
    with tempfile.TemporaryDirectory(prefix="bp-one-page-") as folder:
        html = (SITE_DIR / "index.html").read_text(encoding="utf-8")
        (Path(folder) / "index.html").write_text(_INTERNAL_LINK.sub('href="/"', html), encoding="utf-8")
        with SlowSite(Path(folder), latency) as site:
            yield site


def measure(latencies: Latencies, runs: int, engines: list[str], sites: list[str]) -> list[CpuPerRun]:
    """Every (site, engine) pair against one single-worker server."""
    out: list[CpuPerRun] = []
    with stub_world(latencies, workers=1) as world, one_page_site(latencies.site) as single, \
            httpx.Client(timeout=300) as client:
        addresses = {"one-page": single.url, "multi-page": world.site.url}
        tag = psutil.Process().create_time()
        for site in sites:
            for engine in engines:
                log.info("server CPU per cold run: %s engine, %s site, %d runs", engine, site, runs)
                out.append(server_cpu_per_run(world, client, addresses[site], engine, runs, site=site,
                                              tag=f"{tag:.0f}"))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Server CPU per cold run (one worker).")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--engine", choices=["catalog", "llm", "both"], default="both")
    parser.add_argument("--site", choices=["one", "multi", "both"], default="both")
    parser.add_argument("--site-latency-ms", type=float, default=50)
    parser.add_argument("--llm-latency-ms", type=float, default=400)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="bench: %(message)s", stream=sys.stderr)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    engines = ["catalog", "llm"] if args.engine == "both" else [args.engine]
    sites = {"one": ["one-page"], "multi": ["multi-page"], "both": ["one-page", "multi-page"]}[args.site]
    latencies = Latencies(site=args.site_latency_ms / 1000, llm=args.llm_latency_ms / 1000, provider=0.05)
    for row in measure(latencies, args.runs, engines, sites):
        sys.stdout.write(f"{row.engine:8} {row.site:11} {row.per_run_ms:6.1f} ms CPU/run "
                         f"({row.runs} runs, {row.wall_ms / row.runs:.0f} ms wall/run)\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
