"""``blueprint demo``: serve a bundled sample seller page on loopback and run the real pipeline on it.

This is how the README's first command works offline: the page is fetched over real HTTP through the
real SSRF guard (loopback is allowed for this one host and this process only).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path

__all__ = ["serve_demo_site"]


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return


@contextlib.contextmanager
def serve_demo_site(page: str = "roadledger.html") -> Iterator[str]:
    """Serve ``server/demo/<page>`` at ``/`` on 127.0.0.1 and allow the guard to reach it."""
    folder = Path(str(resources.files("server") / "demo"))
    if not (folder / page).is_file():
        raise FileNotFoundError(page)

    class Handler(_Quiet):
        def translate_path(self, path: str) -> str:
            return str(folder / page) if path.split("?")[0] in {"/", "/index.html"} else str(folder / "__none__")

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    previous = os.environ.get("BLUEPRINT_ALLOW_PRIVATE_HOSTS")
    os.environ["BLUEPRINT_ALLOW_PRIVATE_HOSTS"] = ",".join(filter(None, [previous, "127.0.0.1"]))
    from graph.settings import get_settings

    get_settings.cache_clear()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        if previous is None:
            os.environ.pop("BLUEPRINT_ALLOW_PRIVATE_HOSTS", None)
        else:
            os.environ["BLUEPRINT_ALLOW_PRIVATE_HOSTS"] = previous
        get_settings.cache_clear()
        server.shutdown()
        server.server_close()
