"""The ``blueprint`` command line against a seller site on loopback: outputs, progress, exit codes."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from graph.schemas import Blueprint, EnrichmentRequest
from graph.settings import get_settings
from server.cli import app, cli_supply, exit_code_for
from tests.support.site_server import SiteServer, serve_site
from tools.errors import (
    BlockedURL,
    BlueprintError,
    InsufficientInformation,
    InvalidRequest,
    LLMError,
    ProviderAuthError,
    SiteFetchError,
    UpstreamError,
    UpstreamTimeout,
)

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("offline_env")]

HOME = (Path(__file__).parents[1] / "fixtures" / "sites" / "engine_vetlab.html").read_text(encoding="utf-8")
NODES = ("fetch_site", "analyze_company", "resolve_icp", "firmographic", "technographic", "personalization",
         "sources", "collection_methods", "coverage", "assemble")




@pytest.fixture
def site() -> Iterator[SiteServer]:
    with serve_site({"/": HOME}) as server:
        yield server


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


# ───────────────────────────── generate ─────────────────────────────


def test_generate_prints_json_and_progress(runner: CliRunner, site: SiteServer) -> None:
    result = runner.invoke(app, ["generate", site.url_for("/")])
    assert result.exit_code == 0, result.stderr
    bp = Blueprint.model_validate_json(result.stdout)
    assert bp.company.name == "Petrivia Diagnostics"
    assert bp.meta.cache == "miss"
    lines = result.stderr.splitlines()
    assert lines[0].startswith("run ") and "engine catalog" in lines[0] and "cache miss" in lines[0]
    for node in NODES:  # plain lines (not a terminal): one started and one completed line per node
        assert f"… {node}" in lines
        assert any(line.startswith(f"✓ {node} (") and line.endswith(" ms)") for line in lines)
    assert "{" not in result.stderr  # the result goes to stdout only


def test_generate_markdown(runner: CliRunner, site: SiteServer) -> None:
    result = runner.invoke(app, ["generate", site.url_for("/"), "--format", "markdown", "--max-data-points", "4"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("# Enrichment blueprint — Petrivia Diagnostics")
    for heading in ("## Firmographic", "## Technographic", "## Personalization", "## Sources", "## Collection plan"):
        assert heading in result.stdout


def test_generate_to_a_file(runner: CliRunner, site: SiteServer, tmp_path: Path) -> None:
    out = tmp_path / "bp.json"
    result = runner.invoke(app, ["generate", site.url_for("/"), "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert f"wrote {out}" in result.stderr
    assert Blueprint.model_validate_json(out.read_text(encoding="utf-8")).company.name == "Petrivia Diagnostics"


def test_generate_with_icp_file_and_sample_domains(runner: CliRunner, site: SiteServer, tmp_path: Path) -> None:
    icp = tmp_path / "icp.json"
    icp.write_text(json.dumps({"industries": ["Emergency and specialty veterinary hospitals"],
                               "buyer_titles": ["Medical Director"]}), encoding="utf-8")
    result = runner.invoke(app, ["generate", site.url_for("/"), "--icp", str(icp),
                                 "--sample-domains", "lead1.example,lead2.example", "--no-cache"])
    assert result.exit_code == 0, result.stderr
    bp = Blueprint.model_validate_json(result.stdout)
    assert bp.icp.source == "provided" and bp.icp.buyer_titles == ["Medical Director"]
    assert bp.meta.cache == "bypass"
    assert [w.code for w in bp.warnings] == ["coverage_skipped"]  # samples, but no provider key
    assert "! warning [coverage_skipped]" in result.stderr


def test_cache_and_no_cache(runner: CliRunner, site: SiteServer) -> None:
    first = runner.invoke(app, ["generate", site.url_for("/")])
    second = runner.invoke(app, ["generate", site.url_for("/")])
    assert (first.exit_code, second.exit_code) == (0, 0)
    assert Blueprint.model_validate_json(second.stdout).meta.cache == "hit"
    assert "cache hit" in second.stderr
    assert "… fetch_site" not in second.stderr  # a hit runs no node
    hits = site.hits["/"]
    bypass = runner.invoke(app, ["generate", site.url_for("/"), "--no-cache"])
    assert Blueprint.model_validate_json(bypass.stdout).meta.cache == "bypass"
    assert site.hits["/"] == hits + 1


# ───────────────────────────── exit codes ─────────────────────────────


@pytest.mark.parametrize("website", ["ftp://x", "not a url", "javascript:alert(1)"])
def test_bad_website_exits_2(runner: CliRunner, website: str) -> None:
    result = runner.invoke(app, ["generate", website])
    assert result.exit_code == 2
    assert "error [validation_error]" in result.stderr and "website" in result.stderr
    assert result.stdout == ""


def test_unreadable_icp_file_exits_2(runner: CliRunner, site: SiteServer, tmp_path: Path) -> None:
    broken = tmp_path / "icp.json"
    broken.write_text("{industries: [restaurants", encoding="utf-8")
    result = runner.invoke(app, ["generate", site.url_for("/"), "--icp", str(broken)])
    assert result.exit_code == 2
    assert "error [validation_error]" in result.stderr and "ICP file" in result.stderr
    missing = runner.invoke(app, ["generate", site.url_for("/"), "--icp", str(tmp_path / "nope.json")])
    assert missing.exit_code == 2
    assert site.hits["/"] == 0


def test_invalid_icp_content_exits_2(runner: CliRunner, site: SiteServer, tmp_path: Path) -> None:
    icp = tmp_path / "icp.json"
    icp.write_text(json.dumps({"industries": ["restaurants"], "company_size": {"min_employees": 500,
                                                                             "max_employees": 10}}))
    result = runner.invoke(app, ["generate", site.url_for("/"), "--icp", str(icp)])
    assert result.exit_code == 2
    assert "error [validation_error]" in result.stderr and "min_employees" in result.stderr


def test_blocked_url_and_unconfigured_llm_exit_2(runner: CliRunner, site: SiteServer) -> None:
    blocked = runner.invoke(app, ["generate", "http://169.254.169.254/"])
    assert blocked.exit_code == 2
    assert "error [blocked_url]" in blocked.stderr
    llm = runner.invoke(app, ["generate", site.url_for("/"), "--engine", "llm"])
    assert llm.exit_code == 2
    assert "error [validation_error]" in llm.stderr and "OPENAI_API_KEY" in llm.stderr


def test_empty_site_exits_3(runner: CliRunner) -> None:
    with serve_site({"/": "<html><body></body></html>"}) as empty:
        result = runner.invoke(app, ["generate", empty.url_for("/")])
    assert result.exit_code == 3
    assert "error [insufficient_information]" in result.stderr
    assert "supply:" in result.stderr and "icp" in result.stderr
    # the hint speaks the command line's language, not the HTTP body's
    assert "or --icp FILE with industries and buyer_titles" in result.stderr
    assert result.stdout == ""
    with serve_site({"/": "<html><title>Hi</title><body><p>Hello there, friends.</p></body></html>"}) as thin:
        thin_result = runner.invoke(app, ["generate", thin.url_for("/")])
    assert thin_result.exit_code == 3
    assert "supply: --icp FILE (a JSON ICP with industries, buyer_titles, company_size)" in thin_result.stderr
    assert "icp.industries" not in thin_result.stderr


def test_supply_hints_are_translated_to_the_icp_flag() -> None:
    assert cli_supply(["icp.industries", "icp.buyer_titles"]) == [
        "--icp FILE (a JSON ICP with industries, buyer_titles)"]
    assert cli_supply(["a reachable website URL", "or an icp with industries and buyer_titles"]) == [
        "a reachable website URL", "or --icp FILE with industries and buyer_titles"]


def test_validation_messages_lose_pydantics_value_error_prefix(runner: CliRunner) -> None:
    result = runner.invoke(app, ["generate", "ftp://x"])
    assert result.exit_code == 2
    assert "error [validation_error]: website: website must use http or https" in result.stderr
    assert "Value error" not in result.stderr


def test_blocked_url_names_the_setting_that_allows_a_host(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BLUEPRINT_ALLOW_PRIVATE_HOSTS", raising=False)
    get_settings.cache_clear()
    result = runner.invoke(app, ["generate", closed_port_url(), "--no-cache"])
    assert result.exit_code == 2
    assert "error [blocked_url]" in result.stderr
    assert "BLUEPRINT_ALLOW_PRIVATE_HOSTS=127.0.0.1" in result.stderr


def test_unreachable_site_exits_3_without_icp_and_0_with_one(runner: CliRunner, tmp_path: Path) -> None:
    url = closed_port_url()
    result = runner.invoke(app, ["generate", url])
    assert result.exit_code == 3
    assert "error [insufficient_information]" in result.stderr
    icp = tmp_path / "icp.json"
    icp.write_text(json.dumps({"industries": ["veterinary clinics"]}), encoding="utf-8")
    with_icp = runner.invoke(app, ["generate", url, "--icp", str(icp)])
    assert with_icp.exit_code == 0, with_icp.stderr
    assert "! warning [site_unreachable]" in with_icp.stderr


def test_exit_code_mapping() -> None:
    """Every upstream failure inside a run degrades to a warning (providers, LLM fallback) or to
    insufficient_information (the seller's site), so exit 4 is checked on the mapping itself."""
    assert exit_code_for(UpstreamError("x")) == 4
    assert exit_code_for(SiteFetchError("x")) == 4
    assert exit_code_for(LLMError("x")) == 4
    assert exit_code_for(ProviderAuthError("x", provider="apollo", http_status=401)) == 4
    assert exit_code_for(UpstreamTimeout("x")) == 4
    assert exit_code_for(InsufficientInformation("x")) == 3
    assert exit_code_for(InvalidRequest("x")) == 2
    assert exit_code_for(BlockedURL("x")) == 2
    with pytest.raises(ValidationError) as caught:
        EnrichmentRequest.model_validate({"website": "ftp://x"})
    assert exit_code_for(caught.value) == 2
    assert exit_code_for(BlueprintError("x")) == 1
    assert exit_code_for(RuntimeError("x")) == 1


def test_upstream_error_in_a_run_exits_4(runner: CliRunner, site: SiteServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's path from an error event to exit 4, with an upstream failure injected in a node."""
    import graph.nodes.sources as sources_node

    def failing(*args: object, **kwargs: object) -> None:
        raise UpstreamError("the knowledge mirror answered 503", details={"http_status": 503})

    monkeypatch.setattr(sources_node, "plan_sources", failing)
    result = runner.invoke(app, ["generate", site.url_for("/"), "--no-cache"])
    assert result.exit_code == 4
    assert "error [upstream_error]: the knowledge mirror answered 503" in result.stderr


def test_help_documents_exit_codes(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    for fragment in ("2 bad input", "3 insufficient_information", "4 upstream failure"):
        assert fragment in text
    gen = runner.invoke(app, ["generate", "--help"])
    assert gen.exit_code == 0
    for flag in ("--icp", "--sample-domains", "--engine", "--format", "--out", "--no-cache"):
        assert flag in gen.stdout


@pytest.mark.parametrize("command", [[], ["generate"], ["demo"], ["serve"], ["schema"], ["eval"], ["cache"],
                                     ["cache", "stats"], ["cache", "clear"], ["knowledge"],
                                     ["knowledge", "validate"], ["knowledge", "list"], ["knowledge", "show"]])
def test_help_renders_arguments_and_flags_cleanly(runner: CliRunner, command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0
    assert "<bool>" not in result.stdout
    assert "{" not in result.stdout and "}" not in result.stdout
    if command == ["generate"]:
        assert "generate [OPTIONS] WEBSITE" in result.stdout
        assert "WEBSITE" in result.stdout.split("Arguments")[1]
        for option, metavar in (("--icp", "FILE"), ("--max-data-points", "N"), ("--engine", "[auto|catalog|llm]")):
            line = next(line for line in result.stdout.splitlines() if f" {option} " in line)
            assert metavar in line


# ───────────────────────────── schema, cache, demo ─────────────────────────────


def test_schema(runner: CliRunner) -> None:
    both = runner.invoke(app, ["schema"])
    assert both.exit_code == 0
    schemas = json.loads(both.stdout)
    assert set(schemas) == {"request", "blueprint"}
    assert "website" in schemas["request"]["properties"]
    assert {"firmographic", "sources", "collection_methods", "meta"} <= set(schemas["blueprint"]["properties"])
    request_only = json.loads(runner.invoke(app, ["schema", "request"]).stdout)
    assert request_only == schemas["request"]


def test_cache_stats_and_clear(runner: CliRunner, site: SiteServer) -> None:
    empty = json.loads(runner.invoke(app, ["cache", "stats"]).stdout)
    assert empty["available"] and empty["blueprints"] == 0
    assert empty["directory"] == str(get_settings().cache_dir)
    assert runner.invoke(app, ["generate", site.url_for("/")]).exit_code == 0
    stats = json.loads(runner.invoke(app, ["cache", "stats"]).stdout)
    assert stats["blueprints"] == 1 and stats["pages"] >= 1
    cleared = runner.invoke(app, ["cache", "clear"])
    assert cleared.exit_code == 0 and cleared.stdout.startswith("removed ")
    assert json.loads(runner.invoke(app, ["cache", "stats"]).stdout)["blueprints"] == 0
    again = runner.invoke(app, ["generate", site.url_for("/")])
    assert Blueprint.model_validate_json(again.stdout).meta.cache == "miss"


def test_demo_json(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BLUEPRINT_ALLOW_PRIVATE_HOSTS")  # the demo allows its own loopback host
    get_settings.cache_clear()
    result = runner.invoke(app, ["demo", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    bp = Blueprint.model_validate_json(result.stdout)
    assert bp.website.startswith("http://127.0.0.1:")
    assert bp.company.name and all(getattr(bp, s).data_points for s in ("firmographic", "technographic",
                                                                        "personalization"))
    assert "BLUEPRINT_ALLOW_PRIVATE_HOSTS" not in os.environ  # the demo restores the environment


# ───────────────────────────── the installed console script ─────────────────────────────


def _blueprint_command() -> list[str]:
    script = shutil.which("blueprint")
    return [script] if script else [sys.executable, "-c", "from server.cli import app; app()"]


def test_console_script_end_to_end(site: SiteServer, tmp_path: Path) -> None:
    env = {**os.environ, "BLUEPRINT_ALLOW_PRIVATE_HOSTS": "127.0.0.1",
           "BLUEPRINT_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run([*_blueprint_command(), "generate", site.url_for("/"), "--format", "markdown"],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("# Enrichment blueprint — Petrivia Diagnostics")
    assert "✓ assemble" in done.stderr
    bad = subprocess.run([*_blueprint_command(), "generate", "ftp://x"], capture_output=True, text=True, env=env,
                         timeout=60, check=False)
    assert bad.returncode == 2 and "validation_error" in bad.stderr
