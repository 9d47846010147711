"""The measurements, each against a running :class:`bench.world.World`. Every function returns plain
numbers (milliseconds, counts); :mod:`bench.report` turns them into figures with goals."""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import psutil

from bench.world import SITE_DIR, ServerProcess, World, blueprint_command
from tests.support.site_server import serve_site

__all__ = [
    "ENRICH",
    "RssSampler",
    "cache_hit",
    "cli_cold_start",
    "cold_runs",
    "concurrent_cold",
    "first_sse_event",
    "identical_requests",
    "quantiles",
]

ENRICH = "/v1/campaigns/enrichment"


def quantiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p99 (inclusive method: defined for any sample size ≥ 2)."""
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return statistics.median(samples), cuts[98]


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000


def _token() -> str:
    return uuid.uuid4().hex[:10]


class RssSampler:
    """Peak resident memory of a process (and its children), sampled in a background thread: the peak of
    their sum (``peak``) and the peak of each process (``peaks``, by pid)."""

    def __init__(self, pid: int, every_s: float = 0.02) -> None:
        self.process = psutil.Process(pid)
        self.every_s = every_s
        self.peak = 0
        self.peaks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def per_process(self) -> dict[int, int]:
        """RSS by pid: the process and its children (uvicorn's workers, the multiprocessing helper)."""
        out: dict[int, int] = {}
        for proc in [self.process, *self.process.children(recursive=True)]:
            try:
                out[proc.pid] = proc.memory_info().rss
            except psutil.NoSuchProcess:  # a worker that just exited holds no memory
                continue
        return out

    def current(self) -> int:
        return sum(self.per_process().values())

    def _sample(self) -> None:
        rss = self.per_process()
        self.peak = max(self.peak, sum(rss.values()))
        for pid, value in rss.items():
            self.peaks[pid] = max(self.peaks.get(pid, 0), value)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._sample()
            except psutil.NoSuchProcess:
                return
            self._stop.wait(self.every_s)

    @property
    def worker_peak(self) -> int:
        """The largest peak of one server process (with several workers, the busiest worker's)."""
        return max(self.peaks.values(), default=0)

    def reset(self) -> None:
        self.peak, self.peaks = 0, {}
        self._sample()

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2)


# ───────────────────────────── cold runs ─────────────────────────────


@dataclass
class ColdRuns:
    engine: str
    wall_ms: list[float]
    llm_rounds: int  # sequential LLM calls per run (analysis, its tool round, the sections)
    provider_rounds: int  # provider calls on the critical path (the analysis' tool round)
    meta: dict[str, Any] = field(default_factory=dict)


def cold_runs(
    world: World, client: httpx.Client, engine: str, runs: int, *, providers: list[str] | None = None
) -> ColdRuns:
    """``runs`` sequential uncached runs (``cache: refresh``: the site is read again, the graph runs).
    ``providers=[]`` asks for a run without Apollo/Clearbit."""
    url = world.server.url + ENRICH
    options: dict[str, Any] = {"engine": engine, "cache": "refresh"}
    if providers is not None:
        options["providers"] = providers
    body = {"website": world.site.url + f"/?cold={_token()}", "options": options}
    client.post(url, json=body).raise_for_status()  # first run of an engine pays its imports: not measured
    walls: list[float] = []
    analysis_calls = provider_calls = 0
    meta: dict[str, Any] = {}
    for _ in range(runs):
        calls_before, providers_before = world.llm.calls("analyze_company"), len(world.providers.requests)
        started = time.perf_counter()
        response = client.post(url, json=body)
        walls.append(_ms(started))
        response.raise_for_status()
        meta = response.json()["meta"]
        analysis_calls = world.llm.calls("analyze_company") - calls_before
        provider_calls = len(world.providers.requests) - providers_before
    llm_rounds = analysis_calls + 1 if engine == "llm" else 0
    return ColdRuns(engine, walls, llm_rounds, 1 if engine == "llm" and provider_calls else 0, meta)


def floor_ms(world: World, runs: ColdRuns) -> float:
    """The longest chain of upstream latencies a run must wait for: the homepage, one parallel round of
    sub-pages, then each sequential LLM call (and the provider lookups of a tool round)."""
    lat = world.latencies
    return 1000 * (2 * lat.site + runs.llm_rounds * lat.llm + runs.provider_rounds * lat.provider)


# ───────────────────────────── cache hit and first event ─────────────────────────────


def cache_hit(world: World, bare: ServerProcess, client: httpx.Client, rounds: int) -> dict[str, list[float]]:
    """The same JSON through the real server (a run-cache hit) and a bare endpoint, interleaved."""
    url = world.server.url + ENRICH
    body = {"website": world.site.url + "/?hit=1", "options": {"engine": "catalog"}}
    client.post(url, json=body).raise_for_status()  # the miss that fills the cache
    out: dict[str, list[float]] = {"ours": [], "bare": []}
    for i in range(rounds + 20):  # the first 20 of each warm both paths
        started = time.perf_counter()
        response = client.post(url, json=body)
        ours = _ms(started)
        assert response.headers.get("x-cache") == "HIT", "the cache-hit request was not a hit"
        started = time.perf_counter()
        client.post(bare.url + "/bare", json=body)
        if i >= 20:
            out["ours"].append(ours)
            out["bare"].append(_ms(started))
    return out


