"""Where the server's CPU goes in a cold run: per node and per layer.

    python -m bench.profile_cpu                       # 20 llm runs on the multi-page site
    python -m bench.profile_cpu --engine catalog --site one --runs 40

The real app (``server.app:create_app``) is served by uvicorn in this process, on the main thread's
event loop; the stand-ins (the seller's site, the LLM, no added latency) answer from their own threads,
and a client thread sends distinct cold runs (``cache: refresh``, ``providers: []``) one after the
other. ``yappi`` measures CPU time (not wall time) in every thread; only the server's threads count —
the event loop's and the default executor's (``asyncio_N``, ``uvloop_N``: cache I/O, the run lock) — so the
stand-ins and the client are left out. Self time is grouped into layers by the file each function
lives in; a node's figure is the CPU time of its coroutine and everything it calls.

The profiler's overhead inflates every figure (about 3–4× the unprofiled CPU): read the shares, and
take absolute CPU per run from ``python -m bench.cpu``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import uvloop
import yappi

from bench.cpu import one_page_site
from bench.measure import ENRICH
from bench.world import SITE_DIR, SlowSite, free_port, nodelay, serve_slow_providers, server_env
from tests.support.openai_standin import OpenAIStandIn

__all__ = ["LAYERS", "layer_of", "main"]

# (layer, path fragments): the first layer with a fragment in a function's file (or name) takes it
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("graph runtime (LangGraph, LangChain runnables/callbacks)",
     ("/langgraph/", "/langchain_core/runnables/", "/langchain_core/callbacks/", "/langchain_core/tracers/",
      "/langsmith/", "/contextvars", "/langchain_core/utils/")),
    ("LLM request building (langchain-openai, openai SDK, messages)",
     ("/langchain_openai/", "/openai/", "/langchain_core/", "/tiktoken", "/jiter", "/distro/")),
    ("pydantic", ("/pydantic/", "/pydantic_core/", "pydantic_core")),
    ("extraction (selectolax, page parsing)", ("/selectolax/", "selectolax", "/tools/extract.py",
                                               "/tools/page_signals.py", "/tools/site.py", "/html/")),
    ("engine and knowledge", ("/graph/engine/", "/graph/knowledge/", "/graph/markdown.py", "/graph/values.py")),
    ("nodes, runner, assembly", ("/graph/",)),
    ("cache I/O (sqlite, diskcache)", ("/diskcache/", "sqlite3", "/graph/cache", "/pickle")),
    ("JSON", ("orjson", "/json/", "json.")),
    # httpx2/httpcore2: the OpenAI SDK's own copies of httpx and httpcore (the LLM calls' HTTP)
    ("outbound HTTP (httpx, httpcore, SSRF guard)", ("/httpx/", "/httpcore/", "/httpx2/", "/httpcore2/", "/h11/",
                                                     "/anyio/", "/sniffio/", "/tools/", "/ssl.py", "/idna/",
                                                     "/ipaddress.py", "/urllib/")),
    ("HTTP server (uvicorn, FastAPI, Starlette)", ("/uvicorn/", "/fastapi/", "/starlette/", "/httptools/",
                                                   "/server/", "httptools")),
    ("event loop (asyncio, uvloop, sockets)", ("/asyncio/", "uvloop", "/selectors.py", "/socket.py", "select.",
                                               "_asyncio", "_socket")),
    ("regex", ("re.Pattern", "/re/", "_sre")),
    ("logging", ("/logging/",)),
]
NODES = ("fetch_site", "analyze_company", "resolve_icp", "firmographic", "technographic", "personalization",
         "sources", "coverage", "collection_methods", "assemble")


OTHER = "other (stdlib, interpreter)"
# built-ins named after their own layer keep it; any other built-in counts in its caller's layer
_OWN_BUILTINS = ("orjson", "json", "re.Pattern", "_sre", "selectolax", "pydantic_core", "sqlite3", "select.",
                 "_socket", "uvloop", "_asyncio", "httptools")


def layer_of(stat: Any) -> str:
    where = f"{stat.module} {stat.name}"
    for layer, fragments in LAYERS:
        if any(fragment in where for fragment in fragments):
            return layer
    return OTHER


# helpers every layer uses (typing introspection, ABC checks): counted in their callers' layers too
_SHARED_HELPERS = ("/typing.py", "/typing_extensions.py", "<frozen abc>", "_abc")


def _builtin(stat: Any) -> bool:
    """Counted in its callers' layers: a built-in not named after a layer of its own, or a shared helper."""
    if any(helper in stat.module for helper in _SHARED_HELPERS):
        return True
    return bool(stat.builtin) and not any(name in f"{stat.module} {stat.name}" for name in _OWN_BUILTINS)


def _server_thread(name: str) -> bool:
    """The event loop's thread and the default executor's workers (``asyncio_N``; ``uvloop_N`` under
    uvloop, which ``blueprint serve`` runs): cache I/O and the run lock run there."""
    return name in {"_MainThread", "MainThread"} or name.startswith(("asyncio", "uvloop"))


@contextlib.contextmanager
def _stand_ins(site: str) -> Iterator[tuple[str, dict[str, str]]]:
    """The site (no added latency), the LLM and the provider stand-ins; the server's environment."""
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bp-profile-")))
        if site == "one":
            address = stack.enter_context(one_page_site(0.0)).url
        else:
            address = stack.enter_context(SlowSite(SITE_DIR, 0.0)).url
        llm = stack.enter_context(OpenAIStandIn(latency=0.0))
        assert llm._httpd is not None
        nodelay(llm._httpd)
        providers = stack.enter_context(serve_slow_providers(0.0))
        yield address, server_env(workdir, llm, providers)


