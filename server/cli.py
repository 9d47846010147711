"""The ``blueprint`` command line.

Exit codes: 0 success · 1 unexpected error · 2 bad input (validation_error, blocked_url) ·
3 insufficient information · 4 upstream failure (upstream_error, timeout).
Progress goes to stderr (a live display on a terminal, one line per node otherwise); results to stdout.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from pydantic import ValidationError
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from server.cli_knowledge_stats import knowledge_stats_command
from tools.errors import (
    BlueprintError,
    InsufficientInformation,
    InvalidRequest,
    UpstreamError,
    UpstreamTimeout,
    validation_problems,
)

__all__ = ["app"]

EXIT_HELP = ("Exit codes: 0 ok, 1 unexpected error, 2 bad input (validation_error, blocked_url), "
             "3 insufficient_information (site unreadable or too thin, and no ICP), 4 upstream failure "
             "(upstream_error, timeout).")  # one line: the help wraps it to the terminal

def _flags_without_type(params: list[Any]) -> list[Any]:
    for param in params:
        if isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
            param.metavar = ""  # a flag takes no value: nothing to show in the type column (not "<bool>")
    return params


class _PlainHelp(TyperCommand):
    """Help in the usual command-line spelling: ``WEBSITE`` in the usage line (Typer writes
    ``{website}``), and no ``<bool>`` type beside on/off flags such as ``--no-cache`` and ``--help``."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                name = param.metavar or (param.name or "").upper()
                pieces.append(name if param.required else f"[{name}]")
        return pieces

    def get_params(self, ctx: Any) -> list[Any]:
        return _flags_without_type(super().get_params(ctx))


class _PlainHelpGroup(TyperGroup):
    def get_params(self, ctx: Any) -> list[Any]:
        return _flags_without_type(super().get_params(ctx))


app = typer.Typer(help=f"Enrichment Blueprint: which data to collect about your leads.\n\n{EXIT_HELP}",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False, cls=_PlainHelpGroup)
cache_app = typer.Typer(help="Inspect or clear the run cache (BLUEPRINT_CACHE_DIR).", no_args_is_help=True,
                        cls=_PlainHelpGroup)
app.add_typer(cache_app, name="cache")
# the `knowledge` group (its `stats` command lives in server/cli_knowledge_stats.py)
knowledge_app = typer.Typer(help="Inspect the knowledge base.", no_args_is_help=True, cls=_PlainHelpGroup)
app.add_typer(knowledge_app, name="knowledge")
knowledge_app.command("stats", cls=_PlainHelp)(knowledge_stats_command)


def _err(message: str) -> None:
    typer.echo(message, err=True)


def exit_code_for(exc: BaseException) -> int:
    if isinstance(exc, InvalidRequest | ValidationError):
        return 2
    if isinstance(exc, InsufficientInformation):
        return 3
    if isinstance(exc, UpstreamError | UpstreamTimeout):
        return 4
    return 1


def cli_supply(supply: list[str]) -> list[str]:
    """The error's ``details.supply`` hints in this command line's terms: the HTTP body's ``icp.industries``
    is a field of the ``--icp FILE`` JSON here."""
    fields = [item.removeprefix("icp.") for item in supply if item.startswith("icp.")]
    hints = [re.sub(r"\ban icp\b", "--icp FILE", item) for item in supply if not item.startswith("icp.")]
    if fields:
        hints.append(f"--icp FILE (a JSON ICP with {', '.join(fields)})")
    return hints


def _fail(exc: BlueprintError | ValidationError) -> typer.Exit:
    if isinstance(exc, ValidationError):
        problems = "; ".join(f"{p['field']}: {p['message']}" for p in validation_problems(list(exc.errors())))
        _err(f"error [validation_error]: {problems}")
    else:
        _err(f"error [{exc.code}]: {exc.message}")
        supply = exc.details.get("supply")
        if supply:
            _err(f"  supply: {', '.join(cli_supply(supply))}")
    return typer.Exit(exit_code_for(exc))


