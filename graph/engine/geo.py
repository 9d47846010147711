"""Sources chosen by geography: a data point's sources are the ones that have data where the leads are.

The markets are the countries the ICP names (what the user wrote wins). Without them they come from the
seller: the countries its site names, plus its own country when its domain is a country's (``.co.uk``,
``.de``); a seller with neither keeps the US, the knowledge base's home market, and so does one whose site
names only a region ('Europe', which a US vendor's GDPR page also mentions) or non-US countries on a
non-country domain (a US vendor's "also in Canada" does not make its leads Canadian).

A source serves a market when its ``countries`` name it (:mod:`graph.knowledge.countries`). Sources that
serve none of the markets are dropped from a data point; those for a market other than the home market come
first; and a market none of the remaining sources serves gets manual research: a blueprint never offers a
US-only registry as the only way to fill a data point for UK leads.
"""

from __future__ import annotations

from collections.abc import Iterable

from graph.engine.icp import user_provided
from graph.knowledge import KnowledgeBase
from graph.knowledge.countries import ALL, countries_in, serves
from graph.schemas import Company, DataPoint, ResolvedICP

__all__ = ["COUNTRY_DOMAINS", "FALLBACK_SOURCE", "HOME_MARKET", "localise_sources", "source_ids_for", "target_markets"]

HOME_MARKET = "US"
FALLBACK_SOURCE = "manual_research"  # works everywhere: a researcher checks the market's own register


# country-code top-level domains that say where a seller is (generic-looking ones such as .io, .co, .ai,
# .me and .tv are left out: startups everywhere use them)
COUNTRY_DOMAINS = {
    "uk": "GB", "ca": "CA", "au": "AU", "nz": "NZ", "in": "IN", "ie": "IE", "de": "DE", "fr": "FR", "nl": "NL",
    "es": "ES", "it": "IT", "be": "BE", "at": "AT", "se": "SE", "dk": "DK", "fi": "FI", "pl": "PL", "pt": "PT",
    "ch": "CH", "no": "NO", "sg": "SG", "za": "ZA",
}


def _domain_country(domain: str) -> str | None:
    return COUNTRY_DOMAINS.get(domain.lower().rstrip(".").rsplit(".", 1)[-1]) if domain else None


def target_markets(company: Company | None, icp: ResolvedICP | None) -> frozenset[str]:
    """The country codes the leads are in ('ALL' when worldwide)."""
    stated = countries_in(user_provided(icp, "geographies"))
    if stated:
        return frozenset(stated)
    named = countries_in(company.geographies if company else [])
    home = _domain_country(company.domain) if company else None
    if home:
        named.add(home)
    else:
        named.add(HOME_MARKET)
    return frozenset(named)


_MEMO_LIMIT = 4096


def source_ids_for(kb: KnowledgeBase, source_ids: Iterable[str], markets: frozenset[str]) -> list[str]:
    """``source_ids`` kept for ``markets``, in order, plus the fallback for a market none of them serves.

    Memoized per knowledge base (a pure function of the sources it declares)."""
    # (source ids, markets) → the kept ids: every section asks the same questions for its ~40 data points,
    # twice (selection and after the LLM), and every run asks them again
    memo: dict[tuple[tuple[str, ...], frozenset[str]], tuple[str, ...]] = kb.derived("geo.source_ids", dict)
    key = (tuple(source_ids), markets)
    kept = memo.get(key)
    if kept is None:
        if len(memo) >= _MEMO_LIMIT:
            memo.clear()
        kept = memo[key] = tuple(_source_ids_for(kb, key[0], markets))
    return list(kept)


def _source_ids_for(kb: KnowledgeBase, source_ids: Iterable[str], markets: frozenset[str]) -> list[str]:
    ids = list(dict.fromkeys(source_ids))
    if not ids or not markets or ALL in markets:
        return ids

    def countries(sid: str) -> list[str]:
        source = kb.sources.get(sid)
        return source.countries if source else []  # unknown to the knowledge base: assume it may serve

    kept = [sid for sid in ids if any(serves(countries(sid), m) for m in markets)]
    # a source made for one of the non-home markets comes before the rest (a stable sort keeps the order)
    abroad = markets - {HOME_MARKET}
    kept.sort(key=lambda sid: not (abroad and countries(sid) and ALL not in countries(sid)
                                   and any(serves(countries(sid), m) for m in abroad)))
    unserved = [m for m in markets if not any(serves(countries(sid), m) for sid in kept)]
    if unserved and FALLBACK_SOURCE not in kept and FALLBACK_SOURCE in kb.sources:
        kept.append(FALLBACK_SOURCE)
    return kept


def localise_sources(kb: KnowledgeBase, data_points: list[DataPoint], markets: frozenset[str]) -> list[DataPoint]:
    """The data points with the sources that serve ``markets`` (field paths kept only for kept sources)."""
    out: list[DataPoint] = []
    for dp in data_points:
        ids = source_ids_for(kb, dp.source_ids, markets)
        if ids == dp.source_ids:
            out.append(dp)
            continue
        fields = {sid: path for sid, path in dp.source_fields.items() if sid in ids}
        out.append(dp.model_copy(update={"source_ids": ids, "source_fields": fields}))
    return out
