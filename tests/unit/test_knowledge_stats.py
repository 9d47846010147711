"""``blueprint knowledge stats [--json]``: the knowledge base counted, and its NAICS coverage (issue 15)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from graph.knowledge import KnowledgeBase, load_knowledge
from graph.knowledge.base import _data_dir
from graph.knowledge.models import Cue, SourceSpec, Vertical
from graph.knowledge.naics import load_naics
from graph.knowledge.stats import knowledge_stats
from server.cli import app


def _vertical(ident: str, naics: list[str]) -> Vertical:
    return Vertical(id=ident, name=ident, industry_labels=[ident], buyer_titles=["Owner", "Manager"],
                    cues=[Cue(phrase=f"{ident} {n}") for n in range(3)], naics=naics)


def _source(ident: str, countries: list[str]) -> SourceSpec:
    return SourceSpec(id=ident, name=ident, kind="registry", access="public", cost="free", cost_per_1k_usd=0,
                      method="web_scrape", countries=countries)


def test_counts_and_coverage_of_a_small_knowledge_base() -> None:
    kb = KnowledgeBase(version="t", naics=load_naics(_data_dir() / "naics.yaml"))
    kb.verticals = {"diners": _vertical("diners", ["722511", "31"]), "farms": _vertical("farms", ["111", "1121"])}
    kb.sources = {s.id: s for s in (_source("ch", ["GB"]), _source("kvk", ["NL"]), _source("vies", ["EU"]),
                                    _source("web", ["ALL"]), _source("fmcsa", ["US"]), _source("odd", []))}
    stats = knowledge_stats(kb)
    assert stats["verticals"] == 2 and stats["sources"] == 6 and stats["data_points"] == 0
    assert stats["naics_subsectors"]["covered"] == ["111", "112", "722"]  # a bare sector code ('31') covers none
    assert len(stats["naics_subsectors"]["uncovered"]) == 93
    assert stats["sources_by_country"] == {"ALL": 1, "EU": 1, "GB": 1, "NL": 1, "US": 1}
    assert stats["eu_sources"] == 2  # EU-wide plus a member state's register
    assert stats["sources_without_countries"] == ["odd"]
    manufacturing = next(s for s in stats["naics_sectors"] if s["code"] == "31-33")
    assert manufacturing == {"code": "31-33", "title": "Manufacturing", "subsectors": 21, "covered": 0}


def test_json_output_has_the_figures_the_issue_names() -> None:
    result = CliRunner().invoke(app, ["knowledge", "stats", "--json"])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.stdout)
    kb = load_knowledge()
    assert (stats["verticals"], stats["categories"], stats["data_points"], stats["sources"]) == (
        len(kb.verticals), len(kb.categories), len(kb.data_points), len(kb.sources))
    naics = stats["naics_subsectors"]
    assert len(naics["covered"]) + len(naics["uncovered"]) == 96
    assert set(naics["covered"]).isdisjoint(naics["uncovered"])
    assert stats["sources_by_country"]["ALL"] > 0 and stats["sources_by_country"]["US"] > 0
    assert sum(stats["categories_by_kind"].values()) == stats["categories"]
    assert sum(stats["data_points_by_section"].values()) == stats["data_points"]
    assert stats["sources_without_countries"] == []  # every source says where it has data


def test_text_output_is_markdown_tables() -> None:
    result = CliRunner().invoke(app, ["knowledge", "stats"])
    assert result.exit_code == 0, result.output
    assert "| verticals |" in result.stdout
    assert "NAICS 2022 subsectors with a vertical" in result.stdout
    assert "| 44-45 Retail Trade |" in result.stdout
