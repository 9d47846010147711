"""Property-based: no URL a caller sends and no redirect a site answers can crash the reader.

Every URL is either accepted or refused as ``validation_error`` (the request model) / ``blocked_url``
(the SSRF guard); a redirect target ends in a page or a ``BlueprintError`` — never another exception,
which the server would turn into a 500. Found this way before the fix: IDNA errors (``http://xn--/``,
``http://xn--a/``) escaping ``check_url``, and an unparseable ``Location`` escaping ``fetch_page``.
"""

from __future__ import annotations

import asyncio
import string
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.provisional import urls
from pydantic import ValidationError

from graph.schemas import EnrichmentRequest
from tests.support.site_server import SiteServer, redirect, serve_site
from tools.errors import BlockedURL, BlueprintError
from tools.website import SiteLimits, build_site_client, fetch_page

SITE_HOST = "site.test"
# the same examples every run, nothing stored between runs: offline tests that never flicker
DETERMINISTIC = {"derandomize": True, "database": None, "deadline": None}

_host_chars = string.ascii_letters + string.digits + ".-_%[]:@!$&'()*+,;=~" + "xn--" + "ßéü☃\u0300\u200d０"
hosts = st.one_of(
    st.text(alphabet=_host_chars, max_size=30),
    st.builds(lambda a, b: f"xn--{a}.{b}", st.text(alphabet=string.ascii_lowercase + "-0", max_size=6),
              st.sampled_from(["", "com", "xn--", "la"])),
    st.ip_addresses().map(lambda ip: f"[{ip}]" if ip.version == 6 else str(ip)),
    st.integers(min_value=0, max_value=2**40).map(str),
)
ports = st.one_of(st.just(""), st.integers(min_value=-5, max_value=200_000).map(lambda p: f":{p}"),
                  st.text(alphabet=":0123456789abc", max_size=6).map(lambda t: f":{t}"))  # fmt: skip
schemes = st.sampled_from(["http://", "https://", "HTTP://", "http:", "https:/", "http:\\\\", "//", "", "ftp://",
                           "javascript:", "http:///"])  # fmt: skip
paths = st.text(alphabet=string.printable + "é☃", max_size=20)
url_like = st.one_of(
    st.builds(lambda s, u, h, p, path: f"{s}{u}{h}{p}{path}", schemes,
              st.sampled_from(["", "user@", "a:b@", "@"]), hosts, ports, paths),
    urls(),
    st.text(max_size=40),
)
allow_lists = st.sampled_from([(), ("*",), ("127.0.0.1",), ("127.0.0.1:8000",), ("localhost", "10.0.0.0/8"),
                               ("[::1]:8080",), ("xn--",)])  # fmt: skip


@given(url=url_like, allow=allow_lists)
@example(url="http://xn--/", allow=())
@example(url="http://xn--a/", allow=("*",))
@example(url="http://xn--ls8h.la/", allow=())
@example(url="http:127.0.0.2", allow=())
@example(url="http://a:99999/", allow=("*",))
@settings(max_examples=400, **DETERMINISTIC)
def test_a_website_is_accepted_or_refused_as_validation_or_blocked_url(url: str, allow: tuple[str, ...]) -> None:
    from tools.ssrf import check_url

    try:
        request = EnrichmentRequest.model_validate({"website": url})
    except ValidationError:
        return  # validation_error (422)
    try:
        check_url(request.website, allow)
    except BlockedURL:
        return  # blocked_url (422)


@pytest.fixture(scope="module")
def redirecting_site() -> Iterator[SiteServer]:
    with serve_site({"/": redirect("/"), "/landing": "<h1>landed</h1>"}) as site:
        yield site


async def _follow(site: SiteServer, location: str) -> str:
    """``ok`` or the error code the API would answer."""
    async def resolver(host: str, port: int) -> list[str]:
        if host == SITE_HOST:
            return ["127.0.0.1"]
        raise OSError(f"no such host {host}")  # offline: every other name fails at once

    limits = SiteLimits(allow_hosts=(SITE_HOST,), fetch_timeout_s=2.0)
    site.routes["/"] = redirect(location)
    async with build_site_client(limits, resolver=resolver) as client:
        try:
            await fetch_page(client, site.url_for("/", host=SITE_HOST), allow_hosts=limits.allow_hosts)
        except BlueprintError as exc:
            return exc.code
    return "ok"


# what the server can put in a header line: latin-1, no line breaks
header_text = st.text(alphabet=st.characters(max_codepoint=255, exclude_characters="\r\n\x00"), max_size=40)
locations = st.one_of(
    url_like.filter(lambda u: all(ord(c) < 256 and c not in "\r\n\x00" for c in u)),
    header_text,
    st.builds(lambda p: f"http://{SITE_HOST}{p}", ports),
)


@given(location=locations)
@example(location="http:127.0.0.2")
@example(location="http://[::1")
@example(location="http://xn--/")
@example(location="//xn--a/")
@example(location="http://a:99999/")
@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture], **DETERMINISTIC)
def test_no_redirect_target_escapes_as_anything_but_a_blueprint_error(
    redirecting_site: SiteServer, location: str
) -> None:
    outcome = asyncio.run(_follow(redirecting_site, location))
    # a page, a refusal, or a site that failed (too many redirects, 404, unknown name): each an envelope
    assert outcome in {"ok", "blocked_url", "upstream_error", "timeout"}


def test_an_unparseable_redirect_is_blocked_url(redirecting_site: SiteServer) -> None:
    with pytest.raises(BlockedURL) as caught:
        asyncio.run(_strict_follow(redirecting_site, "http://[::1"))
    assert caught.value.details["reason"] == "invalid_url"


async def _strict_follow(site: SiteServer, location: str) -> None:
    site.routes["/"] = redirect(location)
    limits = SiteLimits(allow_hosts=("127.0.0.1",))
    async with build_site_client(limits) as client:
        await fetch_page(client, site.url + "/", allow_hosts=limits.allow_hosts)


def test_httpx_still_rejects_what_the_properties_rely_on() -> None:
    with pytest.raises(httpx.InvalidURL):  # if httpx starts accepting it, the redirect test loses its case
        httpx.URL("http://site.test/").join("http://[::1")
