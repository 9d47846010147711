"""Blueprints of every eval case (catalog engine, pages served on loopback as ``blueprint eval`` does),
generated once per test session: the exports are checked against every one of them."""

from __future__ import annotations

import asyncio
import functools
import os
import tempfile
from pathlib import Path
from typing import Any

from graph.evaluation import run_eval
from graph.schemas import Blueprint
from graph.settings import get_settings

ROOT = Path(__file__).resolve().parents[2]
EVAL_SETS = (ROOT / "evals/cases.json", ROOT / "evals/holdout/cases.json", ROOT / "evals/holdout2/cases.json")
# the environment a user may have exported must not reach these runs (keys, engines, a cache directory)
_CLEARED = ("APOLLO_API_KEY", "CLEARBIT_API_KEY", "OPENAI_API_KEY", "BLUEPRINT_ENGINE", "BLUEPRINT_LLM_BASE_URL")


async def _generate_all() -> dict[str, Blueprint]:
    from graph.api import agenerate_blueprint

    out: dict[str, Blueprint] = {}
    for cases in EVAL_SETS:
        async def generate(url: str, icp: dict[str, Any] | None) -> dict[str, Any]:
            blueprint = await agenerate_blueprint(url, icp, engine="catalog", use_cache=False)
            return blueprint.model_dump(mode="json")

        with tempfile.TemporaryDirectory() as folder:
            report = await run_eval(cases, out_dir=Path(folder), generate=generate)
            for case in report.cases:
                assert case.error is None, f"{case.id}: {case.error}"
                path = Path(folder) / f"{case.id}.json"
                out[f"{cases.parent.name}/{case.id}"] = Blueprint.model_validate_json(path.read_text("utf-8"))
    return out


@functools.cache
def eval_blueprints() -> dict[str, Blueprint]:
    """``{"<set>/<case id>": Blueprint}`` for every case of every eval set (computed once)."""
    saved = {name: os.environ.pop(name) for name in _CLEARED if name in os.environ}
    with tempfile.TemporaryDirectory() as cache_dir:
        previous = os.environ.get("BLUEPRINT_CACHE_DIR")
        os.environ["BLUEPRINT_CACHE_DIR"] = cache_dir
        get_settings.cache_clear()
        try:
            return asyncio.run(_generate_all())
        finally:
            os.environ.update(saved)
            if previous is None:
                os.environ.pop("BLUEPRINT_CACHE_DIR", None)
            else:
                os.environ["BLUEPRINT_CACHE_DIR"] = previous
            get_settings.cache_clear()
