"""The fixed phrase lists the analysis reads a seller's page with, beside the knowledge base's cues: how a
seller says it sells through partners, to every industry, to a size segment or in a region, and how a page
states the size of its customers."""

from __future__ import annotations

import re

__all__ = ["CHANNEL_CUES", "GEOGRAPHIES", "HORIZONTAL_CUES", "PARTNER_VERTICALS", "SEGMENT_CUES", "SIZE_HINT"]

CHANNEL_CUES = (
    "for agencies", "for msps", "msp partners", "partner program", "become a partner", "resellers", "reseller",
    "white-label", "white label", "channel partners", "managed service providers", "for consultants",
    "partner portal", "multi-tenant", "multi-client",
)
# When a seller sells through partners, the partner is the buyer: which market the partners are in.
PARTNER_VERTICALS = {
    "msps_it_services": ("msp", "msps", "managed service providers", "managed services providers", "it providers",
                         "solution providers", "value-added resellers", "vars"),
    "marketing_agencies": ("agencies", "agency partners", "for agencies", "white-label", "white label"),
    "accounting_firms": ("accountants", "accounting firms", "cpa firms", "bookkeepers", "accounting partners"),
    "professional_services_consulting": ("consultants", "consulting partners", "implementation partners"),
    "insurance_agencies": ("independent agents", "insurance agents", "agency partners"),
}
HORIZONTAL_CUES = (
    "every industry", "all industries", "any industry", "businesses of all sizes", "any business",
    "every kind of business", "small businesses", "small business owners", "every type of business",
)
# Company-size segments a seller names ("built for mid-market finance teams"); a horizontal seller's ICP
# is often a segment rather than an industry.
SEGMENT_CUES = {
    "smb": ("small business", "small businesses", "smb", "smbs", "small and medium", "small and mid-sized",
            "small to medium", "local businesses", "sole proprietors", "main street"),
    "mid_market": ("mid-market", "midmarket", "mid-sized", "midsize", "mid-size", "growing companies",
                   "scaling companies", "mid market"),
    "enterprise": ("enterprise", "enterprises", "fortune 500", "fortune 1000", "global 2000", "large organizations",
                   "multinational"),
}
GEOGRAPHIES = {
    "United States": ("united states", "u.s.", "usa", "all 50 states", "nationwide", "across the us"),
    "Canada": ("canada", "canadian"),
    "United Kingdom": ("united kingdom", "uk", "britain"),
    "European Union": ("europe", "european", "eu", "gdpr"),
    "North America": ("north america",),
    "Australia": ("australia",),
    "Latin America": ("latin america", "latam", "mexico", "brazil"),
    "Asia Pacific": ("apac", "asia pacific", "asia-pacific", "singapore", "japan", "india"),
}
SIZE_HINT = re.compile(
    r"(?:\b\d[\d,]*\s*(?:\+\s*)?(?:locations|units|stores|restaurants|employees|users|seats|clinics|beds|"
    r"trucks|vehicles|agents|doctors|providers|properties|doors|schools|students)\b|"
    r"\bper (?:user|seat|location|month|truck|vehicle|provider|unit|door|student)\b|"
    r"\b(?:enterprise|mid-market|midmarket|small business(?:es)?|smbs?|startups?|fortune 500)\b)",
    re.I,
)
