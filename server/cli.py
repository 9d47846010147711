"""The ``blueprint`` command line.

Exit codes: 0 success · 1 unexpected error · 2 bad input (validation_error, blocked_url) ·
3 insufficient information · 4 upstream failure (upstream_error, timeout) · 130 interrupted (Ctrl-C) ·
143 stopped by SIGTERM. ``serve`` exits 2 when its port is taken.
Progress goes to stderr (a live display on a terminal, one line per node otherwise); results to stdout.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import signal
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from pydantic import ValidationError

from server.cli_help import PlainHelp as _PlainHelp
from server.cli_help import PlainHelpGroup as _PlainHelpGroup
from server.cli_knowledge import knowledge_app, require_valid_knowledge
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
             "(upstream_error, timeout), 130 interrupted (Ctrl-C), 143 stopped (SIGTERM).")
# (one line: the help wraps it to the terminal)

app = typer.Typer(help=f"Enrichment Blueprint: which data to collect about your leads.\n\n{EXIT_HELP}",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False, cls=_PlainHelpGroup)
cache_app = typer.Typer(help="Inspect or clear the run cache (BLUEPRINT_CACHE_DIR).", no_args_is_help=True,
                        cls=_PlainHelpGroup)
app.add_typer(cache_app, name="cache")
app.add_typer(knowledge_app, name="knowledge")
knowledge_app.command("stats", cls=_PlainHelp)(knowledge_stats_command)  # server/cli_knowledge_stats.py


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
        self.cache_off: str | None = None  # why the run cache is unusable (then a run is not a "miss")
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
            cache = f"off: {self.cache_off}" if self.cache_off and data["cache"] == "miss" else data["cache"]
            line = f"run {data['blueprint_id']} (engine {data['engine']}, cache {cache})"
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

    with _cancelled_by_sigterm():
        async with open_runner() as runner:
            cache = runner.cache
            if request.options.cache != "bypass" and cache is not None and not cache.available:
                progress.cache_off = "unusable, running uncached"  # the reason is in the cache's own warning
            blueprint, _ = await runner.generate(request, engine=engine, on_event=progress)
    return blueprint


@contextlib.contextmanager
def _cancelled_by_sigterm() -> Iterator[None]:
    """SIGTERM (``kill``, ``timeout``, a service manager) cancels the run as Ctrl-C does, so it unwinds
    and releases its run lock instead of dying with it held."""
    loop, task = asyncio.get_running_loop(), asyncio.current_task()
    installed = False
    if task is not None:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # Windows; not the main thread
            loop.add_signal_handler(signal.SIGTERM, task.cancel)
            installed = True
    try:
        yield
    finally:
        if installed:
            loop.remove_signal_handler(signal.SIGTERM)


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
    refresh: Annotated[bool, typer.Option("--refresh", help="Run again and replace the cached result.")] = False,
) -> None:
    """Generate an enrichment blueprint for WEBSITE."""
    from graph.schemas import EnrichmentRequest

    if no_cache and refresh:
        _err("error [validation_error]: --no-cache and --refresh contradict each other (--no-cache neither reads "
             "nor writes the cache; --refresh runs again and writes it): pass one.")
        raise typer.Exit(2)
    if out is not None:
        _check_writable(out)  # before the run, not after it
    require_valid_knowledge()  # an invalid pack stops here, with every problem, not mid-run
    try:
        icp_data = json.loads(icp.read_text(encoding="utf-8")) if icp else None
    except (OSError, json.JSONDecodeError) as exc:
        _err(f"error [validation_error]: cannot read the ICP file {icp}: {exc}")
        raise typer.Exit(2) from exc
    options: dict[str, Any] = {"cache": "bypass" if no_cache else "refresh" if refresh else "use"}
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
    except asyncio.CancelledError:  # SIGTERM: the run was unwound, its lock released
        progress.stop()
        _err("stopped (SIGTERM)")
        raise typer.Exit(128 + signal.SIGTERM) from None
    except KeyboardInterrupt:  # Ctrl-C: asyncio.run unwound the run first; the shell convention, 128 + SIGINT
        progress.stop()
        _err("interrupted")
        raise typer.Exit(128 + signal.SIGINT) from None
    progress.stop()
    text = blueprint.to_markdown() if format == "markdown" else blueprint.model_dump_json(indent=2)
    if out:
        out.write_text(text + "\n", encoding="utf-8")
        _err(f"wrote {out}")
    else:
        typer.echo(text)


def _check_writable(out: Path) -> None:
    """Exit 2 unless ``out`` can be written as a file: its folder exists and is writable, and it is not
    itself a folder. Probed by creating the file (removed again if it was not there), since permission bits
    do not tell for root or for /proc-like file systems."""
    problem = None
    if out.is_dir():
        problem = "it is a folder; give a file name"
    elif not out.parent.is_dir():
        problem = f"the folder {out.parent} does not exist"
    else:
        existed = out.exists()
        try:
            with out.open("a", encoding="utf-8"):
                pass
        except OSError as exc:
            problem = f"it cannot be written ({exc.strerror or exc})"
        else:
            if not existed:
                out.unlink(missing_ok=True)
    if problem:
        _err(f"error [validation_error]: --out {out}: {problem}.")
        raise typer.Exit(2)


@app.command(cls=_PlainHelp)
def demo(
    format: Annotated[Literal["json", "markdown"], typer.Option("--format", help="Output format.")] = "markdown",
) -> None:
    """Generate a blueprint for a bundled sample seller (a fleet-telematics vendor) served on loopback."""
    from server.demo import serve_demo_site

    with serve_demo_site() as url:
        generate(url, icp=None, sample_domains=None, engine=None, max_data_points=None, format=format,
                 out=None, no_cache=True, refresh=False)


@app.command(cls=_PlainHelp)
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (they share the cache).")] = 1,
) -> None:
    """Run the HTTP API (uvicorn)."""
    import uvicorn

    require_valid_knowledge()  # refuse to start with an invalid pack (exit 2, the full report)
    if workers > 1:
        # this process only supervises the workers (each loads its own): it need not keep the knowledge
        import gc

        from graph.knowledge import load_knowledge
        from server.memory import trim_heap

        load_knowledge.cache_clear()
        gc.collect()
        trim_heap()
    _check_port_free(host, port)
    # access_log=False: the app writes one JSON access line per request (with its request id) itself
    try:
        uvicorn.run("server.app:create_app", factory=True, host=host, port=port, workers=workers,
                    log_level="info", proxy_headers=True, access_log=False)
    except SystemExit as exc:  # uvicorn's "startup failed" is 3, which here means insufficient_information
        if exc.code not in (None, 0):
            _err("error [startup_failed]: the server did not start (the log above says why).")
            raise typer.Exit(1) from None
        raise


def _check_port_free(host: str, port: int) -> None:
    """Exit 2 with a clear message when ``host:port`` cannot be bound (taken, or not an address here),
    instead of uvicorn's start-up failure. Bound as uvicorn binds (SO_REUSEADDR), then released."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as exc:
        _err(f"error [validation_error]: cannot listen on {host}:{port}: {exc.strerror or exc}; "
             "pick a free --port (or stop what holds it).")
        raise typer.Exit(2) from None


