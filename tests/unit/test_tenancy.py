"""The tenancy model's parts: what is public, who may read, where the server secret comes from."""

from __future__ import annotations

import logging
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from graph.cache import IdEntry, RunCache
from graph.fingerprint import blueprint_id_for
from graph.schemas import EnrichmentRequest
from graph.settings import Settings
from graph.tenancy import PUBLIC_SCOPE, ServerSecret, is_public, may_read, scope_for, tenant_id


def _request(**kw: object) -> EnrichmentRequest:
    return EnrichmentRequest.model_validate({"website": "acme.com", **kw})


def test_public_means_the_website_and_how_to_run_only() -> None:
    assert is_public(_request())
    assert is_public(_request(options={"engine": "catalog", "max_data_points": 5, "cache": "refresh"}))
    assert is_public(_request(icp={"industries": [], "notes": ""}))  # an ICP that says nothing
    assert not is_public(_request(icp={"notes": "our churned accounts"}))
    assert not is_public(_request(icp={"company_size": {"min_employees": 50}}))
    assert not is_public(_request(sample_domains=["lead.example"]))


def test_scope_and_who_may_read() -> None:
    public, private = _request(), _request(icp={"industries": ["Banks"]})
    assert scope_for(public, None, share_public=True) is None  # no keys: one tenant
    assert scope_for(public, "t_a", share_public=False) == "t_a"
    assert scope_for(public, "t_a", share_public=True) == PUBLIC_SCOPE
    assert scope_for(private, "t_a", share_public=True) == "t_a"

    mine, shared, old = IdEntry("k", owner="t_a"), IdEntry("k", owner="t_a", shared=True), IdEntry("k")
    assert may_read(mine, "t_a", share_public=False) and not may_read(mine, "t_b", share_public=True)
    assert not may_read(mine, None, share_public=True)
    assert may_read(shared, "t_b", share_public=True) and not may_read(shared, "t_b", share_public=False)
    assert may_read(old, None, share_public=False) and not may_read(old, "t_a", share_public=True)
    assert IdEntry.loads(mine.dumps()) == mine and IdEntry.loads("k") == old


def test_tenant_and_blueprint_ids_depend_on_the_secret() -> None:
    assert tenant_id(b"s1" * 16, "key") == tenant_id(b"s1" * 16, "key") != tenant_id(b"s2" * 16, "key")
    assert "key" not in tenant_id(b"s1" * 16, "key")
    assert blueprint_id_for("a" * 64, b"s1" * 16) != blueprint_id_for("a" * 64, b"s2" * 16)
    assert len(blueprint_id_for("a" * 64, b"s1" * 16)) == 3 + 32


async def test_the_secret_is_configured_else_kept_by_the_cache(tmp_path: Path) -> None:
    cache = RunCache(tmp_path, ttl_s=60)
    kept = await ServerSecret(Settings(), cache).get()
    assert kept == await ServerSecret(Settings(), RunCache(tmp_path, ttl_s=60)).get()  # another worker
    assert stat.S_IMODE((tmp_path / "server-secret").stat().st_mode) == 0o600
    assert cache.clear() >= 0 and await ServerSecret(Settings(), cache).get() == kept  # clear keeps it
    configured = Settings(BLUEPRINT_SERVER_SECRET="c" * 40)  # type: ignore[call-arg]
    assert await ServerSecret(configured, cache).get() == b"c" * 40
    cache.close()


def test_workers_starting_together_agree_on_one_secret(tmp_path: Path) -> None:
    caches = [RunCache(tmp_path, ttl_s=60) for _ in range(8)]
    with ThreadPoolExecutor(8) as pool:
        secrets = set(pool.map(lambda c: c.server_secret(), caches))
    assert len(secrets) == 1 and None not in secrets
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".server-secret")] == []
    for cache in caches:
        cache.close()


async def test_an_unusable_cache_gives_a_provisional_secret(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    caplog.set_level(logging.WARNING)
    secret = ServerSecret(Settings(), RunCache(blocker / "cache", ttl_s=60))
    first = await secret.get()
    assert len(first) == 32 and await secret.get() == first  # stable within the process
    assert sum("no server secret" in r.getMessage() for r in caplog.records) == 1
    short = Settings(BLUEPRINT_SERVER_SECRET="too-short")  # type: ignore[call-arg]
    assert await ServerSecret(short, None).get() == b"too-short"
    assert any("shorter than 32" in r.getMessage() for r in caplog.records)
    assert "too-short" not in caplog.text
