"""Shared test setup: every test starts with fresh settings and its own cache directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from graph.knowledge import KnowledgeBase, load_knowledge
from graph.settings import get_settings
from tests.support.provider_standin import FakeClock


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Settings are cached process-wide; a test that changes the environment must not leak into the next.
    monkeypatch.setenv("BLUEPRINT_CACHE_DIR", str(tmp_path / "cache"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def clock() -> FakeClock:
    """Monotonic time that moves only when someone sleeps: retry and limiter tests never wait."""
    return FakeClock()


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    """The embedded knowledge base (loaded once per process; per module, so a test module that clears the
    loader's cache gets a fresh one)."""
    return load_knowledge()
