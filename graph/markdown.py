"""Render a Blueprint as Markdown (CLI ``--format markdown``, Jupyter display)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from graph.schemas import Blueprint, DataPoint, Section

__all__ = ["render_markdown", "typed"]

_PRIORITY = {"must": "**must**", "should": "should", "nice": "nice"}


def _cell(text: object) -> str:
    return str(text or "").replace("|", "\\|").replace("\n", " ")


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
    lines = [f"# Enrichment blueprint — {c.name or bp.website}", ""]
    lines += [f"*{_cell(c.summary)}*", ""] if c.summary else []
    lines += [
        f"- **Sells:** {c.offering or 'unknown'}",
        f"- **To:** {', '.join(c.markets_served) or 'unknown'} (channel: {c.channel})",
        f"- **Integrations seen:** {', '.join(c.integrations[:12]) or '—'}",
        "",
        f"## Ideal customer profile ({icp.source}, confidence {icp.confidence:.2f})",
        "",
        f"- **Industries:** {', '.join(icp.industries) or '—'}",
        f"- **Buyer titles:** {', '.join(icp.buyer_titles) or '—'}",
        f"- **Company size:** {_size(icp.company_size)}",
        f"- **Geographies:** {', '.join(icp.geographies) or '—'}",
        "",
    ]
    lines += _section("Firmographic — qualify the account", bp.firmographic)
    lines += _section("Technographic — what they run", bp.technographic)
    lines += _section("Personalization — why now", bp.personalization)
    lines += ["## Sources", "", "| Source | Kind | Provides | Field paths | Access | Cost |",
              "|---|---|---|---|---|---|"]
    for s in bp.sources:
        fields = "; ".join(f"`{k}` ← `{v}`" for k, v in s.fields.items())
        lines.append(f"| {_cell(s.name)} | {s.kind} | {_cell(', '.join(s.provides))} | {_cell(fields)} | "
                     f"{_cell(s.access)} | {_cell(s.cost)} |")
    lines += ["", "## Collection plan", "", "| # | Method | Data points | Provider order | Cadence | $/1k leads |",
              "|---|---|---|---|---|---|"]
    for i, plan in enumerate(bp.collection_methods, 1):
        lines.append(f"| {i} | {plan.method} | {_cell(', '.join(plan.data_points))} | "
                     f"{_cell(' → '.join(plan.provider_order))} | {_cell(plan.cadence)} | "
                     f"{plan.est_cost_per_1k_leads_usd:,.2f} |")
    if bp.coverage:
        lines += ["", f"## Coverage on {bp.coverage.sample_size} sample domains", ""]
        for key, by_source in bp.coverage.by_data_point.items():
            rates = ", ".join(f"{sid} {rate:.0%}" for sid, rate in by_source.items())
            lines.append(f"- `{key}`: {rates}")
    if bp.warnings:
        lines += ["", "## Warnings", ""] + [f"- `{w.code}`: {_cell(w.message)}" for w in bp.warnings]
    m = bp.meta
    lines += ["", f"<sub>{bp.blueprint_id} · engine {m.engine}{' / ' + m.model if m.model else ''} · "
              f"{m.duration_ms} ms · cache {m.cache} · {m.version}</sub>", ""]
    return "\n".join(lines)
