"""A blueprint as Markdown over HTTP: ``GET /v1/campaigns/enrichment/{id}`` with ``Accept: text/markdown``
or ``?format=markdown`` (what the page's "Download Markdown" button asks for). Rendered by the same
:func:`graph.markdown.render_markdown` as the CLI's ``--format markdown``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Depends, Query, Request, Response

from graph.markdown import render_markdown
from graph.schemas import Blueprint

__all__ = ["WantsMarkdown", "markdown_response"]


async def wants_markdown(
    request: Request,
    format: Annotated[
        Literal["json", "markdown"] | None,
        Query(description="`markdown`: the blueprint as Markdown (same as `Accept: text/markdown`)."),
    ] = None,
) -> bool:
    if format is not None:
        return format == "markdown"
    return "text/markdown" in request.headers.get("accept", "").lower()


WantsMarkdown = Annotated[bool, Depends(wants_markdown)]


def markdown_response(blueprint: dict[str, Any]) -> Response:
    text = render_markdown(Blueprint.model_validate(blueprint))
    filename = f"{blueprint.get('blueprint_id', 'blueprint')}.md"
    return Response(
        text, media_type="text/markdown; charset=utf-8",
        headers={"X-Cache": "HIT", "Content-Disposition": f'inline; filename="{filename}"'},
    )
