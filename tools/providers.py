"""Build the provider clients for one run or one server lifespan, from settings.

Clients are only created for providers that are both requested and configured with a key. Rate
limiters are shared across runs (a provider's limit is per key, not per run), so two runs in the same
server do not each believe they own the whole budget.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from graph.settings import Settings
from tools.apollo import ApolloClient
from tools.clearbit import ClearbitClient
from tools.http import ProviderLimiter, ResponseCache, make_client

__all__ = ["KNOWN_PROVIDERS", "ProviderClients", "build_provider_clients", "shared_limiter"]

KNOWN_PROVIDERS = ("apollo", "clearbit")
# Limiters are per event loop: asyncio primitives bind to one loop, and sync callers (notebooks, the
# CLI) run each blueprint in a fresh loop. Filled lazily: nothing is built at import time.
_LIMITERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, ProviderLimiter]] = (
    weakref.WeakKeyDictionary()
)


def shared_limiter(provider: str) -> ProviderLimiter:
    """The limiter shared by every client of ``provider`` in the running event loop."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # built outside a loop: nothing to share with
        return ProviderLimiter(provider)
    per_loop = _LIMITERS.setdefault(loop, {})
    if provider not in per_loop:
        per_loop[provider] = ProviderLimiter(provider)
    return per_loop[provider]


@dataclass
class ProviderClients:
    """The configured provider clients of one run; either may be None (no key, or not requested)."""

    apollo: ApolloClient | None = None
    clearbit: ClearbitClient | None = None

    @property
    def configured(self) -> list[str]:
        return [name for name in KNOWN_PROVIDERS if getattr(self, name) is not None]

    def usage(self) -> dict[str, dict[str, int]]:
        """``meta.provider_calls``: calls, credits, errors and cache hits per configured provider."""
        out: dict[str, dict[str, int]] = {}
        if self.apollo is not None:
            out["apollo"] = self.apollo.usage.as_dict()
        if self.clearbit is not None:
            out["clearbit"] = self.clearbit.usage.as_dict()
        return out

    async def aclose(self) -> None:
        for client in (self.apollo, self.clearbit):
            if client is not None:
                await client.aclose()

    async def __aenter__(self) -> ProviderClients:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()


def build_provider_clients(
    settings: Settings,
    providers: list[str],
    *,
    cache: ResponseCache | None = None,
    http_factory: Callable[[str], httpx.AsyncClient] | None = None,
    timeout: float = 15.0,
) -> ProviderClients:
    """Clients for the requested providers that have a key. ``http_factory(provider)`` lets a test or
    the server supply the ``httpx.AsyncClient`` (the client then closes it on ``aclose``)."""

    def http(provider: str) -> httpx.AsyncClient:
        return http_factory(provider) if http_factory else make_client(provider, timeout=timeout)

    clients = ProviderClients()
    secrets = settings.secret_values  # each client masks all of them, not only its own key
    wanted = {p.strip().lower() for p in providers}
    if "apollo" in wanted and settings.apollo_api_key is not None:
        clients.apollo = ApolloClient(
            settings.apollo_api_key, settings.apollo_base_url, http=http("apollo"), cache=cache,
            limiter=shared_limiter("apollo"), owns_http=True, secrets=secrets,
        )
    if "clearbit" in wanted and settings.clearbit_api_key is not None:
        clients.clearbit = ClearbitClient(
            settings.clearbit_api_key, settings.clearbit_base_url, http=http("clearbit"), cache=cache,
            limiter=shared_limiter("clearbit"), owns_http=True, secrets=secrets,
        )
    return clients
