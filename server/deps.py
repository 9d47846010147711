"""``Annotated`` dependencies: settings, the runner, the request id, API-key auth and the tenant.

The long-lived objects (settings, run cache, runner) are created once by the app's lifespan and kept on
``app.state``; these dependencies only hand them out. They are ``async def`` on purpose: FastAPI runs a
plain ``def`` dependency in a worker thread, and a thread hop per dependency costs more than the
whole cache hit.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from graph.cache import RunCache
from graph.run import BlueprintRunner
from graph.settings import Settings
from tools.errors import InvalidRequest, Unauthorized

__all__ = [
    "AuthDep",
    "CacheDep",
    "RequestIdDep",
    "RunnerDep",
    "SettingsDep",
    "StreamFlagDep",
    "TenantDep",
    "require_api_key",
]


async def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_runner(request: Request) -> BlueprintRunner:
    runner: BlueprintRunner = request.app.state.runner
    return runner


async def get_cache(request: Request) -> RunCache:
    cache: RunCache = request.app.state.cache
    return cache


async def get_request_id(request: Request) -> str:
    return str(getattr(request.state, "request_id", ""))


# auto_error=False: we answer missing credentials ourselves, with our envelope, and only when keys exist.
_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <key>` (when API keys are set)")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="`X-API-Key: <key>` (alternative)")


def _matches(candidate: str, keys: list[bytes]) -> bool:
    given = candidate.encode()
    # compare against every key (no early exit) so timing does not reveal which one, or how close
    found = False
    for key in keys:
        found |= hmac.compare_digest(given, key)
    return found


async def require_api_key(
    request: Request,
    settings: Annotated[Settings, Depends(get_app_settings)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)] = None,
    api_key: Annotated[str | None, Security(_api_key)] = None,
) -> None:
    """When ``BLUEPRINT_API_KEYS`` is set, require one of them as a Bearer token or an ``X-API-Key``.

    The key's tenant (graph/tenancy.py) is left on ``request.state.tenant`` for :func:`get_tenant`."""
    if not settings.api_keys:
        request.state.tenant = None
        return
    keys = [k.get_secret_value().encode() for k in settings.api_keys]
    offered = [c for c in (bearer.credentials if bearer else None, api_key) if c]
    if not offered:
        raise Unauthorized(
            "An API key is required: send `Authorization: Bearer <key>` or `X-API-Key: <key>`."
        )
    for candidate in offered:
        if _matches(candidate, keys):
            runner: BlueprintRunner = request.app.state.runner
            request.state.tenant = await runner.tenant_for(candidate)
            return
    raise Unauthorized("The API key is not valid.")


async def get_tenant(request: Request) -> str | None:
    """Whose request this is: the tenant id of its API key, ``None`` without keys (one tenant).

    Set by :func:`require_api_key`, which every ``/v1`` route runs first (a router dependency). It is not
    a sub-dependency here on purpose: FastAPI would walk its sub-dependencies again on every request."""
    if not hasattr(request.state, "tenant"):
        raise Unauthorized("An API key is required.")  # a route without the auth dependency: refuse
    tenant: str | None = request.state.tenant
    return tenant


# the spellings of ``?stream=`` (routes.wants_stream streams on the first set); anything else is a typo
STREAM_ON = frozenset({"true", "1", "yes", "on"})
STREAM_OFF = frozenset({"false", "0", "no", "off"})


async def check_stream_flag(request: Request) -> None:
    """Refuse ``?stream=maybe`` (422) instead of quietly answering JSON. Read from the raw query string: a
    declared query parameter would be resolved by FastAPI on every request, cache hits included."""
    query = request.scope.get("query_string", b"")
    if b"stream" not in query:
        return
    for part in query.decode("latin-1").split("&"):
        name, _, value = part.partition("=")
        if name == "stream" and value.lower() not in STREAM_ON | STREAM_OFF:
            raise InvalidRequest(
                f"stream={value!r} is not a boolean: use stream=true (Server-Sent Events) or stream=false.",
                details={"errors": [{"field": "query.stream", "message": "must be true or false",
                                     "type": "bool_parsing"}]},
            )


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
RunnerDep = Annotated[BlueprintRunner, Depends(get_runner)]
CacheDep = Annotated[RunCache, Depends(get_cache)]
RequestIdDep = Annotated[str, Depends(get_request_id)]
AuthDep = Depends(require_api_key)
TenantDep = Annotated[str | None, Depends(get_tenant)]
StreamFlagDep = Annotated[None, Depends(check_stream_flag)]
