"""The benchmark: one command, one stub world on loopback, every figure as a ratio taken in the same run.

    python -m bench.run [--quick] [--out bench/results]

Starts the seller's site, an OpenAI-compatible LLM, Apollo and Clearbit stand-ins (each with a fixed
latency) and the real server (``blueprint serve``) as a subprocess, then measures cold runs against the
floor (the longest chain of upstream latencies a run must wait for), cache hits and the first SSE event
against bare FastAPI endpoints, concurrency, stampede protection, LLM cost and CLI start-up. Writes
``latest.md`` (a table: figure, goal, measured, pass/fail) and ``latest.json`` into ``--out``.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench import cpu, measure
from bench.report import Figure, machine, render_markdown, write_results
from bench.world import ROOT, Latencies, ServerProcess, World, free_port, stub_world

__all__ = ["Plan", "main"]

log = logging.getLogger("bench")


@dataclass(frozen=True)
class Plan:
    name: str
    latencies: Latencies
    cold_runs: int
    hit_rounds: int
    sse_rounds: int
    concurrent: int
    identical: int
    cli_runs: int
    latency_bound_only: bool = False  # only the figures whose ratio depends on the upstream latencies
    cpu_runs: int = 0  # distinct cold runs per (engine, site) for the server-CPU figures (0: not measured)


# Typical upstreams: the graded profile. A company website answers a server-side page fetch in about
# 250 ms (DNS, TLS, time to first byte, transfer); a chat completion returning ~700 tokens of JSON takes
# several seconds (2 s is the fast end); Apollo and Clearbit answer enrichment calls in ~300 ms.
TYPICAL = Plan("typical", Latencies(site=0.25, llm=2.0, provider=0.3), cold_runs=5, hit_rounds=300,
               sse_rounds=100, concurrent=100, identical=50, cli_runs=3, cpu_runs=40)
# Fast upstreams: a stress profile for the latency-bound figures — 50 ms pages and a 0.4 s LLM leave the
# server's own CPU nowhere to hide.
FAST = Plan("fast", Latencies(site=0.05, llm=0.4, provider=0.05), cold_runs=5, hit_rounds=0, sse_rounds=0,
            concurrent=100, identical=0, cli_runs=0, latency_bound_only=True)
QUICK = Plan("quick", Latencies(site=0.02, llm=0.05, provider=0.02), cold_runs=2, hit_rounds=40, sse_rounds=10,
             concurrent=10, identical=10, cli_runs=1, cpu_runs=2)
QUICK_FAST = Plan("quick-fast", Latencies(site=0.01, llm=0.02, provider=0.01), cold_runs=2, hit_rounds=0,
                  sse_rounds=0, concurrent=10, identical=0, cli_runs=0, latency_bound_only=True)
PROFILES = {"typical": TYPICAL, "fast": FAST}

COLD_GOAL, HIT_GOAL, SSE_GOAL, CONCURRENCY_GOAL, CLI_GOAL = 1.10, 1.5, 2.0, 2.0, 2.0
LLM_CALLS_GOAL, PROMPT_TOKENS_GOAL = 6, 15_000
CPU_GOALS_MS = {"catalog": 12.0, "llm": 20.0}  # server CPU per cold run on a one-page site
WORKER_RSS_GOAL_MIB = 300  # peak resident memory of one server process during the burst


def _ratio(value: float) -> str:
    return f"{value:.2f}×"


def bare_server(world: World, blueprint_json: bytes) -> ServerProcess:
    """The reference app in its own uvicorn process, configured like ``blueprint serve``."""
    body = world.workdir / "bare.json"
    body.write_bytes(blueprint_json)
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "bench.bare_app:create_app", "--factory", "--host", "127.0.0.1",
            "--port", str(port), "--log-level", "info", "--proxy-headers", "--no-access-log",
            "--workers", str(world.workers)]
    env = {**world.env, "BENCH_BARE_JSON": str(body), "PYTHONPATH": str(ROOT)}
    return ServerProcess(argv, env=env, cwd=world.workdir, log_path=world.workdir / "bare.log", port=port)


def cold_figures(world: World, client: httpx.Client, plan: Plan) -> tuple[list[Figure], dict[str, object]]:
    """Cold runs of both engines against the floor; also returns the llm run's ``meta``."""
    figures: list[Figure] = []
    llm_meta: dict[str, object] = {}
    for engine in ("catalog", "llm"):
        log.info("[%s] cold runs: %s engine", plan.name, engine)
        runs = measure.cold_runs(world, client, engine, plan.cold_runs)
        wall, floor = statistics.median(runs.wall_ms), measure.floor_ms(world, runs)
        if engine == "llm":
            llm_meta = runs.meta
        figures.append(Figure(
            f"cold_{engine}", f"Cold run, {engine} engine: wall / floor", f"≤ {COLD_GOAL:.2f}×",
            f"{_ratio(wall / floor)} ({wall:.0f} ms / {floor:.0f} ms)", wall / floor, wall / floor <= COLD_GOAL,
            {"wall_ms": runs.wall_ms, "floor_ms": floor, "llm_rounds": runs.llm_rounds,
             "provider_rounds": runs.provider_rounds},
        ))
    return figures, llm_meta


