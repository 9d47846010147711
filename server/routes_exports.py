"""``GET /v1/campaigns/enrichment/{id}/exports/{format}``: a cached blueprint compiled for a target.

JSON for hubspot and jsonschema, CSV for the data dictionary, a zip for the folder-tree targets
(salesforce, clay). Its own router so the main routes module stays the enrichment operation's."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response

from graph.exports import export_blueprint
from graph.schemas import Blueprint
from server.deps import AuthDep, CacheDep
from server.errors import ErrorEnvelope
from tools.errors import NotFound

__all__ = ["exports_router"]

exports_router = APIRouter(tags=["exports"], dependencies=[AuthDep])

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorEnvelope, "description": "Missing or invalid API key: `unauthorized`."},
    404: {"model": ErrorEnvelope, "description": "No such blueprint in the cache: `not_found`."},
    422: {"model": ErrorEnvelope, "description": "Unknown format or object: `validation_error`."},
}


@exports_router.get(
    "/v1/campaigns/enrichment/{blueprint_id}/exports/{format}",
    summary="A generated blueprint compiled for HubSpot, Salesforce, JSON Schema, Clay or CSV",
    response_class=Response,
    responses={
        200: {"description": "hubspot, jsonschema: JSON · csv: text/csv · salesforce, clay: a zip of the folder",
              "content": {"application/json": {}, "application/schema+json": {}, "text/csv": {},
                          "application/zip": {}}},
        **_ERRORS,
    },
)
async def get_export(
    blueprint_id: Annotated[str, Path(pattern=r"^bp_[0-9a-f]{6,64}$", examples=["bp_3f1c9a0e2b7d4c5a8e6f1b2c"])],
    format: Annotated[Literal["hubspot", "salesforce", "jsonschema", "clay", "csv"], Path()],
    cache: CacheDep,
    object: Annotated[Literal["companies", "contacts"], Query(description="Records the fields go on.")] = "companies",
) -> Response:
    found = await asyncio.to_thread(cache.get_by_id, blueprint_id)
    if found is None:
        raise NotFound(f"No blueprint {blueprint_id}: it was never generated here, has expired, or the cache "
                       "is disabled.", details={"blueprint_id": blueprint_id})
    export = export_blueprint(Blueprint.model_validate(found), format, object_type=object)
    extension = {"hubspot": "json", "jsonschema": "json", "csv": "csv"}.get(format, "zip")
    filename = f"{blueprint_id}-{format}-{object}.{extension}"
    return Response(content=export.content, media_type=export.media_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
