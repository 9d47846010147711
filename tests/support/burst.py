"""A burst of HTTP requests from another process: ``python -m tests.support.burst SPEC_JSON``.

Load generated inside the test process would share the interpreter lock with the server under test (a
uvicorn thread) and slow it down by itself; from a child process it competes only for the CPU, as a real
client would. Each request is written on its own connection as raw bytes (no client library: sending
1,000 requests must cost the generator next to nothing), all at once.

``SPEC_JSON`` is ``{"host", "port", "path", "bodies": [...], "headers": {...}, "timeout_s"}``. The child
prints one JSON line when every request has an answer (or failed): ``{"statuses": {"200": n, ...},
"retry_after": [seconds, ...], "wall_ms": total}``; status ``0`` is a transport failure or a timeout.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

__all__ = ["start_burst"]

ROOT = Path(__file__).resolve().parents[2]


def _request(spec: dict[str, Any], body: Any) -> bytes:
    data = json.dumps(body).encode()
    head = [f"POST {spec['path']} HTTP/1.1", f"Host: {spec['host']}:{spec['port']}",
            "Content-Type: application/json", f"Content-Length: {len(data)}", "Connection: close",
            *(f"{name}: {value}" for name, value in spec.get("headers", {}).items())]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + data


async def _one(spec: dict[str, Any], raw: bytes) -> tuple[int, int | None]:
    try:
        reader, writer = await asyncio.open_connection(spec["host"], spec["port"])
        writer.write(raw)
        answer = await asyncio.wait_for(reader.read(), spec.get("timeout_s", 60))
        writer.close()
    except (OSError, TimeoutError):
        return 0, None
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    status = int(head[0].split()[1]) if head and len(head[0].split()) > 1 else 0
    retry_after = next((int(line.split(":", 1)[1]) for line in head[1:]
                        if line.lower().startswith("retry-after:")), None)
    return status, retry_after


async def _burst(spec: dict[str, Any]) -> dict[str, Any]:
    raws = [_request(spec, body) for body in spec["bodies"]]
    started = time.perf_counter()
    results = await asyncio.gather(*(_one(spec, raw) for raw in raws))
    return {"statuses": dict(Counter(str(status) for status, _ in results)),
            "retry_after": [r for _, r in results if r is not None],
            "wall_ms": round((time.perf_counter() - started) * 1000, 1)}


def start_burst(spec: dict[str, Any]) -> subprocess.Popen[str]:
    """Start the burst in a child process; ``communicate()`` returns its JSON line on stdout."""
    return subprocess.Popen([sys.executable, "-m", "tests.support.burst", json.dumps(spec)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)


if __name__ == "__main__":
    print(json.dumps(asyncio.run(_burst(json.loads(sys.argv[1])))), flush=True)
