"""The SSRF guard: every vector is refused before a byte is sent; the allow-list is the only way through."""

from __future__ import annotations

import asyncio
import ipaddress

import httpx
import pytest

from tests.support.site_server import html, redirect, serve_site
from tools.errors import BlockedURL, SiteFetchError
from tools.guarded_transport import GuardedTransport
from tools.host_pools import RUN_POOLS_EXTENSION, RunPools
from tools.ssrf import blocked_reason, check_url, parse_ip_host, resolve_and_check


def fake_resolver(table: dict[str, list[str]], calls: list[str] | None = None):
    async def resolve(host: str, port: int) -> list[str]:
        if calls is not None:
            calls.append(host)
        if host not in table:
            raise OSError(f"Name or service not known: {host}")
        return table[host]

    return resolve


BLOCKED = [
    ("http://127.0.0.1/", "loopback"),
    ("http://127.0.0.1:8080/admin", "loopback"),
    ("http://10.0.0.1/", "private"),
    ("http://10.255.255.254/", "private"),
    ("http://172.16.0.1/", "private"),
    ("http://172.31.255.1/", "private"),
    ("http://192.168.1.1/", "private"),
    ("http://169.254.169.254/latest/meta-data/", "metadata"),
    ("http://169.254.1.1/", "link_local"),
    ("http://100.64.0.1/", "cgnat"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://0/", "unspecified"),
    ("http://224.0.0.1/", "multicast"),
    ("http://240.0.0.1/", "reserved"),
    ("http://[::1]/", "loopback"),
    ("http://[::]/", "unspecified"),
    ("http://[::ffff:127.0.0.1]/", "embedded_loopback"),
    ("http://[::ffff:169.254.169.254]/", "embedded_metadata"),
    ("http://[::ffff:10.0.0.1]/", "embedded_private"),
    ("http://[::127.0.0.1]/", "embedded_loopback"),
    ("http://[2002:7f00:1::]/", "embedded_loopback"),  # 6to4 of 127.0.0.1
    ("http://[64:ff9b::a9fe:a9fe]/", "embedded_metadata"),  # NAT64 of 169.254.169.254
    ("http://[fe80::1]/", "link_local"),
    ("http://[fc00::1]/", "private"),
    ("http://[ff02::1]/", "multicast"),
    ("http://2130706433/", "loopback"),  # decimal
    ("http://0x7f000001/", "loopback"),  # hex, one part
    ("http://0x7f.1/", "loopback"),  # hex, short form
    ("http://0177.0.0.1/", "loopback"),  # octal
    ("http://0177.1/", "loopback"),
    ("http://127.1/", "loopback"),  # short form
    ("http://127.0.1/", "loopback"),
    ("http://0xa9.0xfe.0xa9.0xfe/", "metadata"),
    ("http://127.0.0.1./", "loopback"),  # trailing dot
    ("http://localhost/", "internal_name"),
    ("http://LOCALHOST:8000/", "internal_name"),
    ("http://api.localhost/", "internal_name"),
    ("http://metadata.google.internal/computeMetadata/v1/", "internal_name"),
    ("http://metadata.google.internal./", "internal_name"),
    ("http://printer.local/", "internal_name"),
    ("http://good.com@127.0.0.1/", "userinfo"),
    ("http://user:pass@example.com/", "userinfo"),
    ("http://127.0.0.1\\@good.com/", "userinfo"),
    ("file:///etc/passwd", "scheme"),
    ("gopher://127.0.0.1:6379/_INFO", "scheme"),
    ("ftp://example.com/", "scheme"),
    ("dict://example.com:11211/", "scheme"),
    ("javascript:alert(1)", "scheme"),
    ("http://999.1.1.1/", "invalid_url"),
]


@pytest.mark.parametrize(("url", "reason"), BLOCKED)
async def test_blocked_vectors(url: str, reason: str) -> None:
    resolver = fake_resolver({})  # nothing may need DNS: every vector is refused statically
    with pytest.raises(BlockedURL) as caught:
        await resolve_and_check(url, [], resolver=resolver)
    err = caught.value
    assert err.code == "blocked_url" and err.status == 422
    assert err.details == {"url": url, "reason": reason}
    assert url in err.message


@pytest.mark.parametrize(
    ("host", "ip"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("10.1", "10.0.0.1"),
        ("192.168.257", "192.168.1.1"),
        ("[::ffff:127.0.0.1]", "::ffff:127.0.0.1"),
        ("example.com", None),
        ("1password.com", None),
    ],
)
def test_parse_ip_host_reads_inet_aton_spellings(host: str, ip: str | None) -> None:
    parsed = parse_ip_host(host)
    assert (str(parsed) if parsed else None) == (str(ipaddress.ip_address(ip)) if ip else None)


def test_parse_ip_host_rejects_bad_numeric_hosts() -> None:
    for host in ("256.256.256.256.256", "1.2.3.09", "0x1g.1"):
        with pytest.raises(ValueError):
            parse_ip_host(host)


def test_public_addresses_pass() -> None:
    for ip in ("8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"):
        assert blocked_reason(ipaddress.ip_address(ip)) is None


async def test_public_host_resolves_and_passes() -> None:
    target = await resolve_and_check(
        "https://www.example.com/pricing",
        [],
        resolver=fake_resolver({"www.example.com": ["2606:2800::1", "93.184.215.14"]}),
    )
    assert target.host == "www.example.com" and target.port == 443
    assert target.addresses == ("93.184.215.14", "2606:2800::1")  # IPv4 first
    assert not target.is_ip_literal


@pytest.mark.parametrize(
    "answer", [["10.0.0.7"], ["93.184.215.14", "127.0.0.1"], ["::1"], ["169.254.169.254"]]
)
async def test_dns_name_resolving_to_private_address_is_blocked(answer: list[str]) -> None:
    with pytest.raises(BlockedURL) as caught:
        await resolve_and_check(
            "https://innocent.example/", [], resolver=fake_resolver({"innocent.example": answer})
        )
    assert "innocent.example resolves to" in caught.value.message


async def test_dns_failure_is_a_site_fetch_error() -> None:
    with pytest.raises(SiteFetchError) as caught:
        await resolve_and_check("https://nowhere.example/", [], resolver=fake_resolver({}))
    assert caught.value.details["reason"] == "dns"


def test_allow_list_lets_named_hosts_and_networks_through() -> None:
    assert check_url("http://127.0.0.1:8000/", ["127.0.0.1"])[1] == ipaddress.ip_address("127.0.0.1")
    check_url("http://10.1.2.3/", ["10.0.0.0/8"])
    check_url("http://localhost:3000/", ["localhost"])
    check_url("http://169.254.169.254/", ["*"])
    with pytest.raises(BlockedURL):
        check_url("http://127.0.0.2/", ["127.0.0.1"])
    # Even '*' keeps the scheme and userinfo rules.
    for url in ("file:///etc/passwd", "http://a@127.0.0.1/"):
        with pytest.raises(BlockedURL):
            check_url(url, ["*"])


async def test_allow_listed_name_may_resolve_privately() -> None:
    resolver = fake_resolver({"dev.test": ["127.0.0.1"]})
    target = await resolve_and_check("http://dev.test:8000/", ["dev.test"], resolver=resolver)
    assert target.addresses == ("127.0.0.1",)


async def test_allow_list_lets_127_0_0_1_through_to_a_real_server() -> None:
    with serve_site({"/": html("<h1>ok</h1>")}) as site:
        async with httpx.AsyncClient(transport=GuardedTransport(["127.0.0.1"])) as client:
            response = await client.get(site.url + "/")
        assert response.status_code == 200 and site.hits["/"] == 1


async def test_blocked_target_receives_zero_requests() -> None:
    with serve_site({"/": html("secret")}) as internal:
        async with httpx.AsyncClient(transport=GuardedTransport([])) as client:
            for url in (
                internal.url + "/",
                internal.url_for("/", host="localhost"),
                internal.url_for("/", host="0x7f.1"),
            ):
                with pytest.raises(BlockedURL):
                    await client.get(url)
        assert internal.hits["/"] == 0


async def test_redirect_from_allowed_host_to_blocked_host_is_never_followed() -> None:
    with serve_site({"/": html("internal admin")}) as internal, serve_site({}) as public:
        public.routes["/go"] = redirect(internal.url + "/")
        resolver = fake_resolver({"public.test": ["127.0.0.1"]})
        async with httpx.AsyncClient(
            transport=GuardedTransport(["public.test"], resolver=resolver), follow_redirects=True
        ) as client:
            with pytest.raises(BlockedURL):
                await client.get(public.url_for("/go", host="public.test"))
        assert public.hits["/go"] == 1
        assert internal.hits["/"] == 0


async def test_transport_connects_to_the_checked_address_and_keeps_the_host_header() -> None:
    """DNS rebinding: the name is resolved once per request and the connection goes to that answer."""
    calls: list[str] = []
    answers = iter([["127.0.0.1"], ["10.9.9.9"]])

    async def rebinding(host: str, port: int) -> list[str]:
        calls.append(host)
        return next(answers)

    with serve_site({"/": html("<p>hello</p>")}) as site:
        transport = GuardedTransport(["127.0.0.1"], resolver=rebinding)
        async with httpx.AsyncClient(transport=transport) as client:
            first = await client.get(site.url_for("/", host="rebind.test"))
            assert first.status_code == 200 and first.text == "<p>hello</p>"
            assert str(first.request.url).startswith("http://rebind.test:")  # the caller sees its own URL
            with pytest.raises(BlockedURL):  # the next answer is private: refused, not connected to
                await client.get(site.url_for("/", host="rebind.test"))
        assert calls == ["rebind.test", "rebind.test"]
        assert site.hits["/"] == 1
        assert site.requests[0].headers["Host"] == f"rebind.test:{site.port}"


async def test_a_run_looks_a_name_up_once_and_every_request_still_checks_the_answer() -> None:
    """Within one run (a RunPools) the pages of a host share one look-up; a failed look-up is asked
    again; a run's answer that is private is refused on every request, as without the sharing."""
    calls: list[str] = []
    table = {"shop.test": ["127.0.0.1"]}
    with serve_site({"/": html("<p>home</p>"), "/about": html("<p>about</p>")}) as site:
        transport = GuardedTransport(["shop.test"], resolver=fake_resolver(table, calls))
        async with httpx.AsyncClient(transport=transport) as client, RunPools() as run:
            pages = await asyncio.gather(*(
                client.get(site.url_for(path, host="shop.test"), extensions={RUN_POOLS_EXTENSION: run})
                for path in ("/", "/about", "/")))
            assert [p.text for p in pages] == ["<p>home</p>", "<p>about</p>", "<p>home</p>"]
            assert calls == ["shop.test"]
            with pytest.raises(SiteFetchError):  # not in the table: the look-up fails ...
                await client.get(site.url_for("/", host="gone.test"), extensions={RUN_POOLS_EXTENSION: run})
            table["gone.test"] = ["127.0.0.1"]
            with pytest.raises(BlockedURL):  # ... and is asked again; its answer is checked (not allowed)
                await client.get(site.url_for("/", host="gone.test"), extensions={RUN_POOLS_EXTENSION: run})
            assert calls == ["shop.test", "gone.test", "gone.test"]
        assert site.hits["/"] == 2 and site.hits["/about"] == 1


async def test_https_keeps_sni_hostname_for_the_pinned_connection() -> None:
    seen: list[httpx.Request] = []

    class Recorder(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return httpx.Response(200, text="ok")

    transport = GuardedTransport(
        [], resolver=fake_resolver({"shop.example": ["93.184.215.14"]}), inner=Recorder
    )
    async with httpx.AsyncClient(transport=transport) as client:
        await client.get("https://shop.example/pricing")
    (sent,) = seen
    assert sent.url.host == "93.184.215.14" and sent.url.path == "/pricing"
    assert sent.headers["host"] == "shop.example"
    assert sent.extensions["sni_hostname"] == "shop.example"


@pytest.mark.parametrize(("url", "host"), [("http://127.0.0.1:8000/", "127.0.0.1"), ("http://10.0.0.1/", "10.0.0.1"),
                                           ("http://localhost:3000/", "localhost"), ("http://[::1]/", "::1")])
def test_a_refusal_that_the_allow_list_could_lift_names_the_setting(url: str, host: str) -> None:
    with pytest.raises(BlockedURL) as caught:
        check_url(url)
    assert f"set BLUEPRINT_ALLOW_PRIVATE_HOSTS={host}" in caught.value.message


async def test_a_name_resolving_privately_names_the_setting_with_the_name() -> None:
    with pytest.raises(BlockedURL) as caught:
        await resolve_and_check("http://dev.test/", [], resolver=fake_resolver({"dev.test": ["192.168.1.9"]}))
    assert "set BLUEPRINT_ALLOW_PRIVATE_HOSTS=dev.test" in caught.value.message


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/", "ftp://example.com/",
                                 "http://user@example.com/"])