class _Progress:
    """Node progress on stderr: a rich live display on a terminal, plain lines otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self._status: Any = None
        if self.tty:
            from rich.console import Console

            self._status = Console(stderr=True).status("starting…")
            self._status.start()

    def __call__(self, event: dict[str, Any]) -> None:
        name, data = event["event"], event["data"]
        if name == "node_started":
            line = f"… {data['node']}"
        elif name == "node_completed":
            line = f"✓ {data['node']} ({data['duration_ms']:.0f} ms)"
        elif name == "warning":
            line = f"! warning [{data['code']}]: {data['message']}"
        elif name == "run_started":
            line = f"run {data['blueprint_id']} (engine {data['engine']}, cache {data['cache']})"
        else:
            return
        if self._status is not None:
            self._status.update(line)
            if name in {"node_completed", "warning", "run_started"}:
                self._status.console.print(line)
        else:
            _err(line)

    def stop(self) -> None:
        if self._status is not None:
            self._status.stop()


async def _generate(request: Any, engine: str | None, progress: _Progress) -> Any:
    from graph.run import open_runner

    async with open_runner() as runner:
        blueprint, _ = await runner.generate(request, engine=engine, on_event=progress)
    return blueprint


@app.command(cls=_PlainHelp)
def generate(
    website: Annotated[str, typer.Argument(metavar="WEBSITE",
                                           help="The seller's website: a URL or a bare domain.")],
    icp: Annotated[Path | None, typer.Option(metavar="FILE",
                                             help="ICP as a JSON file (see `blueprint schema`).")] = None,
    sample_domains: Annotated[str | None, typer.Option(metavar="DOMAINS",
                                                       help="Comma-separated lead domains to probe.")] = None,
    engine: Annotated[Literal["auto", "catalog", "llm"] | None,
                      typer.Option(metavar="[auto|catalog|llm]", help="Reasoning engine.")] = None,
    max_data_points: Annotated[int | None, typer.Option(metavar="N", help="Data points per section (1-30).")] = None,
    format: Annotated[Literal["json", "markdown"],
                      typer.Option("--format", metavar="[json|markdown]", help="Output format.")] = "json",
    out: Annotated[Path | None, typer.Option(metavar="FILE", help="Write the result here instead of stdout.")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the run cache.")] = False,
) -> None:
    """Generate an enrichment blueprint for WEBSITE."""
    from graph.schemas import EnrichmentRequest

    try:
        icp_data = json.loads(icp.read_text(encoding="utf-8")) if icp else None
    except (OSError, json.JSONDecodeError) as exc:
        _err(f"error [validation_error]: cannot read the ICP file {icp}: {exc}")
        raise typer.Exit(2) from exc
    options: dict[str, Any] = {"cache": "bypass" if no_cache else "use"}
    if engine:
        options["engine"] = engine
    if max_data_points is not None:
        options["max_data_points"] = max_data_points
    progress = _Progress()
    try:
        request = EnrichmentRequest.model_validate({
            "website": website, "icp": icp_data, "options": options,
            "sample_domains": [d for d in (sample_domains or "").split(",") if d.strip()],
        })
        blueprint = asyncio.run(_generate(request, engine, progress))
    except (BlueprintError, ValidationError) as exc:
        progress.stop()
        raise _fail(exc) from None
    progress.stop()
    text = blueprint.to_markdown() if format == "markdown" else blueprint.model_dump_json(indent=2)
    if out:
        out.write_text(text + "\n", encoding="utf-8")
        _err(f"wrote {out}")
    else:
        typer.echo(text)


@app.command(cls=_PlainHelp)
def demo(
    format: Annotated[Literal["json", "markdown"], typer.Option("--format", help="Output format.")] = "markdown",
) -> None:
    """Generate a blueprint for a bundled sample seller (a fleet-telematics vendor) served on loopback."""
    from server.demo import serve_demo_site

    with serve_demo_site() as url:
        generate(url, icp=None, sample_domains=None, engine=None, max_data_points=None, format=format,
                 out=None, no_cache=True)


@app.command(cls=_PlainHelp)
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (they share the cache).")] = 1,
) -> None:
    """Run the HTTP API (uvicorn)."""
    import uvicorn

    # access_log=False: the app writes one JSON access line per request (with its request id) itself
    uvicorn.run("server.app:create_app", factory=True, host=host, port=port, workers=workers,
                log_level="info", proxy_headers=True, access_log=False)


@app.command(cls=_PlainHelp)
def schema(which: Annotated[Literal["request", "blueprint", "both"], typer.Argument()] = "both") -> None:
    """Print the JSON Schema of the request and/or the blueprint."""
    from graph.schemas import Blueprint, EnrichmentRequest

    schemas = {"request": EnrichmentRequest.model_json_schema(), "blueprint": Blueprint.model_json_schema()}
    typer.echo(json.dumps(schemas if which == "both" else schemas[which], indent=2))


@app.command("eval", cls=_PlainHelp)
def evaluate(
    cases: Annotated[Path, typer.Argument(help="cases.json in the eval format (sites relative to it).")],
    out: Annotated[Path | None, typer.Option(help="Write <id>.json blueprints and report.json here.")] = None,
    engine: Annotated[Literal["auto", "catalog", "llm"], typer.Option()] = "catalog",
    generic: Annotated[bool, typer.Option(help="Also score a deliberately generic blueprint (the floor).")] = True,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="List every missed rubric group.")] = False,
    skip_missing: Annotated[bool, typer.Option(
        help="Skip cases whose page file is missing (sets rebuilt locally, e.g. evals/realworld).")] = False,
) -> None:
    """Run every case (sites served on loopback) and print per-case, per-section and mean recall."""
    from server.eval_command import run_eval_cli

    raise typer.Exit(run_eval_cli(cases, out=out, engine=engine, with_generic=generic, verbose=verbose,
                                  skip_missing=skip_missing))


@cache_app.command("stats", cls=_PlainHelp)
def cache_stats() -> None:
    """Show where the cache is and what it holds."""
    from graph.cache import open_run_cache
    from graph.settings import get_settings

    s = get_settings()
    cache = open_run_cache(s)
    typer.echo(json.dumps(cache.stats(), indent=2))
    cache.close()


@cache_app.command("clear", cls=_PlainHelp)
def cache_clear() -> None:
    """Remove every cached blueprint and page."""
    from graph.cache import open_run_cache
    from graph.settings import get_settings

    s = get_settings()
    cache = open_run_cache(s)
    removed = cache.clear()
    cache.close()
    typer.echo(f"removed {removed} entries from {cache.stats().get('url', s.cache_dir)}")
