"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from graph.settings import get_settings
from tests.support.http_helpers import TABLELY
from tests.support.site_server import SiteServer, serve_site


@pytest.fixture
def site(monkeypatch: pytest.MonkeyPatch) -> Iterator[SiteServer]:
    """The multi-page 'tablely' seller site on loopback, with loopback allowed through the SSRF guard.

    Tests that need other pages define their own ``site`` fixture, which takes precedence."""
    monkeypatch.setenv("BLUEPRINT_ALLOW_PRIVATE_HOSTS", "127.0.0.1")
    get_settings.cache_clear()
    with serve_site(directory=TABLELY) as server:
        yield server


@pytest.fixture
def offline_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No key, LLM or shared cache from the developer's shell may change what a run does."""
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "APOLLO_API_KEY", "CLEARBIT_API_KEY", "BLUEPRINT_ENGINE",
                 "BLUEPRINT_CACHE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BLUEPRINT_ALLOW_PRIVATE_HOSTS", "127.0.0.1")
    get_settings.cache_clear()