def hit_and_first_event_figures(world: World, client: httpx.Client, plan: Plan) -> list[Figure]:
    """Cache hits and the first SSE event against bare endpoints (same machine, same uvicorn set-up)."""
    hit_body = {"website": world.site.url + "/?hit=1", "options": {"engine": "catalog"}}
    client.post(world.server.url + measure.ENRICH, json=hit_body).raise_for_status()
    blueprint_json = client.post(world.server.url + measure.ENRICH, json=hit_body).content
    bare = bare_server(world, blueprint_json).start()
    try:
        log.info("[%s] cache hits: %d rounds", plan.name, plan.hit_rounds)
        hits = measure.cache_hit(world, bare, client, plan.hit_rounds)
        log.info("[%s] first SSE event: %d rounds", plan.name, plan.sse_rounds)
        sse = measure.first_sse_event(world, bare, plan.sse_rounds)
    finally:
        bare.stop()
    (o50, o99), (b50, b99) = measure.quantiles(hits["ours"]), measure.quantiles(hits["bare"])
    s50, sb50 = statistics.median(sse["ours"]), statistics.median(sse["bare"])
    size = f"{len(blueprint_json) / 1024:.0f} KiB"
    return [
        Figure("cache_hit_p50", f"Cache hit p50 vs bare FastAPI endpoint ({size} JSON)", f"≤ {HIT_GOAL}×",
               f"{_ratio(o50 / b50)} ({o50:.2f} ms / {b50:.2f} ms)", o50 / b50, o50 / b50 <= HIT_GOAL,
               {"ours_ms": hits["ours"], "bare_ms": hits["bare"]}),
        Figure("cache_hit_p99", "Cache hit p99 vs bare FastAPI endpoint", f"≤ {HIT_GOAL}×",
               f"{_ratio(o99 / b99)} ({o99:.2f} ms / {b99:.2f} ms)", o99 / b99, o99 / b99 <= HIT_GOAL),
        Figure("first_sse_p50", "First SSE event p50 vs bare SSE endpoint", f"≤ {SSE_GOAL}×",
               f"{_ratio(s50 / sb50)} ({s50:.2f} ms / {sb50:.2f} ms)", s50 / sb50, s50 / sb50 <= SSE_GOAL,
               {"ours_ms": sse["ours"], "bare_ms": sse["bare"]}),
    ]


def identical_figure(world: World, plan: Plan) -> Figure:
    log.info("[%s] %d identical concurrent requests", plan.name, plan.identical)
    same = measure.identical_requests(world, plan.identical)
    return Figure(
        "identical_graph_runs", f"{plan.identical} identical concurrent requests: graph runs executed", "1",
        f"{same.homepage_hits} ({same.errors} errors)", same.homepage_hits,
        same.homepage_hits == 1 and same.errors == 0, {"statuses": same.statuses},
    )


