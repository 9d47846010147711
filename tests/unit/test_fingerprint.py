"""Run keys: same meaning → same key; anything that changes the answer → a different key."""

from __future__ import annotations

from graph.fingerprint import blueprint_id_for, normalize_website, run_key
from graph.schemas import EnrichmentRequest


def _key(**kw: object) -> str:
    return run_key(EnrichmentRequest.model_validate(kw), engine="catalog", model=None, knowledge_version="1")


def test_the_key_is_the_url_that_is_fetched() -> None:
    # what the site cannot tell apart folds: case, default ports, an empty path, the fragment
    assert normalize_website("HTTPS://Acme.COM:443#pricing") == "https://acme.com/"
    assert normalize_website("http://acme.com:80/pricing/?b=2&a=1") == "http://acme.com/pricing/?b=2&a=1"
    assert _key(website="acme.com") == _key(website="https://ACME.com:443/")
    # tracking parameters are dropped from the request itself, so they are neither keyed nor sent
    assert EnrichmentRequest(website="https://acme.com/?utm_source=x&gclid=1&ref=hn").website == "https://acme.com/"
    assert _key(website="acme.com") == _key(website="https://acme.com/?utm_campaign=q4&fbclid=z")
    # what the site can tell apart does not: scheme, a non-default port, host, path, other parameters
    assert _key(website="http://acme.com") != _key(website="https://acme.com")
    assert _key(website="https://acme.com:8443") != _key(website="https://acme.com")
    assert _key(website="http://acme.com:443") != _key(website="http://acme.com")
    assert _key(website="www.acme.com") != _key(website="acme.com")
    assert _key(website="https://acme.com/?lang=de") != _key(website="https://acme.com/")


def test_icp_and_sample_order_are_canonical() -> None:
    a = _key(website="acme.com", icp={"industries": ["A", "B"], "notes": ""}, sample_domains=["b.io", "a.io"])
    b = _key(website="acme.com", icp={"notes": "", "industries": ["A", "B"]}, sample_domains=["a.io", "b.io"])
    assert a == b
    assert a != _key(website="acme.com", icp={"industries": ["B", "A"]}, sample_domains=["a.io", "b.io"])


def test_cache_mode_does_not_change_the_key_but_engine_and_knowledge_do() -> None:
    req = EnrichmentRequest(website="acme.com")
    refresh = EnrichmentRequest.model_validate({"website": "acme.com", "options": {"cache": "refresh"}})
    base = run_key(req, engine="catalog", model=None, knowledge_version="1")
    assert base == run_key(refresh, engine="catalog", model=None, knowledge_version="1")
    assert base != run_key(req, engine="llm", model="m", knowledge_version="1")
    assert base != run_key(req, engine="catalog", model=None, knowledge_version="2")
    assert blueprint_id_for(base).startswith("bp_") and len(blueprint_id_for(base)) == 27
