"""A small in-process cache of finished blueprints as ready-to-send JSON bytes (``meta.cache`` = ``hit``).

Why: a run-cache hit through HTTP used to cost a thread hop into diskcache (sqlite), a JSON parse of a
~60 KiB blueprint and a re-serialisation — about three times a bare endpoint. The bytes kept here are
answered as they are: no thread, no parse, no validation, no serialisation.

Bounded (LRU, ``max_entries``) and short-lived (``ttl_s``). Staleness trade-off: the shared run cache
(diskcache or Redis) stays the source of truth; a worker process does not see another worker's
``refresh`` or ``blueprint cache clear`` until its own entry expires, so a hit may be up to ``ttl_s``
older than the shared cache. A ``refresh`` in the same process drops the entry when it starts and
replaces it when it finishes. The time source is injectable so tests never sleep.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import orjson

__all__ = ["HotCache", "hit_bytes"]


def hit_bytes(blueprint: dict[str, Any]) -> bytes:
    """The blueprint as the JSON a cache hit answers (``meta.cache`` = ``hit``)."""
    return orjson.dumps({**blueprint, "meta": {**blueprint.get("meta", {}), "cache": "hit"}})


class HotCache:
    def __init__(
        self, *, ttl_s: float = 5.0, max_entries: int = 256, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    def get(self, key: str) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, body = entry
        if self._clock() >= expires:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return body

    def put(self, key: str, body: bytes) -> None:
        if self.ttl_s <= 0 or self.max_entries <= 0:
            return
        self._entries[key] = (self._clock() + self.ttl_s, body)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def discard(self, key: str) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