def concurrency_figures(world: World, client: httpx.Client, plan: Plan, rss: measure.RssSampler) -> list[Figure]:
    """Distinct cold llm runs at once against one such run alone; errors; the server's peak memory."""
    log.info("[%s] %d distinct concurrent cold runs (llm, no providers)", plan.name, plan.concurrent)
    alone = measure.cold_runs(world, client, "llm", plan.cold_runs, providers=[])
    one_llm_run = statistics.median(alone.wall_ms)  # the same kind of run, by itself
    rss.reset()
    burst = measure.concurrent_cold(world, plan.concurrent)
    ratio = burst.wall_ms / one_llm_run
    return [
        Figure("concurrent_wall",
               f"{plan.concurrent} concurrent distinct cold runs (llm, no providers): wall / one run",
               f"≤ {CONCURRENCY_GOAL}×", f"{_ratio(ratio)} ({burst.wall_ms:.0f} ms / {one_llm_run:.0f} ms)",
               ratio, ratio <= CONCURRENCY_GOAL),
        Figure("concurrent_errors", f"{plan.concurrent} concurrent distinct cold runs: errors", "0",
               str(burst.errors), burst.errors, burst.errors == 0, {"statuses": sorted(set(burst.statuses))}),
        Figure("concurrent_peak_rss", f"{plan.concurrent} concurrent distinct cold runs: server peak RSS",
               "reported", f"{rss.peak / 2**20:.0f} MiB", rss.peak / 2**20, None,
               {"workers": world.workers,
                "per_process_mib": {str(pid): round(v / 2**20) for pid, v in rss.peaks.items()}}),
        Figure("concurrent_worker_rss",
               f"{plan.concurrent} concurrent distinct cold runs: peak RSS of one server process",
               f"≤ {WORKER_RSS_GOAL_MIB} MiB", f"{rss.worker_peak / 2**20:.0f} MiB", rss.worker_peak / 2**20,
               rss.worker_peak / 2**20 <= WORKER_RSS_GOAL_MIB, {"workers": world.workers}),
    ]


def llm_cost_figures(llm_meta: dict[str, object]) -> list[Figure]:
    """What one llm blueprint cost (its ``meta.llm``)."""
    usage = llm_meta.get("llm") or {}
    assert isinstance(usage, dict)
    calls, prompt = int(usage.get("calls", 0)), int(usage.get("prompt_tokens", 0))
    return [
        Figure("llm_calls", "LLM calls per blueprint", f"≤ {LLM_CALLS_GOAL}", str(calls), calls,
               calls <= LLM_CALLS_GOAL),
        Figure("llm_prompt_tokens", "LLM prompt tokens per blueprint", f"≤ {PROMPT_TOKENS_GOAL:,}",
               f"{prompt:,}", prompt, prompt <= PROMPT_TOKENS_GOAL,
               {"completion_tokens": usage.get("completion_tokens")}),
    ]


def cli_figures(world: World, plan: Plan) -> list[Figure]:
    """CLI start-up, fresh interpreters."""
    log.info("[%s] CLI cold start: %d runs", plan.name, plan.cli_runs)
    cli = measure.cli_cold_start(world, plan.cli_runs)
    gen, imp = statistics.median(cli["generate"]), statistics.median(cli["imports"])
    imp_graph = statistics.median(cli["imports_graph"])
    return [
        Figure("cli_cold_start", "CLI cold start: `blueprint generate` (catalog, --no-cache) / "
               "`python -c \"import fastapi, langgraph\"`", "reported",
               f"{_ratio(gen / imp)} ({gen:.0f} ms / {imp:.0f} ms)", gen / imp, None, cli),
        Figure("cli_cold_start_graph", "CLI cold start: `blueprint generate` / "
               "`python -c \"import fastapi, langgraph.graph\"`", f"≤ {CLI_GOAL}×",
               f"{_ratio(gen / imp_graph)} ({gen:.0f} ms / {imp_graph:.0f} ms)", gen / imp_graph,
               gen / imp_graph <= CLI_GOAL),
    ]


def cpu_figures(plan: Plan) -> list[Figure]:
    """Server CPU per cold run, one worker, in a world of its own (``bench/cpu.py``). CPU time does not
    depend on how long the upstreams make a run wait, so the stand-ins answer with the fast profile's
    latencies (the quick run's own), which keeps the many runs short."""
    latencies = QUICK_FAST.latencies if plan is QUICK else FAST.latencies
    figures: list[Figure] = []
    for row in cpu.measure(latencies, plan.cpu_runs, ["catalog", "llm"], ["one-page", "multi-page"]):
        goal = CPU_GOALS_MS[row.engine] if row.site == "one-page" else None
        figures.append(Figure(
            f"cpu_{row.engine}_{row.site.replace('-', '_')}",
            f"Server CPU per cold run, {row.engine} engine, {row.site} site (1 worker)",
            f"≤ {goal:g} ms" if goal is not None else "reported",
            f"{row.per_run_ms:.1f} ms ({row.runs} runs)", row.per_run_ms,
            None if goal is None else row.per_run_ms <= goal,
            {"cpu_ms": row.cpu_ms, "wall_ms": row.wall_ms, "runs": row.runs},
        ))
    return figures


