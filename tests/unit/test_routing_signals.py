"""Routing signals beyond cue words: a seller that is a known product, the seller's own billing sentences,
and categories built for one market at a time."""

from __future__ import annotations

import pytest

from graph.engine.analysis import analyze_seller
from graph.engine.icp import targeting_for
from graph.engine.routing import cued, own_industry
from graph.engine.select import rank_candidates
from graph.engine.seller_names import own_product
from graph.engine.text import Zone, without_contrasts, without_own_billing
from graph.knowledge import KnowledgeBase
from graph.state import MarketSignals, Scored
from tests.support.seller_pages import seller_site
from tools.site import Page, SiteSnapshot

HELP_TEXT = ("If you would like to test out any Pro features, you can start a free trial of either plan. "
             "After 14 days the account owner will be billed. Account Managers can cancel at any point. "
             "Navigate to the Account tab and choose Upgrade to change the number of licenses. ") * 3


def _site(title: str, text: str = HELP_TEXT, domain: str = "127.0.0.1", site_name: str = "") -> SiteSnapshot:
    page = Page(url=f"http://{domain}/help", kind="home", title=title, site_name=site_name, text=text)
    return SiteSnapshot(url=page.url, final_url=page.url, domain=domain, pages=[page])


def test_a_help_page_of_a_known_product_routes_to_its_category(kb: KnowledgeBase) -> None:
    site = _site("The Pro and Business Trial – Fieldwire Help Center")
    product = own_product(site, kb)
    assert product is not None and product[0] == "Fieldwire"
    analysis = analyze_seller(site, kb)
    assert analysis.market.categories[0].id == "construction_project_management"
    assert "general_contractors" in {v.id for v in analysis.market.verticals}
    assert any(e.claim == "is a known product: Fieldwire" for e in analysis.company.evidence)


@pytest.mark.parametrize("site", [
    _site("QuickBooks alternatives for contractors – Acme Blog"),  # a product named, not the seller
    _site("Fieldwire vs. the rest: a review"),                    # the first segment is no brand
    _site("Pricing"),
])
def test_a_title_that_only_mentions_a_product_is_not_the_seller(kb: KnowledgeBase, site: SiteSnapshot) -> None:
    assert own_product(site, kb) is None


def test_the_seller_name_counts_from_its_domain_or_site_name(kb: KnowledgeBase) -> None:
    assert own_product(_site("Help", domain="help.fieldwire.com"), kb) is not None
    assert own_product(_site("Help", site_name="Fieldwire"), kb) is not None


def test_the_sellers_own_billing_sentences_are_no_signal(kb: KnowledgeBase) -> None:
    text = "Payments are managed and secured by Stripe. You will be charged every month."
    assert without_own_billing(text) == ""
    assert without_own_billing("Accept card payments with Stripe and Square.") == (
        "Accept card payments with Stripe and Square.")
    targeting = MarketSignals(verticals=[Scored(id="home_services", score=0.5)],
                              categories=[Scored(id="field_service_management", score=0.5)])
    billing = rank_candidates("technographic", kb, targeting, [Zone("body", text, 1.0)])
    selling = rank_candidates("technographic", kb, targeting,
                              [Zone("body", "Take card payments on site: Stripe and Square built in.", 1.0)])
    by_key = {c.spec.key: c for c in billing}
    assert by_key["payment_processor"].evidence is None
    assert {c.spec.key: c for c in selling}["payment_processor"].evidence is not None


def test_a_category_built_per_market_assumes_no_other_market(kb: KnowledgeBase) -> None:
    assert kb.categories["ehr_practice_management"].one_market
    market = MarketSignals(categories=[Scored(id="ehr_practice_management", score=0.5)],
                           verticals=[Scored(id="dental_practices", score=0.18)])
    assert [v.id for v in targeting_for(market, kb, None).verticals] == ["dental_practices"]
    # a category whose typical markets buy side by side keeps assuming them, the named one first
    market = MarketSignals(categories=[Scored(id="contract_security_services", score=0.7)],
                           verticals=[Scored(id="general_contractors", score=0.2)])
    ids = [v.id for v in targeting_for(market, kb, None).verticals]
    assert ids[0] == "general_contractors" and len(ids) > 1


def test_a_cue_never_matches_the_first_part_of_a_contraction() -> None:
    from graph.engine.text import matcher_for

    counts = matcher_for(("isn", "won", "dentrix")).count("It isn't here. Dentrix's tools. We won the bid; they won't.")
    assert counts == {"dentrix": 1, "won": 1}


