"""The HTTP facade: ``from server import create_app`` (loaded lazily; importing ``server`` does nothing)."""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from server.app import create_app

        return create_app
    raise AttributeError(name)
