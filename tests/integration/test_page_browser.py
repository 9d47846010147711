"""The page at ``/`` in a real browser: Debian's headless Chromium driven by Selenium (chromium-driver),
against a real uvicorn server and a slow loopback seller site.

Submit a site, watch node progress arrive, reload mid-run and see the run resume (the same run: the
site is read once), see the blueprint as tables, download the Markdown; with API keys, the page asks
for one and its EventSource streams with the run's token. A screenshot of the finished page is saved
under ``.cache/artifacts/`` (a CI artifact). Skipped, saying why, only where Chromium is not installed
(``.ci/run`` installs it).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from graph.settings import get_settings
from server.app import create_app
from tests.support.http_helpers import TABLELY, tablely_home
from tests.support.site_server import RequestRecord, Route, SiteServer, html, serve_site
from tests.support.uvicorn_server import UvicornThread

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / ".cache" / "artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (the dev extra has it)")
if not (CHROMIUM and CHROMEDRIVER):
    pytest.skip("Chromium or chromedriver is not installed: `apt-get install -y chromium chromium-driver` "
                "(.ci/run does)", allow_module_level=True)

from selenium.webdriver.common.by import By  # noqa: E402  (after the skip: needs selenium)
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

HOME_DELAY_S = 4.0


def _slow_home(record: RequestRecord) -> Route:
    time.sleep(HOME_DELAY_S)
    return html(tablely_home())


@pytest.fixture
def site() -> Iterator[SiteServer]:
    with serve_site({"/": _slow_home}, directory=TABLELY) as server:
        yield server


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, offline_env: None) -> None:
    monkeypatch.setenv("BLUEPRINT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("BLUEPRINT_ENGINE", "catalog")
    get_settings.cache_clear()


@pytest.fixture
def downloads(tmp_path: Path) -> Path:
    folder = tmp_path / "downloads"
    folder.mkdir()
    return folder


@pytest.fixture
def browser(tmp_path: Path, downloads: Path) -> Iterator[Any]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,1000"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads)})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    try:
        yield driver
    finally:
        driver.quit()


def _node_state(driver: Any, node: str) -> str:
    return str(driver.find_element(By.CSS_SELECTOR, f'#nodes li[data-node="{node}"]').get_attribute("data-state"))


def _wait(driver: Any, condition: Any, timeout: float = 20) -> Any:
    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(condition)


def _downloaded(folder: Path, suffix: str, timeout: float = 10) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in folder.iterdir() if p.name.endswith(suffix)]
        if done:
            return done[0]
        time.sleep(0.05)
    raise AssertionError(f"no {suffix} download in {folder}: {list(folder.iterdir())}")


def test_submit_watch_progress_reload_mid_run_resume_and_download_markdown(
    env: None, site: SiteServer, browser: Any, downloads: Path
) -> None:
    with UvicornThread(create_app()) as server:
        browser.get(server.url + "/")
        website = browser.find_element(By.ID, "website")
        assert browser.find_element(By.CSS_SELECTOR, "label[for=website]").text  # labelled
        website.send_keys(site.url)
        Select(browser.find_element(By.ID, "engine")).select_by_value("catalog")
        browser.find_element(By.ID, "submit").click()

        # progress arrives while the site is still loading, and the URL now names the run
        _wait(browser, lambda d: _node_state(d, "fetch_site") == "running")
        assert "run=run_" in browser.current_url
        run_url = browser.current_url
        assert _node_state(browser, "assemble") == "pending"

        browser.refresh()  # mid-run: the page resumes the same run from its events
        assert browser.current_url == run_url
        _wait(browser, lambda d: _node_state(d, "fetch_site") in {"running", "done"})
        _wait(browser, EC.visibility_of_element_located((By.ID, "result-title")), timeout=30)
        assert all(_node_state(browser, n) == "done" for n in ("fetch_site", "firmographic", "assemble"))
        assert site.hits["/"] == 1  # one run, followed twice: the reload did not start another

        captions = [c.text for c in browser.find_elements(By.CSS_SELECTOR, "#blueprint caption")]
        assert {"Firmographic data points", "Sources", "Collection plan", "Warnings"} <= set(captions)
        firmographic = browser.find_elements(By.CSS_SELECTOR, "#blueprint table:nth-of-type(1) tbody tr")
        assert firmographic and firmographic[0].find_elements(By.CSS_SELECTOR, "td")[2].text  # a "why"
        assert "Tablely" in browser.find_element(By.ID, "blueprint").text
        assert not browser.find_element(By.ID, "error").is_displayed()

        browser.find_element(By.ID, "download-md").click()
        markdown = _downloaded(downloads, ".md")
        assert markdown.read_text().startswith("# Enrichment blueprint")
        _wait(browser, lambda d: "Downloaded" in d.find_element(By.ID, "download-status").text)

        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(1280, min(int(height) + 120, 4000))  # the whole page, not the first screen
        assert browser.save_screenshot(str(ARTIFACTS / "page.png"))

        # an export button for a format this server does not offer says so instead of failing
        browser.find_element(By.CSS_SELECTOR, "[data-export=hubspot]").click()
        _wait(browser, lambda d: "HubSpot".lower() in d.find_element(By.ID, "download-status").text.lower()
              or d.find_element(By.ID, "error").is_displayed() or list(downloads.glob("*hubspot*")))


def test_a_shared_link_prefills_and_starts_and_errors_show_their_code(
    env: None, site: SiteServer, browser: Any
) -> None:
    with UvicornThread(create_app()) as server:
        browser.get(f"{server.url}/?website={quote(site.url)}&engine=catalog")
        assert browser.find_element(By.ID, "website").get_attribute("value") == site.url
        _wait(browser, EC.visibility_of_element_located((By.ID, "result-title")), timeout=30)
        browser.get(f"{server.url}/?website={quote(site.url)}&engine=catalog")  # now a cache hit
        _wait(browser, lambda d: "blueprint=bp_" in d.current_url)
        _wait(browser, EC.visibility_of_element_located((By.ID, "result-title")))

        browser.get(f"{server.url}/?website=http://10.0.0.1")  # refused before the run: a JSON 422
        error = _wait(browser, EC.visibility_of_element_located((By.ID, "error")))
        assert "blocked_url" in error.text

        with serve_site({"/": html("gone", status=404)}) as gone:  # fails mid-run: an `error` event
            browser.get(f"{server.url}/?website={quote(gone.url)}&engine=catalog")
            error = _wait(browser, EC.visibility_of_element_located((By.ID, "error")))
            _wait(browser, lambda d: "insufficient_information" in d.find_element(By.ID, "error").text)
            _wait(browser, lambda d: d.find_element(By.ID, "submit").is_enabled())  # ready for another try


def test_with_api_keys_the_page_asks_for_one_and_streams_with_a_token(
    env: None, site: SiteServer, browser: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BLUEPRINT_API_KEYS", "page-key")
    get_settings.cache_clear()
    with UvicornThread(create_app()) as server:
        browser.get(f"{server.url}/?website={quote(site.url)}&engine=catalog")
        key = _wait(browser, EC.visibility_of_element_located((By.ID, "api-key")))
        assert "unauthorized" in browser.find_element(By.ID, "error").text
        key.send_keys("page-key")
        browser.find_element(By.CSS_SELECTOR, "#key-form button[type=submit]").click()
        _wait(browser, EC.visibility_of_element_located((By.ID, "result-title")), timeout=30)
        assert "page-key" not in browser.current_url
        assert browser.execute_script("return localStorage.length") == 0  # the tab's sessionStorage only


def test_cancel_stops_the_run_and_says_so(env: None, site: SiteServer, browser: Any) -> None:
    with UvicornThread(create_app()) as server:
        browser.get(f"{server.url}/?website={quote(site.url)}&engine=catalog")
        _wait(browser, lambda d: _node_state(d, "fetch_site") == "running")
        cancel = browser.find_element(By.ID, "cancel")
        assert cancel.is_displayed()
        cancel.click()
        _wait(browser, lambda d: "cancelled" in d.find_element(By.ID, "error").text)
        _wait(browser, lambda d: d.find_element(By.ID, "submit").is_enabled())
        assert not browser.find_element(By.ID, "cancel").is_displayed()
        assert not browser.find_element(By.ID, "result").is_displayed()
