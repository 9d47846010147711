"""The site reader's transport: every request passes the SSRF guard and goes to the address it checked."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, cast

import httpx

from tools import ssrf
from tools.host_pools import RUN_POOLS_EXTENSION, HostGate, HostPools, PoolKey, RunPools, call_on_close
from tools.ssrf import Resolver, Target, resolve_and_check

__all__ = ["GuardedTransport"]


class GuardedTransport(httpx.AsyncBaseTransport):
    """Checks every request with :func:`resolve_and_check` and connects to the checked address.

    The request URL's host is replaced by the IP while the ``Host`` header and the TLS SNI / certificate
    name stay the original host. Connections live in the pools of the request's run (the
    :data:`~tools.host_pools.RUN_POOLS_EXTENSION` extension; a request without one gets pools of its
    own, closed with its response), one pool per original host so TLS sessions are never shared across
    names that happen to share an IP. Across runs only a per-host bound of ``per_host`` requests in
    flight is shared (:mod:`tools.host_pools` says why no pool is). Within a run a host's name is
    looked up once (:meth:`~tools.host_pools.RunPools.resolver`), and every request checks that answer.
    """

    def __init__(
        self,
        allow_hosts: Iterable[str] = (),
        *,
        resolver: Resolver | None = None,
        max_pools: int = 64,
        per_host: int = 10,
        inner: Callable[[], httpx.AsyncBaseTransport] | None = None,
        **transport_kwargs: Any,
    ) -> None:
        """``inner`` makes one host's pool (default: ``httpx.AsyncHTTPTransport(**transport_kwargs)``)."""
        self._allow = list(allow_hosts)
        self._resolver = resolver
        self._max_pools = max_pools
        self._inner = inner or (lambda: httpx.AsyncHTTPTransport(**transport_kwargs))
        self._gate = HostGate(per_host)

    def _new_pools(self) -> HostPools:
        return HostPools(self._inner, max_pools=self._max_pools)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        run = request.extensions.get(RUN_POOLS_EXTENSION)
        resolver = run.resolver(self._resolver or ssrf.system_resolve) if isinstance(run, RunPools) else self._resolver
        target = await resolve_and_check(request.url, self._allow, resolver=resolver)
        key = (request.url.scheme, target.host, target.port)
        own = None if isinstance(run, RunPools) else self._new_pools()
        pools = own if own is not None else cast(RunPools, run).pools_for(self, self._new_pools)
        pool_timeout = request.extensions.get("timeout", {}).get("pool")
        release = await self._gate.enter(key, request, pool_timeout)
        try:
            response = await self._send(pools, key, target, request)
        except BaseException:
            await release()
            if own is not None:
                await own.aclose()
            raise

        async def done() -> None:
            await release()
            if own is not None:
                await own.aclose()

        call_on_close(response, done)
        return response

    async def _send(self, pools: HostPools, key: PoolKey, target: Target, request: httpx.Request) -> httpx.Response:
        if target.is_ip_literal:
            return await pools.send(key, request)
        extensions = dict(request.extensions)
        if request.url.scheme == "https":
            extensions["sni_hostname"] = target.host
        last_error: httpx.ConnectError | None = None
        for address in target.addresses[:2]:  # a second address only if the first refuses to connect
            pinned = httpx.Request(
                request.method,
                request.url.copy_with(host=address),
                headers=request.headers,  # keeps the original Host header
                stream=request.stream,
                extensions=extensions,
            )
            try:
                return await pools.send(key, pinned)
            except httpx.ConnectError as exc:
                last_error = exc
        assert last_error is not None
        raise last_error
