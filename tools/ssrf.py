"""SSRF guard: only public http(s) hosts are fetched, and the connection goes to the checked address.

Before any byte leaves: only ``http``/``https``, no credentials in the URL (``http://good.com@127.0.0.1/``);
the host is read with the client's own parser (httpx), then the IPv4 spellings ``inet_aton`` accepts
(``2130706433``, ``0x7f.1``, ``0177.0.0.1``, ``127.1``) are decoded; internal names (``localhost``,
``metadata.google.internal``) are refused; the name is resolved once and refused if *any* address is not
globally routable, IPv6 forms embedding IPv4 included (mapped, compatible, 6to4, NAT64); and
:class:`tools.guarded_transport.GuardedTransport` connects to the checked address, so DNS rebinding
cannot redirect the request.

``allow_hosts`` (setting ``BLUEPRINT_ALLOW_PRIVATE_HOSTS``) lets named hosts, IPs or networks through
for local development and tests — on every port, or with ``host:port`` (``[::1]:8000``) on that port
only; ``*`` lets everything through (scheme and userinfo rules still hold). A URL that cannot be parsed
(IDNA errors such as ``http://xn--/``, a port out of range) is refused like any other: ``BlockedURL``.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from tools.errors import BlockedURL, SiteFetchError

__all__ = ["ALLOW_SETTING", "Resolver", "Target", "blocked_reason", "check_url", "describe",
           "parse_ip_host", "resolve_and_check", "system_resolve"]  # fmt: skip

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]

_SCHEMES = {"http": 80, "https": 443}
_BLOCKED_NAMES = {"localhost", "metadata.google.internal", "metadata.goog", "metadata", "instance-data"}
_BLOCKED_SUFFIXES = (".localhost", ".internal", ".local", ".home.arpa", ".localdomain")  # private-use names
_METADATA_IPS = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPAT = ipaddress.ip_network("::/96")
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$", re.IGNORECASE)


@dataclass(frozen=True)
class Target:
    """A URL that passed the guard, with the addresses it may be fetched from."""

    url: httpx.URL
    host: str  # normalised: lower case, no brackets, no trailing dot
    port: int
    addresses: tuple[str, ...]  # checked IPs, IPv4 first; connect to these only
    is_ip_literal: bool


ALLOW_SETTING = "BLUEPRINT_ALLOW_PRIVATE_HOSTS"


def _block(url: str, reason: str, message: str, *, allowable_host: str | None = None) -> BlockedURL:
    """A refusal. When the host could be let through for local development (a private or loopback
    address, an internal name; never a cloud metadata address), the message says how."""
    text = f"Refusing to fetch {url}: {message}."
    if allowable_host is not None and reason != "metadata":
        text += f" To allow it for local development, set {ALLOW_SETTING}={allowable_host}."
    return BlockedURL(text, details={"url": url, "reason": reason})


def _parse_ipv4_loose(host: str) -> ipaddress.IPv4Address | None:
    """IPv4 the way inet_aton reads it: 1-4 parts, each decimal, 0x-hex or 0-octal; last part fills."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    values: list[int] = []
    for part in parts:
        if not part:
            return None
        try:
            if part.lower().startswith("0x"):
                values.append(int(part[2:] or "0", 16))
            elif len(part) > 1 and part.startswith("0"):
                values.append(int(part, 8))
            else:
                values.append(int(part, 10))
        except ValueError:
            return None
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (4 - len(head)):
        return None
    number = last
    for i, value in enumerate(head):
        number += value << (8 * (3 - i))
    return ipaddress.IPv4Address(number)


