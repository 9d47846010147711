"""Stable identity of a run: the cache key and the blueprint id.

The key is exactly what is fetched: the request's website is already in its fetched form
(:func:`tools.urls.canonical_url`: tracking parameters dropped, default ports folded); here only the
empty path and ``/`` fold (a client sends ``/`` for both). Scheme, a non-default port, ``www.``, the
path and the other query parameters keep keys apart. Sample domains are sorted and the ICP is hashed as
canonical JSON. The key also covers what changes the answer: engine, model, knowledge version, prompt
files, the package version and, with API keys, whose blueprint it is (``scope``, see
:mod:`graph.tenancy`). The blueprint id is an HMAC of the key with the server secret: it cannot be
computed from the request by someone who lacks the secret.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache
from importlib import metadata, resources
from urllib.parse import urlsplit, urlunsplit

import orjson

from graph.schemas import EnrichmentRequest
from tools.urls import canonical_url

__all__ = ["blueprint_id_for", "normalize_website", "package_version", "prompts_digest", "run_key"]

@lru_cache(maxsize=4096)  # pure; a cache hit through HTTP computes it for every request
def normalize_website(url: str) -> str:
    """The website part of the key: the fetched form, with an empty path written as ``/``."""
    parts = urlsplit(canonical_url(url))
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


@lru_cache(maxsize=1)
def package_version() -> str:
    try:
        return metadata.version("enrichment-blueprint")
    except metadata.PackageNotFoundError:
        return "0.0.0+local"


@lru_cache(maxsize=1)
def prompts_digest() -> str:
    digest = hashlib.sha256()
    root = resources.files("prompts")
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".md"):
            digest.update(entry.name.encode() + b"\0" + entry.read_bytes())
    return digest.hexdigest()[:12]


def _canonical(request: EnrichmentRequest) -> dict[str, object]:
    options = request.options.model_dump(exclude={"cache", "engine"})
    options["providers"] = sorted(options["providers"])
    return {
        "website": normalize_website(request.website),
        "icp": request.icp.model_dump(exclude_defaults=True) if request.icp and not request.icp.is_empty() else None,
        "sample_domains": sorted(request.sample_domains),
        "options": options,
    }


def run_key(
    request: EnrichmentRequest, *, engine: str, model: str | None, knowledge_version: str, scope: str | None = None
) -> str:
    payload = {
        "request": _canonical(request),
        "engine": engine,
        "model": model if engine == "llm" else None,
        "knowledge": knowledge_version,
        "prompts": prompts_digest() if engine == "llm" else None,
        "package": package_version(),
        **({"scope": scope} if scope is not None else {}),
    }
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


def blueprint_id_for(key: str, secret: bytes | None = None) -> str:
    """With the server ``secret`` (every blueprint the runner stores): ``bp_`` and 128 bits of an HMAC
    of the key, so nobody can compute an id offline. Without it (a graph run outside the runner, e.g.
    LangGraph Studio, whose blueprint is stored nowhere): 96 bits of the key itself."""
    if secret is None:
        return f"bp_{key[:24]}"
    digest = hmac.new(secret, b"blueprint\0" + key.encode(), hashlib.sha256).hexdigest()
    return f"bp_{digest[:32]}"
