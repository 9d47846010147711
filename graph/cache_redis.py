"""The run cache on Redis, for several replicas on several machines (``BLUEPRINT_CACHE_URL=redis://...``).

Same surface and guarantees as :class:`graph.cache.RunCache` (which stays the default): JSON strings
only (never pickle), blueprints under ``run:<key>`` with the run TTL, an ``id:<blueprint_id>`` index
(its owner included), the server secret under ``server-secret`` (set once, kept by ``clear``),
fetched pages under ``page:<url>`` with the page TTL, and a cross-replica run lock taken with
``SET lock:<key> <owner> NX PX <lease>`` (renewed while the run lives, released by compare-and-delete)
so identical requests spread over replicas run the graph once.
Every key lives under a prefix, so ``clear`` never touches other data in a shared Redis database.

The client is the synchronous ``redis`` one on purpose: the runner already calls the cache through
``asyncio.to_thread`` and redis-py's connection pool is thread-safe. When Redis cannot be reached the
cache logs one warning, runs uncached, and tries again after a cool-down (a restarted Redis comes back
without restarting the service). It subclasses ``RunCache`` only so that everything typed for the
run cache (runner, server dependencies) accepts it; it overrides the whole public surface and never
touches the diskcache internals.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson
import redis

from graph.cache import SECRET_BYTES, IdEntry, RunCache

__all__ = ["RedisRunCache", "redact_url"]

log = logging.getLogger("graph.cache")
RETRY_AFTER_S = 30.0  # how long an unreachable Redis is left alone before the next attempt
SOCKET_TIMEOUT_S = 2.0
# compare-and-swap: a replica renews, hands over or deletes only the lock held by the owner it names, never
# one that expired and was taken by another
_SWAP = """
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then return redis.call('del', KEYS[1]) end
redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
"""


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


def redact_url(url: str) -> str:
    """``url`` without its password (for logs, stats and errors)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class RedisRunCache(RunCache):
    def __init__(self, url: str, *, ttl_s: int, page_ttl_s: int = 86_400, prefix: str = "blueprint:") -> None:
        super().__init__(Path(os.devnull), ttl_s=ttl_s, page_ttl_s=page_ttl_s)
        self.url = url
        self.prefix = prefix
        self._client: redis.Redis | None = None
        self._retry_at = 0.0
        self._guard = threading.Lock()  # to_thread calls run on several worker threads

    def __repr__(self) -> str:
        return f"RedisRunCache({redact_url(self.url)!r})"

    # ── lifecycle ──
    def _redis(self) -> redis.Redis | None:
        with self._guard:
            if self._client is not None:
                return self._client
            if time.monotonic() < self._retry_at:
                return None
            client: redis.Redis = redis.Redis.from_url(
                self.url, socket_timeout=SOCKET_TIMEOUT_S, socket_connect_timeout=SOCKET_TIMEOUT_S,
                decode_responses=True, health_check_interval=30,
            )
            try:
                client.ping()
            except redis.RedisError as exc:
                client.close()
                self._down(exc)
                return None
            if self.disabled_reason is not None:
                log.info("run cache reachable again: %s", redact_url(self.url))
            self.disabled_reason = None
            self._client = client
            return client

    def _down(self, exc: BaseException) -> None:
        """Remember the outage; warn once per outage, not once per request."""
        self._retry_at = time.monotonic() + RETRY_AFTER_S
        if self.disabled_reason is None:
            # redis-py error texts name host and port, never the password; redact the URL anyway
            self.disabled_reason = f"{type(exc).__name__}: {exc}"
            log.warning(
                "run cache disabled, running uncached: %s (%s)", self.disabled_reason, redact_url(self.url)
            )

    def _failed(self, exc: BaseException) -> None:
        with self._guard:
            client, self._client = self._client, None
            self._down(exc)
        if client is not None:
            client.close()

    def _call(self, op: str, *args: Any, **kwargs: Any) -> Any:
        client = self._redis()
        if client is None:
            return None
        try:
            return getattr(client, op)(*args, **kwargs)
        except redis.RedisError as exc:
            self._failed(exc)
            return None

    def _open(self) -> None:  # the diskcache path of the base class is never used here
        return None

    @property
    def available(self) -> bool:
        return self._redis() is not None

    def close(self) -> None:
        with self._guard:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def _k(self, kind: str, name: str) -> str:
        return f"{self.prefix}{kind}:{name}"

    @staticmethod
    def _ttl(seconds: int) -> int | None:
        return seconds or None  # 0 means: keep forever, as with diskcache

    # ── blueprints ──
    def get(self, key: str) -> dict[str, Any] | None:
        raw = self._call("get", self._k("run", key))
        return orjson.loads(raw) if isinstance(raw, str | bytes) else None

    def set(self, key: str, blueprint: dict[str, Any], *, owner: str | None = None, shared: bool = False) -> None:
        blob = orjson.dumps(blueprint).decode()  # ~10x faster than json.dumps on a ~60 KiB blueprint
        entry = IdEntry(key=key, owner=owner, shared=shared).dumps()
        client = self._redis()
        if client is None:
            return
        try:
            with client.pipeline(transaction=True) as pipe:  # blueprint and its id index together
                pipe.set(self._k("run", key), blob, ex=self._ttl(self.ttl_s))
                pipe.set(self._k("id", blueprint["blueprint_id"]), entry, ex=self._ttl(self.ttl_s))
                pipe.execute()
        except redis.RedisError as exc:
            self._failed(exc)

    def lookup_id(self, blueprint_id: str) -> IdEntry | None:
        return IdEntry.loads(self._call("get", self._k("id", blueprint_id)))

    def get_by_id(self, blueprint_id: str) -> dict[str, Any] | None:
        entry = self.lookup_id(blueprint_id)
        return self.get(entry.key) if entry is not None else None

    # ── cross-replica run lock (the policy — owners, leases, take-over — is graph.run_lock's) ──
    def try_lock(self, key: str, owner: str, ttl_s: float) -> bool:
        """Atomically take the free run lock for ``key`` as ``owner`` with a ``PX`` lease; ``True`` also
        when Redis is unavailable (nobody to coordinate with: run uncached)."""
        client = self._redis()
        if client is None:
            return True
        try:
            return bool(client.set(self._k("lock", key), owner, nx=True, px=_ms(ttl_s)))
        except redis.RedisError as exc:
            self._failed(exc)
            return True

    def lock_owner(self, key: str) -> str | None:
        value = self._call("get", self._k("lock", key))
        return value if isinstance(value, str) else None

    def swap_lock(self, key: str, expected: str, owner: str | None, ttl_s: float = 0) -> bool:
        """If ``expected`` holds the lock: hand it to ``owner`` with a fresh ``PX`` lease (renew, take
        over) or delete it (``owner`` None), atomically. ``True`` also when Redis is unavailable."""
        client = self._redis()
        if client is None:
            return True
        try:
            return bool(client.eval(_SWAP, 1, self._k("lock", key), expected, owner or "", _ms(ttl_s)))
        except redis.RedisError as exc:
            self._failed(exc)
            return True

    def unlock(self, key: str, owner: str) -> None:
        self.swap_lock(key, owner, None)

    def locked(self, key: str) -> bool:
        return bool(self._call("exists", self._k("lock", key)))

    # ── fetched pages ──
    def get_page(self, url: str) -> str | None:
        value = self._call("get", self._k("page", url))
        return value if isinstance(value, str) else None

    def set_page(self, url: str, html: str) -> None:
        self._call("set", self._k("page", url), html, ex=self._ttl(self.page_ttl_s))

    # ── provider responses (JSON dicts) ──
    def get_json(self, key: str) -> dict[str, Any] | None:
        raw = self._call("get", self._k("json", key))
        return json.loads(raw) if isinstance(raw, str) else None

    def set_json(self, key: str, value: dict[str, Any], ttl_s: int) -> None:
        self._call("set", self._k("json", key), json.dumps(value, separators=(",", ":")), ex=self._ttl(ttl_s))

    # ── tenancy: the server secret and the refresh window ──
    def _secret_key(self) -> str:
        return f"{self.prefix}server-secret"

    def server_secret(self) -> bytes | None:
        """Set once by whichever replica comes first (``SET NX``), then read by all."""
        self._call("set", self._secret_key(), secrets.token_hex(SECRET_BYTES), nx=True)
        value = self._call("get", self._secret_key())
        return value.encode() if isinstance(value, str) and len(value) >= 2 * SECRET_BYTES else None

    def claim_refresh(self, name: str, window_s: float) -> float:
        window_ms = max(1, int(window_s * 1000))
        for _ in range(2):  # a window that ends between SET and PTTL is claimed on the second try
            taken = self._call("set", self._k("refresh", name), "1", nx=True, px=window_ms)
            if taken is None and self.disabled_reason is not None:
                return 0.0  # Redis is down: nothing shared to protect
            if taken:
                return 0.0
            left = self._call("pttl", self._k("refresh", name))
            if isinstance(left, int) and left > 0:
                return left / 1000
        return 0.0

    # ── admin ──
    def _count(self, client: redis.Redis, kind: str) -> int:
        return sum(1 for _ in client.scan_iter(match=self._k(kind, "*"), count=500))

    def stats(self) -> dict[str, Any]:
        where = redact_url(self.url)
        client = self._redis()
        if client is None:
            return {"url": where, "available": False, "reason": self.disabled_reason}
        try:
            return {"url": where, "prefix": self.prefix, "available": True,
                    "blueprints": self._count(client, "run"), "pages": self._count(client, "page"),
                    "ttl_s": self.ttl_s}
        except redis.RedisError as exc:
            self._failed(exc)
            return {"url": where, "available": False, "reason": self.disabled_reason}

    def clear(self) -> int:
        """Delete this service's keys (only those under the prefix; the database may be shared)."""
        client = self._redis()
        if client is None:
            return 0
        removed = 0
        try:
            batch: list[str] = []
            for name in client.scan_iter(match=f"{self.prefix}*", count=500):
                if name == self._secret_key():
                    continue  # ids of the next blueprints stay as unguessable and as shared
                batch.append(name)
                if len(batch) >= 500:
                    removed += int(client.delete(*batch))
                    batch = []
            if batch:
                removed += int(client.delete(*batch))
        except redis.RedisError as exc:
            self._failed(exc)
        return removed

    # ── runs as resources (graph/run_store.py) ──
    def get_text(self, key: str) -> str | None:
        value = self._call("get", self._k("text", key))
        return value if isinstance(value, str) else None

    def set_text(self, key: str, value: str, ttl_s: int) -> None:
        self._call("set", self._k("text", key), value, ex=self._ttl(ttl_s))

    def append_text(self, key: str, value: str, ttl_s: int) -> int | None:
        client = self._redis()
        if client is None:
            return None
        try:
            with client.pipeline(transaction=True) as pipe:
                pipe.rpush(self._k("log", key), value)
                if ttl_s:
                    pipe.expire(self._k("log", key), ttl_s)
                position = pipe.execute()[0]
        except redis.RedisError as exc:
            self._failed(exc)
            return None
        return int(position)

    def texts_from(self, key: str, start: int) -> list[str]:
        found = self._call("lrange", self._k("log", key), max(0, start - 1), -1)
        return [item for item in found if isinstance(item, str)] if isinstance(found, list) else []