def test_refusals_no_setting_may_lift_do_not_suggest_it(url: str) -> None:
    with pytest.raises(BlockedURL) as caught:
        check_url(url)
    assert "BLUEPRINT_ALLOW_PRIVATE_HOSTS" not in caught.value.message

def test_a_host_port_allow_entry_admits_that_port_only() -> None:
    check_url("http://127.0.0.1:8000/", ["127.0.0.1:8000"])
    check_url("http://localhost:3000/x", ["localhost:3000"])
    check_url("http://[::1]:8080/", ["[::1]:8080"])
    for url, allow in (("http://127.0.0.1:22/", "127.0.0.1:8000"), ("http://127.0.0.1/", "127.0.0.1:8000"),
                       ("http://localhost:6379/", "localhost:3000"), ("http://[::1]:22/", "[::1]:8080")):  # fmt: skip
        with pytest.raises(BlockedURL):
            check_url(url, [allow])
    check_url("http://127.0.0.1:22/", ["127.0.0.1"])  # a bare host still admits every port
    check_url("http://[::1]:22/", ["::1"])


async def test_a_host_port_entry_admits_a_private_answer_on_that_port_only() -> None:
    resolver = fake_resolver({"dev.test": ["127.0.0.1"]})
    assert (await resolve_and_check("http://dev.test:8000/", ["dev.test:8000"], resolver=resolver)).port == 8000
    assert (await resolve_and_check("http://dev.test/", ["dev.test:80"], resolver=resolver)).port == 80
    with pytest.raises(BlockedURL):
        await resolve_and_check("http://dev.test:9000/", ["dev.test:8000"], resolver=resolver)
    with pytest.raises(BlockedURL):  # https means port 443, which the entry does not name
        await resolve_and_check("https://dev.test/", ["dev.test:80"], resolver=resolver)


@pytest.mark.parametrize("url", ["http://xn--/", "http://xn--a/", "http://xn--ls8h.la/", "http://a:99999/",
                                 "http://a:0/", "http:127.0.0.2"])  # fmt: skip
def test_urls_no_parser_accepts_are_blocked_not_crashes(url: str) -> None:
    with pytest.raises(BlockedURL) as caught:
        check_url(url, ["*"])
    assert caught.value.details["reason"] == "invalid_url"
