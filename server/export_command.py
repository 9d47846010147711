"""``blueprint export``: compile a blueprint (a JSON file from ``generate``, or an id in the run cache)
into a target's format, and for HubSpot optionally apply it to a portal."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError

from graph.schemas import Blueprint
from tools.errors import InvalidRequest

__all__ = ["load_blueprint", "run_export_cli"]

_BLUEPRINT_ID = re.compile(r"^bp_[0-9a-f]{6,64}$")


def load_blueprint(ref: str) -> Blueprint:
    """The blueprint in file ``ref``, or the cached blueprint whose id is ``ref``."""
    path = Path(ref)
    if path.is_file():
        try:
            return Blueprint.model_validate_json(path.read_bytes())
        except ValidationError as exc:
            raise InvalidRequest(f"{ref} is not a blueprint written by `blueprint generate`: "
                                 f"{_what_is_wrong(exc)}.") from None
        except OSError as exc:
            raise InvalidRequest(f"Cannot read {ref}: {exc.strerror or exc}.") from exc
    if not _BLUEPRINT_ID.match(ref):
        if path.suffix or "/" in ref or "\\" in ref:  # meant as a file
            raise InvalidRequest(f"{ref}: file not found" + ("" if path.parent.is_dir() else
                                                          f" (no folder {path.parent})") + ".")
        raise InvalidRequest(f"{ref!r} is neither a blueprint file nor a blueprint id (bp_…).")
    from graph.cache import open_run_cache
    from graph.settings import get_settings

    cache = open_run_cache(get_settings())
    try:
        found = cache.get_by_id(ref)
    finally:
        cache.close()
    if found is None:
        raise InvalidRequest(f"No blueprint {ref} in the run cache (never generated here, expired, or the "
                             "cache is disabled): pass the JSON file `blueprint generate --out` wrote.",
                             details={"blueprint_id": ref})
    return Blueprint.model_validate(found)


def _what_is_wrong(exc: ValidationError) -> str:
    """One line for a file that is not a blueprint: not JSON, the top fields it lacks, or its first problem."""
    errors = exc.errors(include_url=False)
    if errors[0]["type"] == "json_invalid":
        return f"not valid JSON ({errors[0]['ctx'].get('error', 'invalid')})" if errors[0].get("ctx") else "not JSON"
    missing = [str(e["loc"][0]) for e in errors if e["type"] == "missing" and len(e["loc"]) == 1]
    if missing:
        return f"it lacks {', '.join(missing[:4])}" + (f" (and {len(missing) - 4} more)" if len(missing) > 4 else "")
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"]) or "the document"
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    return f"{where}: {first['msg']}{more}"


async def _apply(document: dict[str, Any]) -> int:
    from graph.settings import get_settings
    from tools.hubspot import HubSpotClient

    settings = get_settings()
    if settings.hubspot_access_token is None:
        raise InvalidRequest("--apply needs HUBSPOT_ACCESS_TOKEN (a HubSpot private app access token with the "
                             "crm.schemas.companies.write / crm.schemas.contacts.write scopes).")
    async with HubSpotClient(settings.hubspot_access_token, settings.hubspot_base_url,
                             secrets=settings.secret_values) as client:
        report = await client.apply(document)
    typer.echo(report.to_text())
    return 0 if report.ok else 4


def run_export_cli(ref: str, fmt: str, object_type: str, out: Path | None, apply: bool, dry_run: bool) -> int:
    """Export (or plan / apply); returns the exit code. Raises BlueprintError for the CLI to report."""
    try:
        return _run(ref, fmt, object_type, out, apply, dry_run)
    except OSError as exc:  # an --out that cannot be written (a file where a folder goes, no permission)
        raise InvalidRequest(f"Cannot write the export: {exc.strerror or exc} ({exc.filename or out}).") from exc


def _run(ref: str, fmt: str, object_type: str, out: Path | None, apply: bool, dry_run: bool) -> int:
    from tools.hubspot import plan_lines

    if (apply or dry_run) and fmt != "hubspot":
        raise InvalidRequest("--apply and --dry-run work with --to hubspot only.")
    export = load_blueprint(ref).export(fmt, object_type=object_type)
    if dry_run:
        typer.echo("\n".join(["Dry run: nothing is sent to HubSpot.", *plan_lines(export.document)]))
        return 0
    if apply:
        return asyncio.run(_apply(export.document))
    if export.tree:
        target = out or Path(f"{Path(ref).stem if Path(ref).is_file() else ref}-{fmt}")
        if target.suffix == ".zip":
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(export.zip_bytes())
            typer.echo(f"wrote {target}", err=True)
        else:
            written = export.write(target)
            typer.echo(f"wrote {len(written)} files under {target}/", err=True)
        return 0
    if out is None:
        typer.echo(export.text(), nl=False)
    else:
        export.write(out)
        typer.echo(f"wrote {out}", err=True)
    return 0
