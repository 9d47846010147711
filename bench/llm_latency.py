"""LLM engine latency and cost against a loopback OpenAI-compatible stand-in with a fixed latency.

    python bench/llm_latency.py [--latency 0.4] [--concurrency 50] [--repeats 3]

Measures, with the seller's site on a loopback server and every LLM call taking ``--latency`` seconds:

* cold-run wall time (no run or page cache) against the floor ``site read + 2 x latency`` — after the
  site is read the engine makes two dependent rounds (analysis, then the three sections in parallel);
  goal <= 1.10x;
* LLM calls and prompt tokens per blueprint (goals <= 6 and <= 15,000);
* ``--concurrency`` distinct cold runs at once through one runner (as a server would) against one
  run; goal <= 2x.

Prints a small table. A script, not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from graph.cache import RunCache
from graph.resources import open_resources, site_limits
from graph.run import BlueprintRunner
from graph.schemas import Blueprint, EnrichmentRequest
from graph.settings import get_settings
from tests.support.http_helpers import TABLELY
from tests.support.openai_standin import OpenAIStandIn
from tests.support.site_server import serve_site
from tools.website import read_site


def _request(url: str, engine: str = "llm") -> EnrichmentRequest:
    return EnrichmentRequest.model_validate({"website": url, "options": {"engine": engine, "cache": "bypass"}})


async def _site_read(url: str) -> float:
    settings = get_settings()
    async with open_resources(settings) as resources:
        started = time.perf_counter()
        await read_site(url, client=resources.site_client, limits=site_limits(settings))
        return time.perf_counter() - started


async def _one(runner: BlueprintRunner, url: str, engine: str = "llm") -> tuple[float, Blueprint]:
    started = time.perf_counter()
    blueprint, _ = await runner.generate(_request(url, engine))
    return time.perf_counter() - started, blueprint


def _serve(latency: float, urls: Any, stop: Any) -> None:
    """The seller's site and the LLM stand-in, in their own process: like real servers, their CPU is
    not the engine's."""
    with serve_site(directory=TABLELY) as site, OpenAIStandIn(latency=latency) as llm:
        urls.put((site.url, llm.base_url))
        stop.wait()


async def measure(latency: float, concurrency: int, repeats: int) -> list[tuple[str, str, str]]:
    ctx = multiprocessing.get_context("spawn")
    urls, stop = ctx.Queue(), ctx.Event()
    servers = ctx.Process(target=_serve, args=(latency, urls, stop), daemon=True)
    servers.start()
    site_url, llm_url = urls.get(timeout=30)
    os.environ["OPENAI_BASE_URL"] = llm_url
    get_settings.cache_clear()
    settings = get_settings()
    cache = RunCache(settings.cache_dir, ttl_s=settings.cache_ttl_s, page_ttl_s=settings.page_cache_ttl_s)
    try:
        # one Resources for every run, as the server's lifespan does (shared clients and pools)
        async with open_resources(settings) as resources:
            runner = BlueprintRunner(settings=settings, cache=cache, resources=resources)
            await _one(runner, site_url + "/?warmup=1")  # imports, knowledge base, connection pools
            reads = [await _site_read(site_url + f"/?read={i}") for i in range(repeats)]
            singles = [await _one(runner, site_url + f"/?single={i}") for i in range(repeats)]
            started = time.perf_counter()
            many = await asyncio.gather(*(_one(runner, site_url + f"/?many={i}") for i in range(concurrency)))
            burst = time.perf_counter() - started
            # the same burst with the catalog engine: the CPU floor the LLM engine stands on
            catalog_one = statistics.median([(await _one(runner, site_url + f"/?c={i}", "catalog"))[0]
                                             for i in range(repeats)])
            started = time.perf_counter()
            await asyncio.gather(*(_one(runner, site_url + f"/?cm={i}", "catalog") for i in range(concurrency)))
            catalog_burst = time.perf_counter() - started
            await runner.aclose()
    finally:
        cache.close()
        stop.set()
        servers.join(timeout=10)
    read = statistics.median(reads)
    single = statistics.median(t for t, _ in singles)
    floor = read + 2 * latency
    usage = [bp.meta.llm for _, bp in [*singles, *many]]
    fallbacks = sum(1 for _, bp in [*singles, *many] for w in bp.warnings if w.code == "llm_fallback")
    return [
        ("site read (median)", f"{read * 1000:.0f} ms", ""),
        ("floor = site read + 2 x latency", f"{floor * 1000:.0f} ms", ""),
        ("cold run (median)", f"{single * 1000:.0f} ms", ""),
        ("cold run / floor", f"{single / floor:.2f}x", "goal <= 1.10x"),
        ("LLM calls per blueprint (max)", str(max(u.calls for u in usage)), "goal <= 6"),
        ("prompt tokens per blueprint (max)", str(max(u.prompt_tokens for u in usage)), "goal <= 15,000"),
        ("completion tokens per blueprint (max)", str(max(u.completion_tokens for u in usage)), ""),
        (f"{concurrency} concurrent cold runs", f"{burst * 1000:.0f} ms", ""),
        (f"{concurrency} concurrent / one run", f"{burst / single:.2f}x", "goal <= 2x"),
        ("llm_fallback warnings", str(fallbacks), "expect 0"),
        ("catalog engine: one cold run", f"{catalog_one * 1000:.0f} ms", "no LLM: CPU-bound"),
        (f"catalog engine: {concurrency} concurrent", f"{catalog_burst * 1000:.0f} ms",
         f"{catalog_burst / catalog_one:.1f}x one run"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.4)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("BLUEPRINT_ALLOW_PRIVATE_HOSTS", "127.0.0.1")
    os.environ.setdefault("BLUEPRINT_CACHE_DIR", tempfile.mkdtemp(prefix="bp-bench-"))
    os.environ.setdefault("OPENAI_API_KEY", "sk-bench-standin")
    rows = asyncio.run(measure(args.latency, args.concurrency, args.repeats))
    width = max(len(r[0]) for r in rows)
    print(f"LLM engine, stand-in latency {args.latency:.2f} s per call")
    for name, value, goal in rows:
        print(f"  {name:<{width}}  {value:>10}  {goal}")


if __name__ == "__main__":
    main()