def test_page_texts_are_not_kept_by_the_normalize_memo_for_good() -> None:
    from graph.engine import text

    for i in range(200):  # two hundred different pages' zones
        text.normalize(f"page {i} " + "word " * 200)
    assert text._normalize_long.cache_info().currsize <= 64
    assert text.normalize("Dental  Practices") == "dental practices"


def test_a_tenant_of_a_hosting_platform_is_not_the_platform(kb: KnowledgeBase) -> None:
    # a help centre or shop a platform hosts on its domain names the host, not the seller
    for host in ("acme.zendesk.com", "acme.freshdesk.com", "shop.acme.myshopify.com"):
        assert own_product(_site("Help", domain=host), kb) is None, host
    assert own_product(_site("Help", domain="help.fieldwire.com"), kb) is not None
    assert own_product(_site("Help", domain="www.fieldwire.com"), kb) is not None


def test_the_leading_categorys_buyers_are_never_the_sellers_own_industry(kb: KnowledgeBase) -> None:
    # B2B ordering software for wholesalers also reads a little as a wholesaler ("wholesale" pricing): the
    # runner-up category must not turn the lead's buyers into the seller's own industry
    lead, runner_up = kb.categories["distribution_erp_commerce"], kb.categories["wholesale_supply"]
    assert "wholesale_distributors" in lead.typical_verticals
    assert "wholesale_distributors" in runner_up.own_verticals
    own = own_industry([Scored(id=lead.id, score=0.75), Scored(id=runner_up.id, score=0.44)], kb)
    assert "wholesale_distributors" not in own
    # the other way round, the wholesaler's own industry stays its own
    assert "wholesale_distributors" in own_industry([Scored(id=runner_up.id, score=0.75)], kb)


@pytest.mark.parametrize(("text", "gone", "kept"), [
    ("Unlike a standard retail POS (like those used in supermarkets), laundry POS tracks every bag.",
     "supermarkets", "laundry POS tracks every bag"),
    ("Factory-floor software. It has nothing to do with fixing cars. Repair shops run a tighter stack.",
     "fixing cars", "Repair shops run a tighter stack"),
    ("A CRM for moving companies, not built for HVAC contractors.", "HVAC", "A CRM for moving companies"),
    ("It isn\u2019t for dealerships; it is for independent repair shops.", "dealerships", "independent repair shops"),
])
def test_a_clause_saying_what_the_seller_is_not_is_no_market_signal(text: str, gone: str, kept: str) -> None:
    cleaned = without_contrasts(text)
    assert gone not in cleaned and kept in cleaned


def test_a_page_that_calls_what_it_sells_software_keeps_a_software_vendors_kind(kb: KnowledgeBase) -> None:
    # the buyers' trade words name a services category strongly; the page sells estimating software and a CRM
    paving = seller_site("Win More Bids This Season", (
        "<p>Estimating and CRM for asphalt paving contractors and sealcoating companies. Measure parking lots "
        "from satellite imagery, price sealcoating, crack sealing and line striping in minutes.</p>"))
    analysis = analyze_seller(paving, kb)
    assert analysis.company.seller_kind == "software"
    assert targeting_for(analysis.market, kb, None).verticals[0].id == "paving_sealcoating_contractors"
    # a services firm that mentions its client app once is still a services firm
    striping = seller_site("Parking Lot Striping and Sealcoating", (
        "<p>Our crews provide sealcoating services, parking lot striping and asphalt crack sealing for "
        "commercial property managers, retail centers and HOAs. Track your job in our app.</p>"))
    assert analyze_seller(striping, kb).company.seller_kind == "facility_services"


def test_a_category_only_the_embedding_suggests_never_rules_out_a_market_the_page_names(kb: KnowledgeBase) -> None:
    """An EV-charger installer's page named no seller category in words; the embedding's guess of a solar
    installer must not make the EV-charging market its own industry."""
    guessed = [Scored(id="electrical_power_equipment", score=0.035, evidence=["semantic: 1.00"]),
               Scored(id="commercial_solar_installers", score=0.034, evidence=["semantic: 0.96"])]
    assert own_industry(guessed, kb) == frozenset()
    named = [Scored(id="commercial_solar_installers", score=0.6, evidence=["commercial solar"])]
    assert "cleantech_solar_ev" in own_industry(named, kb)


