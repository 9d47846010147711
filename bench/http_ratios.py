"""HTTP overhead, as ratios measured in one run on loopback (a script, not a test).

* cache hit: ``POST /v1/campaigns/enrichment`` answered from the run cache through the real server, vs a
  bare FastAPI endpoint that returns the same JSON bytes (goal ≤ 1.5×);
* for context, the same hit vs a FastAPI route that returns the blueprint as a dict (FastAPI
  serialises it per request, the way most endpoints are written);
* first SSE event: time to ``run_started`` for a fresh run (``cache: bypass``; the client leaves after
  that event, which cancels the run), vs a bare FastAPI SSE endpoint yielding the same event (goal ≤ 2×).

Both sides run in the same kind of uvicorn server (in a thread, port 0) and are called by the same
client, interleaved round by round so drift on the machine hits both alike.

    python bench/http_ratios.py [--rounds 300]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Mapping
from http.server import ThreadingHTTPServer
from pathlib import Path

import httpx
import orjson
from fastapi import FastAPI, Response
from fastapi.sse import EventSourceResponse, ServerSentEvent

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.site_server import serve_site  # noqa: E402
from tests.support.uvicorn_server import UvicornThread  # noqa: E402

ENRICH = "/v1/campaigns/enrichment"
SITE = ROOT / "tests" / "fixtures" / "sites" / "tablely"


def bare_app(blueprint_json: bytes, first_event: str) -> FastAPI:
    app = FastAPI()

    @app.post("/bare")
    async def bare() -> Response:
        return Response(blueprint_json, media_type="application/json")

    blueprint = orjson.loads(blueprint_json)

    @app.post("/bare-dict")
    async def bare_dict() -> dict[str, object]:  # the idiomatic FastAPI way: serialised per request
        return blueprint

    @app.post("/bare-sse", response_class=EventSourceResponse)
    async def bare_sse() -> AsyncIterator[ServerSentEvent]:
        yield ServerSentEvent(event="run_started", id="1", raw_data=first_event)
        yield ServerSentEvent(event="done", id="2", raw_data="{}")

    return app


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def first_event(client: httpx.Client, url: str, body: Mapping[str, object]) -> None:
    with client.stream("POST", url, json=body, headers={"accept": "text/event-stream"}) as response:
        for line in response.iter_lines():
            if line.startswith("data:"):
                return  # leaving closes the connection: our server cancels the run


def quantiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return statistics.median(samples), cuts[98]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()

    os.environ["BLUEPRINT_ALLOW_PRIVATE_HOSTS"] = "127.0.0.1"
    os.environ["BLUEPRINT_ENGINE"] = "catalog"
    os.environ["BLUEPRINT_CACHE_DIR"] = tempfile.mkdtemp(prefix="bp-bench-")
    import logging

    from graph.settings import get_settings
    from server.app import create_app

    get_settings.cache_clear()
    # runs cancelled after their first event hang up on the loopback site: not worth a traceback each
    ThreadingHTTPServer.handle_error = lambda self, request, client_address: None  # type: ignore[method-assign]
    with serve_site(directory=SITE) as site, UvicornThread(create_app()) as ours:
        logging.getLogger("server").setLevel(logging.WARNING)  # the access log is not what we measure
        request = {"website": site.url}
        fresh = {"website": site.url, "options": {"cache": "bypass"}}
        with httpx.Client(timeout=30) as client:
            warm = client.post(ours.url + ENRICH, json=request)
            warm.raise_for_status()
            blueprint_json = client.post(ours.url + ENRICH, json=request).content
            first = '{"blueprint_id":"bp_0","cache":"bypass","engine":"catalog"}'
            with UvicornThread(bare_app(blueprint_json, first)) as bare:
                results: dict[str, list[float]] = {k: [] for k in ("hit", "bare", "dict", "sse", "bare_sse")}
                for _ in range(20):  # warm both paths
                    client.post(ours.url + ENRICH, json=request)
                    client.post(bare.url + "/bare", json=request)
                for _ in range(args.rounds):
                    results["hit"].append(timed(lambda: client.post(ours.url + ENRICH, json=request)))
                    results["bare"].append(timed(lambda: client.post(bare.url + "/bare", json=request)))
                    results["dict"].append(timed(lambda: client.post(bare.url + "/bare-dict", json=request)))
                for _ in range(max(50, args.rounds // 3)):
                    results["sse"].append(timed(lambda: first_event(client, ours.url + ENRICH, fresh)))
                    results["bare_sse"].append(timed(lambda: first_event(client, bare.url + "/bare-sse", fresh)))

    rows = [
        ("cache hit (JSON)", "hit", "bare", 1.5),
        ("first SSE event", "sse", "bare_sse", 2.0),
        ("hit vs dict route", "hit", "dict", 1.5),  # context: FastAPI serialising the dict itself
    ]
    print(f"blueprint size: {len(blueprint_json) / 1024:.1f} KiB, rounds: {args.rounds}")
    print(
        f"{'measure':<18} {'ours p50':>9} {'bare p50':>9} {'ratio':>6} {'ours p99':>9} {'bare p99':>9} "
        f"{'ratio':>6} {'goal':>5}"
    )
    for label, ours_key, bare_key, goal in rows:
        o50, o99 = quantiles(results[ours_key])
        b50, b99 = quantiles(results[bare_key])
        ok = "ok" if o50 / b50 <= goal else "MISS"
        print(
            f"{label:<18} {o50:>7.2f}ms {b50:>7.2f}ms {o50 / b50:>5.2f}× {o99:>7.2f}ms {b99:>7.2f}ms "
            f"{o99 / b99:>5.2f}× ≤{goal}× {ok}"
        )


if __name__ == "__main__":
    main()
