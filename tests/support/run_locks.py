"""What run locks a cache folder holds, read straight from diskcache (as another process would)."""

from __future__ import annotations

from pathlib import Path

import diskcache

__all__ = ["lock_keys"]


def lock_keys(folder: Path) -> list[str]:
    """The ``lock:<key>`` entries in the run cache at ``folder`` (none when it does not exist yet)."""
    if not folder.exists():
        return []
    with diskcache.Cache(str(folder), disk=diskcache.JSONDisk) as cache:
        return [key for key in cache.iterkeys() if isinstance(key, str) and key.startswith("lock:")]
