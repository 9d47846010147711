"""How many cold runs one process executes at once, and how many may wait for a slot.

A run costs tens of milliseconds of event-loop time (parsing pages, scoring the knowledge base, building
prompts) spread over its nodes; a thousand of them at once leave every other request of the process —
cache hits, /healthz — queued behind their work. :class:`RunSlots` admits at most ``limit`` runs at a
time and lets ``queue`` more wait for a slot (first come, first served); beyond that a new run is refused
at once with :class:`tools.errors.Overloaded` (503 and ``Retry-After``), before anything was sent — never a
request that hangs until the client's timeout. Only new runs take a place: a request identical to one in
flight joins that run (the runner's flights) without one.
"""

from __future__ import annotations

import asyncio
import math
import statistics
import time
from collections import deque
from collections.abc import Callable

from tools.errors import Overloaded

__all__ = ["RunSlots", "RunTicket"]

# Retry-After before any run has finished: a cold run typically takes a few seconds
DEFAULT_RUN_S = 5.0
MAX_RETRY_AFTER_S = 120


class RunSlots:
    def __init__(self, limit: int, queue: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.queue = queue
        self._clock = clock
        self._semaphore = asyncio.Semaphore(limit)
        self._admitted = 0  # holding a slot or waiting for one
        self._durations: deque[float] = deque(maxlen=32)  # recent runs' seconds, for Retry-After

    @property
    def admitted(self) -> int:
        return self._admitted

    @property
    def full(self) -> bool:
        """Every slot and every queue place is taken: a new run would be refused."""
        return self._admitted >= self.limit + self.queue

    def reserve(self) -> RunTicket:
        """A place for one new run (in a slot or in the queue), or :class:`Overloaded` when none is left."""
        if self.full:
            raise Overloaded(
                f"The server is running {self.limit} blueprints and {self.queue} more are waiting; "
                "retry after the time in the Retry-After header.",
                retry_after_s=self.retry_after_s(),
                details={"max_runs": self.limit, "queue": self.queue},
            )
        self._admitted += 1
        return RunTicket(self)

    def retry_after_s(self) -> int:
        """When a place is likely to be free: the backlog ahead, in waves of ``limit`` typical runs."""
        typical = statistics.median(self._durations) if self._durations else DEFAULT_RUN_S
        waves = math.ceil(self._admitted / self.limit)
        return max(1, min(MAX_RETRY_AFTER_S, math.ceil(typical * waves)))


class RunTicket:
    """One admitted run: :meth:`acquire` waits for its slot; :meth:`release` (idempotent, never awaits)
    gives back the slot or the queue place, whichever it holds."""

    def __init__(self, slots: RunSlots) -> None:
        self._slots = slots
        self._started: float | None = None
        self._released = False

    async def acquire(self) -> None:
        await self._slots._semaphore.acquire()
        if self._released:  # released while it waited (cannot happen through the runner; be safe)
            self._slots._semaphore.release()
            return
        self._started = self._slots._clock()

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        self._slots._admitted -= 1
        if self._started is not None:
            self._slots._durations.append(self._slots._clock() - self._started)
            self._slots._semaphore.release()