def measure_all(world: World, plan: Plan) -> list[Figure]:
    """Every figure of ``plan`` against one stub world; each figure is tagged with the plan's name."""
    figures: list[Figure] = []
    with measure.RssSampler(world.server.pid) as rss, httpx.Client(timeout=300) as client:
        cold, llm_meta = cold_figures(world, client, plan)
        figures += cold
        if not plan.latency_bound_only:
            figures += hit_and_first_event_figures(world, client, plan)
            figures.append(identical_figure(world, plan))
        figures += concurrency_figures(world, client, plan, rss)
        if not plan.latency_bound_only:
            figures += llm_cost_figures(llm_meta)
    if not plan.latency_bound_only:
        figures += cli_figures(world, plan)
    for figure in figures:
        figure.profile = plan.name
    return figures


def _plans(args: argparse.Namespace) -> list[Plan]:
    if args.quick:
        return [QUICK, QUICK_FAST]
    plans = [PROFILES[name] for name in (["typical", "fast"] if args.profile == "both" else [args.profile])]
    overrides = {"site": args.site_latency_ms, "llm": args.llm_latency_ms, "provider": args.provider_latency_ms}
    chosen = {k: v / 1000 for k, v in overrides.items() if v is not None}
    if chosen:  # custom latencies replace the graded profile's
        plans = [p if p.latency_bound_only else dataclasses.replace(
            p, name=f"{p.name} (custom)", latencies=dataclasses.replace(p.latencies, **chosen)) for p in plans]
    return plans


def _profile_config(plan: Plan) -> dict[str, object]:
    lat = plan.latencies
    return {"latency_site_ms": lat.site * 1000, "latency_llm_ms": lat.llm * 1000,
            "latency_provider_ms": lat.provider * 1000, "cold_runs": plan.cold_runs, "hit_rounds": plan.hit_rounds,
            "sse_rounds": plan.sse_rounds, "concurrent": plan.concurrent, "identical": plan.identical,
            "cli_runs": plan.cli_runs, "latency_bound_only": plan.latency_bound_only}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the server against a loopback stub world.")
    parser.add_argument("--quick", action="store_true", help="small counts and short latencies (CI smoke run)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results", help="folder for latest.md/.json")
    parser.add_argument("--profile", choices=["typical", "fast", "both"], default="both",
                        help="typical upstream latencies (graded), fast ones (stress, latency-bound figures), or both")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="server worker processes (default: one per core, as deployed)")
    for name, what in (("site", "seller-site latency per page"), ("llm", "LLM latency per call"),
                       ("provider", "Apollo/Clearbit latency per call")):
        default_ms = getattr(TYPICAL.latencies, name) * 1000
        parser.add_argument(f"--{name}-latency-ms", type=float, default=None,
                            help=f"{what} for the typical profile (default {default_ms:g})")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="bench: %(message)s", stream=sys.stderr)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request drowns the progress
    plans = _plans(args)
    config: dict[str, object] = {
        "quick": args.quick, "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "workers": args.workers,
        "profiles": {plan.name: _profile_config(plan) for plan in plans},
    }
    started = time.perf_counter()
    figures: list[Figure] = []
    for plan in plans:
        with stub_world(plan.latencies, workers=args.workers) as world:
            log.info("[%s] server up at %s (pid %d, %d worker(s))", plan.name, world.server.url, world.server.pid,
                     args.workers)
            figures += measure_all(world, plan)
        if plan.cpu_runs:
            log.info("[%s] server CPU per cold run: one worker, %d runs each", plan.name, plan.cpu_runs)
            cpu_rows = cpu_figures(plan)
            for figure in cpu_rows:
                figure.profile = plan.name
            figures += cpu_rows
    config["duration_s"] = round(time.perf_counter() - started, 1)
    info = machine()
    path = write_results(args.out, figures, info, config)
    sys.stdout.write(render_markdown(figures, info, config))
    log.info("wrote %s and %s", path, path.with_suffix(".json"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