def _client(base: str, site: str, engine: str, runs: int, warm: int, ready: threading.Event,
            profiling: threading.Event, done: threading.Event, server: Any) -> None:
    options = {"engine": engine, "cache": "refresh", "providers": []}
    try:
        ready.wait(60)
        with httpx.Client(timeout=120) as client:
            for i in range(warm + runs):
                if i == warm:
                    profiling.set()
                    yappi.clear_stats()
                body = {"website": f"{site}/?profile={time.time_ns()}-{i}", "options": options}
                client.post(base + ENRICH, json=body).raise_for_status()
    finally:
        yappi.stop()
        done.set()
        server.should_exit = True


def profile(engine: str, site: str, runs: int, warm: int = 3) -> tuple[dict[str, float], dict[str, float], float]:
    """CPU seconds per layer (self time) and per node (inclusive), and the total, over ``runs`` runs."""
    import uvicorn

    with _stand_ins(site) as (address, env):
        os.environ.update(env)
        from graph.settings import get_settings

        get_settings.cache_clear()
        port = free_port()
        config = uvicorn.Config("server.app:create_app", factory=True, host="127.0.0.1", port=port,
                                log_level="warning", access_log=False)
        server = uvicorn.Server(config)
        ready, profiling, done = threading.Event(), threading.Event(), threading.Event()
        client = threading.Thread(target=_client, name="bench-client", daemon=True,
                                  args=(f"http://127.0.0.1:{port}", address, engine, runs, warm, ready, profiling,
                                        done, server))
        client.start()

        async def serve() -> None:
            task = asyncio.create_task(server.serve())
            while not server.started:
                await asyncio.sleep(0.05)
            ready.set()
            await task

        yappi.set_clock_type("cpu")
        # threads by their own names (yappi's default is the class name: every worker is a plain "Thread")
        yappi.set_context_name_callback(lambda: threading.current_thread().name)
        yappi.start(builtins=True, profile_threads=True)
        # the event loop ``blueprint serve`` runs (uvicorn[standard] brings uvloop)
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(serve())
        client.join(10)
        if not profiling.is_set():
            raise RuntimeError("the client never reached the profiled runs (see the server's log)")
    return _tally()


def _tally() -> tuple[dict[str, float], dict[str, float], float]:
    threads = {t.id: t.name for t in yappi.get_thread_stats()}
    layers: dict[str, float] = defaultdict(float)
    nodes: dict[str, float] = defaultdict(float)
    total = 0.0
    for ctx_id, name in threads.items():
        if not _server_thread(name):
            continue
        for stat in yappi.get_func_stats(filter={"ctx_id": ctx_id}):
            total += stat.tsub
            if _builtin(stat):
                continue  # counted below, in its callers' layers
            layer = layer_of(stat)
            layers[layer] += stat.tsub
            for child in stat.children:
                if _builtin(child):
                    layers[layer] += child.tsub
            if "/graph/nodes/" in stat.module and stat.name in NODES:
                nodes[stat.name] += stat.ttot
    layers[OTHER] += max(0.0, total - sum(layers.values()))  # built-ins called by built-ins
    return dict(layers), dict(nodes), total


def _top(count: int, runs: int, by: str = "self") -> None:
    mine = {t.id for t in yappi.get_thread_stats() if _server_thread(t.name)}
    merged: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for ctx_id in mine:
        for stat in yappi.get_func_stats(filter={"ctx_id": ctx_id}):
            key = f"{stat.module.split('site-packages/')[-1]}:{stat.lineno} {stat.name}"
            merged[key][0] += stat.tsub
            merged[key][1] += stat.ttot
    sys.stdout.write("self ms/run  incl ms/run  function\n")
    for key, (tsub, ttot) in sorted(merged.items(), key=lambda kv: -kv[1][0 if by == "self" else 1])[:count]:
        sys.stdout.write(f"{tsub * 1000 / runs:11.2f}  {ttot * 1000 / runs:11.2f}  {key}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="CPU profile of cold runs, per node and per layer.")
    parser.add_argument("--engine", choices=["catalog", "llm"], default="llm")
    parser.add_argument("--site", choices=["one", "multi"], default="multi")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--top", type=int, default=0, help="also list the N functions with the most self time")
    parser.add_argument("--by", choices=["self", "incl"], default="self", help="--top's order: self or inclusive time")
    args = parser.parse_args(argv)
    layers, nodes, total = profile(args.engine, args.site, args.runs)
    if args.top:
        _top(args.top, args.runs, args.by)
    per_run = 1000 / args.runs
    out = [f"{args.engine} engine, {'one-page' if args.site == 'one' else 'multi-page'} site, {args.runs} runs: "
           f"{total * per_run:.1f} ms CPU per run under the profiler", "",
           "| Layer (self time) | ms per run | share |", "|---|---|---|"]
    for layer, seconds in sorted(layers.items(), key=lambda kv: -kv[1]):
        out.append(f"| {layer} | {seconds * per_run:.1f} | {seconds / total:.0%} |")
    out += ["", "| Node (inclusive) | ms per run | share |", "|---|---|---|"]
    for node in NODES:
        if node in nodes:
            out.append(f"| {node} | {nodes[node] * per_run:.1f} | {nodes[node] / total:.0%} |")
    sys.stdout.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
