"""Applying the HubSpot export (issue 16, item 3): the client against cassettes recorded from the
loopback HubSpot stand-in (tests/support/hubspot_standin.py) — create, re-run, differing and refused
properties (201, 207, 409, 400), 401 with a token that must never leak, 429 honouring Retry-After."""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from graph.exports.hubspot import GROUP_NAME
from tests.support.hubspot_standin import (
    BUSY_TOKEN,
    HUBSPOT_STANDIN_URL,
    LEAKY_TOKEN,
    TOKEN,
    HubSpotRecording,
    HubSpotStandIn,
    hubspot_cassette,
    serve_hubspot,
)
from tests.support.provider_standin import FakeClock, cassette_name
from tests.support.sample_blueprint import small_blueprint
from tools.errors import InvalidRequest, ProviderAuthError
from tools.http import ProviderLimiter, RetryPolicy
from tools.hubspot import HubSpotClient, compare_property, plan_lines


def document() -> dict[str, Any]:
    doc: dict[str, Any] = small_blueprint().export("hubspot").document
    return copy.deepcopy(doc)


NAMES = [p["name"] for p in document()["batch_create"]["inputs"]]


@pytest.fixture
def name(request: pytest.FixtureRequest) -> str:
    return cassette_name("hubspot", request.node.name)


def client(rec: HubSpotRecording, clock: FakeClock, token: str = TOKEN) -> HubSpotClient:
    return HubSpotClient(SecretStr(token), HUBSPOT_STANDIN_URL, http=rec.client(),
                         retry=RetryPolicy(sleep=clock.sleep, clock=clock),
                         limiter=ProviderLimiter("hubspot", sleep=clock.sleep, clock=clock))


@pytest.fixture
def rec(name: str) -> Iterator[HubSpotRecording]:
    with hubspot_cassette(name) as recording:
        yield recording


async def test_apply_creates_the_group_then_every_property(rec: HubSpotRecording, clock: FakeClock) -> None:
    doc = document()
    async with client(rec, clock) as hs:
        report = await hs.apply(doc)
    assert report.group == "created" and report.created == NAMES and report.ok
    assert not (report.same or report.differs or report.failed)
    group_call, batch_call = rec.sent
    assert group_call.url.path == "/crm/v3/properties/companies/groups"
    assert batch_call.url.path == "/crm/v3/properties/companies/batch/create"
    assert json.loads(batch_call.content) == doc["batch_create"]  # exactly the export's body
    assert batch_call.headers["authorization"] == f"Bearer {TOKEN}"


async def test_rerun_reports_every_property_same_and_overwrites_nothing(
    rec: HubSpotRecording, clock: FakeClock
) -> None:
    async with client(rec, clock) as hs:
        first = await hs.apply(document())
        second = await hs.apply(document())
    assert first.created == NAMES
    assert second.group == "exists" and second.created == [] and second.same == NAMES
    assert not second.differs and not second.failed
    assert {r.method for r in rec.sent} <= {"GET", "POST"}  # nothing is patched or deleted
    writes = [r for r in rec.sent if r.method == "POST" and r.url.path.endswith(tuple(NAMES))]
    assert writes == []  # no single-property create once the batch said they exist
    assert "same" in second.to_text() and "0 created" in second.to_text()


def _seeded() -> HubSpotStandIn:
    """A portal where one property exists with another label and type, and one exactly as exported."""
    doc = document()
    inputs = {p["name"]: p for p in doc["batch_create"]["inputs"]}
    drifted = {**inputs["eb_employee_count"], "label": "Headcount", "type": "string", "fieldType": "text"}
    return HubSpotStandIn({"companies": {"eb_employee_count": drifted, "eb_recent_news": inputs["eb_recent_news"]}})


async def test_existing_properties_are_compared_never_overwritten(name: str, clock: FakeClock) -> None:
    with hubspot_cassette(name, _seeded()) as rec:
        async with client(rec, clock) as hs:
            report = await hs.apply(document())
    assert report.created == ["eb_annual_revenue", "eb_store_platform", "eb_has_membership"]  # 207 results
    assert report.differs == {"eb_employee_count": ["label", "type", "fieldType"]}
    assert report.same == ["eb_recent_news"] and report.ok
    assert "differs  eb_employee_count: label, type, fieldType" in report.to_text()


