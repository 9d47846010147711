"""The in-process hot cache of hit bytes, and the runner's fast path over it."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any, cast

import orjson

from graph.cache import RunCache
from graph.hot_cache import HotCache, hit_bytes
from graph.run import BlueprintRunner
from graph.schemas import EnrichmentRequest
from graph.settings import Settings


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire_after_their_ttl() -> None:
    clock = Clock()
    hot = HotCache(ttl_s=5, clock=clock)
    hot.put("k", b"one")
    clock.now += 4.9
    assert hot.get("k") == b"one"
    clock.now += 0.2
    assert hot.get("k") is None
    assert len(hot) == 0


def test_least_recently_used_entry_goes_first() -> None:
    hot = HotCache(max_entries=2)
    hot.put("a", b"a")
    hot.put("b", b"b")
    assert hot.get("a") == b"a"  # a is now the most recent
    hot.put("c", b"c")
    assert (hot.get("a"), hot.get("b"), hot.get("c")) == (b"a", None, b"c")


def test_zero_ttl_disables_and_discard_removes() -> None:
    off = HotCache(ttl_s=0)
    off.put("k", b"x")
    assert off.get("k") is None
    hot = HotCache()
    hot.put("k", b"x")
    hot.discard("k")
    hot.discard("missing")
    assert hot.get("k") is None


def test_hit_bytes_mark_the_cache_status_without_touching_the_source() -> None:
    blueprint: dict[str, Any] = {"blueprint_id": "bp_1", "meta": {"cache": "miss", "engine": "catalog"}}
    body = orjson.loads(hit_bytes(blueprint))
    assert body["meta"] == {"cache": "hit", "engine": "catalog"}
    assert blueprint["meta"]["cache"] == "miss"


def _blueprint(key: str, summary: str) -> dict[str, Any]:
    return {"blueprint_id": f"bp_{key[:24]}", "company": {"summary": summary}, "meta": {"cache": "miss"}}


async def test_runner_fast_path_serves_hits_as_bytes_and_refresh_drops_them(tmp_path: Path) -> None:
    settings = Settings(BLUEPRINT_CACHE_DIR=tmp_path, BLUEPRINT_ENGINE="catalog")  # type: ignore[call-arg]
    cache = RunCache(tmp_path, ttl_s=3600)
    runner = BlueprintRunner(settings=settings, cache=cache)
    request = EnrichmentRequest.model_validate({"website": "https://acme.example"})
    assert await runner.cached_json(request) is None  # nothing cached yet

    _, _, key = await runner._identify(request, None, None)
    cache.set(key, _blueprint(key, "first"))
    body = await runner.cached_json(request)
    assert body is not None
    first = orjson.loads(body)
    assert first["meta"]["cache"] == "hit" and first["company"]["summary"] == "first"

    # another process rewrites the shared entry: this process answers its hot copy until it expires
    cache.set(key, _blueprint(key, "second"))
    assert orjson.loads(await runner.cached_json(request) or b"{}")["company"]["summary"] == "first"

    # a refresh in this process drops the hot copy as soon as it starts
    refresh = request.model_copy(update={"options": request.options.model_copy(update={"cache": "refresh"})})
    events = cast(AsyncGenerator[dict[str, Any], None], runner.stream(refresh))
    assert (await anext(events))["event"] == "run_started"
    await events.aclose()
    await runner.aclose()
    assert orjson.loads(await runner.cached_json(request) or b"{}")["company"]["summary"] == "second"

    # bypass and refresh requests never take the fast path
    bypass = request.model_copy(update={"options": request.options.model_copy(update={"cache": "bypass"})})
    assert await runner.cached_json(bypass) is None
    assert await runner.cached_json(refresh) is None
    cache.close()


def test_hot_ttl_never_outlives_the_shared_cache(tmp_path: Path) -> None:
    settings = Settings(BLUEPRINT_CACHE_DIR=tmp_path, BLUEPRINT_CACHE_TTL_S=2)  # type: ignore[call-arg]
    assert BlueprintRunner(settings=settings, hot_ttl_s=5).hot.ttl_s == 2
    forever = Settings(BLUEPRINT_CACHE_DIR=tmp_path, BLUEPRINT_CACHE_TTL_S=0)  # type: ignore[call-arg]
    assert BlueprintRunner(settings=forever, hot_ttl_s=5).hot.ttl_s == 5
