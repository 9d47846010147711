"""Giving a long-running process's free memory back to the operating system.

Start-up allocates a lot that it frees again: the knowledge snapshot's parsed JSON before it becomes
models, WordLlama's token and vector batches while ~460 market descriptions are embedded. CPython and
numpy free those blocks to the C heap, but glibc's ``malloc`` keeps freed heap pages resident until it is
asked to trim: ~35 MiB of every server worker was memory nobody used. ``trim_heap`` asks once start-up is
done.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable

__all__ = ["trim_heap"]


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none (macOS, musl, Windows)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def trim_heap() -> bool:
    """Release the C heap's free pages to the operating system; ``True`` when the C library could."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
