"""Countries as the knowledge base names them: ISO 3166-1 alpha-2 codes, 'EU' for the European Union as a
whole, 'ALL' for a source that works everywhere; and the words a site or an ICP uses for them.

A source serves a country when it names it, names 'ALL', or names 'EU' and the country is a member state;
an EU-wide market is served by a member state's source too (a German register answers for German leads of an
EU-wide ICP).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["ALL", "EU", "EU_MEMBERS", "countries_in", "serves"]

ALL, EU = "ALL", "EU"
EU_MEMBERS = frozenset({
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU",
    "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
})
# the words for a market -> the codes it means; a region names its main countries (a source for any of them
# serves it). Matched on word boundaries, case-insensitively, against ICP geographies and the site's own.
_NAMES: dict[str, tuple[str, ...]] = {
    "united states|usa|u\\.s\\.a?\\.?|us|america|nationwide|all 50 states": ("US",),
    "united kingdom|uk|u\\.k\\.|great britain|britain|england|scotland|wales|northern ireland": ("GB",),
    "canada|canadian": ("CA",),
    "australia|australian": ("AU",),
    "new zealand": ("NZ",),
    "australia and new zealand|anz|australasia": ("AU", "NZ"),
    "india|indian": ("IN",),
    "ireland": ("IE",),
    "germany|german|deutschland|dach": ("DE",),
    "france|french": ("FR",),
    "netherlands|dutch|holland": ("NL",),
    "spain|spanish": ("ES",),
    "italy|italian": ("IT",),
    "belgium|benelux": ("BE",),
    "sweden|nordics|nordic": ("SE",),
    "denmark": ("DK",),
    "finland": ("FI",),
    "poland": ("PL",),
    "austria": ("AT",),
    "portugal": ("PT",),
    "norway": ("NO",),
    "switzerland": ("CH",),
    "singapore": ("SG",),
    "japan": ("JP",),
    "mexico": ("MX",),
    "brazil": ("BR",),
    "uae|united arab emirates|dubai": ("AE",),
    "south africa": ("ZA",),
    "european union|europe|european|eu|emea|gdpr": (EU,),
    "north america": ("US", "CA"),
    "latin america|latam": ("MX", "BR"),
    "apac|asia pacific|asia-pacific": ("AU", "SG", "IN", "JP"),
    "worldwide|global|globally|international": (ALL,),
}
_PATTERNS = [(re.compile(rf"(?<![\w.])(?:{words})(?![\w])", re.I), codes) for words, codes in _NAMES.items()]
_CODE = re.compile(r"^[A-Z]{2}$")


def countries_in(geographies: Iterable[str]) -> set[str]:
    """The country codes that geography phrases ('UK and Ireland', 'DACH', 'North America', 'DE') name.

    An exact two-letter code is taken as given ('GB', 'DE'); 'ALL' means the market is worldwide.
    """
    codes: set[str] = set()
    for text in geographies:
        stripped = text.strip()
        if _CODE.match(stripped) and stripped != "UK":
            codes.add(stripped)
            continue
        for pattern, named in _PATTERNS:
            if pattern.search(stripped):
                codes.update(named)
    return codes


def serves(source_countries: Iterable[str], market: str) -> bool:
    """Whether a source with these countries has data for ``market`` (a code, or 'EU')."""
    declared = set(source_countries)
    if not declared or ALL in declared or market in declared:  # undeclared: assume it may (never hide data)
        return True
    if market in EU_MEMBERS and EU in declared:
        return True
    return market == EU and bool(declared & EU_MEMBERS)
