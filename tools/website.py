"""Read a seller's website: the homepage plus a few same-site pages, fetched safely and extracted.

Every hop (the request and each of ≤ 5 redirects) passes the SSRF guard, and the client from
:func:`build_site_client` connects to the checked address. Per-request timeouts plus one deadline for
the whole site. Only HTML / XHTML / plain text, streamed and cut at 2 MB *decoded* (a gzip bomb or a
10 MB page never sits in memory); undecodable bytes are replaced. A homepage failure raises
(``SiteFetchError``, ``UpstreamTimeout``, ``BlockedURL``); sub-page failures go to ``errors``. A redirect
target no URL parser can read is a ``BlockedURL``. Each read uses its own connections, closed when it
ends, so a run cut off mid-request cannot jam the next (:mod:`tools.host_pools`).
"""

from __future__ import annotations

import asyncio
import codecs
import html as html_lib
import logging
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import httpx

from tools.errors import BlockedURL, BlueprintError, SiteFetchError, UpstreamTimeout
from tools.extract import classify_link, extract_page
from tools.guarded_transport import GuardedTransport
from tools.host_pools import RUN_POOLS_EXTENSION, RunPools
from tools.http import shared_tls_context
from tools.site import Page, PageKind, SiteSnapshot
from tools.ssrf import Resolver, check_url

__all__ = ["MAX_BODY_BYTES", "MAX_REDIRECTS", "USER_AGENT", "FetchedPage", "PageCache", "SiteLimits",
           "build_site_client", "fetch_page", "pick_subpages", "read_site"]  # fmt: skip

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 2 * 1024 * 1024
MAX_REDIRECTS = 5
USER_AGENT = "EnrichmentBlueprint/0.1 (+https://github.com/)"
_TEXT_TYPES = {"text/html", "application/xhtml+xml", "text/plain"}
_REDIRECTS = {301, 302, 303, 307, 308}
_SUBPAGE_ORDER: tuple[PageKind, ...] = (
    "about", "product", "solutions", "customers", "integrations", "pricing", "partners")  # fmt: skip
_HTTPX_BAD_LOCATION = "Invalid URL in location header"  # httpx's words for a Location it cannot parse
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.I)


@dataclass(frozen=True)
class SiteLimits:
    """What reading a site may do, as plain values (the caller maps its settings onto them)."""

    allow_hosts: tuple[str, ...] = ()  # SSRF allow list: ``host``, ``host:port``, IP, network or ``*``
    fetch_timeout_s: float = 10.0  # per request (connect at most 5 s)
    site_deadline_s: float = 20.0  # for the whole site
    max_pages: int = 7  # the homepage included


class PageCache(Protocol):
    """Where fetched HTML may be kept between runs (implemented by the cache module)."""

    async def get(self, url: str) -> str | None: ...
    async def set(self, url: str, html: str) -> None: ...


@dataclass(frozen=True)
class FetchedPage:
    url: str  # where the last redirect landed
    status: int
    content_type: str
    text: str  # decoded; HTML, or plain text when content_type is text/plain
    bytes_read: int  # decoded bytes kept (≤ the cap)
    truncated: bool
    redirects: tuple[str, ...] = ()


def build_site_client(
    limits: SiteLimits | None = None, *, resolver: Resolver | None = None
) -> httpx.AsyncClient:
    """An httpx client whose every request goes through the SSRF guard. Redirects are ours to follow."""
    s = limits or SiteLimits()
    transport = GuardedTransport(
        s.allow_hosts,
        resolver=resolver,
        limits=httpx.Limits(max_connections=10, max_keepalive_connections=5),
        verify=shared_tls_context(),  # one CA-bundle read per process, not one per host pool
    )
    return httpx.AsyncClient(
        transport=transport,
        follow_redirects=False,  # each hop is re-checked in fetch_page
        timeout=httpx.Timeout(s.fetch_timeout_s, connect=min(5.0, s.fetch_timeout_s)),
        headers={
            "User-Agent": USER_AGENT,
            "Accept": "text/html,application/xhtml+xml;q=0.9,text/plain;q=0.8",
            "Accept-Language": "en;q=0.9,*;q=0.5",
            "Accept-Encoding": "gzip, deflate",  # only what _Inflater can bound
        },
        trust_env=False,  # an environment proxy would connect to the host by name, bypassing the pin
    )


