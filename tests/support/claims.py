"""Whether a blueprint's data point is claimed by a market or seller kind the blueprint states (issue 14, item 5)."""

from __future__ import annotations

from graph.engine.select import INTEGRATION_KEY, seller_categories
from graph.knowledge import KnowledgeBase
from graph.state import MarketSignals


def claimed(key: str, kb: KnowledgeBase, targeting: MarketSignals) -> bool:
    """Generic, the seller's own integrations, or claimed by a targeted vertical, a motion or one of the seller's
    categories (by id, by its list, or by its seller kind)."""
    spec = kb.data_points[key]
    if spec.applies_to.any or key == INTEGRATION_KEY or set(spec.applies_to.motions) & set(targeting.motions):
        return True
    if any(v.id in spec.applies_to.verticals or key in kb.verticals[v.id].data_points for v in targeting.verticals):
        return True
    return any(c.id in spec.applies_to.categories or key in kb.categories[c.id].data_points
               or kb.categories[c.id].kind in spec.applies_to.kinds
               for c in seller_categories(kb, targeting))
