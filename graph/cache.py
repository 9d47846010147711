"""The run cache: whole blueprints memoized in diskcache, JSON only (never pickle).

Values are stored as JSON strings under ``run:<key>`` with the TTL from settings, and an index
``id:<blueprint_id>`` → ``{key, owner, shared}`` lets ``GET /v1/campaigns/enrichment/{id}`` find them
and check who may read them (:mod:`graph.tenancy`). The server secret lives beside the database, in
the file ``server-secret``, so ``cache clear`` keeps it. A cross-process lock (atomic ``add``; renewed,
taken over or released by compare-and-swap in a transaction) lets several server workers run one
identical request once. A cache folder that cannot be opened or written disables the cache with one
warning; it never fails a request.

All diskcache calls are blocking (sqlite); callers on the event loop go through ``asyncio.to_thread``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import diskcache
import orjson

if TYPE_CHECKING:
    from graph.settings import Settings

__all__ = ["AsyncPageCache", "AsyncResponseCache", "IdEntry", "RunCache", "open_run_cache"]

log = logging.getLogger(__name__)
CACHE_ERRORS = (OSError, sqlite3.Error, diskcache.Timeout)
SECRET_FILE = "server-secret"
SECRET_BYTES = 32


@dataclass(frozen=True)
class IdEntry:
    """Where a blueprint id points: its run key, the tenant that made it, whether it is shared."""

    key: str
    owner: str | None = None
    shared: bool = False

    def dumps(self) -> str:
        return orjson.dumps({"key": self.key, "owner": self.owner, "shared": self.shared}).decode()

    @classmethod
    def loads(cls, raw: object) -> IdEntry | None:
        if not isinstance(raw, str):
            return None
        if not raw.startswith("{"):
            return cls(key=raw)  # written before tenancy: nobody's in particular
        data = orjson.loads(raw)
        return cls(key=str(data["key"]), owner=data.get("owner"), shared=bool(data.get("shared")))


class RunCache:
    def __init__(self, directory: Path, *, ttl_s: int, page_ttl_s: int = 86_400) -> None:
        self.directory = Path(directory)
        self.ttl_s = ttl_s
        self.page_ttl_s = page_ttl_s
        self._cache: diskcache.Cache | None = None
        self.disabled_reason: str | None = None

    # ── lifecycle ──
    def _open(self) -> diskcache.Cache | None:
        if self._cache is None and self.disabled_reason is None:
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                cache = diskcache.Cache(str(self.directory), disk=diskcache.JSONDisk, timeout=2)
                cache.set("__probe__", 1, expire=60)  # fails now, not mid-request, on a read-only folder
                self._cache = cache
            except CACHE_ERRORS as exc:
                self._disable(exc)
        return self._cache

    def _disable(self, exc: BaseException) -> None:
        if self.disabled_reason is None:
            self.disabled_reason = f"{type(exc).__name__}: {exc}"
            log.warning("run cache disabled, running uncached: %s", self.disabled_reason)
        self._cache = None

    @property
    def available(self) -> bool:
        return self._open() is not None

    @property
    def is_open(self) -> bool:
        """Already opened and usable (no I/O): callers on the event loop can skip a thread hop."""
        return self._cache is not None

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()
            self._cache = None

    def _safe(self, op: str | Callable[[diskcache.Cache], Any], *args: Any, **kwargs: Any) -> Any:
        """``cache.<op>(*args, **kwargs)`` (or ``op(cache)``); an unusable cache disables itself."""
        cache = self._open()
        if cache is None:
            return None
        try:
            return op(cache) if callable(op) else getattr(cache, op)(*args, **kwargs)
        except CACHE_ERRORS as exc:
            self._disable(exc)
            return None

    # ── blueprints ──
    def get(self, key: str) -> dict[str, Any] | None:
        raw = self._safe("get", f"run:{key}")
        return orjson.loads(raw) if isinstance(raw, str) else None  # orjson: a hit parses a large blueprint

    def set(self, key: str, blueprint: dict[str, Any], *, owner: str | None = None, shared: bool = False) -> None:
        blob = orjson.dumps(blueprint).decode()  # ~10x faster than json.dumps on a ~60 KiB blueprint
        entry = IdEntry(key=key, owner=owner, shared=shared).dumps()
        items = {f"run:{key}": blob, f"id:{blueprint['blueprint_id']}": entry}
        self._safe(lambda cache: _set_many(cache, items, self.ttl_s or None))

    def lookup_id(self, blueprint_id: str) -> IdEntry | None:
        return IdEntry.loads(self._safe("get", f"id:{blueprint_id}"))

    def get_by_id(self, blueprint_id: str) -> dict[str, Any] | None:
        """Whoever owns it (administration; the API checks the owner with :meth:`lookup_id`)."""
        entry = self.lookup_id(blueprint_id)
        return self.get(entry.key) if entry is not None else None

    # ── cross-process run lock (the policy — owners, leases, take-over — is graph.run_lock's) ──
    def try_lock(self, key: str, owner: str, ttl_s: float) -> bool:
        """Atomically take the free run lock for ``key`` as ``owner`` for ``ttl_s`` seconds; ``True``
        also when the cache is unavailable (nobody to coordinate with)."""
        taken = self._safe("add", f"lock:{key}", owner, expire=ttl_s)
        return True if taken is None else bool(taken)

    def lock_owner(self, key: str) -> str | None:
        value = self._safe("get", f"lock:{key}")
        return None if value is None else str(value)  # an int: a pid, written by an older version

    def swap_lock(self, key: str, expected: str, owner: str | None, ttl_s: float = 0) -> bool:
        """If ``expected`` holds the lock: hand it to ``owner`` for ``ttl_s`` seconds (renew: the same
        owner; take over: another), or delete it (``owner`` None). ``True`` also when unavailable."""
        done = self._safe(lambda cache: _swap(cache, f"lock:{key}", expected, owner, ttl_s))
        return True if done is None else bool(done)

    def unlock(self, key: str, owner: str) -> None:
        """Release the lock if ``owner`` holds it (never one that expired and was taken by another)."""
        self.swap_lock(key, owner, None)

    def locked(self, key: str) -> bool:
        return self.lock_owner(key) is not None

    # ── fetched pages ──
    def get_page(self, url: str) -> str | None:
        value = self._safe("get", f"page:{url}")
        return value if isinstance(value, str) else None

    def set_page(self, url: str, html: str) -> None:
        self._safe("set", f"page:{url}", html, expire=self.page_ttl_s or None)

    # ── provider responses (JSON dicts) ──
    def get_json(self, key: str) -> dict[str, Any] | None:
        raw = self._safe("get", f"json:{key}")
        return json.loads(raw) if isinstance(raw, str) else None

    def set_json(self, key: str, value: dict[str, Any], ttl_s: int) -> None:
        self._safe("set", f"json:{key}", json.dumps(value, separators=(",", ":")), expire=ttl_s or None)

    # ── tenancy: the server secret and the refresh window ──
    def server_secret(self) -> bytes | None:
        """The secret kept in the cache folder, made on first use; ``None`` when the folder is unusable."""
        if self._open() is None:
            return None
        try:
            return _read_or_create_secret(self.directory / SECRET_FILE)
        except OSError as exc:
            log.warning("cannot keep the server secret in %s: %s", self.directory, exc)
            return None

    def claim_refresh(self, name: str, window_s: float) -> float:
        """Start a refresh window for ``name``: 0 when claimed (or the cache is unusable, then nothing
        is shared to protect), else the seconds until the current window ends."""
        def claim(cache: diskcache.Cache) -> float:
            for _ in range(2):  # a window that ends between add and get is claimed on the second try
                if cache.add(f"refresh:{name}", time.time() + window_s, expire=window_s):
                    return 0.0
                ends = cache.get(f"refresh:{name}")
                if isinstance(ends, int | float):
                    return max(0.0, float(ends) - time.time())
            return 0.0

        return float(self._safe(claim) or 0.0)

    # ── admin ──
    def stats(self) -> dict[str, Any]:
        cache = self._open()
        if cache is None:
            return {"directory": str(self.directory), "available": False, "reason": self.disabled_reason}
        runs = sum(1 for k in cache.iterkeys() if isinstance(k, str) and k.startswith("run:"))
        pages = sum(1 for k in cache.iterkeys() if isinstance(k, str) and k.startswith("page:"))
        return {"directory": str(self.directory), "available": True, "blueprints": runs, "pages": pages,
                "size_bytes": cache.volume(), "ttl_s": self.ttl_s}

    def clear(self) -> int:
        return int(self._safe("clear") or 0)

    # ── runs as resources (graph/run_store.py): a record and an append-only event log per run ──
    def get_text(self, key: str) -> str | None:
        value = self._safe("get", f"text:{key}")
        return value if isinstance(value, str) else None

    def set_text(self, key: str, value: str, ttl_s: int) -> None:
        self._safe("set", f"text:{key}", value, expire=ttl_s or None)

    def append_text(self, key: str, value: str, ttl_s: int) -> int | None:
        """Append ``value`` to the log ``key``; its 1-based position (``None`` when the cache is off)."""

        def append(cache: diskcache.Cache) -> int:
            with cache.transact():  # position and item together: a reader never sees a gap
                position = int(cache.get(f"log:{key}", 0)) + 1  # (diskcache's incr cannot read JSONDisk)
                cache.set(f"log:{key}", position, expire=ttl_s or None)
                cache.set(f"log:{key}:{position}", value, expire=ttl_s or None)
            return position

        found = self._safe(append)
        return found if isinstance(found, int) else None

    def texts_from(self, key: str, start: int) -> list[str]:
        """The log ``key`` from 1-based position ``start`` on."""

        def read(cache: diskcache.Cache) -> list[str]:
            out: list[str] = []
            while isinstance(item := cache.get(f"log:{key}:{start + len(out)}"), str):
                out.append(item)
            return out

        return list(self._safe(read) or [])


class AsyncResponseCache:
    """The provider clients' response cache (``tools.http.ResponseCache``) over the run cache."""

    def __init__(self, cache: RunCache) -> None:
        self._cache = cache

    async def get(self, key: str) -> dict[str, Any] | None:
        return await asyncio.to_thread(self._cache.get_json, key)

    async def set(self, key: str, value: dict[str, Any], ttl_s: int) -> None:
        await asyncio.to_thread(self._cache.set_json, key, value, ttl_s)


