"""Render a Blueprint as Markdown (CLI ``--format markdown``, Jupyter display)."""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from graph.schemas import Blueprint, DataPoint, Section

__all__ = ["render_markdown", "typed"]

_PRIORITY = {"must": "**must**", "should": "should", "nice": "nice"}


_MD_PUNCTUATION = re.compile(r"([\\`*_\[\]|~])")


def _cell(text: object) -> str:
    """Blueprint text as Markdown *text*, on one line. Much of it comes from the seller's site, where
    markup it had entity-escaped (``&lt;img onerror&gt;``) was decoded: HTML is escaped so it is shown,
    never run (Jupyter renders raw HTML in Markdown), and Markdown punctuation is backslash-escaped so no
    link, image, emphasis or table cell can be forged."""
    escaped = html.escape(str(text or ""), quote=False)
    return _MD_PUNCTUATION.sub(r"\\\1", escaped).replace("\r", " ").replace("\n", " ")


def _code(text: object) -> str:
    """Text for a code span (field paths): shown literally by Markdown; only backticks, pipes and line
    breaks could break out of the span or the table."""
    return str(text or "").replace("`", "'").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _list(items: list[str], limit: int | None = None) -> str:
    return _cell(", ".join(items[:limit]))


def _size(band: dict[str, int | None]) -> str:
    lo, hi = band.get("min_employees"), band.get("max_employees")
    if lo and hi:
        return f"{lo:,}–{hi:,} employees"
    if lo:
        return f"{lo:,}+ employees"
    return f"up to {hi:,} employees" if hi else "—"


def typed(dp: DataPoint, max_options: int = 8) -> str:
    """The data point's value type as a reader wants it: ``currency (per year)``, ``one of: A · B · C``."""
    unit = f" ({dp.unit})" if dp.unit else ""
    if dp.value_type in {"enum", "multi_enum"} and dp.options:
        labels = [o.label for o in dp.options]
        more = f" · +{len(labels) - max_options} more" if len(labels) > max_options else ""
        kind = "one of" if dp.value_type == "enum" else "any of"
        return f"{kind}: {' · '.join(labels[:max_options])}{more}"
    return f"{dp.value_type}{unit}"


def _section(title: str, section: Section) -> list[str]:
    lines = [f"## {title}", ""]
    if not section.data_points:
        return [*lines, "_No data points selected._", ""]
    lines += ["| Priority | Data point | Type | Why | Sources | Example |", "|---|---|---|---|---|---|"]
    for dp in section.data_points:
        lines.append(f"| {_PRIORITY[dp.priority]} | **{_cell(dp.name)}** — {_cell(dp.description)} | "
                     f"{_cell(typed(dp))} | {_cell(dp.why)} | {_cell(', '.join(dict.fromkeys(dp.source_ids)))} | "
                     f"{_cell(dp.example)} |")
    return [*lines, ""]


def render_markdown(bp: Blueprint) -> str:
    c, icp = bp.company, bp.icp
    lines = [f"# Enrichment blueprint — {_cell(c.name or bp.website)}", ""]
    lines += [f"*{_cell(c.summary)}*", ""] if c.summary else []
    lines += [
        f"- **Sells:** {_cell(c.offering) or 'unknown'}",
        f"- **To:** {_list(c.markets_served) or 'unknown'} (channel: {c.channel})",
        f"- **Integrations seen:** {_list(c.integrations, 12) or '—'}",
        "",
        f"## Ideal customer profile ({icp.source}, confidence {icp.confidence:.2f})",
        "",
        f"- **Industries:** {_list(icp.industries) or '—'}",
        f"- **Buyer titles:** {_list(icp.buyer_titles) or '—'}",
        f"- **Company size:** {_size(icp.company_size)}",
        f"- **Geographies:** {_list(icp.geographies) or '—'}",
        "",
    ]
    lines += _section("Firmographic — qualify the account", bp.firmographic)
    lines += _section("Technographic — what they run", bp.technographic)
    lines += _section("Personalization — why now", bp.personalization)
    lines += ["## Sources", "", "| Source | Kind | Provides | Field paths | Access | Cost |",
              "|---|---|---|---|---|---|"]
    for s in bp.sources:
        fields = "; ".join(f"`{_code(k)}` ← `{_code(v)}`" for k, v in s.fields.items())
        lines.append(f"| {_cell(s.name)} | {s.kind} | {_list(s.provides)} | {fields} | "
                     f"{_cell(s.access)} | {_cell(s.cost)} |")
    lines += ["", "## Collection plan", "", "| # | Method | Data points | Provider order | Cadence | $/1k leads |",
              "|---|---|---|---|---|---|"]
    for i, plan in enumerate(bp.collection_methods, 1):
        lines.append(f"| {i} | {plan.method} | {_list(plan.data_points)} | "
                     f"{_cell(' → '.join(plan.provider_order))} | {_cell(plan.cadence)} | "
                     f"{plan.est_cost_per_1k_leads_usd:,.2f} |")
    if bp.coverage:
        lines += ["", f"## Coverage on {bp.coverage.sample_size} sample domains", ""]
        for key, by_source in bp.coverage.by_data_point.items():
            rates = ", ".join(f"{_cell(sid)} {rate:.0%}" for sid, rate in by_source.items())
            lines.append(f"- `{_code(key)}`: {rates}")
    if bp.warnings:
        lines += ["", "## Warnings", ""] + [f"- `{_code(w.code)}`: {_cell(w.message)}" for w in bp.warnings]
    m = bp.meta
    model = f" / {_cell(m.model)}" if m.model else ""
    lines += ["", f"<sub>{_cell(bp.blueprint_id)} · engine {_cell(m.engine)}{model} · "
              f"{m.duration_ms} ms · cache {m.cache} · {_cell(m.version)}</sub>", ""]
    return "\n".join(lines)
