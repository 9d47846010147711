"""``blueprint knowledge stats [--json]``: what the knowledge base holds and which NAICS subsectors it covers.

The text form is a set of Markdown tables (readable on a terminal, pasted as-is into the README); ``--json``
prints the full figures for scripts and CI.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

__all__ = ["knowledge_stats_command", "render_stats"]


def _table(title: str, header: tuple[str, str], rows: list[tuple[str, Any]]) -> list[str]:
    lines = [f"| {header[0]} | {header[1]} |", "|---|---:|", *(f"| {k} | {v} |" for k, v in rows)]
    return [f"**{title}**", "", *lines, ""]


def render_stats(stats: dict[str, Any]) -> str:
    """The figures as Markdown tables."""
    naics = stats.get("naics_subsectors", {})
    totals = [("verticals", stats["verticals"]), ("seller categories", stats["categories"]),
              ("data points", stats["data_points"]), ("sources", stats["sources"])]
    if naics:
        totals.append((f"NAICS {stats['naics_version']} subsectors with a vertical",
                       f"{len(naics['covered'])} / {naics['total']}"))
    lines = [f"Knowledge base {stats['version']}", ""]
    lines += _table("Totals", ("", "count"), totals)
    lines += _table("Seller categories by kind", ("kind", "categories"), list(stats["categories_by_kind"].items()))
    lines += _table("Data points by section", ("section", "data points"), list(stats["data_points_by_section"].items()))
    lines += _table("Sources by kind", ("kind", "sources"), list(stats["sources_by_kind"].items()))
    countries = [(code, n) for code, n in stats["sources_by_country"].items()]
    countries.append(("EU-wide or a member state", stats["eu_sources"]))
    lines += _table("Sources by country ('ALL': works everywhere)", ("country", "sources"), countries)
    if naics:
        sectors = [(f"{s['code']} {s['title']}", f"{s['covered']} / {s['subsectors']}") for s in stats["naics_sectors"]]
        lines += _table("NAICS sectors: subsectors with a vertical", ("sector", "covered"), sectors)
        uncovered = ", ".join(f"{code} {title}" for code, title in naics["uncovered_titles"].items())
        lines += [f"Uncovered subsectors: {uncovered or 'none'}", ""]
    if stats["sources_without_countries"]:
        lines.append(f"Sources without countries: {', '.join(stats['sources_without_countries'])}")
    return "\n".join(lines).rstrip() + "\n"


def knowledge_stats_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Count verticals, seller categories, data points and sources, and show NAICS coverage."""
    from graph.knowledge import KnowledgeError, load_knowledge
    from graph.knowledge.stats import knowledge_stats

    try:
        stats = knowledge_stats(load_knowledge())
    except KnowledgeError as exc:
        typer.echo(f"error [knowledge_error]: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(json.dumps(stats, indent=2) if as_json else render_stats(stats))