def test_a_market_both_signals_agree_on_is_targeted_even_from_one_cue_word(kb: KnowledgeBase) -> None:
    """A camp-software page says "campers" once and reads closest to summer camps: on a weak page that
    agreement is what is certain, and the blueprint is written for it (still under a low_confidence
    warning); a market only the embedding suggests, or only a word, stays a candidate."""
    from graph.engine.analysis import AGREED, SellerAnalysis
    from graph.schemas import Company

    market = MarketSignals(verticals=[Scored(id="summer_camps", score=0.06, evidence=["campers"]),
                                      Scored(id="campgrounds_rv_parks", score=0.05, evidence=["semantic: 0.64"]),
                                      Scored(id="behavioral_health", score=0.03, evidence=["counselors"])])
    analysis = SellerAnalysis(company=Company(name="Camp", domain="camp.test"), market=market, zones=[],
                              closeness=({"summer_camps": 1.0, "campgrounds_rv_parks": 0.64}, {}))
    certain = analysis.certain(kb)
    assert [(v.id, v.score) for v in certain.verticals] == [("summer_camps", AGREED)]
    assert targeting_for(certain, kb, None).verticals[0].id == "summer_camps"


def test_a_seller_that_names_its_own_trade_is_not_its_own_buyer(kb: KnowledgeBase) -> None:
    """"Tower 8 Staffing" and "Legal Staffing Services" are staffing firms: staffing agencies are their trade,
    the employers they staff are their buyers; a staffing agency in a software vendor's title is its buyer."""
    from graph.engine.seller_names import own_trade

    def site(title: str, site_name: str = "") -> SiteSnapshot:
        page = Page(url="https://seller.example/", kind="home", title=title, site_name=site_name)
        return SiteSnapshot(url=page.url, final_url=page.url, domain="seller.example", pages=[page])

    assert own_trade(site("How Trades Staffing Agencies Find People | Tower 8 Staffing"), kb) == {"staffing_agencies"}
    assert own_trade(site("Legal Staffing Services | Law-Mates"), kb) == {"staffing_agencies"}
    assert own_trade(site("Why HVAC contractors overpay for leads", "Icebreaker Agency"), kb) == {"marketing_agencies"}
    assert own_trade(site("The ATS built for staffing agencies | Crelate"), kb) == frozenset()
    assert own_trade(site("Staffing Software | Staffing Engine"), kb) == frozenset()


def test_a_page_that_reads_clearly_as_one_category_gets_it_without_its_cue_words(kb: KnowledgeBase) -> None:
    """A league-management page that never says "youth sports" or "league management software": no cue word
    names a category, but it reads as youth sports software far more than as anything else. On the weakest
    pages that clear reading is what is certain: the category, sold to its usual buyers; a market one word
    and a vague closeness agree on ("players": game studios) is not one of those buyers and stays out."""
    from graph.engine.analysis import AGREED

    league = seller_site(
        "Run your league online",
        "<h2>Registration, schedules and standings</h2><p>Players and teams sign up online each season. Build "
        "the schedule, assign referees to every game, collect game reports and publish stats and standings. "
        "Track suspensions, cards and fines automatically. Coaches and club representatives manage their "
        "rosters and player cards from one login.</p><h2>Access levels</h2><p>Give the treasurer, coordinators "
        "and volunteers the access their role needs.</p>")
    analysis = analyze_seller(league, kb)
    assert not [c for c in analysis.market.categories if cued(c)]  # no cue word names a category
    certain = analysis.certain(kb)
    assert [(c.id, c.score) for c in certain.categories] == [("youth_sports_software", AGREED)]
    assert all(v.id in kb.categories["youth_sports_software"].typical_verticals for v in certain.verticals)
    assert targeting_for(certain, kb, None).verticals[0].id == "youth_sports_organizations"


def test_a_page_close_to_several_categories_gets_none_of_them_on_closeness_alone(kb: KnowledgeBase) -> None:
    from graph.engine.analysis import CLEAR_LEAD, SellerAnalysis
    from graph.schemas import Company

    near = {"asset_based_lending": 1.0, "hard_money_real_estate_lending": CLEAR_LEAD + 0.1, "banking_software": 0.5}
    analysis = SellerAnalysis(company=Company(name="Lots", domain="lots.test"), market=MarketSignals(), zones=[],
                              closeness=({}, near))
    assert analysis.certain(kb).categories == []
    clear = {**near, "hard_money_real_estate_lending": CLEAR_LEAD - 0.1}
    analysis = SellerAnalysis(company=Company(name="Lots", domain="lots.test"), market=MarketSignals(), zones=[],
                              closeness=({}, clear))
    assert [c.id for c in analysis.certain(kb).categories] == ["asset_based_lending"]


