"""Command-line rough edges: --out checked before the run, contradictory cache flags, a busy port, the
exit codes in --help, Ctrl-C, an unusable cache folder, and a refusal that explains itself."""

from __future__ import annotations

import re
import socket
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import server.cli
from server.cli import app
from tests.support.site_server import SiteServer, serve_site

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("offline_env")]

HOME = (Path(__file__).parents[1] / "fixtures" / "sites" / "engine_vetlab.html").read_text(encoding="utf-8")
THIN = "<html><title>Hi</title><body><p>Hello there, friends.</p></body></html>"


@pytest.fixture
def site() -> Iterator[SiteServer]:
    with serve_site({"/": HOME}) as server:
        yield server


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _outs(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    outs = [tmp_path / "missing" / "bp.json", folder]
    if Path("/proc").is_dir():
        outs.append(Path("/proc/x"))
    return outs


def test_an_unwritable_out_is_refused_before_the_run(runner: CliRunner, site: SiteServer, tmp_path: Path) -> None:
    for out in _outs(tmp_path):
        result = runner.invoke(app, ["generate", site.url_for("/"), "--out", str(out)])
        assert result.exit_code == 2, (out, result.stderr)
        assert result.stderr.startswith(f"error [validation_error]: --out {out}: "), result.stderr
        assert "Traceback" not in result.stderr
        assert "run bp_" not in result.stderr  # refused before the run started
    assert not (tmp_path / "missing").exists()


def test_a_writable_out_is_probed_without_leaving_a_file(runner: CliRunner, site: SiteServer,
                                                         tmp_path: Path) -> None:
    out = tmp_path / "bp.json"
    refused = runner.invoke(app, ["generate", site.url_for("/"), "--out", str(out), "--no-cache", "--refresh"])
    assert refused.exit_code == 2
    assert not out.exists()  # the probe removed the file it created
    ok = runner.invoke(app, ["generate", site.url_for("/"), "--out", str(out)])
    assert ok.exit_code == 0, ok.stderr
    assert out.read_text().startswith("{")


def test_no_cache_with_refresh_is_contradictory(runner: CliRunner, site: SiteServer) -> None:
    result = runner.invoke(app, ["generate", site.url_for("/"), "--no-cache", "--refresh"])
    assert result.exit_code == 2
    assert "error [validation_error]: --no-cache and --refresh contradict each other" in result.stderr
    assert result.stdout == ""


def test_help_lists_interrupt_and_sigterm_codes(runner: CliRunner) -> None:
    text = " ".join(runner.invoke(app, ["--help"]).stdout.split())
    assert "130 interrupted (Ctrl-C)" in text and "143 stopped (SIGTERM)" in text


def test_ctrl_c_exits_130(runner: CliRunner, site: SiteServer, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(coroutine: Coroutine[Any, Any, Any]) -> None:
        coroutine.close()  # never started: Ctrl-C before the run
        raise KeyboardInterrupt

    monkeypatch.setattr(server.cli.asyncio, "run", interrupted)
    result = runner.invoke(app, ["generate", site.url_for("/")])
    assert result.exit_code == 130
    assert "interrupted" in result.stderr


def test_serve_on_a_busy_port_exits_2(runner: CliRunner) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = runner.invoke(app, ["serve", "--port", str(port)])
    assert result.exit_code == 2
    assert f"error [validation_error]: cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "--port" in result.stderr


def test_an_unusable_cache_folder_is_not_called_a_miss(runner: CliRunner, site: SiteServer, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("BLUEPRINT_CACHE_DIR", str(blocker / "cache"))
    from graph.settings import get_settings

    get_settings.cache_clear()
    result = runner.invoke(app, ["generate", site.url_for("/")])
    assert result.exit_code == 0, result.stderr
    run_line = next(line for line in result.stderr.splitlines() if line.startswith("run bp_"))
    assert "cache off: " in run_line and "cache miss" not in run_line


def test_a_thin_page_refusal_says_what_it_needs_and_how_to_reread(runner: CliRunner) -> None:
    with serve_site({"/": THIN}) as thin:
        first = runner.invoke(app, ["generate", thin.url_for("/")])
        again = runner.invoke(app, ["generate", thin.url_for("/")])
        fresh = runner.invoke(app, ["generate", thin.url_for("/"), "--refresh"])
    assert (first.exit_code, again.exit_code, fresh.exit_code) == (3, 3, 3)
    assert re.search(r"\d words of text read on 1 page\(s\), at least 40 needed", again.stderr), again.stderr
    assert "market signal" not in again.stderr
    # the page is now in the page cache: the message says how to read the site again
    assert "--refresh (HTTP: options.cache \"refresh\")" in " ".join(again.stderr.split())
    # a refresh reads the site itself: nothing to re-read, no hint
    assert "at least 40 needed" in fresh.stderr and "--refresh" not in fresh.stderr


def test_validate_of_a_missing_folder_points_at_the_argument(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["knowledge", "validate", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "fix: check the DIR argument" in result.stdout and "BLUEPRINT_KNOWLEDGE_DIR" not in result.stdout
