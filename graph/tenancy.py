"""Who a blueprint belongs to, when the HTTP API has keys (``BLUEPRINT_API_KEYS``).

* A **tenant** is one API key. Its id is an HMAC of the key with the server secret: stored with the
  blueprint, it names the owner without being the key, and a copy of the cache does not let anyone
  test guessed keys against it.
* The **scope** of a request goes into its run key, so each tenant has its own cache entries, its own
  in-flight runs and its own blueprint ids: tenant B's identical request is B's own run, never a hit
  carrying A's ``generated_at``. With ``BLUEPRINT_SHARE_PUBLIC_BLUEPRINTS`` a **public** request (the
  website and plain options only: no ICP, no sample domains, nothing else the caller brought) is
  shared by every tenant; a request with private inputs never is.
* A blueprint is read by id only by its owner (or by anyone, for a shared public one while sharing
  is on); everyone else gets the same ``404`` as for an id that never existed.
* Without API keys there is one tenant (``None``): everything is shared, as before.

The **server secret** keys blueprint ids and tenant ids: ``BLUEPRINT_SERVER_SECRET``, else one generated
once and kept by the run cache (a file in the cache folder, or a key in Redis), so every worker and
replica sharing the cache agrees on it. While the cache cannot be used a process makes up its own
(nothing is stored meanwhile, so nothing needs to be found again).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import math
import secrets
import time
from typing import TYPE_CHECKING

from graph.schemas import EnrichmentRequest
from tools.errors import RateLimited

if TYPE_CHECKING:
    from graph.cache import IdEntry, RunCache
    from graph.settings import Settings

__all__ = [
    "PUBLIC_SCOPE",
    "RefreshLimiter",
    "ServerSecret",
    "is_public",
    "may_read",
    "resolve_server_secret",
    "scope_for",
    "tenant_id",
]

log = logging.getLogger(__name__)
PUBLIC_SCOPE = "public"
MIN_SECRET_CHARS = 32
SECRET_RETRY_S = 30.0  # how long a made-up secret is used before the cache is asked again
# options that say how to run, not what the caller knows: a request with only these is public
_PUBLIC_OPTIONS = frozenset({"engine", "max_data_points", "providers", "cache", "credit_budget"})


def tenant_id(secret: bytes, api_key: str) -> str:
    """The stored name of the tenant holding ``api_key`` (128 bits; never the key)."""
    return "t_" + hmac.new(secret, b"tenant\0" + api_key.encode(), hashlib.sha256).hexdigest()[:32]


def is_public(request: EnrichmentRequest) -> bool:
    """Nothing but the website and how-to-run options. Defined by what it may hold, so a field added to
    the request later (custom data points, ...) counts as private until it is listed here."""
    given = request.model_dump(exclude={"website", "options"}, exclude_defaults=True)
    if request.icp is not None and request.icp.is_empty():
        given.pop("icp", None)  # an ICP of empty fields says nothing
    options = request.options.model_dump(exclude_defaults=True)
    return not given and set(options) <= _PUBLIC_OPTIONS


def scope_for(request: EnrichmentRequest, tenant: str | None, *, share_public: bool) -> str | None:
    """What goes into the run key besides the request: ``None`` without tenants (one shared cache)."""
    if tenant is None:
        return None
    return PUBLIC_SCOPE if share_public and is_public(request) else tenant


def may_read(entry: IdEntry, tenant: str | None, *, share_public: bool) -> bool:
    """May ``tenant`` read the blueprint this id entry points to?"""
    return entry.owner == tenant or (entry.shared and share_public and tenant is not None)


def resolve_server_secret(settings: Settings, cache: RunCache | None) -> tuple[bytes, bool]:
    """The secret and whether it is durable (configured, or kept by the cache). Blocking (cache I/O)."""
    if settings.server_secret is not None:
        configured = settings.server_secret.get_secret_value()
        if len(configured) < MIN_SECRET_CHARS:  # not refused: a settings error would print the value
            log.warning("BLUEPRINT_SERVER_SECRET is shorter than %d characters: blueprint ids are only as "
                        "hard to guess as it is", MIN_SECRET_CHARS)
        return configured.encode(), True
    kept = cache.server_secret() if cache is not None else None
    if kept is not None:
        return kept, True
    return secrets.token_bytes(32), False


class ServerSecret:
    """The process's view of the server secret: resolved once when durable; while the cache is unusable
    a made-up one, and the cache is asked again every ``SECRET_RETRY_S``."""

    def __init__(self, settings: Settings, cache: RunCache | None) -> None:
        self._settings = settings
        self._cache = cache
        self._durable: bytes | None = None
        self._provisional: bytes | None = None
        self._retry_at = 0.0

    async def get(self) -> bytes:
        if self._durable is not None:
            return self._durable  # the common case: no thread hop, no I/O
        if self._provisional is not None and time.monotonic() < self._retry_at:
            return self._provisional
        secret, durable = await asyncio.to_thread(resolve_server_secret, self._settings, self._cache)
        if durable:
            self._durable = secret
            return secret
        if self._provisional is None:
            log.warning("no server secret (the cache is unusable and BLUEPRINT_SERVER_SECRET is unset): "
                        "blueprint ids made meanwhile are this process's own")
            self._provisional = secret
        self._retry_at = time.monotonic() + SECRET_RETRY_S
        return self._provisional


class RefreshLimiter:
    """At most one ``refresh`` run per window for each name (tenant and blueprint), across every process
    sharing the cache. Identical claims in one process share one cache round trip and its answer."""

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._claims: dict[str, asyncio.Future[float]] = {}

    async def claim(self, cache: RunCache, name: str) -> None:
        """Return when the window is claimed; raise :class:`RateLimited` while the last one lasts."""
        if self.interval_s <= 0:
            return
        claim = self._claims.get(name)
        if claim is None:
            claim = asyncio.ensure_future(asyncio.to_thread(cache.claim_refresh, name, self.interval_s))
            self._claims[name] = claim
            claim.add_done_callback(lambda done: self._claims.pop(name, None) if self._claims.get(name) is done
                                    else None)
        wait_s = await asyncio.shield(claim)  # a caller leaving must not cancel the others' claim
        if wait_s > 0:
            retry_after = max(1, math.ceil(wait_s))
            raise RateLimited(
                f"This blueprint was refreshed less than {self.interval_s:g} s ago: retry in {retry_after} s, "
                "or read it with cache mode 'use'.",
                details={"retry_after_s": retry_after},
            )
