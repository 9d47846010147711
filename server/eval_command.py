"""``blueprint eval``: run eval cases through the real pipeline and score them.

Each case's page is served on loopback by :func:`graph.evaluation.run_eval`; the blueprint is produced by
the same runner the API uses (cache bypassed, so every case is computed afresh). A deliberately generic
blueprint is scored alongside as the floor.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import typer

from graph.evaluation import generic_blueprint, run_eval

__all__ = ["run_eval_cli"]


async def _eval(cases: Path, out: Path | None, engine: str, with_generic: bool, verbose: bool,
                skip_missing: bool) -> int:
    from graph.api import agenerate_blueprint

    async def generate(url: str, icp: dict[str, Any] | None) -> dict[str, Any]:
        blueprint = await agenerate_blueprint(url, icp, engine=engine, use_cache=False)
        return blueprint.model_dump(mode="json")

    try:
        report = await run_eval(cases, out_dir=out, generate=generate, skip_missing=skip_missing)
    except FileNotFoundError as exc:
        typer.echo(f"error [validation_error]: {exc} (rebuild the pages, or pass --skip-missing)", err=True)
        return 2
    typer.echo(report.to_text(verbose=verbose))
    summary: dict[str, Any] = {"engine": engine, "report": report.to_dict()}
    if with_generic:
        async def generic(url: str, icp: dict[str, Any] | None) -> dict[str, Any]:
            return generic_blueprint(icp)

        floor = await run_eval(cases, out_dir=None, generate=generic, skip_missing=skip_missing)
        typer.echo(f"generic blueprint (the floor): mean {floor.mean:.3f}, must-not hits {floor.must_not_hits}")
        summary["generic_floor"] = {"mean": floor.mean, "must_not_hits": floor.must_not_hits}
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "report.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return 0


def run_eval_cli(cases: Path, *, out: Path | None, engine: str, with_generic: bool, verbose: bool = False,
                 skip_missing: bool = False) -> int:
    if not cases.is_file():
        typer.echo(f"error [validation_error]: no such cases file: {cases}", err=True)
        return 2
    return asyncio.run(_eval(cases, out, engine, with_generic, verbose, skip_missing))
