"""Tenancy with API keys: a blueprint belongs to the key that made it, ids cannot be computed offline,
and a cache hit never carries another tenant's run (issue 13, finding 3)."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import diskcache
import pytest
import redis

from graph.cache import RunCache
from graph.cache_redis import RedisRunCache
from graph.fingerprint import blueprint_id_for, run_key
from graph.knowledge import load_knowledge
from graph.run import BlueprintRunner
from graph.schemas import EnrichmentRequest
from graph.settings import Settings
from server.app import create_app
from tests.support.http_helpers import ENRICH, app_client
from tests.support.site_server import SiteServer

KEY_A, KEY_B = "tenant-a-key-0123456789", "tenant-b-key-9876543210"
A, B = {"X-API-Key": KEY_A}, {"Authorization": f"Bearer {KEY_B}"}
ICP = {"industries": ["Restaurants"], "notes": "our churned accounts: Bistro 9, Chez Nous"}


@pytest.fixture
def two_tenants(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLUEPRINT_API_KEYS", f"{KEY_A},{KEY_B}")


@pytest.mark.usefixtures("two_tenants")
async def test_another_tenant_can_neither_read_by_id_nor_hit_the_cache(site: SiteServer) -> None:
    private = {"website": site.url, "icp": ICP}
    public = {"website": site.url}
    async with app_client(create_app()) as client:
        for body in (private, public):
            made = await client.post(ENRICH, json=body, headers=A)
            assert made.status_code == 200 and made.headers["x-cache"] == "MISS"
            blueprint_id = made.json()["blueprint_id"]
            assert (await client.get(f"{ENRICH}/{blueprint_id}", headers=A)).status_code == 200
            foreign = await client.get(f"{ENRICH}/{blueprint_id}", headers=B)
            assert foreign.status_code == 404 and foreign.json()["error"]["code"] == "not_found"
            assert "Chez Nous" not in foreign.text

            again = await client.post(ENRICH, json=body, headers=B)  # B's identical request is B's own run
            assert again.headers["x-cache"] == "MISS"
            assert again.json()["meta"]["generated_at"] >= made.json()["meta"]["generated_at"]
            assert again.json()["blueprint_id"] != blueprint_id
            assert (await client.post(ENRICH, json=body, headers=A)).headers["x-cache"] == "HIT"  # A's own
            assert (await client.post(ENRICH, json=body, headers=B)).headers["x-cache"] == "HIT"


@pytest.mark.usefixtures("two_tenants")
async def test_sharing_public_blueprints_is_explicit_and_never_covers_private_inputs(
    site: SiteServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BLUEPRINT_SHARE_PUBLIC_BLUEPRINTS", "true")
    async with app_client(create_app()) as client:
        public = await client.post(ENRICH, json={"website": site.url}, headers=A)
        shared = await client.post(ENRICH, json={"website": site.url}, headers=B)
        assert shared.headers["x-cache"] == "HIT"  # website only: shared, as configured
        assert shared.json()["blueprint_id"] == public.json()["blueprint_id"]
        assert (await client.get(f"{ENRICH}/{public.json()['blueprint_id']}", headers=B)).status_code == 200

        for private in ({"icp": ICP}, {"sample_domains": ["lead1.example"]}):
            body = {"website": site.url, **private}
            mine = await client.post(ENRICH, json=body, headers=A)
            theirs = await client.post(ENRICH, json=body, headers=B)
            assert theirs.headers["x-cache"] == "MISS"
            assert (await client.get(f"{ENRICH}/{mine.json()['blueprint_id']}", headers=B)).status_code == 404


@pytest.mark.usefixtures("two_tenants")
async def test_ids_cannot_be_computed_offline_and_keys_are_never_stored(
    site: SiteServer, tmp_path: Path
) -> None:
    async with app_client(create_app()) as client:
        made = (await client.post(ENRICH, json={"website": site.url}, headers=A)).json()
    request = EnrichmentRequest.model_validate({"website": site.url})
    plain = blueprint_id_for(run_key(request, engine="catalog", model=None, knowledge_version=load_knowledge().version))
    assert made["blueprint_id"] != plain
    assert len(made["blueprint_id"]) >= 3 + 32  # 128 bits after "bp_"
    folder = tmp_path / "cache"
    with diskcache.Cache(str(folder), disk=diskcache.JSONDisk) as cache:  # its values are compressed
        stored = "".join(f"{key}={cache.get(key)}" for key in cache.iterkeys())
    stored += "".join(p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file())
    assert made["blueprint_id"] in stored  # the cache is where we looked
    assert KEY_A not in stored and KEY_B not in stored


async def test_without_keys_everyone_is_one_tenant(site: SiteServer) -> None:
    async with app_client(create_app()) as client:
        made = await client.post(ENRICH, json={"website": site.url, "icp": ICP})
        hit = await client.post(ENRICH, json={"website": site.url, "icp": ICP})
        assert (made.headers["x-cache"], hit.headers["x-cache"]) == ("MISS", "HIT")
        assert (await client.get(f"{ENRICH}/{made.json()['blueprint_id']}")).status_code == 200


# ── the same model on both cache backends, at the runner ─────────────────────────────────────────
REDIS_URL = os.environ.get("BLUEPRINT_TEST_REDIS_URL")


@pytest.fixture(params=["diskcache", "redis"])
def make_cache(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], RunCache]]:
    """A factory of cache handles on one store: two handles are two replicas (or workers)."""
    made: list[RunCache] = []
    prefix = f"bp-tenancy-{uuid.uuid4().hex[:8]}:"
    if request.param == "redis" and not REDIS_URL:
        pytest.skip("BLUEPRINT_TEST_REDIS_URL is not set (see .ci/run)")

    def make() -> RunCache:
        cache: RunCache
        if request.param == "redis":
            cache = RedisRunCache(REDIS_URL or "", ttl_s=60, page_ttl_s=60, prefix=prefix)
        else:
            cache = RunCache(tmp_path / "shared", ttl_s=60)
        made.append(cache)
        return cache

    yield make
    if made and isinstance(made[0], RedisRunCache):
        made[0].clear()
        client = redis.Redis.from_url(REDIS_URL or "")
        client.delete(f"{prefix}server-secret")
        client.close()
    for cache in made:
        cache.close()


async def test_tenants_on_both_backends(make_cache: Callable[[], RunCache], site: SiteServer) -> None:
    settings = Settings(BLUEPRINT_ALLOW_PRIVATE_HOSTS="127.0.0.1", BLUEPRINT_ENGINE="catalog")  # type: ignore[call-arg]
    # two replicas sharing the store
    first = BlueprintRunner(settings=settings, cache=make_cache())
    second = BlueprintRunner(settings=settings, cache=make_cache())
    request = EnrichmentRequest.model_validate({"website": site.url, "icp": ICP})
    try:
        a, b = await first.tenant_for(KEY_A), await second.tenant_for(KEY_B)
        assert a == await second.tenant_for(KEY_A)  # the replicas agree on the secret
        assert KEY_A not in a and a != b
        made, status = await first.generate(request, tenant=a)
        assert status == "miss"
        again, status = await second.generate(request, tenant=a)  # A's, on the other replica
        assert (status, again.blueprint_id) == ("hit", made.blueprint_id)
        theirs, status = await second.generate(request, tenant=b)
        assert status == "miss" and theirs.blueprint_id != made.blueprint_id
        assert (first.graph_runs, second.graph_runs) == (1, 1)  # B's request ran for B
        assert (await second.find(made.blueprint_id, tenant=a) or {}).get("blueprint_id") == made.blueprint_id
        assert await second.find(made.blueprint_id, tenant=b) is None
        assert await second.find(made.blueprint_id, tenant=None) is None  # not the keyless tenant's either

        secret = await first.secret.get()
        assert first.cache is not None and first.cache.clear() >= 1
        assert await BlueprintRunner(settings=settings, cache=make_cache()).secret.get() == secret  # kept
    finally:
        await first.aclose()
        await second.aclose()


async def test_refresh_window_on_both_backends(make_cache: Callable[[], RunCache]) -> None:
    first, second = make_cache(), make_cache()
    assert first.claim_refresh("t_a:key", 30) == 0  # claimed
    assert 29 < second.claim_refresh("t_a:key", 30) <= 30  # another replica sees the window
    assert second.claim_refresh("t_b:key", 30) == 0  # another tenant's window
    assert first.claim_refresh("t_a:short", 0.2) == 0
    time.sleep(0.3)
    assert second.claim_refresh("t_a:short", 0.2) == 0  # the window ended
