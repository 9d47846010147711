"""The Python API: ``generate_blueprint`` / ``agenerate_blueprint`` (notebooks, scripts)."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from graph.run import open_runner
from graph.schemas import ICP, Blueprint, EnrichmentRequest, Options
from tools.errors import InvalidRequest, validation_problems

__all__ = ["agenerate_blueprint", "generate_blueprint"]


def _request(
    website: str | EnrichmentRequest,
    icp: ICP | dict[str, Any] | None,
    sample_domains: Iterable[str] | None,
    options: Options | dict[str, Any] | None,
    use_cache: bool,
) -> EnrichmentRequest:
    if isinstance(website, EnrichmentRequest):
        request = website
    else:
        try:
            request = EnrichmentRequest.model_validate({
                "website": website,
                "icp": icp.model_dump() if isinstance(icp, ICP) else icp,
                "sample_domains": list(sample_domains or []),
                "options": options.model_dump() if isinstance(options, Options) else (options or {}),
            })
        except ValidationError as exc:  # bad input is an InvalidRequest, as over HTTP and in the CLI
            problems = validation_problems(list(exc.errors()))
            summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
            raise InvalidRequest(f"Invalid request — {summary}", details={"errors": problems}) from exc
    if not use_cache:
        request = request.model_copy(update={"options": request.options.model_copy(update={"cache": "bypass"})})
    return request


async def agenerate_blueprint(
    website: str | EnrichmentRequest,
    icp: ICP | dict[str, Any] | None = None,
    *,
    sample_domains: Iterable[str] | None = None,
    options: Options | dict[str, Any] | None = None,
    engine: str | None = None,
    model: str | None = None,
    use_cache: bool = True,
) -> Blueprint:
    """Generate a blueprint for ``website`` (a URL or bare domain), optionally with the team's ICP.

    Raises a :class:`tools.errors.BlueprintError` subclass on bad input or when the site says too
    little (``InsufficientInformation``); provider and LLM failures only add warnings.
    """
    request = _request(website, icp, sample_domains, options, use_cache)
    async with open_runner() as runner:
        blueprint, _ = await runner.generate(request, engine=engine, model=model)
    return blueprint


def generate_blueprint(
    website: str | EnrichmentRequest,
    icp: ICP | dict[str, Any] | None = None,
    **kwargs: Any,
) -> Blueprint:
    """Synchronous twin of :func:`agenerate_blueprint`; works inside Jupyter's running loop too."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(agenerate_blueprint(website, icp, **kwargs))
    # a loop is already running (Jupyter): run ours in a worker thread
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, agenerate_blueprint(website, icp, **kwargs)).result()
