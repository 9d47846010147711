"""Provider coverage: how often each provider actually fills each data point, over sample domains.

Pure functions (no I/O): the graph's ``coverage`` node enriches the samples with the provider clients,
then calls :func:`fill_rates` on the raw responses and :func:`order_providers` to reorder waterfalls.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from graph.knowledge.fieldpath import is_filled
from graph.knowledge.models import DataPointSpec

__all__ = ["field_map", "fill_rates", "order_providers"]


def field_map(data_points: Iterable[DataPointSpec]) -> dict[str, dict[str, list[str]]]:
    """data point key -> source id -> provider field paths, from the knowledge base records."""
    out: dict[str, dict[str, list[str]]] = {}
    for point in data_points:
        for ref in point.sources:
            if ref.field:
                out.setdefault(point.key, {}).setdefault(ref.source, []).append(ref.field)
    return out


def fill_rates(
    responses: Mapping[str, Mapping[str, dict[str, Any] | None]],
    field_map: Mapping[str, Mapping[str, list[str]]],
) -> dict[str, dict[str, float]]:
    """Share of probed domains whose response fills each data point, per provider.

    ``responses`` is provider -> domain -> raw response (``None``: the provider answered "no record",
    which counts as not filled). Leave out domains whose call *failed*: a failure says nothing about
    coverage. A data point is filled when any of the provider's paths for it holds a non-empty value.
    Providers with no probed domain get no rate (absent, rather than a misleading 0.0).
    """
    rates: dict[str, dict[str, float]] = {}
    for key, by_provider in field_map.items():
        for provider, paths in by_provider.items():
            answers = responses.get(provider)
            if not answers or not paths:
                continue
            filled = sum(
                1 for raw in answers.values() if raw is not None and any(is_filled(raw, p) for p in paths)
            )
            rates.setdefault(key, {})[provider] = round(filled / len(answers), 3)
    return rates


def order_providers(
    order: list[str], rates: Mapping[str, float], cost_per_1k: Mapping[str, float] | None = None
) -> list[str]:
    """Reorder the measured providers by fill rate (high first), then cost (low first).

    Only the slots the measured providers already occupy are permuted: unmeasured sources (the lead's
    website, manual research...) keep their place in the waterfall.
    """
    costs = cost_per_1k or {}
    slots = [i for i, source in enumerate(order) if source in rates]
    ranked = sorted(
        (order[i] for i in slots),
        key=lambda s: (-rates[s], costs.get(s, float("inf")), order.index(s)),
    )
    out = list(order)
    for slot, source in zip(slots, ranked, strict=True):
        out[slot] = source
    return out
