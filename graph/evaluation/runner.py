"""Run the engine over an eval case set: each homepage served on loopback, each blueprint scored.

Case URLs are ``https://<id>.example/`` and resolve nowhere, so every case's HTML is served from a
throw-away ``http.server`` on 127.0.0.1 and the engine is given that URL instead. The site fetcher's
SSRF guard refuses loopback unless the host is allow-listed (``BLUEPRINT_ALLOW_PRIVATE_HOSTS``); the
caller decides whether :func:`run_eval` adds it for the duration of the run.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from graph.evaluation.scoring import CaseScore, EvalCase, EvalReport, load_cases, score_blueprint
from graph.settings import get_settings
from tools.errors import BlueprintError

__all__ = ["ALLOW_ENV", "LOOPBACK_HOST", "Generate", "allow_private_host", "run_eval", "serve_page"]

LOOPBACK_HOST = "127.0.0.1"
ALLOW_ENV = "BLUEPRINT_ALLOW_PRIVATE_HOSTS"
Generate = Callable[[str, dict[str, Any] | None], Awaitable[dict[str, Any]]]
"""``generate(website_url, icp_or_none)`` → the Blueprint as a JSON-ready dict."""


class _PageServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, page: bytes) -> None:
        self.page = page
        super().__init__((LOOPBACK_HOST, 0), _PageHandler)


class _PageHandler(BaseHTTPRequestHandler):
    server: _PageServer

    def do_GET(self) -> None:
        self._answer(with_body=True)

    def do_HEAD(self) -> None:
        self._answer(with_body=False)

    def _answer(self, *, with_body: bool) -> None:
        # Only the case page exists: sub-pages the fetcher guesses (/pricing, /about) are honest 404s.
        found = self.path.split("?", 1)[0] == "/"
        body = self.server.page if found else b"not found\n"
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8" if found else "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: an eval run prints its table, not one access-log line per fetch."""


@contextmanager
def serve_page(html: bytes) -> Iterator[str]:
    """Serve ``html`` at ``/`` on a free loopback port; yields the URL (``http://127.0.0.1:PORT/``)."""
    server = _PageServer(html)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://{LOOPBACK_HOST}:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def allow_private_host(host: str | None) -> Iterator[None]:
    """Add ``host`` to the SSRF allow-list for the block (``None``: leave the setting alone).

    Settings are read from the environment and cached, so the variable is set, the cache dropped, and
    both restored afterwards: the run must not widen the guard for whatever the process does next.
    """
    if host is None:
        yield
        return
    previous = os.environ.get(ALLOW_ENV)
    hosts = [h.strip() for h in (previous or "").split(",") if h.strip()]
    os.environ[ALLOW_ENV] = ",".join(hosts if host in hosts or "*" in hosts else [*hosts, host])
    get_settings.cache_clear()
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(ALLOW_ENV, None)
        else:
            os.environ[ALLOW_ENV] = previous
        get_settings.cache_clear()


async def _run_case(case: EvalCase, base: Path, generate: Generate, out_dir: Path | None,
                    strict: bool) -> CaseScore:
    html = (base / case.site).read_bytes()
    started = time.perf_counter()
    blueprint: dict[str, Any] | None = None
    error: str | None = None
    with serve_page(html) as url:
        try:
            blueprint = await generate(url, case.icp)
        except BlueprintError as exc:  # a reported failure scores 0 for this case; bugs still raise
            error = f"{exc.code}: {exc.message}"
    if out_dir is not None and blueprint is not None:
        text = json.dumps(blueprint, indent=1, ensure_ascii=False, default=str)
        (out_dir / f"{case.id}.json").write_text(text + "\n", encoding="utf-8")
    result = score_blueprint(case, blueprint, strict=strict)
    result.error, result.duration_s = error, round(time.perf_counter() - started, 3)
    return result


async def run_eval(
    cases_path: Path,
    *,
    out_dir: Path | None,
    generate: Generate,
    allow_private_hosts: str | None = LOOPBACK_HOST,
    only: Sequence[str] | None = None,
    concurrency: int = 1,
    strict: bool = False,
    skip_missing: bool = False,
) -> EvalReport:
    """Generate and score a blueprint for every case of ``cases_path`` (or the ``only`` ids).

    ``generate`` gets the loopback URL of the case's homepage and the case's ICP (``None`` when the
    case has none). ``allow_private_hosts`` is added to the SSRF allow-list during the run; pass
    ``None`` when the caller has configured it. With ``out_dir``, each blueprint is written there as
    ``<id>.json`` (the layout ``score.py score --outputs`` reads). A case whose run raises a
    :class:`BlueprintError` scores 0 and carries the error; other exceptions propagate.
    A case whose page file is missing raises ``FileNotFoundError`` before anything runs, or, with
    ``skip_missing`` (sets whose pages are rebuilt locally, such as ``evals/realworld``), is left out
    and listed in ``EvalReport.skipped``.
    """
    cases = load_cases(cases_path)
    if only is not None:
        unknown = set(only) - {c.id for c in cases}
        if unknown:
            raise ValueError(f"unknown case ids: {sorted(unknown)}")
        cases = [c for c in cases if c.id in set(only)]
    missing = [c.id for c in cases if not (cases_path.parent / c.site).is_file()]
    if missing and not skip_missing:
        raise FileNotFoundError(f"no page file for cases: {missing}")
    cases = [c for c in cases if c.id not in set(missing)]
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(case: EvalCase) -> CaseScore:
        async with gate:
            return await _run_case(case, cases_path.parent, generate, out_dir, strict)

    with allow_private_host(allow_private_hosts):
        results = await asyncio.gather(*(one(c) for c in cases))
    return EvalReport(list(results), skipped=missing)
