"""The seller's URL as it will be fetched: one canonical form for the request, the fetch and the cache key.

Why one form: when the cache key folds something the fetch still sends, two requests that reach the
site differently share one cached answer. A page that echoes ``?utm_source=`` into its text would
then plant words in the blueprint everyone else gets. So what is dropped here (tracking parameters,
the fragment) is dropped from the request itself and never sent; what stays is sent exactly as given.

Only spellings the site cannot tell apart are folded: scheme and host case and the scheme's default
port (``:80`` for http, ``:443`` for https). Scheme, any other port, ``www.``, the path and the other
query parameters stay, in their order and encoding: they can change what the site answers.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import unquote_plus, urlsplit, urlunsplit

__all__ = ["TRACKING_PARAMS", "canonical_url", "is_tracking_param"]

TRACKING_PARAMS = frozenset({
    "gclid", "gbraid", "wbraid", "dclid", "fbclid", "msclkid", "mc_cid", "mc_eid", "ref", "_hsenc", "_hsmi",
    "igshid", "yclid", "twclid", "li_fat_id", "ttclid", "_ga", "_gl", "mkt_tok", "vero_id", "oly_enc_id",
})
DEFAULT_PORTS = {"http": 80, "https": 443}


def is_tracking_param(name: str) -> bool:
    """``utm_*`` and the click ids of ad and mail platforms: they name the visitor, not the page."""
    lowered = name.lower()
    return lowered.startswith("utm_") or lowered in TRACKING_PARAMS


def _without_tracking(query: str) -> str:
    kept = [part for part in query.split("&") if part and not is_tracking_param(unquote_plus(part.split("=")[0]))]
    return "&".join(kept)


@lru_cache(maxsize=4096)  # pure; every request (cache hits included) passes through it
def canonical_url(url: str) -> str:
    """``url`` (absolute, with a scheme) in the form that is fetched and keyed.

    Raises ``ValueError`` for a port that is not a number in range (as :func:`urllib.parse.urlsplit`
    does when asked for it)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    port = parts.port  # ValueError on a malformed port
    netloc = parts.netloc
    if "@" not in netloc and parts.hostname:  # credentials are refused by the SSRF guard: left as given
        host = parts.hostname  # lower case, brackets removed
        host = f"[{host}]" if ":" in host else host
        netloc = host if port is None or port == DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path, _without_tracking(parts.query), ""))
