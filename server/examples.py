"""Examples shown in the OpenAPI document (a unit test checks they validate against the models)."""

from __future__ import annotations

from typing import Any

__all__ = ["BLUEPRINT_EXAMPLE", "REQUEST_EXAMPLES"]

REQUEST_EXAMPLES: dict[str, dict[str, Any]] = {
    "website_only": {
        "summary": "Just the website",
        "description": "The ICP is inferred from the site.",
        "value": {"website": "https://tablely.example"},
    },
    "with_icp": {
        "summary": "Website, ICP and options",
        "value": {
            "website": "https://tablely.example",
            "icp": {
                "industries": ["restaurants", "quick service restaurants"],
                "company_size": {"min_employees": 20, "max_employees": 2000},
                "geographies": ["United States", "Canada"],
                "buyer_titles": ["Director of Operations", "Owner"],
                "technologies": ["Toast", "Square"],
                "notes": "Multi-location groups with 5+ locations convert best.",
            },
            "sample_domains": ["bluefinburgers.example"],
            "options": {"engine": "catalog", "max_data_points": 8, "providers": ["apollo"], "cache": "use"},
        },
    },
}

_DP = {
    "key": "location_count",
    "name": "Number of locations",
    "description": "How many physical locations the business operates.",
    "why": "Tablely prices per location and its case studies are multi-site groups.",
    "priority": "must",
    "value_type": "integer",
    "example": "12",
    "qualification_rule": "location_count >= 5",
    "source_ids": ["google_places", "website"],
    "evidence": "Run every location from one dashboard",
}

BLUEPRINT_EXAMPLE: dict[str, Any] = {
    "schema_version": "1",
    "blueprint_id": "bp_3f1c9a0e2b7d4c5a8e6f1b2c",
    "website": "https://tablely.example",
    "company": {
        "name": "Tablely",
        "domain": "tablely.example",
        "summary": "Point of sale and online ordering for restaurants.",
        "offering": "restaurant POS",
        "category": "Restaurant point of sale",
        "markets_served": ["restaurants"],
        "integrations": ["DoorDash", "Uber Eats", "QuickBooks"],
        "evidence": [
            {
                "claim": "sells to: restaurants",
                "snippet": "The POS built for busy restaurants",
                "source": "https://tablely.example/",
                "confidence": 0.9,
            }
        ],
    },
    "icp": {
        "source": "inferred",
        "confidence": 0.8,
        "industries": ["restaurants"],
        "company_size": {"min_employees": 10, "max_employees": 500},
        "geographies": ["United States"],
        "buyer_titles": ["Owner", "Director of Operations"],
        "technologies": ["Toast", "Square"],
        "evidence": [],
    },
    "firmographic": {"data_points": [_DP]},
    "technographic": {
        "data_points": [
            {
                **_DP,
                "key": "current_pos_system",
                "name": "Current POS system",
                "value_type": "enum",
                "options": [{"value": "toast", "label": "Toast"}, {"value": "square", "label": "Square"},
                            {"value": "clover", "label": "Clover"}, {"value": "lightspeed", "label": "Lightspeed"}],
                "description": "The point-of-sale system the restaurant runs today.",
                "example": "Toast",
                "why": "Tablely replaces legacy POS systems; the incumbent decides the pitch.",
                "qualification_rule": None,
                "source_ids": ["builtwith"],
                "evidence": None,
            }
        ]
    },
    "personalization": {
        "data_points": [
            {
                **_DP,
                "key": "new_location_openings",
                "name": "New location openings",
                "priority": "should",
                "value_type": "text",
                "example": "Opening in Austin, TX (May)",
                "qualification_rule": None,
                "description": "Announced openings of new locations.",
                "source_ids": ["news"],
                "evidence": None,
                "why": "A new location needs a POS set up: the best moment to reach out.",
            }
        ]
    },
    "sources": [
        {
            "id": "builtwith",
            "name": "BuiltWith",
            "kind": "api",
            "provides": ["current_pos_system"],
            "fields": {"current_pos_system": "Results[].Result.Paths[].Technologies[].Name"},
            "access": "API key (paid plan)",
            "cost": "from $295/month",
            "notes": "",
        }
    ],
    "collection_methods": [
        {
            "data_points": ["current_pos_system"],
            "method": "waterfall",
            "provider_order": ["builtwith", "website"],
            "cadence": "quarterly",
            "est_cost_per_1k_leads_usd": 40.0,
            "validation": "Cross-check with the ordering page.",
        }
    ],
    "coverage": None,
    "warnings": [
        {
            "code": "provider_skipped",
            "message": "No APOLLO_API_KEY: Apollo was not used.",
            "node": "analyze_company",
        }
    ],
    "meta": {
        "engine": "catalog",
        "model": None,
        "duration_ms": 840,
        "cache": "miss",
        "provider_calls": {},
        "llm": {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0},
        "version": "0.1.0",
    },
}