class _Inflater:
    """Content-Encoding decoding that never produces more than asked for (bounded zlib output)."""

    def __init__(self, encoding: str, url: str) -> None:
        self._url = url
        enc = encoding.strip().lower()
        if enc in {"", "identity"}:
            self._z = None
        elif enc in {"gzip", "x-gzip", "deflate"}:
            self._z = zlib.decompressobj(zlib.MAX_WBITS | 32)  # 32: gzip or zlib header, detected
        else:
            raise _fetch_error(url, "encoding", f"uses an unsupported content encoding ({enc})")

    def feed(self, data: bytes, limit: int) -> bytes:
        if self._z is None:
            return data[:limit]
        try:
            return self._z.decompress(data, limit)
        except zlib.error as exc:
            raise _fetch_error(self._url, "encoding", "sent a corrupt compressed body") from exc


def _fetch_error(url: str, reason: str, what: str, status: int | None = None) -> SiteFetchError:
    return SiteFetchError(f"{url} {what}.", details={"url": url, "reason": reason, "status": status})


def _redirect_target(base: httpx.URL, location: str, current: str) -> str:
    """Where a redirect points; a Location no URL parser can read is refused like a blocked URL."""
    try:
        return str(base.join(location.strip()))
    except (httpx.InvalidURL, UnicodeError, ValueError) as exc:
        raise _invalid_redirect(current, location, exc) from None


def _invalid_redirect(current: str, location: str, exc: Exception) -> BlockedURL:
    return BlockedURL(
        f"Refusing to follow the redirect from {current}: its target is not a valid URL ({exc}).",
        details={"url": location[:2048] or current, "reason": "invalid_url"},
    )


def _decode(body: bytes, content_type_header: str) -> str:
    """Bytes to text: HTTP charset, else BOM, else <meta charset>, else UTF-8; bad bytes become U+FFFD."""
    declared = re.search(r"charset=[\"']?([\w.:-]+)", content_type_header, re.I)
    name = declared.group(1) if declared else None
    if name is None and body.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        name = "utf-8-sig" if body.startswith(codecs.BOM_UTF8) else "utf-16"
    if name is None and (meta := _META_CHARSET.search(body[:4096])):
        name = meta.group(1).decode("ascii", "ignore")
    try:
        codec = codecs.lookup(name or "utf-8").name
    except LookupError:
        codec = "utf-8"
    if codec in {"latin-1", "iso8859-1", "ascii"}:
        codec = "cp1252"  # what browsers do for these labels (WHATWG Encoding)
    return body.decode(codec, errors="replace")


async def _read_body(response: httpx.Response, url: str, max_bytes: int) -> tuple[bytes, bool]:
    inflater = _Inflater(response.headers.get("content-encoding", ""), url)
    body = bytearray()
    async for chunk in response.aiter_raw():
        body += inflater.feed(chunk, max_bytes + 1 - len(body))
        if len(body) > max_bytes:
            del body[max_bytes:]
            return bytes(body), True  # stop reading: the connection is closed, the rest never arrives
    return bytes(body), False


