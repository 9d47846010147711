"""The cross-process run lock: one process runs an identical request, the others wait for its result.

A lock must never outlive its run, so:

* **It says who holds it.** Its value is the holder's :class:`LockOwner` (host, pid, a random token).
  A waiter on the same host whose holder's process is gone (killed, crashed) — or, in this very
  process, whose holder no longer holds it — takes it over at once.
* **It is leased, not kept.** It is taken for ``lease_s`` seconds and renewed every ``beat_s`` while
  the run lives (diskcache expiry, or Redis ``PX``), so a holder on another machine that stops
  renewing frees it within the lease.
* **Its release cannot be dropped.** The release is handed to the event loop's default executor as a
  plain future, never a task: ``asyncio.run`` cancels every task still pending when its main
  coroutine returns — a shielded ``to_thread`` task included, and its work then never starts if no
  worker thread has picked it up yet (the cause of locks left for minutes by the CLI and the Python
  API) — while it drains the default executor before it closes the loop. :meth:`RunLocks.aclose`
  also waits for every release, so a cache is never closed under one.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from graph.cache import RunCache

__all__ = ["LockOwner", "RunLocks"]

log = logging.getLogger(__name__)
T = TypeVar("T")

LEASE_S = 10.0  # a holder that stops renewing (killed elsewhere, asleep) frees the lock after this long
BEAT_S = 2.0  # how often a live holder renews its lease
POLL_S = 0.05  # how often a waiter looks again
MAX_WAIT_S = 300.0  # a live holder running longer than this is not waited for any more

_HELD: set[str] = set()  # the owners (encoded) of the locks this process holds or is taking
_RENEWING = threading.Lock()  # a renewal and a release of the same lock never interleave


@functools.cache
def _this_host() -> str:
    """This machine as its pids see it: the hostname, plus the pid namespace on Linux (containers that
    share a hostname and a cache volume do not see each other's pids)."""
    name = socket.gethostname()
    with contextlib.suppress(OSError):
        name += "~" + os.readlink("/proc/self/ns/pid").removeprefix("pid:[").rstrip("]")
    return name.replace(":", "_")


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists, under another user
        return True
    with contextlib.suppress(OSError, IndexError):  # a zombie (killed, not yet reaped) holds nothing
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    return True


@dataclass(frozen=True)
class LockOwner:
    host: str
    pid: int
    token: str

    @classmethod
    def new(cls) -> LockOwner:
        return cls(_this_host(), os.getpid(), secrets.token_hex(8))

    @classmethod
    def parse(cls, value: str) -> LockOwner | None:
        """``host:pid:token``; a bare pid is a lock written by an older version on this host."""
        host, pid, token = value.rsplit(":", 2) if value.count(":") >= 2 else (_this_host(), value, "")
        return cls(host, int(pid), token) if pid.isdigit() else None

    def __str__(self) -> str:
        return f"{self.host}:{self.pid}:{self.token}"

    def is_gone(self) -> bool:
        """Known to hold nothing any more: its process has ended, or it is this process and no longer
        holds the lock. A holder on another host is never known to be gone; its lease says so."""
        if self.host != _this_host():
            return False
        if self.pid == os.getpid():
            return str(self) not in _HELD
        return not _process_exists(self.pid)


class RunLocks:
    """The run locks one runner takes in its run cache: taken or waited for, kept alive, released."""

    def __init__(
        self, cache: RunCache, *, lease_s: float = LEASE_S, beat_s: float = BEAT_S, poll_s: float = POLL_S,
        max_wait_s: float = MAX_WAIT_S,
    ) -> None:
        self.cache = cache
        self.lease_s, self.beat_s, self.poll_s, self.max_wait_s = lease_s, beat_s, poll_s, max_wait_s
        self._held: dict[str, tuple[str, asyncio.Task[None]]] = {}  # key → owner, its heartbeat
        self._pending: set[asyncio.Future[Any]] = set()  # cache calls in worker threads

    @property
    def held(self) -> set[str]:
        """The keys this runner holds the lock of."""
        return set(self._held)

    async def acquire(self, key: str, *, refresh: bool = False) -> tuple[bool, dict[str, Any] | None]:
        """Take the lock for ``key`` (``True``) or wait for the holder's result, with the result when
        one is in the cache already. ``(False, None)``: the holder ran too long, run without the lock.

        With ``refresh`` an entry already in the cache is stale by definition: the lock holder runs
        anyway, and a waiter takes the entry only once the holder has released the lock (rewritten it).
        """
        me = str(LockOwner.new())
        deadline = time.monotonic() + self.max_wait_s
        while True:
            if await self._take(key, me, None):
                break
            holder = await self._call(self.cache.lock_owner, key)
            owner = LockOwner.parse(holder) if holder is not None else None
            if owner is not None and owner.is_gone():
                if await self._take(key, me, holder):
                    log.warning("took over the run lock of %s: that process is gone", owner)
                    break
                continue  # another waiter took it over first, or the holder released it
            if time.monotonic() >= deadline:
                log.warning("the run lock's holder %s ran over %.0f s: running anyway", holder, self.max_wait_s)
                return False, None
            await asyncio.sleep(self.poll_s)
            if refresh and await self._call(self.cache.lock_owner, key) is not None:
                continue
            hit = await self._call(self.cache.get, key)
            if hit is not None:
                return False, hit
        self._held[key] = (me, asyncio.create_task(self._keep_alive(key, me), name=f"run lock {key[:12]}"))
        if refresh:
            return True, None
        try:
            return True, await self._call(self.cache.get, key)  # re-check: the holder may just have finished
        except asyncio.CancelledError:
            await self.release(key)  # the caller never learns it holds the lock: release it here
            raise

    async def release(self, key: str) -> None:
        """Release the lock for ``key`` if this runner holds it. Once called it runs to the end, even
        when the caller is cancelled meanwhile."""
        held = self._held.pop(key, None)
        if held is None:
            return
        me, heartbeat = held
        heartbeat.cancel()
        await asyncio.shield(self._call(self._release_in_thread, key, me))

    async def aclose(self) -> None:
        """Release what is still held (runs cancelled before they could) and wait for every pending
        cache call, so that the cache can be closed."""
        for key in list(self._held):
            with contextlib.suppress(asyncio.CancelledError):
                await self.release(key)
        while self._pending:
            await asyncio.wait(set(self._pending))  # unlike gather, never cancels what it waits for

    # ── internals ──
    async def _take(self, key: str, me: str, holder: str | None) -> bool:
        """Take the free lock (``holder`` None) or a gone holder's. A caller cancelled meanwhile does not
        leave the lock behind: once the attempt ends, what it took is released."""
        attempt = self._call(self._take_in_thread, key, me, holder)
        try:
            return await asyncio.shield(attempt)
        except asyncio.CancelledError:
            attempt.add_done_callback(functools.partial(self._undo, key, me))
            raise

    def _undo(self, key: str, me: str, attempt: asyncio.Future[bool]) -> None:
        if not attempt.cancelled() and attempt.exception() is None and attempt.result():
            self._call(self._release_in_thread, key, me)

    async def _keep_alive(self, key: str, me: str) -> None:
        while True:
            await asyncio.sleep(self.beat_s)
            if not await self._call(self._renew_in_thread, key, me):
                log.warning("lost the run lock for %s (its %.0f s lease ran out): another process may run "
                            "the same request", key[:12], self.lease_s)
                return

    def _call(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """``fn(*args)`` in the default executor (with this context: logs keep their request id), as a
        future that :meth:`aclose` waits for."""
        call = functools.partial(contextvars.copy_context().run, fn, *args)
        future = asyncio.get_running_loop().run_in_executor(None, call)
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)
        return future

    # ── in worker threads ──
    def _take_in_thread(self, key: str, me: str, holder: str | None) -> bool:
        _HELD.add(me)  # before the lock exists: nobody in this process may ever see it as gone
        if holder is None:
            taken = self.cache.try_lock(key, me, self.lease_s)
        else:
            taken = self.cache.swap_lock(key, holder, me, self.lease_s)
        if not taken:
            _HELD.discard(me)
        return taken

    def _renew_in_thread(self, key: str, me: str) -> bool:
        """Renew the lease; one that ran out (the event loop stalled longer than the lease) is taken
        again if nobody took it meanwhile. ``False``: someone else holds it now."""
        with _RENEWING:  # never renews a lock the release below has just deleted
            if me not in _HELD:
                return True
            return self.cache.swap_lock(key, me, me, self.lease_s) or self.cache.try_lock(key, me, self.lease_s)

    def _release_in_thread(self, key: str, me: str) -> None:
        with _RENEWING:
            _HELD.discard(me)
        self.cache.unlock(key, me)
