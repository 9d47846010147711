"""A ``node_completed`` event's ``output``: the node's section as JSON, dumped only for whoever reads it.

Dumping every section of every run (``model_dump(mode="json")`` on ~40 data points) cost ~0.5 ms of CPU
a run, and a plain JSON request never reads it: only event streams (SSE, runs-as-resources, LangGraph
Studio) do. Under the runner (:func:`lazy_outputs`) a node's event carries a :class:`NodeOutput` that
holds the node's update and dumps it once, the first time a subscriber asks (:func:`with_outputs`);
every later subscriber — one that joins the run late and replays its events included — gets the same
dump. Elsewhere (the graph's own stream, LangGraph Studio) the output is dumped as the node completes,
since nothing there would resolve it.

The update is safe to dump later: a node returns new objects and no later node changes them in place
(``coverage`` copies the collection methods it reorders).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from pydantic import BaseModel

__all__ = ["NODE_OUTPUT_KEYS", "NodeOutput", "lazy_outputs", "node_output", "output_of", "with_outputs"]

# which state key is a node's "output" in its node_completed event
NODE_OUTPUT_KEYS = {
    "fetch_site": "site",
    "analyze_company": "company",
    "resolve_icp": "resolved_icp",
    "firmographic": "firmographic",
    "technographic": "technographic",
    "personalization": "personalization",
    "sources": "sources",
    "collection_methods": "collection_methods",
    "coverage": "coverage",
    "assemble": None,
}

_lazy: ContextVar[bool] = ContextVar("blueprint_lazy_node_outputs", default=False)


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def node_output(name: str, update: dict[str, Any]) -> Any:
    """The JSON ``output`` of node ``name`` that returned ``update``."""
    key = NODE_OUTPUT_KEYS.get(name)
    if name == "fetch_site":
        site = update.get("site")
        if site is None:
            return None
        return {"pages": [p.url for p in site.pages], "words": site.word_count(), "errors": list(site.errors)}
    return _jsonable(update.get(key)) if key else None


class NodeOutput:
    """A node's output, dumped on first :meth:`value` and kept (the update is let go then)."""

    __slots__ = ("_dumped", "_name", "_update", "_value")

    def __init__(self, name: str, update: dict[str, Any]) -> None:
        self._name, self._update = name, update
        self._value: Any = None
        self._dumped = False

    def value(self) -> Any:
        if not self._dumped:
            self._value = node_output(self._name, self._update)
            self._dumped, self._update = True, {}
        return self._value


def output_of(name: str, update: dict[str, Any]) -> Any:
    """What a ``node_completed`` event carries: a :class:`NodeOutput` under :func:`lazy_outputs`, else the dump."""
    return NodeOutput(name, update) if _lazy.get() else node_output(name, update)


@contextlib.contextmanager
def lazy_outputs() -> Iterator[None]:
    """Graph runs started inside carry :class:`NodeOutput` s; the caller resolves them (:func:`with_outputs`)."""
    token = _lazy.set(True)
    try:
        yield
    finally:
        _lazy.reset(token)


def with_outputs(event: dict[str, Any]) -> dict[str, Any]:
    """``event`` with its output dumped, when it is a ``node_completed`` whose output is still lazy."""
    data = event.get("data")
    if event.get("event") != "node_completed" or not isinstance(data, dict):
        return event
    output = data.get("output")
    if not isinstance(output, NodeOutput):
        return event
    return {**event, "data": {**data, "output": output.value()}}
