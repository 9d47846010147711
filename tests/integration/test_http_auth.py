"""Optional API-key auth: off by default; with ``BLUEPRINT_API_KEYS`` every /v1 route needs a key."""

from __future__ import annotations

import logging

import pytest

from server.app import create_app
from tests.support.http_helpers import ENRICH, app_client
from tests.support.site_server import SiteServer

KEYS = "k-first-0123456789,k-second-9876543210"




async def test_without_keys_everything_is_open(site: SiteServer) -> None:
    async with app_client(create_app()) as client:
        assert (await client.post(ENRICH, json={"website": site.url})).status_code == 200


async def test_with_keys_every_api_route_needs_one(
    site: SiteServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("BLUEPRINT_API_KEYS", KEYS)
    caplog.set_level(logging.DEBUG)
    async with app_client(create_app()) as client:
        anonymous = [
            await client.post(ENRICH, json={"website": site.url}),
            await client.post(ENRICH, params={"stream": "true"}, json={"website": site.url}),
            await client.get(f"{ENRICH}/bp_0123456789abcdef01234567"),
        ]
        for response in anonymous:
            assert response.status_code == 401
            assert response.headers["content-type"] == "application/json"  # not a stream
            assert response.json()["error"]["code"] == "unauthorized"
            assert response.headers["www-authenticate"].startswith("Bearer")

        wrong = [
            await client.post(ENRICH, json={"website": site.url}, headers={"Authorization": "Bearer nope"}),
            await client.post(ENRICH, json={"website": site.url}, headers={"X-API-Key": "k-first-012345678"}),
            await client.post(ENRICH, json={"website": site.url}, headers={"Authorization": "Basic k-first"}),
        ]
        assert [r.status_code for r in wrong] == [401, 401, 401]
        assert site.hits["/"] == 0  # refused before any work

        bearer = await client.post(
            ENRICH, json={"website": site.url}, headers={"Authorization": "Bearer k-second-9876543210"}
        )
        assert bearer.status_code == 200
        header = await client.get(
            f"{ENRICH}/{bearer.json()['blueprint_id']}", headers={"X-API-Key": "k-second-9876543210"}
        )
        assert header.status_code == 200  # either header works; the blueprint is the key's own
        foreign = await client.get(
            f"{ENRICH}/{bearer.json()['blueprint_id']}", headers={"X-API-Key": "k-first-0123456789"}
        )
        assert foreign.status_code == 404  # another key's (test_http_tenancy.py has the rest)

        assert (await client.get("/healthz")).status_code == 200  # probes need no key
    logged = "\n".join(r.getMessage() + str(vars(r)) for r in caplog.records)
    assert "k-first-0123456789" not in logged and "k-second-9876543210" not in logged
