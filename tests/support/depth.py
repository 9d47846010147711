"""What the knowledge-depth tests read: a built-in pack's own entries, the shared sources every market may use,
and the data points a market has of its own (never the generic ones)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from graph.knowledge import KnowledgeBase

DATA = Path(__file__).resolve().parents[2] / "graph" / "knowledge" / "data"


def pack(name: str) -> dict[str, list[dict[str, Any]]]:
    """The entries of one built-in pack file as written (``extend`` entries included)."""
    return yaml.safe_load((DATA / "packs" / name).read_text(encoding="utf-8"))


def shared_source_ids() -> set[str]:
    """The sources of ``sources.yaml``: used across markets, so none of them is a market's own."""
    return {str(s["id"]) for s in yaml.safe_load((DATA / "sources.yaml").read_text(encoding="utf-8"))["sources"]}


def written_for(kb: KnowledgeBase, vertical_id: str) -> list[str]:
    """The data points whose ``applies_to.verticals`` names the market (not a generic one)."""
    return [key for key, dp in kb.data_points.items()
            if vertical_id in dp.applies_to.verticals and not dp.applies_to.any]


def claimed_by(kb: KnowledgeBase, vertical_id: str) -> list[str]:
    """The data points the market lists or that are written for it, generic ones left out."""
    keys = set(kb.verticals[vertical_id].data_points) | {
        key for key, dp in kb.data_points.items() if vertical_id in dp.applies_to.verticals}
    return sorted(key for key in keys if key in kb.data_points and not kb.data_points[key].applies_to.any)
