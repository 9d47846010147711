"""The page at ``/``: a form, live progress and the blueprint as tables, for people who will not use curl.

Three static files inside the package (``server/static/``: ``index.html``, ``app.js``, ``app.css``):
no build step, no CDN, nothing fetched from elsewhere, so it works on an air-gapped machine. It talks
to the public API only (``POST …/runs``, the run's events via ``EventSource``, ``GET`` the blueprint
as JSON or Markdown). The Content-Security-Policy allows nothing but this server: text taken from a
seller's website is rendered as text, and even a slip could not load or send anything elsewhere.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from fastapi import APIRouter, Response

from tools.errors import NotFound

__all__ = ["page_router"]

ASSETS = {"app.js": "text/javascript; charset=utf-8", "app.css": "text/css; charset=utf-8"}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",  # revalidated: a new release's page is never mixed with an old script
}

page_router = APIRouter(include_in_schema=False)


@cache
def _asset(name: str) -> bytes:
    return resources.files("server").joinpath("static", name).read_bytes()


@page_router.get("/")
async def page() -> Response:
    return Response(_asset("index.html"), media_type="text/html; charset=utf-8", headers=SECURITY_HEADERS)


@page_router.get("/assets/{name}")
async def asset(name: str) -> Response:
    if name not in ASSETS:  # a fixed list: no path from the URL ever reaches the file system
        raise NotFound(f"No asset {name}.", details={"asset": name})
    return Response(_asset(name), media_type=ASSETS[name], headers=SECURITY_HEADERS)
