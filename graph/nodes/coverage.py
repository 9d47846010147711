"""Node ``coverage``: measure how often each provider fills each recommended data point.

With ``sample_domains`` and at least one provider key, the samples are enriched (Apollo in bulk, ≤10
per call; Clearbit per domain, a few at a time), within ``options.credit_budget`` (one credit per
domain per provider), and each data point's fill rate per provider is computed from the knowledge
base's field paths. Each collection method's ``provider_order`` is then reordered by measured fill
rate, then cost. Without samples the node sets nothing; without keys it says so in a warning.
"""

from __future__ import annotations

import asyncio
from typing import Any

from langgraph.runtime import Runtime

from graph.nodes._common import knowledge, request_of
from graph.nodes._providers import PROVIDER_FAILURES, open_clients, provider_warning, usage_of
from graph.resources import get_resources
from graph.schemas import Coverage, Warning
from graph.state import BlueprintState, Context
from tools.coverage import field_map, fill_rates, order_providers
from tools.providers import ProviderClients

__all__ = ["coverage"]

CLEARBIT_CONCURRENCY = 4


async def _probe(
    clients: ProviderClients, domains: list[str], budget: int | None
) -> tuple[dict[str, dict[str, dict[str, Any] | None]], list[Warning]]:
    responses: dict[str, dict[str, dict[str, Any] | None]] = {}
    warnings: list[Warning] = []
    limited = domains[:budget] if budget is not None else domains
    if budget is not None and len(limited) < len(domains):
        warnings.append(Warning(code="credit_budget", node="coverage",
                                message=f"credit_budget {budget} allows {len(limited)} of {len(domains)} "
                                        "sample domains per provider."))

    async def apollo() -> None:
        try:
            found = await clients.apollo.bulk_enrich_organizations(limited)  # type: ignore[union-attr]
        except PROVIDER_FAILURES as exc:
            warnings.append(provider_warning("apollo", exc, "coverage", "probing sample domains"))
            return
        responses["apollo"] = {d: (org.raw if org else None) for d, org in found.items()}

    async def clearbit() -> None:
        gate = asyncio.Semaphore(CLEARBIT_CONCURRENCY)
        answers: dict[str, dict[str, Any] | None] = {}
        failures: list[str] = []

        async def one(domain: str) -> None:
            async with gate:
                try:
                    company = await clients.clearbit.find_company(domain)  # type: ignore[union-attr]
                except PROVIDER_FAILURES as exc:
                    failures.append(f"{domain}: {exc.code}")  # a failure says nothing about coverage
                    if len(failures) == 1:
                        warnings.append(provider_warning("clearbit", exc, "coverage", f"probing {domain}"))
                    return
                answers[domain] = company.raw if company else None

        await asyncio.gather(*(one(d) for d in limited))
        if answers:
            responses["clearbit"] = answers

    jobs = [job() for job, client in ((apollo, clients.apollo), (clearbit, clients.clearbit)) if client]
    await asyncio.gather(*jobs)
    return responses, warnings


async def coverage(state: BlueprintState, runtime: Runtime[Context]) -> dict[str, Any]:
    request = request_of(state)
    if not request.sample_domains:
        return {"coverage": None}
    resources = get_resources()
    async with open_clients(resources, request.options.providers) as clients:
        if not clients.configured:
            return {"coverage": None, "warnings": [Warning(
                code="coverage_skipped", node="coverage",
                message="sample_domains were given but no provider key is configured "
                        "(set APOLLO_API_KEY and/or CLEARBIT_API_KEY).")]}
        responses, warnings = await _probe(clients, request.sample_domains, request.options.credit_budget)
        usage = usage_of(clients)
    kb = await knowledge()
    chosen = {dp.key for name in ("firmographic", "technographic", "personalization")
              for dp in state[name].data_points}
    rates = fill_rates(responses, field_map(kb.data_points[k] for k in chosen if k in kb.data_points))
    costs = {sid: src.cost_per_1k_usd for sid, src in kb.sources.items()}
    methods = []
    for method in state.get("collection_methods") or []:
        merged: dict[str, float] = {}
        for key in method.data_points:  # a group's order follows its data points' mean fill rate
            for sid, rate in rates.get(key, {}).items():
                merged.setdefault(sid, 0.0)
                merged[sid] += rate / len(method.data_points)
        order = order_providers(method.provider_order, merged, costs) if merged else method.provider_order
        methods.append(method.model_copy(update={"provider_order": order}))
    result = Coverage(sample_size=len(request.sample_domains), by_data_point=rates,
                      domains_enriched={p: len(answers) for p, answers in responses.items()})
    return {"coverage": result, "collection_methods": methods, "provider_calls": usage, "warnings": warnings}
