"""``GET /v1/campaigns/enrichment/{id}/exports/{format}`` (issue 16): a blueprint generated over HTTP,
exported as JSON, CSV or a zip; unknown ids, formats and objects answer the error envelope."""

from __future__ import annotations

import csv
import io
import json
import zipfile

from jsonschema import Draft202012Validator

from server.app import create_app
from tests.support.http_helpers import ENRICH, app_client
from tests.support.site_server import SiteServer


async def test_exports_of_a_generated_blueprint(site: SiteServer) -> None:
    async with app_client(create_app()) as client:
        made = await client.post(ENRICH, json={"website": site.url})
        bp = made.json()
        base = f"{ENRICH}/{bp['blueprint_id']}/exports"
        keys = [dp["key"] for s in ("firmographic", "technographic", "personalization")
                for dp in bp[s]["data_points"]]

        hubspot = await client.get(f"{base}/hubspot", params={"object": "contacts"})
        assert hubspot.status_code == 200 and hubspot.headers["content-type"].startswith("application/json")
        assert hubspot.json()["object_type"] == "contacts"
        assert [p["name"] for p in hubspot.json()["batch_create"]["inputs"]] == [f"eb_{k}" for k in keys]

        schema = await client.get(f"{base}/jsonschema")
        Draft202012Validator.check_schema(schema.json())
        assert json.loads(schema.content)["$id"].endswith(f"{bp['blueprint_id']}:companies")

        dictionary = await client.get(f"{base}/csv")
        assert dictionary.headers["content-type"].startswith("text/csv")
        assert [r["key"] for r in csv.DictReader(io.StringIO(dictionary.text))] == keys

        for fmt, must_have in (("salesforce", "manifest/package.xml"), ("clay", "table.csv")):
            answer = await client.get(f"{base}/{fmt}")
            assert answer.headers["content-type"] == "application/zip"
            assert f"{bp['blueprint_id']}-{fmt}-companies.zip" in answer.headers["content-disposition"]
            with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
                assert must_have in archive.namelist()


async def test_export_errors_use_the_envelope(site: SiteServer) -> None:
    async with app_client(create_app()) as client:
        missing = await client.get(f"{ENRICH}/bp_00000000000f/exports/hubspot")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
        bp = (await client.post(ENRICH, json={"website": site.url})).json()
        bad_format = await client.get(f"{ENRICH}/{bp['blueprint_id']}/exports/excel")
        assert bad_format.status_code == 422 and bad_format.json()["error"]["code"] == "validation_error"
        bad_object = await client.get(f"{ENRICH}/{bp['blueprint_id']}/exports/hubspot", params={"object": "deals"})
        assert bad_object.status_code == 422 and "request_id" in bad_object.json()["error"]
