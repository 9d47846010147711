"""Provider calls made by the graph: enriching the seller itself and probing sample lead domains.

Clients are built per run (cheap) so each run's ``meta.provider_calls`` counts only its own calls;
rate limiters are shared per event loop by ``tools.providers``. Every provider failure becomes a
warning: the blueprint is still delivered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from graph.resources import Resources
from graph.schemas import ProviderUsage, Warning
from tools.errors import ProviderError, UpstreamTimeout
from tools.providers import ProviderClients, build_provider_clients

__all__ = ["enrich_seller", "open_clients", "provider_warning", "usage_of"]

PROVIDER_FAILURES = (ProviderError, UpstreamTimeout)


def open_clients(resources: Resources, providers: Iterable[str]) -> ProviderClients:
    return build_provider_clients(
        resources.settings, list(providers), cache=resources.response_cache,
        http_factory=resources.extras.get("provider_http_factory"),
    )


def usage_of(clients: ProviderClients) -> dict[str, ProviderUsage]:
    return {name: ProviderUsage(calls=u["calls"], credits=u["credits"], errors=u["errors"])
            for name, u in clients.usage().items()}


def provider_warning(provider: str, exc: ProviderError | UpstreamTimeout, node: str, doing: str) -> Warning:
    return Warning(code="provider_error", node=node,
                   message=f"{provider} failed while {doing} ({exc.code}: {exc.message}); continuing without it.")


def _apollo_facts(raw: dict[str, Any]) -> dict[str, Any]:
    org = raw.get("organization") or {}
    return {k: org.get(k) for k in ("industry", "keywords", "estimated_num_employees", "short_description",
                                    "technology_names", "annual_revenue_printed", "country") if org.get(k)}


def _clearbit_facts(raw: dict[str, Any]) -> dict[str, Any]:
    category = raw.get("category") or {}
    metrics = raw.get("metrics") or {}
    facts = {"industry": category.get("industry"), "sub_industry": category.get("subIndustry"),
             "tags": raw.get("tags"), "description": raw.get("description"), "employees": metrics.get("employees"),
             "tech": raw.get("tech"), "country": (raw.get("geo") or {}).get("country")}
    return {k: v for k, v in facts.items() if v}


async def enrich_seller(
    resources: Resources, domain: str, providers: Iterable[str]
) -> tuple[dict[str, Any], dict[str, ProviderUsage], list[Warning]]:
    """Provider facts about the seller's own domain, by provider (empty without keys)."""
    if "." not in domain or domain.replace(".", "").isdigit() or ":" in domain:
        return {}, {}, []  # an IP or a local name: no provider has a record for it
    async with open_clients(resources, providers) as clients:
        if not clients.configured:
            return {}, {}, []
        evidence: dict[str, Any] = {}
        warnings: list[Warning] = []

        async def apollo() -> None:
            try:
                org = await clients.apollo.enrich_organization(domain)  # type: ignore[union-attr]
            except PROVIDER_FAILURES as exc:
                warnings.append(provider_warning("apollo", exc, "fetch_site", "enriching the seller"))
                return
            if org is not None:
                evidence["apollo"] = _apollo_facts(org.raw)

        async def clearbit() -> None:
            try:
                company = await clients.clearbit.find_company(domain)  # type: ignore[union-attr]
            except PROVIDER_FAILURES as exc:
                warnings.append(provider_warning("clearbit", exc, "fetch_site", "enriching the seller"))
                return
            if company is not None:
                evidence["clearbit"] = _clearbit_facts(company.raw)

        jobs = [job() for job, client in ((apollo, clients.apollo), (clearbit, clients.clearbit)) if client]
        await asyncio.gather(*jobs)
        return evidence, usage_of(clients), warnings