@app.command(cls=_PlainHelp)
def schema(which: Annotated[Literal["request", "blueprint", "both", "pack"], typer.Argument()] = "both") -> None:
    """Print the JSON Schema of the request and/or the blueprint, or of a knowledge pack (for editors)."""
    from graph.schemas import Blueprint, EnrichmentRequest

    if which == "pack":
        from graph.knowledge.pack_schema import pack_json_schema

        typer.echo(json.dumps(pack_json_schema(), indent=2))
        return
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

    require_valid_knowledge()
    raise typer.Exit(run_eval_cli(cases, out=out, engine=engine, with_generic=generic, verbose=verbose,
                                  skip_missing=skip_missing))


@app.command("export", cls=_PlainHelp)
def export_blueprint(
    blueprint: Annotated[str, typer.Argument(help="A blueprint JSON file (from `generate`) or a cached id bp_…")],
    to: Annotated[Literal["hubspot", "salesforce", "jsonschema", "clay", "csv"], typer.Option(
        "--to", help="Target: hubspot/jsonschema (JSON), csv, salesforce/clay (a folder; --out x.zip zips it).")],
    object_type: Annotated[Literal["companies", "contacts"], typer.Option(
        "--object", help="Records the fields go on (Salesforce: Account / Contact).")] = "companies",
    out: Annotated[Path | None, typer.Option(help="File (or folder) to write; stdout for one-file targets.")] = None,
    apply: Annotated[bool, typer.Option("--apply", help="hubspot: create the fields in the portal of "
                                        "HUBSPOT_ACCESS_TOKEN (existing ones are compared, never changed).")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="hubspot: print what --apply would do.")] = False,
) -> None:
    """Compile BLUEPRINT into the fields of a CRM or enrichment tool (and, for HubSpot, create them)."""
    from server.export_command import run_export_cli

    try:
        code = run_export_cli(blueprint, to, object_type, out, apply, dry_run)
    except (BlueprintError, ValidationError) as exc:
        raise _fail(exc) from None
    raise typer.Exit(code)


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