def parse_ip_host(host: str) -> IPAddress | None:
    """The IP a host string denotes, or None for a DNS name. Raises ValueError for a bad numeric host."""
    host = host.strip("[]").rstrip(".").lower()
    try:
        return ipaddress.ip_address(host.replace("%25", "%"))
    except ValueError:
        pass
    if ":" in host:
        raise ValueError(f"invalid IPv6 address {host!r}")
    # Like the WHATWG URL parser: a numeric last label makes the whole host an IPv4 address.
    if _NUMERIC_LABEL.match(host.rsplit(".", 1)[-1]):
        ip = _parse_ipv4_loose(host)
        if ip is None:
            raise ValueError(f"invalid IPv4 address {host!r}")
        return ip
    return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64[0] or (ip in _IPV4_COMPAT and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


_DESCRIPTIONS = {
    "metadata": "cloud metadata address",
    "unspecified": "unspecified address",
    "loopback": "loopback address",
    "link_local": "link-local address",
    "multicast": "multicast address",
    "cgnat": "shared (CGNAT) address",
    "private": "private address",
    "reserved": "reserved address",
    "non_public": "non-public address",
    "tunnel": "tunnelled (Teredo/NAT64) address",
}


def describe(reason: str) -> str:
    """A reason code of :func:`blocked_reason` in words."""
    if reason.startswith("embedded_"):
        return f"IPv6 address embedding a {_DESCRIPTIONS[reason.removeprefix('embedded_')]}"
    return _DESCRIPTIONS.get(reason, reason.replace("_", " "))


def blocked_reason(ip: IPAddress) -> str | None:
    """Why an address must not be fetched (a code such as ``loopback``), or None when it is public."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            inner = blocked_reason(embedded)
            return f"embedded_{inner}" if inner else None
        if ip in _NAT64[1] or ip.teredo is not None:
            return "tunnel"
    checks = (
        (ip in _METADATA_IPS, "metadata"),
        (ip.is_unspecified, "unspecified"),
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link_local"),
        (ip.is_multicast, "multicast"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT, "cgnat"),
        (ip.is_reserved, "reserved"),
        (ip.is_private, "private"),
        (not ip.is_global, "non_public"),
    )
    return next((reason for hit, reason in checks if hit), None)


def _allow_entry(entry: str) -> tuple[str, int | None]:
    """An allow-list entry as (host, port): ``host``, ``host:port``, ``[v6]:port``, an IP, a network or ``*``."""
    entry = entry.strip().lower()
    if entry.startswith("["):  # [v6] or [v6]:port
        host, _, rest = entry[1:].partition("]")
        port = rest.removeprefix(":")
        return host, int(port) if port.isdigit() else None
    host, sep, port = entry.rpartition(":")
    if sep and port.isdigit() and ":" not in host:  # one colon: host:port (a bare IPv6 has several)
        return host.rstrip("."), int(port)
    return entry.rstrip("."), None


def _allowed(host: str, ip: IPAddress | None, allow_hosts: Iterable[str], port: int | None = None) -> bool:
    """Whether an allow-list entry admits ``host`` (or ``ip``) on ``port``; an entry without a port
    admits every port, ``host:port`` only that one."""
    for raw in allow_hosts:
        entry, entry_port = _allow_entry(raw)
        if entry_port is not None and entry_port != port:
            continue
        if entry == "*" or entry == host:
            return True
        if ip is not None:
            try:
                if ip in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                continue
    return False


def _odd_host_reason(url: str) -> str | None:
    """For a URL httpx refuses: explain it when the host is an IP spelling (e.g. ``0177.0.0.1``)."""
    try:
        host = urlsplit(url).hostname or ""
        ip = _parse_ipv4_loose(host)
    except ValueError:
        return None
    return blocked_reason(ip) if ip is not None else None


def check_url(url: str | httpx.URL, allow_hosts: Iterable[str] = ()) -> tuple[httpx.URL, IPAddress | None]:
    """Checks that need no DNS: scheme, userinfo, reserved names and IP literals.

    Returns the parsed URL and the IP when the host is a literal. Raises :class:`BlockedURL`.
    Memoized for accepted URLs (the checks are pure): every request and every page fetch calls it.
    """
    return _check_url(str(url), tuple(allow_hosts))


@functools.lru_cache(maxsize=4096)  # a refusal raises, and raising is never cached
def _check_url(raw: str, allow: tuple[str, ...]) -> tuple[httpx.URL, IPAddress | None]:
    try:
        parsed = httpx.URL(raw)
        port, host = parsed.port, parsed.host.rstrip(".").lower()  # the host is IDNA-decoded here
    except (httpx.InvalidURL, UnicodeError, ValueError) as exc:  # IDNA errors are UnicodeErrors
        odd = _odd_host_reason(raw)
        if odd:
            raise _block(raw, odd, f"the host is a {describe(odd)}") from None
        raise _block(raw, "invalid_url", f"not a valid URL ({exc})") from None
    if port is not None and not 0 < port < 65536:
        raise _block(raw, "invalid_url", f"port {port} does not exist")
    if parsed.scheme not in _SCHEMES:
        raise _block(raw, "scheme", f"only http and https URLs are fetched, not {parsed.scheme or 'none'!r}")
    if parsed.userinfo:
        raise _block(raw, "userinfo", "URLs with credentials (user@host) are not fetched")
    if not host:
        raise _block(raw, "invalid_url", "the URL has no host")
    try:
        ip = parse_ip_host(host)
    except ValueError as exc:
        raise _block(raw, "invalid_host", str(exc)) from None
    if _allowed(host, ip, allow, port or _SCHEMES[parsed.scheme]):
        return parsed, ip
    if ip is None and (host in _BLOCKED_NAMES or host.endswith(_BLOCKED_SUFFIXES)):
        raise _block(raw, "internal_name", f"{host!r} names an internal or local service", allowable_host=host)
    if ip is not None and (reason := blocked_reason(ip)):
        raise _block(raw, reason, f"{host} is a {describe(reason)}", allowable_host=host)
    return parsed, ip


async def system_resolve(host: str, port: int) -> list[str]:
    """All addresses of ``host`` from the system resolver (without blocking the event loop)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def resolve_and_check(
    url: str | httpx.URL, allow_hosts: Iterable[str] = (), *, resolver: Resolver | None = None
) -> Target:
    """Check ``url``, resolve its host once and check every address. Raises BlockedURL/SiteFetchError."""
    allow = list(allow_hosts)
    parsed, literal = check_url(url, allow)
    host = parsed.host.rstrip(".").lower()
    port = parsed.port or _SCHEMES[parsed.scheme]
    if literal is not None:
        return Target(parsed, host, port, (str(literal),), True)
    resolve = resolver or system_resolve
    try:
        found = await resolve(host, port)
    except (OSError, UnicodeError) as exc:
        found, failure = [], f"Could not resolve {host}: {exc}."
    else:
        failure = f"{host} has no address."
    if not found:
        raise SiteFetchError(failure, details={"url": str(url), "reason": "dns", "status": None})
    addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in found]
    host_allowed = _allowed(host, None, allow, port)
    for ip in addresses:
        reason = blocked_reason(ip)
        if reason and not host_allowed and not _allowed(host, ip, allow, port):
            raise _block(str(url), reason, f"{host} resolves to {ip}, a {describe(reason)}",
                         allowable_host=host)
    ordered = sorted(addresses, key=lambda a: a.version)  # IPv4 first: many hosts lack IPv6 routes
    return Target(parsed, host, port, tuple(str(a) for a in ordered), False)
