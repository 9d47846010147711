"""Tools the graph uses: one HTTP policy, the website reader (SSRF-guarded), Apollo and Clearbit clients,
and their LangChain tool wrappers (``tools.TOOLS``). Attributes load lazily: importing ``tools`` does nothing.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["TOOLS", "ApolloClient", "ClearbitClient", "build_provider_clients", "read_site"]

_WHERE = {
    "TOOLS": "tools.provider_tools",
    "ApolloClient": "tools.apollo",
    "ClearbitClient": "tools.clearbit",
    "build_provider_clients": "tools.providers",
    "read_site": "tools.website",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'tools' has no attribute {name!r}")