def _first_data(client: httpx.Client, url: str, body: Mapping[str, Any]) -> float:
    started = time.perf_counter()
    with client.stream("POST", url, json=body, headers={"accept": "text/event-stream"}) as response:
        for line in response.iter_lines():
            if line.startswith("data:"):
                return _ms(started)  # leaving closes the connection: the server cancels the run
    raise RuntimeError(f"no SSE event from {url}")


def first_sse_event(world: World, bare: ServerProcess, rounds: int) -> dict[str, list[float]]:
    """Time to ``run_started`` of a fresh run (``cache: bypass``) vs a bare SSE endpoint's first event."""
    body = {"website": world.site.url, "options": {"engine": "catalog", "cache": "bypass"}}
    out: dict[str, list[float]] = {"ours": [], "bare": []}
    with httpx.Client(timeout=30) as client:
        for i in range(rounds + 5):
            ours = _first_data(client, world.server.url + ENRICH, body)
            theirs = _first_data(client, bare.url + "/bare-sse", body)
            if i >= 5:
                out["ours"].append(ours)
                out["bare"].append(theirs)
    time.sleep(0.2)  # let the cancelled runs wind down before the next measurement
    return out


# ───────────────────────────── concurrency ─────────────────────────────


@dataclass
class Burst:
    wall_ms: float
    statuses: list[int]
    homepage_hits: int = 0

    @property
    def errors(self) -> int:
        return sum(1 for s in self.statuses if s != 200)


async def _burst(url: str, bodies: list[dict[str, Any]]) -> Burst:
    limits = httpx.Limits(max_connections=len(bodies) + 10, max_keepalive_connections=len(bodies) + 10)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:

        async def one(body: dict[str, Any]) -> int:
            try:
                return (await client.post(url, json=body)).status_code
            except httpx.HTTPError:
                return 0  # a transport failure counts as an error

        started = time.perf_counter()
        statuses = await asyncio.gather(*(one(b) for b in bodies))
        return Burst(_ms(started), list(statuses))


def concurrent_cold(world: World, count: int) -> Burst:
    """``count`` distinct uncached llm runs at once, each against its own site address (its own run key).

    Without providers: with Apollo configured, its free plan's 50 calls a minute (which the server's
    shared limiter honours, as it should) would pace the burst, not the server."""
    tag = _token()
    options = {"engine": "llm", "cache": "refresh", "providers": []}
    sites = world.site.mirrors(count)  # distinct runs are distinct sellers: each its own site address
    bodies = [{"website": f"{site}/?burst={tag}", "options": options} for site in sites]
    return asyncio.run(_burst(world.server.url + ENRICH, bodies))


def identical_requests(world: World, count: int) -> Burst:
    """``count`` identical requests at once on a key nobody ran yet; the site's homepage hits count the
    graph runs actually executed (every run reads the homepage exactly once)."""
    query = f"same={_token()}"
    body = {"website": world.site.url + f"/?{query}", "options": {"engine": "llm"}}
    burst = asyncio.run(_burst(world.server.url + ENRICH, [body] * count))
    burst.homepage_hits = world.site.homepage_hits(query)
    return burst


# ───────────────────────────── CLI cold start ─────────────────────────────


def _wall(argv: list[str], env: dict[str, str], cwd: str) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, check=False)
    wall = _ms(started)
    if done.returncode != 0:
        raise RuntimeError(f"{argv[:3]} failed ({done.returncode}): {done.stderr.decode()[-800:]}")
    return wall


def cli_cold_start(world: World, runs: int) -> dict[str, list[float]]:
    """``blueprint generate`` (``--no-cache``, catalog, a loopback site without added latency) vs importing
    fastapi and langgraph, each in a fresh interpreter, interleaved."""
    env = {k: v for k, v in world.env.items() if not k.startswith("OPENAI_")}
    cwd = str(world.workdir)
    with serve_site(directory=SITE_DIR) as site:  # an instant site: the figure is start-up, not upstream waits
        return _cli_walls(site.url, env, cwd, runs)


def _cli_walls(site_url: str, env: dict[str, str], cwd: str, runs: int) -> dict[str, list[float]]:
    generate = [*blueprint_command(), "generate", site_url, "--no-cache", "--engine", "catalog"]
    # ``langgraph`` alone is a namespace package (it imports next to nothing); ``langgraph.graph`` is
    # what running any graph needs, so it is measured too
    baseline = [sys.executable, "-c", "import fastapi, langgraph"]
    graph_baseline = [sys.executable, "-c", "import fastapi, langgraph.graph"]
    out: dict[str, list[float]] = {"generate": [], "imports": [], "imports_graph": []}
    _wall(graph_baseline, env, cwd)  # the first start also warms the OS file cache: not measured
    for _ in range(runs):
        out["generate"].append(_wall(generate, env, cwd))
        out["imports"].append(_wall(baseline, env, cwd))
        out["imports_graph"].append(_wall(graph_baseline, env, cwd))
    return out