async def fetch_page(
    client: httpx.AsyncClient,
    url: str,
    *,
    allow_hosts: Sequence[str] = (),
    max_bytes: int = MAX_BODY_BYTES,
    max_redirects: int = MAX_REDIRECTS,
    run: RunPools | None = None,
) -> FetchedPage:
    """GET one page, following at most ``max_redirects`` redirects, each checked before it is sent.

    ``run``: the connections of the run this page belongs to (closed by the caller when the run ends);
    without it the page's hops get pools of their own, closed before this returns.
    """
    if run is None:
        async with RunPools() as own:
            return await fetch_page(client, url, allow_hosts=allow_hosts, max_bytes=max_bytes,
                                    max_redirects=max_redirects, run=own)  # fmt: skip
    allow = tuple(allow_hosts)
    current, hops = url, [url]
    for _ in range(max_redirects + 1):
        check_url(current, allow)  # cheap static checks; the guarded transport adds DNS + pinning
        request = client.build_request("GET", current, extensions={RUN_POOLS_EXTENSION: run})
        try:
            response = await client.send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise UpstreamTimeout(
                f"{current} did not answer in time.",
                details={"url": current, "reason": "timeout", "status": None},
            ) from exc
        except (httpx.InvalidURL, UnicodeError) as exc:
            # httpx parses a redirect's Location inside send() (for response.next_request) even when it
            # does not follow it: an unparseable one surfaces here, the response already closed ...
            raise _invalid_redirect(current, "", exc) from None
        except httpx.RemoteProtocolError as exc:
            if str(exc).startswith(_HTTPX_BAD_LOCATION):  # ... or wrapped, for some parse errors
                raise _invalid_redirect(current, "", exc) from None
            raise _fetch_error(current, "network", f"could not be reached ({type(exc).__name__}: {exc})") from exc
        except httpx.HTTPError as exc:
            raise _fetch_error(
                current, "network", f"could not be reached ({type(exc).__name__}: {exc})"
            ) from exc
        try:
            status = response.status_code
            location = response.headers.get("location")
            if status in _REDIRECTS and location:
                current = _redirect_target(response.url, location, current)
                hops.append(current)
                continue
            if status >= 400 or status in _REDIRECTS:
                raise _fetch_error(current, "http_status", f"answered HTTP {status}", status)
            header = response.headers.get("content-type", "")
            ctype = header.split(";")[0].strip().lower()
            if ctype and ctype not in _TEXT_TYPES:
                raise _fetch_error(
                    current, "content_type", f"is not a web page (content type {ctype})", status
                )
            try:
                body, truncated = await _read_body(response, current, max_bytes)
            except httpx.TimeoutException as exc:
                details = {"url": current, "reason": "timeout", "status": status}
                raise UpstreamTimeout(f"{current} stopped sending data.", details=details) from exc
            except httpx.HTTPError as exc:
                raise _fetch_error(current, "network", f"broke off while sending ({exc})", status) from exc
            if not ctype and b"\x00" in body[:1024]:
                raise _fetch_error(current, "content_type", "sent binary data without a content type", status)
            text = _decode(body, header)
            return FetchedPage(current, status, ctype or "text/html", text, len(body), truncated, tuple(hops))
        finally:
            await response.aclose()
    raise _fetch_error(url, "too_many_redirects", f"redirected more than {max_redirects} times", None)


