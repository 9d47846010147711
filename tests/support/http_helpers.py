"""Helpers for the HTTP tests: an in-process client with the app's lifespan, SSE parsing, site fixtures."""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

__all__ = ["ENRICH", "TABLELY", "SseEvent", "app_client", "free_port", "parse_sse", "tablely_home"]

ENRICH = "/v1/campaigns/enrichment"
TABLELY = Path(__file__).resolve().parents[1] / "fixtures" / "sites" / "tablely"


def tablely_home() -> bytes:
    return (TABLELY / "index.html").read_bytes()


@dataclass(frozen=True)
class SseEvent:
    event: str
    id: int | None
    data: Any


def parse_sse(lines: Iterable[str]) -> list[SseEvent]:
    """Events of an SSE body (comments such as ``: ping`` are skipped)."""
    events: list[SseEvent] = []
    name: str = "message"
    ident: int | None = None
    data: list[str] = []
    for line in [*lines, ""]:
        if not line:
            if data:
                events.append(SseEvent(name, ident, json.loads("\n".join(data))))
            name, ident, data = "message", None, []
        elif line.startswith(":"):
            continue
        else:
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "event":
                name = value
            elif field == "id":
                ident = int(value)
            elif field == "data":
                data.append(value)
    return events


@contextlib.asynccontextmanager
async def app_client(app: FastAPI, **headers: str) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan running, behind ``httpx.ASGITransport`` (buffers: content, not timing)."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test", headers=headers, timeout=30
        ) as client:
            yield client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
