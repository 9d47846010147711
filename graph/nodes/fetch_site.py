"""Node ``fetch_site``: read the seller's website (SSRF-guarded) and, with provider keys, enrich the
seller's own domain at the same time. An unreadable site degrades to a warning when an ICP exists."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from langgraph.runtime import Runtime

from graph.nodes._common import context_of, engine_of, request_of
from graph.nodes._providers import enrich_seller
from graph.resources import get_resources, site_limits
from graph.schemas import Warning
from graph.state import BlueprintState, Context
from tools.errors import InsufficientInformation, SiteFetchError, UpstreamTimeout
from tools.website import read_site

__all__ = ["fetch_site"]


async def fetch_site(state: BlueprintState, runtime: Runtime[Context]) -> dict[str, Any]:
    started = time.time()
    request = request_of(state)
    engine_of(state, runtime)  # fail fast on an unconfigured engine, before any I/O
    resources = get_resources()
    # the seller's own provider record is read while the site loads: neither waits for the other
    enrichment = asyncio.create_task(enrich_seller(resources, request.domain, request.options.providers))
    try:
        site = await read_site(
            request.website,
            client=resources.site_client,
            limits=site_limits(resources.settings),
            max_pages=context_of(runtime).max_pages,
            page_cache=resources.page_cache,
        )
    except (SiteFetchError, UpstreamTimeout) as exc:
        if request.icp is not None and not request.icp.is_empty():
            evidence, usage, warnings = await enrichment
            warning = Warning(code="site_unreachable", node="fetch_site",
                              message=f"The website could not be read ({exc.message}); the blueprint is "
                                      "built from the provided ICP alone.")
            return {"site": None, "started_at": started, "warnings": [warning, *warnings],
                    "provider_evidence": evidence, "provider_calls": usage}
        enrichment.cancel()
        raise InsufficientInformation(
            f"The website {request.website} could not be read: {exc.message}",
            details={"website": request.website, "reason": exc.code, "cause": exc.message,
                     "supply": ["a reachable website URL", "or an icp with industries and buyer_titles"]},
        ) from exc
    except BaseException:
        enrichment.cancel()
        raise
    evidence, usage, warnings = await enrichment
    return {"site": site, "started_at": started, "provider_evidence": evidence, "provider_calls": usage,
            "warnings": warnings}
