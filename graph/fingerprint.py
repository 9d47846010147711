"""Stable identity of a run: the cache key and the blueprint id.

Two requests that mean the same thing get the same key: scheme and host case, ``www.``, a trailing
slash, tracking parameters and the order of sample domains do not matter; the ICP is hashed as
canonical JSON. The key also covers what changes the answer: engine, model, knowledge version, prompt
files and the package version.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import metadata, resources
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson

from graph.schemas import EnrichmentRequest

__all__ = ["blueprint_id_for", "normalize_website", "package_version", "prompts_digest", "run_key"]

TRACKING_PARAMS = {"gclid", "fbclid", "msclkid", "mc_cid", "mc_eid", "ref", "_hsenc", "_hsmi", "igshid", "yclid"}


@lru_cache(maxsize=4096)  # pure; a cache hit through HTTP computes it for every request
def normalize_website(url: str) -> str:
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    netloc = host if parts.port in (None, 80, 443) else f"{host}:{parts.port}"
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                             if not k.lower().startswith("utm_") and k.lower() not in TRACKING_PARAMS))
    path = parts.path.rstrip("/")
    return urlunsplit(("https" if parts.scheme.lower() in {"http", "https"} else parts.scheme.lower(),
                       netloc, path, query, ""))


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


def run_key(request: EnrichmentRequest, *, engine: str, model: str | None, knowledge_version: str) -> str:
    payload = {
        "request": _canonical(request),
        "engine": engine,
        "model": model if engine == "llm" else None,
        "knowledge": knowledge_version,
        "prompts": prompts_digest() if engine == "llm" else None,
        "package": package_version(),
    }
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


def blueprint_id_for(key: str) -> str:
    return f"bp_{key[:24]}"
