"""Who may see a run, and how a browser's ``EventSource`` (which cannot send headers) proves it.

* **Owner.** When ``BLUEPRINT_API_KEYS`` is set, a run belongs to the key that started it: the record
  keeps that key's tenant id (:mod:`graph.tenancy`: an HMAC of the key with the server secret, never the
  key), and another key gets ``404`` for it, as for a run that does not exist. Without keys every run is
  everyone's.
* **Stream tokens, not keys in URLs.** URLs end up in access logs, proxies and browser history, so an
  API key is never accepted in a query string. Instead the run's resource (``POST …/runs`` and
  ``GET …/runs/{id}``, both authenticated by header) links its events as
  ``…/runs/{id}/events?token=<expiry>.<signature>``: an HMAC-SHA256 over the run id, its owner's tenant id and
  the expiry, keyed by a secret derived from the configured API keys — so every replica with the same
  keys verifies it, and it opens that run's events only, for :data:`TOKEN_TTL_S` seconds. A client
  whose token expired fetches the run again for a fresh link.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from graph.settings import Settings

__all__ = ["TOKEN_TTL_S", "sign_stream", "stream_token_valid"]

TOKEN_TTL_S = 15 * 60

def _secret(settings: Settings) -> bytes:
    keys = sorted(k.get_secret_value() for k in settings.api_keys)
    return hashlib.sha256(b"blueprint-stream-token\0" + "\0".join(keys).encode()).digest()


def _signature(settings: Settings, run_id: str, owner: str | None, expires: int) -> str:
    message = f"{run_id}\0{owner or ''}\0{expires}".encode()
    return hmac.new(_secret(settings), message, hashlib.sha256).hexdigest()[:32]


def sign_stream(settings: Settings, run_id: str, owner: str | None, now: float | None = None) -> str | None:
    """A token opening this run's events for a while; ``None`` when the server needs none."""
    if not settings.api_keys:
        return None
    expires = int((now if now is not None else time.time()) + TOKEN_TTL_S)
    return f"{expires}.{_signature(settings, run_id, owner, expires)}"


def stream_token_valid(
    settings: Settings, token: str, run_id: str, owner: str | None, now: float | None = None
) -> bool:
    expires_text, _, signature = token.partition(".")
    if not expires_text.isdigit() or int(expires_text) < (now if now is not None else time.time()):
        return False
    expected = _signature(settings, run_id, owner, int(expires_text))
    return hmac.compare_digest(signature.encode(), expected.encode())