def _page_key(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    return f"{host}{parts.path.rstrip('/')}?{parts.query}"


def pick_subpages(home: Page, limit: int) -> list[tuple[str, PageKind]]:
    """Up to ``limit`` links of the homepage, spread over the useful kinds, shallow paths first."""
    seen = {_page_key(home.url)}
    by_kind: dict[PageKind, list[str]] = {}
    for link in home.links:
        kind = classify_link(link.url, link.text)
        if kind is None or kind in {"home", "other"} or _page_key(link.url) in seen:
            continue
        seen.add(_page_key(link.url))
        by_kind.setdefault(kind, []).append(link.url)
    for urls in by_kind.values():
        urls.sort(
            key=lambda u: urlsplit(u).path.rstrip("/").count("/")
        )  # /integrations before /integrations/x
    picked: list[tuple[str, PageKind]] = []
    for rank in range(max((len(v) for v in by_kind.values()), default=0)):
        for kind in _SUBPAGE_ORDER:
            if len(picked) < limit and rank < len(by_kind.get(kind, [])):
                picked.append((by_kind[kind][rank], kind))
    return picked


async def _load(
    client: httpx.AsyncClient, url: str, kind: PageKind, allow: Sequence[str], cache: PageCache | None,
    run: RunPools,
) -> Page:
    if cache is not None:
        check_url(url, allow)  # a cached page is still only served for a URL we would fetch
        cached = await cache.get(url)
        if cached is not None:
            return extract_page(cached, url, kind)
    fetched = await fetch_page(client, url, allow_hosts=allow, run=run)
    html = fetched.text
    if fetched.content_type == "text/plain":
        html = f"<html><body><pre>{html_lib.escape(html)}</pre></body></html>"
    if fetched.truncated:
        log.info("page %s cut at %d bytes", fetched.url, fetched.bytes_read)
    page = extract_page(html, fetched.url, kind, fetched.status)
    if cache is not None and (page.text or page.title):
        await cache.set(url, html)
    return page


def _normalise(url: str) -> str:
    url = url.strip()
    return url if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", url) else f"https://{url}"


async def read_site(
    url: str,
    *,
    client: httpx.AsyncClient | None = None,
    limits: SiteLimits | None = None,
    max_pages: int | None = None,
    page_cache: PageCache | None = None,
) -> SiteSnapshot:
    """The homepage and up to ``max_pages - 1`` sub-pages (about, product, solutions, customers, ...).

    Without ``client`` a guarded one is built (and closed); a caller's own client should be made by
    :func:`build_site_client` too, else only the static URL checks apply (no DNS check, no pinning).
    """
    s = limits or SiteLimits()
    limit = max_pages or s.max_pages
    start = _normalise(url)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + s.site_deadline_s
    http = client or build_site_client(s)
    run = RunPools()  # this run's connections: none of them outlives it (tools.host_pools says why)
    try:
        try:
            async with asyncio.timeout_at(deadline):
                home = await _load(http, start, "home", s.allow_hosts, page_cache, run)
        except TimeoutError as exc:
            details = {"url": start, "reason": "deadline", "status": None}
            raise UpstreamTimeout(
                f"Reading {start} took longer than {s.site_deadline_s:g} s.", details=details
            ) from exc
        if not home.text and not home.title:
            raise _fetch_error(start, "empty", "returned an empty page", home.status)
        pages, errors = [home], []
        root = site_root(home.url)
        # a deep link (docs, help, pricing, a blog post) rarely says what the company sells: read the site's
        # home page too, within the same page budget, and let it speak for the company
        chosen: list[tuple[str, PageKind]] = [(root, "home")] if root and limit > 1 else []
        chosen += [(u, k) for u, k in pick_subpages(home, limit - 1 - len(chosen)) if _page_key(u) != _page_key(root)]
        tasks = [asyncio.create_task(_load(http, u, k, s.allow_hosts, page_cache, run))
                 for u, k in chosen]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=max(0.0, deadline - loop.time()))
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        for (sub_url, _kind), task in zip(chosen, tasks, strict=True):
            if task.cancelled():
                errors.append(f"{sub_url}: not read before the {s.site_deadline_s:g} s deadline")
            elif isinstance(failure := task.exception(), BlueprintError):
                errors.append(f"{sub_url}: {failure.message}")
            elif failure is not None:
                raise failure  # a bug, not a bad page: let it surface
            else:
                pages.append(task.result())
    finally:
        await run.aclose()
        if client is None:
            await http.aclose()
    if root and len(pages) > 1 and pages[1].kind == "home" and (pages[1].text or pages[1].title):
        # the home page first (it names the company and its offer); the deep page read as one of its pages
        pages = [pages[1], home.model_copy(update={"kind": classify_link(home.url) or "other"}), *pages[2:]]
    host = (urlsplit(home.url).hostname or "").removeprefix("www.")
    return SiteSnapshot(url=url, final_url=home.url, domain=host, pages=pages, errors=errors)


def site_root(url: str) -> str:
    """The home page of a deep link's site (same scheme and host), or "" when ``url`` is the home page
    (``/?lang=en`` included: a query on the root path is the home page in another dress)."""
    parts = urlsplit(url)
    if parts.path.strip("/") == "":
        return ""
    return f"{parts.scheme}://{parts.netloc}/"
