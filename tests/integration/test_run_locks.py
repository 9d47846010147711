"""Run locks that cannot outlive their run (diskcache and Redis), and the same request run again and again
through the CLI and the Python API: every run finishes promptly and leaves no lock behind."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graph.api import agenerate_blueprint, generate_blueprint
from graph.cache import RunCache
from graph.run_lock import LockOwner, RunLocks, _this_host
from graph.settings import get_settings
from server.cli import app
from tests.support.run_locks import lock_keys
from tests.support.site_server import SiteServer, serve_site
from tools.errors import InsufficientInformation

pytestmark = pytest.mark.usefixtures("offline_env")

HOME = (Path(__file__).parents[1] / "fixtures" / "sites" / "engine_vetlab.html").read_text(encoding="utf-8")
THIN = "<html><body><p>Hello.</p></body></html>"  # too little to say anything: insufficient_information
# the thin page is the site's root: a deep link is read with its site's home page, so a thin deep page under a
# rich home page would not be refused
THIN_PATH, HOME_PATH = "/", "/vetlab"
PROMPT_S = 15.0  # a run here takes 1-2 s; a lock left behind used to cost 300 s
REDIS_URL = os.environ.get("BLUEPRINT_TEST_REDIS_URL")


@pytest.fixture
def site() -> Iterator[SiteServer]:
    with serve_site({"/": THIN, "/vetlab": HOME}) as server:
        yield server


@pytest.fixture
def cache_dir() -> Path:
    return get_settings().cache_dir


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


# ───────────────────────────── the lock itself ─────────────────────────────


def _backends(tmp_path: Path) -> list[RunCache]:
    found: list[RunCache] = [RunCache(tmp_path / "disk", ttl_s=60)]
    if REDIS_URL:
        from graph.cache_redis import RedisRunCache

        found.append(RedisRunCache(REDIS_URL, ttl_s=60, prefix=f"bp-locks-{os.getpid()}-{time.time_ns()}:"))
    return found


def test_a_lock_owner_is_gone_once_its_process_is() -> None:
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        owner = LockOwner.parse(f"{_this_host()}:{alive.pid}:t1")
        assert owner is not None and not owner.is_gone()
        assert LockOwner.parse("elsewhere:1:t1") == LockOwner("elsewhere", 1, "t1")
        assert not LockOwner("elsewhere", 1, "t1").is_gone()  # never known from here: its lease says
        assert LockOwner.parse("garbage") is None and LockOwner.parse("h:x:t") is None
        alive.kill()  # not reaped yet: a zombie holds nothing either
        deadline = time.monotonic() + 5
        while not owner.is_gone():
            assert time.monotonic() < deadline, "a killed holder still looks alive"
            time.sleep(0.02)
    finally:
        alive.kill()
        alive.wait()
    assert owner.is_gone()


async def test_a_lock_whose_holder_is_gone_is_taken_over_at_once(tmp_path: Path) -> None:
    for cache in _backends(tmp_path):
        gone = [f"{_this_host()}:{_dead_pid()}:a1", f"{_this_host()}:{os.getpid()}:not-held-any-more"]
        if type(cache) is RunCache:
            gone.append(str(_dead_pid()))  # a bare pid: a lock from an older version
        for holder in gone:
            owner = LockOwner.parse(holder)
            assert owner is not None and owner.is_gone()
            assert cache.try_lock("k", holder, 300)  # a lease far longer than any wait below
            locks = RunLocks(cache)
            started = time.monotonic()
            held, shared = await locks.acquire("k")
            assert held and shared is None and time.monotonic() - started < 1, (cache, holder)
            assert cache.lock_owner("k") not in (None, holder)
            await locks.release("k")
            assert cache.lock_owner("k") is None
            await locks.aclose()
        cache.close()


async def test_a_live_holder_elsewhere_is_waited_for_until_its_lease_runs_out(tmp_path: Path) -> None:
    for cache in _backends(tmp_path):
        assert cache.try_lock("k", "another-host:4242:t1", 0.6)  # never renewed: that holder stopped
        locks = RunLocks(cache)
        started = time.monotonic()
        held, _ = await locks.acquire("k")
        assert held and 0.4 < time.monotonic() - started < 5, cache
        await locks.aclose()  # releases what is still held
        assert cache.lock_owner("k") is None
        cache.close()


async def test_a_live_holder_keeps_its_lock_by_renewing_the_lease(tmp_path: Path) -> None:
    for cache in _backends(tmp_path):
        holder = RunLocks(cache, lease_s=0.5, beat_s=0.1)
        assert (await holder.acquire("k"))[0]
        mine = cache.lock_owner("k")
        second = RunLocks(cache, poll_s=0.02)
        waiter = asyncio.create_task(second.acquire("k"))
        await asyncio.sleep(1.5)  # three leases
        assert not waiter.done() and cache.lock_owner("k") == mine
        await holder.release("k")
        assert (await asyncio.wait_for(waiter, 5))[0]  # free: the waiter takes it
        assert cache.lock_owner("k") not in (None, mine)
        await second.aclose()
        assert cache.lock_owner("k") is None
        cache.close()


def test_a_release_is_never_dropped_by_asyncio_run(tmp_path: Path) -> None:
    """``asyncio.run`` cancels every task left when its coroutine returns; a release in a run's
    ``finally`` used to be such a task (a shielded ``to_thread``), lost in about one run of six."""
    cache = RunCache(tmp_path / "c", ttl_s=60)

    async def main() -> None:
        locks = RunLocks(cache)
        await asyncio.gather(*(asyncio.to_thread(time.sleep, 0.002) for _ in range(4)))  # idle worker threads
        assert (await locks.acquire("k"))[0]
        answered = asyncio.Event()

        async def run() -> None:
            try:
                answered.set()  # the caller has its answer...
            finally:
                await locks.release("k")  # ...and returns while this is still pending

        asyncio.get_running_loop().create_task(run())
        await answered.wait()

    for _ in range(50):
        asyncio.run(main())
        assert cache.lock_owner("k") is None
    cache.close()


# ───────────────────────────── the same request, again and again ─────────────────────────────


@pytest.mark.slow
@pytest.mark.parametrize("flags", [[], ["--refresh"]], ids=["use", "refresh"])
def test_cli_same_succeeding_request_three_times(site: SiteServer, cache_dir: Path, flags: list[str]) -> None:
    for attempt in range(3):
        started = time.monotonic()
        result = CliRunner().invoke(app, ["generate", site.url_for(HOME_PATH), *flags])
        assert result.exit_code == 0, result.stderr
        assert time.monotonic() - started < PROMPT_S
        assert lock_keys(cache_dir) == [], f"run {attempt + 1} left its lock"
    assert site.hits["/"] == (1 if not flags else 3)  # use: then from the cache; refresh: read again


@pytest.mark.slow
def test_cli_same_failing_request_three_times(site: SiteServer, cache_dir: Path) -> None:
    for attempt in range(3):
        started = time.monotonic()
        result = CliRunner().invoke(app, ["generate", site.url_for(THIN_PATH)])
        assert result.exit_code == 3 and "insufficient_information" in result.stderr
        assert time.monotonic() - started < PROMPT_S
        assert lock_keys(cache_dir) == [], f"run {attempt + 1} left its lock"


def _three_times(site: SiteServer, cache_dir: Path, call: object) -> None:
    """Failing, then succeeding with ``use``, then with ``refresh``: three times each."""
    assert callable(call)
    for path, mode in ((THIN_PATH, "use"), (HOME_PATH, "use"), (HOME_PATH, "refresh")):
        for attempt in range(3):
            started = time.monotonic()
            try:
                call(site.url_for(path), options={"cache": mode})
            except InsufficientInformation:
                assert path == THIN_PATH
            else:
                assert path == HOME_PATH
            assert time.monotonic() - started < PROMPT_S, (path, mode, attempt)
            assert lock_keys(cache_dir) == [], f"{path} {mode} run {attempt + 1} left its lock"


@pytest.mark.slow
def test_python_api_sync_outside_a_loop(site: SiteServer, cache_dir: Path) -> None:
    _three_times(site, cache_dir, generate_blueprint)


@pytest.mark.slow
async def test_python_api_sync_inside_a_running_loop(site: SiteServer, cache_dir: Path) -> None:
    _three_times(site, cache_dir, generate_blueprint)  # as in Jupyter: runs its own loop in a thread


@pytest.mark.slow
async def test_python_api_async(site: SiteServer, cache_dir: Path) -> None:
    for path, mode in ((THIN_PATH, "use"), (HOME_PATH, "use"), (HOME_PATH, "refresh")):
        for attempt in range(3):
            started = time.monotonic()
            try:
                await agenerate_blueprint(site.url_for(path), options={"cache": mode})
            except InsufficientInformation:
                assert path == THIN_PATH
            assert time.monotonic() - started < PROMPT_S, (path, mode, attempt)
            assert lock_keys(cache_dir) == [], f"{path} {mode} run {attempt + 1} left its lock"


@pytest.mark.slow
async def test_http_same_failing_and_succeeding_request_three_times(
    site: SiteServer, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from server.app import create_app

    monkeypatch.setenv("BLUEPRINT_REFRESH_INTERVAL_S", "0")  # three refreshes in a row, on purpose
    get_settings.cache_clear()
    from tests.support.http_helpers import ENRICH, app_client

    async with app_client(create_app()) as client:
        for body, status in (({"website": site.url_for(THIN_PATH)}, 422),
                             ({"website": site.url_for(HOME_PATH), "options": {"cache": "refresh"}}, 200)):
            for attempt in range(3):
                started = time.monotonic()
                response = await client.post(ENRICH, json=body)
                assert response.status_code == status and time.monotonic() - started < PROMPT_S
                # the server answers first and releases right after (a thread hop later)
                deadline = time.monotonic() + 2
                while lock_keys(cache_dir) and time.monotonic() < deadline:
                    await asyncio.sleep(0.01)
                assert lock_keys(cache_dir) == [], f"{body} run {attempt + 1} left its lock"