def test_a_page_that_speaks_of_its_own_trade_sells_that_trades_services(kb: KnowledgeBase) -> None:
    """A court-reporting firm's blog post ("Five tips for booking late") names court reporters throughout and no
    category of its own; it reads closest to court-reporting services, whose own industry those words name: it
    sells them, to law firms, and court reporting firms are not its buyers (nor is "tips" a restaurant POS). A
    scheduling app for court reporters says it sells software: they are its buyers."""
    from tests.support.routing import routed

    services = seller_site(
        "Five tips for booking a court reporter late",
        "<p>Our court reporters cover depositions, hearings and arbitrations across the state, often on a day's "
        "notice. Court reporting with same-day rough drafts and transcripts your attorneys can search.</p>"
        "<h2>Tips for booking late</h2><p>Send the case caption, the witness list and the expected length; our "
        "schedulers confirm a court reporter within the hour. More tips: label exhibits before the day.</p>")
    analysis, targeting = routed(services, kb, "court_reporting_deposition_services")
    assert "restaurant_pos" in {c.id for c in analysis.market.categories}  # "tips" is still read, and outranked
    assert targeting.verticals[0].id == "law_firms"
    assert "court_reporting_firms" not in {v.id for v in targeting.verticals}
    app = seller_site(
        "Software for court reporters",
        "<p>Scheduling, invoicing and transcript delivery software built for court reporters and court reporting "
        "firms. Book depositions, assign court reporters and bill attorneys from one app. Start a free trial.</p>")
    analysis, targeting = routed(app, kb)
    assert analysis.company.seller_kind == "software"
    assert targeting.verticals[0].id == "court_reporting_firms"


@pytest.mark.parametrize(("title", "first"), [
    ("Retail Sales | Nursery Software", "greenhouse_nursery_growers"),
    ("Glossary of Job Terms | SignTracker", "sign_graphics_shops"),
    ("Pricing | Dance Studio Manager", "martial_arts_dance_studios"),
    ("Terms of Sale | Electrical Wholesale", "electrical_contractors"),  # a supplier's: the trade that buys it
    ("Need a relief pharmacist? | HCC Pharmacy Staffing", "pharmacies"),  # a staffing firm's, after its initials
])
def test_a_brand_that_names_a_market_and_a_software_noun_names_the_sellers_buyers(
        kb: KnowledgeBase, title: str, first: str) -> None:
    """A help page or glossary of "SignTracker" never says "sign shops"; its brand does. The market whose names
    hold the brand's words most often comes first, and lifts to BRAND_MARKET as evidence of the buyers."""
    from graph.engine.seller_names import BRAND_MARKET, brand_markets, with_brand_markets

    page = Page(url="https://seller.example/", kind="home", title=title)
    named = brand_markets(SiteSnapshot(url=page.url, final_url=page.url, domain="seller.example", pages=[page]), kb)
    assert named is not None and named[1][0] == first
    lifted = with_brand_markets([Scored(id="retail_stores", score=0.2, evidence=["retail"])], named)
    assert lifted[0].id == first and lifted[0].score == BRAND_MARKET and lifted[0].evidence[0] == named[0].lower()


@pytest.mark.parametrize("title", ["Features | Project Tracker", "Home | Acme Software", "Docs | Job Manager",
                                   "Blog | Time Tracker", "Acme Software Solutions", "Home | Business Supply",
                                   "Waivers | CenterEdge Software", "Docs | Back Office Manager"])
def test_a_brand_of_common_words_or_none_names_no_market(kb: KnowledgeBase, title: str) -> None:
    from graph.engine.seller_names import brand_markets

    page = Page(url="https://seller.example/", kind="home", title=title)
    assert brand_markets(SiteSnapshot(url=page.url, final_url=page.url, domain="seller.example", pages=[page]),
                         kb) is None


@pytest.mark.parametrize(("text", "software"), [
    ("The CRM built for roofing contractors. Order aerial measurements.", True),
    ("ERP for pallet companies", True),
    ("Scheduling software and a mobile app for crews", True),
    ("Our court reporters cover depositions; book on our app.", False),
])
def test_a_page_says_it_sells_software_by_two_software_nouns_or_one_and_whom_it_is_for(
        text: str, software: bool) -> None:
    from graph.engine.routing import says_software

    assert says_software([Zone("body", text, 1.0, "https://seller.example/")]) is software
