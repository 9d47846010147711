"""Tenancy with API keys: a blueprint belongs to the key that made it, ids cannot be computed offline,
and a cache hit never carries another tenant's run (issue 13, finding 3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.fingerprint import blueprint_id_for, run_key
from graph.knowledge import load_knowledge
from graph.schemas import EnrichmentRequest
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
    stored = b"".join(p.read_bytes() for p in (tmp_path / "cache").rglob("*") if p.is_file())
    assert made["blueprint_id"].encode() in stored  # the cache is where we looked
    assert KEY_A.encode() not in stored and KEY_B.encode() not in stored


async def test_without_keys_everyone_is_one_tenant(site: SiteServer) -> None:
    async with app_client(create_app()) as client:
        made = await client.post(ENRICH, json={"website": site.url, "icp": ICP})
        hit = await client.post(ENRICH, json={"website": site.url, "icp": ICP})
        assert (made.headers["x-cache"], hit.headers["x-cache"]) == ("MISS", "HIT")
        assert (await client.get(f"{ENRICH}/{made.json()['blueprint_id']}")).status_code == 200
