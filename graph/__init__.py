"""Enrichment Blueprint: which data to collect about your leads, where it lives, how to collect it.

    from graph import generate_blueprint, agenerate_blueprint, EnrichmentRequest, Blueprint, graph

Attributes are loaded lazily so that importing the package stays cheap and does nothing.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from graph.api import agenerate_blueprint, generate_blueprint
    from graph.compiled import graph
    from graph.schemas import ICP, Blueprint, DataPoint, EnrichmentRequest, Options
    from tools.errors import BlueprintError

__all__ = [
    "ICP",
    "Blueprint",
    "BlueprintError",
    "DataPoint",
    "EnrichmentRequest",
    "Options",
    "agenerate_blueprint",
    "generate_blueprint",
    "graph",
]

_WHERE = {
    "agenerate_blueprint": "graph.api",
    "generate_blueprint": "graph.api",
    "graph": "graph.compiled",
    "ICP": "graph.schemas",
    "Blueprint": "graph.schemas",
    "DataPoint": "graph.schemas",
    "EnrichmentRequest": "graph.schemas",
    "Options": "graph.schemas",
    "BlueprintError": "tools.errors",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'graph' has no attribute {name!r}")
