"""What a server worker keeps resident: the freed start-up heap is returned, the token table is narrow."""

from __future__ import annotations

import platform
import sys

import numpy as np

from graph.engine.semantic import _narrowed, load_embedder
from server.memory import trim_heap


def test_trim_heap_releases_on_glibc_and_is_a_no_op_elsewhere() -> None:
    trimmed = trim_heap()
    assert isinstance(trimmed, bool)
    if sys.platform == "linux" and platform.libc_ver()[0] == "glibc":
        assert trimmed


def test_a_float16_table_is_kept_narrow_and_a_wider_one_is_left_alone() -> None:
    table = np.arange(12, dtype=np.float16).reshape(3, 4).astype(np.float32) / 8  # exact in float16
    narrow = _narrowed(table)
    assert narrow.dtype == np.float16 and np.array_equal(narrow.astype(np.float32), table)
    wide = table + np.float32(1e-6)  # not representable in float16
    assert _narrowed(wide) is wide


def test_the_narrow_table_embeds_exactly_like_the_wide_one() -> None:
    embedder = load_embedder()
    if embedder is None:  # the model did not load here: routing runs on cues alone
        return
    model = embedder._model  # type: ignore[attr-defined]
    texts = ["Restaurant POS for multi-location brands", "Dispatch and invoicing for HVAC contractors", "x"]
    narrow = model.embedding
    assert narrow.dtype == np.float16  # the wheel's weights are float16
    try:
        model.embedding = narrow.astype(np.float32)  # what WordLlama itself keeps
        wide = embedder.embed(texts)
    finally:
        model.embedding = narrow
    assert np.array_equal(embedder.embed(texts), wide)