class AsyncPageCache:
    """The website reader's page cache, backed by the run cache's folder, off the event loop."""

    def __init__(self, cache: RunCache) -> None:
        self._cache = cache

    async def get(self, url: str) -> str | None:
        return await asyncio.to_thread(self._cache.get_page, url)

    async def set(self, url: str, html: str) -> None:
        await asyncio.to_thread(self._cache.set_page, url, html)


def _read_or_create_secret(path: Path) -> bytes | None:
    """Read the secret; the first process to need it writes it whole (a temporary file linked into
    place: workers starting together all end up with the one that won)."""
    for _ in range(2):
        try:
            text = path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            pass
        else:
            if len(text) < 2 * SECRET_BYTES:
                log.warning("ignoring the server secret in %s: too short", path)
                return None
            return text.encode()
        draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(SECRET_BYTES))
        try:
            os.link(draft, path)  # atomic, and fails when another process was first
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return None


def _set_many(cache: diskcache.Cache, items: dict[str, Any], expire: int | None) -> None:
    with cache.transact():  # one sqlite commit for all of them, and readers see both or neither
        for key, value in items.items():
            cache.set(key, value, expire=expire)


def _swap(cache: diskcache.Cache, name: str, expected: str, owner: str | None, ttl_s: float) -> bool:
    with cache.transact():  # BEGIN IMMEDIATE: no other process writes between the read and the write
        current = cache.get(name)
        if current is None or str(current) != expected:
            return False
        if owner is None:
            cache.delete(name)
        else:
            cache.set(name, owner, expire=ttl_s)
        return True


def open_run_cache(settings: Settings) -> RunCache:
    """The run cache the settings ask for: Redis when ``BLUEPRINT_CACHE_URL`` is set, else diskcache.

    Nothing connects here; both backends open lazily and degrade to uncached with one warning.
    """
    if settings.cache_url:
        from graph.cache_redis import RedisRunCache  # redis is only imported when it is configured

        return RedisRunCache(
            settings.cache_url, ttl_s=settings.cache_ttl_s, page_ttl_s=settings.page_cache_ttl_s
        )
    return RunCache(settings.cache_dir, ttl_s=settings.cache_ttl_s, page_ttl_s=settings.page_cache_ttl_s)
