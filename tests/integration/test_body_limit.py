"""Request bodies against a real uvicorn: refused from the headers, before they are read.

Uploads are raw sockets that behave like ``curl`` with ``Expect: 100-continue``: they send the headers,
wait a moment for an early answer, and send the body only if none came. A server that answers from the
headers has then received none of the body; one that reads bodies before checking the key (as this one
did) gets all of it.
"""

from __future__ import annotations

import select
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import orjson
import psutil
import pytest

from graph.settings import get_settings
from server.app import create_app
from tests.support.http_helpers import ENRICH
from tests.support.uvicorn_server import UvicornThread

pytestmark = pytest.mark.slow
KEY = "k-body-limit-0123456789"
MIB = 1024 * 1024
BIG = 200 * MIB
CHUNK = b"\0" * (64 * 1024)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    sent: int  # body bytes the client managed to send


def _read_answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    sock.settimeout(60)
    data = b""
    while b"\r\n\r\n" not in data:
        part = sock.recv(65536)
        if not part:
            break
        data += part
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        part = sock.recv(65536)
        if not part:
            break
        body += part
    return int(lines[0].split()[1]), headers, body


def upload(port: int, *, size: int, headers: dict[str, str], chunked: bool = False, wait_s: float = 1.0) -> Answer:
    """POST ``size`` zero bytes (declared, or chunked) to the enrichment route, as described above."""
    framing = {"Transfer-Encoding": "chunked"} if chunked else {"Content-Length": str(size)}
    head = "".join(f"{k}: {v}\r\n" for k, v in {"Host": "127.0.0.1", "Content-Type": "application/json",
                                               **framing, **headers}.items())
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(f"POST {ENRICH} HTTP/1.1\r\n{head}\r\n".encode())
        sent = 0
        early, _, _ = select.select([sock], [], [], wait_s)
        try:
            while not early and sent < size:
                piece = CHUNK[: size - sent]
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
                sent += len(piece)
                early, _, _ = select.select([sock], [], [], 0)
            if chunked and not early:
                sock.sendall(b"0\r\n\r\n")
            status, answer_headers, body = _read_answer(sock)
        except (BrokenPipeError, ConnectionResetError):  # the server closed on a body it would not read
            return Answer(0, {}, b"", sent)
    return Answer(status, answer_headers, body, sent)


class PeakRss:
    """This process's peak resident memory above where it started, sampled every 10 ms."""

    def __init__(self) -> None:
        self._process = psutil.Process()
        self.start = self.peak = self._process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, self._process.memory_info().rss)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.start) / MIB


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch, offline_env: None, tmp_path: object) -> Iterator[UvicornThread]:
    monkeypatch.setenv("BLUEPRINT_API_KEYS", KEY)
    monkeypatch.setenv("BLUEPRINT_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("BLUEPRINT_MAX_BODY_BYTES", raising=False)
    get_settings.cache_clear()
    with UvicornThread(create_app()) as running:
        yield running


def _envelope(answer: Answer, code: str) -> dict[str, object]:
    error = orjson.loads(answer.body)["error"]
    assert error["code"] == code, error
    assert answer.headers["x-request-id"] == error["request_id"]
    return dict(error)


def test_a_declared_oversized_body_is_refused_before_it_is_sent(server: UvicornThread) -> None:
    answer = upload(server.port, size=BIG, headers={"Authorization": f"Bearer {KEY}"})
    assert (answer.status, answer.sent) == (413, 0)
    error = _envelope(answer, "payload_too_large")
    assert error["details"] == {"limit_bytes": MIB}
    assert answer.headers["connection"] == "close"  # the server will not drain what the client still sends


def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit(server: UvicornThread) -> None:
    # the upload stops just past the limit: the server has read all of it, so its answer is not lost to
    # a connection reset, and the test shows the refusal came while the body was still arriving
    answer = upload(server.port, size=MIB + len(CHUNK), chunked=True, wait_s=0.2,
                    headers={"Authorization": f"Bearer {KEY}"})
    assert answer.status == 413
    assert _envelope(answer, "payload_too_large")["details"] == {"limit_bytes": MIB}


def test_a_200_mb_chunked_upload_is_cut_short_without_memory_growth(server: UvicornThread) -> None:
    """A client that keeps sending (no ``Expect: 100-continue``) is cut off soon after the limit. Whether it
    then reads the 413 or sees the connection reset depends on what it had in flight when the server
    closed (the kernel resets a connection closed with unread data): both end the upload."""
    with PeakRss() as rss:
        answers = [upload(server.port, size=BIG, chunked=True, wait_s=0.05,
                          headers={"Authorization": f"Bearer {KEY}"}) for _ in range(4)]
    assert {a.status for a in answers} <= {413, 0}
    assert max(a.sent for a in answers) < 32 * MIB  # not the 200 MB: the server stopped reading
    assert rss.growth_mb < 50


def test_a_body_within_the_limit_still_reaches_validation(server: UvicornThread) -> None:
    answer = upload(server.port, size=MIB, headers={"Authorization": f"Bearer {KEY}"}, wait_s=0.2)
    assert (answer.status, answer.sent) == (422, MIB)  # a megabyte of zeros is not JSON: read, then refused
    _envelope(answer, "validation_error")


@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "chunked"])
def test_a_big_body_without_a_key_is_refused_before_it_is_sent(server: UvicornThread, chunked: bool) -> None:
    answer = upload(server.port, size=BIG, headers={}, chunked=chunked)
    assert (answer.status, answer.sent) == (401, 0)
    _envelope(answer, "unauthorized")


def test_a_small_body_without_a_key_keeps_the_connection(server: UvicornThread) -> None:
    answer = upload(server.port, size=100, headers={}, wait_s=0.2)
    assert answer.status == 401 and "connection" not in answer.headers  # drained by the server: harmless


def test_eight_200_mb_bodies_without_a_key_cost_no_memory(server: UvicornThread) -> None:
    with PeakRss() as rss, ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: upload(server.port, size=BIG, headers={}), range(8)))
    print(f"\nRSS under eight 200 MB bodies without a key: +{rss.growth_mb:.0f} MB "
          f"({rss.start / MIB:.0f} MB -> {rss.peak / MIB:.0f} MB); body bytes sent: {sum(a.sent for a in answers)}")
    assert [a.status for a in answers] == [401] * 8
    assert sum(a.sent for a in answers) == 0
    assert rss.growth_mb < 50
