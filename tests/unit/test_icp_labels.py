"""The inferred ICP names the buyers' market the way the page does, within the catalog's labels for it."""

from __future__ import annotations

from graph.engine.icp import resolve_icp
from graph.knowledge import load_knowledge
from graph.schemas import Company
from graph.state import MarketSignals, Scored


def _industries(vertical: str, evidence: list[str]) -> list[str]:
    market = MarketSignals(verticals=[Scored(id=vertical, score=0.8, evidence=evidence)])
    resolved, _ = resolve_icp(Company(name="Acme", domain="acme.test"), market, load_knowledge(), None)
    return resolved.industries


def test_the_label_holding_the_pages_own_words_comes_first_then_the_markets_name() -> None:
    kb = load_knowledge()
    fitness = kb.verticals["fitness_wellness"].industry_labels
    # a yoga app's page says "yoga" and "studios": its market is yoga studios, of fitness
    assert _industries("fitness_wellness", ["yoga", "studios", "members"]) == ["yoga studios", fitness[0]]
    # the singular on the page names the plural label ("chiropractic" -> "Chiropractic practices")
    assert _industries("rehab_therapy_clinics", ["chiropractic"])[0] == "Chiropractic practices"
    assert _industries("specialty_hobby_retailers", ["florists"])[0] == "florists"


def test_without_words_of_its_own_the_catalogs_first_labels_stand() -> None:
    kb = load_knowledge()
    labels = kb.verticals["fitness_wellness"].industry_labels
    assert _industries("fitness_wellness", []) == labels[:2]
    assert _industries("fitness_wellness", ["typical market of gym_management"]) == labels[:2]


def test_a_market_the_leading_category_is_sold_to_leads_the_markets_the_page_only_talks_about() -> None:
    """Ordering software "for wholesalers" whose page talks more about the wholesalers' retailers sells to
    wholesalers; a seller through partners keeps its partners' trade first."""
    from graph.engine.icp import targeting_for

    kb = load_knowledge()
    market = MarketSignals(categories=[Scored(id="distribution_erp_commerce", score=0.75)],
                           verticals=[Scored(id="retail_stores", score=0.55), Scored(id="wholesale_distributors",
                                                                                      score=0.24)])
    targeting = targeting_for(market, kb, None)
    assert targeting.verticals[0].id == "wholesale_distributors"
    assert targeting.verticals[0].score == 0.55
    # the market it is not sold to stays, behind: what the page talks about (TALKED_ABOUT of its score)
    from graph.engine.icp import TALKED_ABOUT

    talked = next(v for v in targeting.verticals if v.id == "retail_stores")
    assert talked.score < targeting.verticals[0].score * TALKED_ABOUT
    channel = targeting_for(market.model_copy(update={"motions": ["channel"]}), kb, None)
    assert channel.verticals[0].id == "retail_stores"
    weak = targeting_for(market.model_copy(update={"categories": [Scored(id="distribution_erp_commerce",
                                                                          score=0.3)]}), kb, None)
    assert weak.verticals[0].id == "retail_stores"


def test_a_runner_up_category_read_from_the_leaders_words_only_is_no_second_offering() -> None:
    """A liquor-store POS page says "POS": retail POS leads, and restaurant POS, read from that same word,
    brings no restaurant data points; a runner-up with words of its own stays."""
    from graph.engine.icp import targeting_for

    kb = load_knowledge()
    market = MarketSignals(categories=[Scored(id="retail_pos", score=0.18, evidence=["POS"]),
                                       Scored(id="restaurant_pos", score=0.14, evidence=["POS"]),
                                       Scored(id="customer_support_helpdesk", score=0.13,
                                              evidence=["customer support"])],
                           verticals=[Scored(id="liquor_stores", score=0.34, evidence=["liquor store"])])
    ids = [c.id for c in targeting_for(market, kb, None).categories]
    assert ids == ["retail_pos", "customer_support_helpdesk"]


def test_a_market_the_page_names_weakly_leads_the_leading_categorys_guessed_markets() -> None:
    """An answering service whose page names medical practices only in passing: the category's usual markets
    (law firms, home services) are guesses and come after the market the page does name."""
    from tests.support.routing import routed
    from tests.support.seller_pages import seller_site

    site = seller_site(
        "24/7 answering service",
        "<p>Never miss a call after hours. Live operators answer your phones, take messages and page whoever is on "
        "call. Call scripts, message delivery by text and email, and a HIPAA-compliant option for medical "
        "practices.</p><h2>Medical practices</h2><p>Patients reach a live voice after hours.</p>")
    analysis, targeting = routed(site, load_knowledge())
    named = analysis.market.verticals[0]
    assert named.id == "physician_practices" and named.score < 0.35  # named, weakly: the category's guesses join
    assert targeting.verticals[0].id == "physician_practices"
    assert {v.id for v in targeting.verticals[1:]} & set(load_knowledge().categories[
        analysis.company.category_id or ""].typical_verticals)


def test_the_company_lists_the_markets_its_blueprint_is_written_for_not_what_a_stray_word_found() -> None:
    """A hotel booking engine whose page says "occupancy" and "CRM" once: the company is a hotel PMS vendor
    selling to hotels; senior living (occupancy) and generic CRM are candidates too far behind to be its markets."""
    from graph.engine.analysis import analyze_seller
    from graph.engine.icp import KEEP_CATEGORIES, KEEP_VERTICALS
    from tests.support.seller_pages import seller_site

    site = seller_site(
        "Direct bookings for independent hotels",
        "<p>A booking engine and guest CRM for hotels: win more direct bookings, lower OTA commissions and raise "
        "occupancy in the low season. Hotel managers see every reservation in one place.</p>")
    analysis = analyze_seller(site, load_knowledge())
    found = {s.id for s in analysis.market.categories} | {s.id for s in analysis.market.verticals}
    assert {"senior_living_software", "senior_living_communities"} & found  # a stray word found them
    assert analysis.company.categories == ["hotel_pms"]
    assert analysis.company.verticals == ["hotels_hospitality"]
    top_c, top_v = analysis.market.categories[0].score, analysis.market.verticals[0].score
    assert all(s.score < KEEP_CATEGORIES * top_c for s in analysis.market.categories[1:])
    assert all(s.score < KEEP_VERTICALS * top_v for s in analysis.market.verticals[1:])