async def test_partial_failure_207_is_reported(rec: HubSpotRecording, clock: FakeClock) -> None:
    doc = document()
    doc["batch_create"]["inputs"][2]["fieldType"] = "number"  # an enumeration drawn as a number field
    async with client(rec, clock) as hs:
        report = await hs.apply(doc)
    assert report.created == [n for n in NAMES if n != "eb_store_platform"]
    assert list(report.failed) == ["eb_store_platform"] and "fieldType" in report.failed["eb_store_platform"]
    assert not report.ok


async def test_400_validation_error_reports_the_refused_input(rec: HubSpotRecording, clock: FakeClock) -> None:
    doc = document()
    doc["batch_create"]["inputs"] = [{**doc["batch_create"]["inputs"][0], "name": "Bad-Name"}]
    async with client(rec, clock) as hs:
        report = await hs.apply(doc)
    assert report.created == [] and list(report.failed) == ["Bad-Name"]
    assert "must match" in report.failed["Bad-Name"]


async def test_401_is_an_auth_error_that_never_shows_the_token(
    rec: HubSpotRecording, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with client(rec, clock, LEAKY_TOKEN) as hs:
        with pytest.raises(ProviderAuthError) as caught:
            await hs.apply(document())
        assert LEAKY_TOKEN not in repr(hs)
    exc = caught.value
    assert exc.http_status == 401 and "HubSpot" in exc.message
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.split(".")[0] in {"tools", "graph", "server"})
    shown = json.dumps(exc.to_dict()) + str(exc) + repr(exc.args) + ours
    assert LEAKY_TOKEN not in shown and "***" in json.dumps(exc.to_dict())  # the echo was masked


async def test_429_is_retried_after_the_retry_after_delay(rec: HubSpotRecording, clock: FakeClock) -> None:
    async with client(rec, clock, BUSY_TOKEN) as hs:
        report = await hs.apply(document())
    assert report.group == "created" and report.created == NAMES
    assert clock.sleeps == [1.0]  # HubSpot's Retry-After, not a guess
    assert [r.url.path for r in rec.sent].count("/crm/v3/properties/companies/groups") == 2


def test_dry_run_plan_lists_every_property_without_a_call() -> None:
    lines = plan_lines(document())
    assert lines[0].startswith("POST /crm/v3/properties/companies/groups") and GROUP_NAME in lines[0]
    assert all(any(line.strip().startswith(n) for line in lines) for n in NAMES)
    assert "enumeration/select, 2 options" in "\n".join(lines)


def test_compare_property_names_each_difference() -> None:
    wanted = document()["batch_create"]["inputs"][2]
    assert compare_property(wanted, {**wanted, "description": "edited in HubSpot"}) == []  # text edits are fine
    changed = {**wanted, "groupName": "other", "options": wanted["options"][:1]}
    assert compare_property(wanted, changed) == ["groupName", "options"]


def test_an_empty_token_is_refused() -> None:
    with pytest.raises(InvalidRequest):
        HubSpotClient(SecretStr("  "))


async def test_large_documents_go_in_batches_and_a_mixed_409_is_resolved_one_by_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Live against the stand-in: batches of BATCH_LIMIT inputs; a batch HubSpot refuses whole with a 409
    is resolved property by property (existing ones compared, missing ones created singly)."""
    import tools.hubspot

    monkeypatch.setattr(tools.hubspot, "BATCH_LIMIT", 2)
    doc = document()
    inputs = doc["batch_create"]["inputs"]
    portal = HubSpotStandIn({"companies": {inputs[0]["name"]: inputs[0]}}, strict_conflicts=True)
    with serve_hubspot(portal):
        async with HubSpotClient(SecretStr(TOKEN), portal.url) as hs:
            report = await hs.apply(doc)
    batches = [r for r in portal.requests if r["path"].endswith("/batch/create")]
    assert [len(r["json"]["inputs"]) for r in batches] == [2, 2, 1]
    singles = [r["json"]["name"] for r in portal.requests if r["path"] == "/crm/v3/properties/companies"]
    assert singles == [NAMES[1]]  # the one missing from the refused batch
    assert report.same == NAMES[:1] and sorted(report.created) == sorted(NAMES[1:]) and report.ok
