"""A buyer market the page names strongly is the seller's market, even beside a horizontal category.

A CRM "for moving companies" also reads as field-service software (dispatch, crews) and as CRM, which is
horizontal; the field-service category writes data points for trades it serves (a home-services lead's HVAC and
plumbing lines). Those describe other markets' leads: with the movers named this strongly they are out of the
blueprint at any priority. What a horizontal category claims (the books, payroll, card payments) fits any business
and stays.
"""

from __future__ import annotations

from functools import cache

from graph.engine.select import STRONG_BUYER
from graph.knowledge import KnowledgeBase, load_knowledge
from tests.support.routing import chosen_keys, routed
from tests.support.seller_pages import seller_site

NAV = "<nav><a href='/features'>Features</a> <a href='/pricing'>Pricing</a> <a href='/login'>Log in</a></nav>"
FOOTER = "<footer>Privacy · Terms · Careers · © 2026</footer>"


@cache
def kb() -> KnowledgeBase:
    return load_knowledge()


def movers_crm():
    return seller_site(
        "Moving company CRM and dispatch software",
        "<p>The CRM built for moving companies and movers: lead management, online estimates, dispatching crews "
        "and trucks, invoicing and accounting software sync. Local movers and van lines book more moves.</p>"
        "<h2>Lead management for moving companies</h2><p>Every lead from your website and moving lead providers "
        "in one CRM; sales reps follow up and send binding estimates.</p>"
        "<h2>Dispatch</h2><p>Schedule crews and trucks for each move, from the first walk-through to delivery.</p>",
        nav=NAV, footer=FOOTER)


def test_the_movers_crm_targets_movers_strongly() -> None:
    _, targeting = routed(movers_crm(), kb())
    assert targeting.verticals[0].id == "movers_household_goods"
    assert targeting.verticals[0].score >= STRONG_BUYER


def test_no_data_point_written_only_for_other_trades_reaches_a_strongly_named_market() -> None:
    analysis, targeting = routed(movers_crm(), kb())
    keys = chosen_keys(kb(), analysis, targeting)
    base = kb()
    targeted = {v.id for v in targeting.verticals}
    written_for = {key: {v.id for v in base.verticals.values() if key in v.data_points}
                   | set(base.data_points[key].applies_to.verticals) for key in keys}

    def fits_any_business(key: str) -> bool:  # generic, a motion's (a local business's books) or a horizontal's
        spec = base.data_points[key]
        return spec.applies_to.any or bool(set(spec.applies_to.motions) & set(targeting.motions)) or any(
            base.categories[c.id].horizontal for c in targeting.categories
            if key in base.categories[c.id].data_points or c.id in spec.applies_to.categories)

    strays = {key for key, markets in written_for.items()
              if markets and not markets & targeted and not fits_any_business(key)}
    assert "home_services_trade_lines" not in keys
    assert not strays, strays
