"""Extraction on realistic pages: every Page field, and link classification."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.extract import MAX_TEXT_CHARS, classify_link, extract_page, same_site
from tools.site import Page

SITES = Path(__file__).parents[1] / "fixtures" / "sites"
BASE = "https://www.tablely.example"


def load(name: str, url: str) -> Page:
    return extract_page((SITES / name).read_text(encoding="utf-8", errors="replace"), url)


@pytest.fixture(scope="module")
def home() -> Page:
    return load("tablely/index.html", BASE + "/")


def test_home_title_meta_and_site_name(home: Page) -> None:
    assert home.title == "Tablely | Restaurant POS and Online Ordering for Multi-Location Restaurants"
    assert home.meta_description.startswith("Tablely is the cloud restaurant POS")
    assert home.site_name == "Tablely"


def test_home_headings_in_document_order_without_footer(home: Page) -> None:
    assert home.headings[:3] == [
        "The restaurant POS that grows with every location",
        "Everything your restaurant needs",
        "Point of sale",
    ]
    assert "Trusted by 4,000+ restaurants" in home.headings
    assert "Company" not in home.headings  # footer heading


def test_home_text_is_visible_main_text_in_reading_order(home: Page) -> None:
    text = home.text
    assert text.startswith("The restaurant POS that grows with every location\nRun front of house")
    assert text.index("Point of sale") < text.index("Kitchen display system") < text.index("Simple pricing")
    assert "multi-location restaurant groups, franchises" in text  # inline <strong> joined, not split
    for noise in ("We use cookies", "Accept all", "Log in", "Blog", "All rights reserved", "dataLayer",
                  "Subscribe", "position:fixed", "classList"):  # fmt: skip
        assert noise not in text, noise
    assert "  " not in text and "\n\n" not in text


def test_home_links_are_absolute_same_site_and_clean(home: Page) -> None:
    by_url = {link.url: link.text for link in home.links}
    assert by_url[BASE + "/pricing"] == "Pricing"
    assert by_url[BASE + "/about"] == "About us"  # first anchor text kept, duplicates merged
    assert by_url[BASE + "/integrations/quickbooks"] == "QuickBooks Online logo"  # image-only link → alt
    assert "https://app.tablely.example/login" in by_url  # same site, other subdomain
    assert not any(u.startswith(("mailto:", "tel:", "javascript:")) or "#" in u for u in by_url)
    assert not any("twitter.com" in u for u in by_url)
    assert len(by_url) == len(home.links)


def test_home_integrations_from_grid_and_sentence(home: Page) -> None:
    assert home.integrations == [
        "QuickBooks Online", "7shifts", "OpenTable", "MarginEdge", "DoorDash", "Uber Eats", "Grubhub",
    ]  # fmt: skip


def test_home_customers_from_logo_wall_and_case_study(home: Page) -> None:
    assert home.customers == ["Burger Haus", "Sunny Side Cafe", "Taqueria Lupe", "GreenBowl"]
    assert "QuickBooks Online" not in home.customers  # partner logos are not customers


def test_home_testimonials_keep_their_own_attribution(home: Page) -> None:
    assert home.testimonials == [
        "“We rolled Tablely out to all 14 of our locations in six weeks. Ticket times dropped by 20% and "
        "I finally see every store from my phone.” — Maria Lopez, COO, Taqueria Lupe",
        "“Switching from our legacy POS was painless; the Tablely team migrated our menus overnight.”"
        " — Dev Patel, Owner, GreenBowl",
    ]


def test_home_pricing_hint(home: Page) -> None:
    assert home.pricing_hints == ["Plans start at $69 per month per location. Hardware bundles available."]


def test_pricing_page_pairs_plans_with_prices() -> None:
    page = load("tablely/pricing.html", BASE + "/pricing")
    assert page.site_name == "Tablely"  # brand part of "Pricing - Tablely"
    hints = page.pricing_hints
    assert "Starter: $69/month per location" in hints  # price split over three <span>s
    assert "Pro: $149/month per location" in hints
    assert "Enterprise: Custom pricing" in hints
    assert "Terminals from €499 or £449 one-time, or $25 per device per month." in hints
    assert not any(h.startswith("Plan: ") for h in hints)  # every plan had a price line
    assert page.integrations == [] and page.customers == []


def test_integrations_page_cards_lists_and_sentence() -> None:
    page = load("tablely/integrations.html", "https://tablely.example/integrations")
    assert page.integrations == [
        "DoorDash", "Uber Eats", "Olo", "7shifts", "Gusto", "ADP Workforce Now", "OpenTable", "Resy",
        "Yelp Guest Manager", "Punchh", "QuickBooks Online", "Xero", "Sage Intacct",
    ]  # fmt: skip
    for generic in ("Browse all integrations", "Become a partner", "Tablely", "Integrations"):
        assert generic not in page.integrations


def test_customer_page_case_studies_and_blockquote_with_cite() -> None:
    page = load("tablely/customers.html", "https://tablely.example/customers")
    assert page.customers == ["Burger Haus", "Sunny Side Cafe"]
    assert page.testimonials == [
        "“Tablely paid for itself in the first quarter at our busiest store.” — Ana Ruiz, GM, Sunny Side Cafe"
    ]


def test_messy_page_with_scripts_and_broken_bytes() -> None:
    raw = (SITES / "messy.html").read_bytes()
    page = extract_page(raw.decode("utf-8", errors="replace"), "https://cafe.example/")
    assert page.title.startswith("Caf\ufffd Systems")
    assert "not text" not in page.text and "fake" not in page.text and "Organization" not in page.text
    assert "This site uses cookies" not in page.text and "color: red" not in page.text
    assert "We serve bakeries, coffee shops and cafés across Europe." in page.text
    assert "\ufffdthe best\ufffd" in page.text
    assert page.text.endswith("Last paragraph without closing tags")
    assert page.integrations == ["Square", "Lightspeed"]
    assert page.pricing_hints == ["Basic: €29 / month"]
    assert [link.url for link in page.links] == ["https://cafe.example/privacy", "https://cafe.example/about"]


def test_prompt_injection_is_just_text() -> None:
    page = load("injection.html", "https://acme.example/")
    assert "IGNORE ALL PREVIOUS INSTRUCTIONS" in page.text  # kept as data for the analysis to quote
    assert "169.254.169.254" not in page.text  # hidden (display:none) text is not visible text
    assert page.links == [] and page.integrations == [] and page.customers == [] and page.pricing_hints == []


def test_text_is_capped_and_empty_input_is_fine() -> None:
    big = "<html><body>" + "".join(f"<p>paragraph {i}" for i in range(20000)) + "</body></html>"
    assert len(extract_page(big, "https://x.example/").text) == MAX_TEXT_CHARS
    empty = extract_page("", "https://x.example/")
    assert empty.text == "" and empty.title == "" and empty.links == []


def test_base_href_and_relative_links() -> None:
    page = extract_page(
        '<html><head><base href="/en/"></head><body><a href="pricing#plans">Plans</a>'
        '<a href="//cdn.tablely.example/brochure.pdf">PDF</a><a href="https://evil.example/">x</a></body></html>',
        "https://tablely.example/home",
    )
    assert [(link.url, link.text) for link in page.links] == [("https://tablely.example/en/pricing", "Plans")]


@pytest.mark.parametrize(
    ("url", "text", "kind"),
    [
        ("https://a.example/pricing", "", "pricing"),
        ("https://a.example/plans-and-pricing/", "", "pricing"),
        ("https://a.example/en/pricing", "", "pricing"),
        ("https://a.example/integrations", "", "integrations"),
        ("https://a.example/app-marketplace", "", "integrations"),
        ("https://a.example/customers/burger-haus", "", "customers"),
        ("https://a.example/case-studies", "", "customers"),
        ("https://a.example/partners", "", "partners"),
        ("https://a.example/solutions/quick-service", "", "solutions"),
        ("https://a.example/who-we-serve", "", "solutions"),
        ("https://a.example/industries/retail", "", "solutions"),
        ("https://a.example/platform", "", "product"),
        ("https://a.example/features", "", "product"),
        ("https://a.example/about-us", "", "about"),
        ("https://a.example/company", "", "about"),
        ("https://a.example/p/123", "Pricing", "pricing"),
        ("https://a.example/x", "Customer stories", "customers"),
        ("https://a.example/blog/pricing-tips", "Pricing tips", None),
        ("https://a.example/careers", "Careers", None),
        ("https://a.example/login", "Log in", None),
        ("https://a.example/pricing.pdf", "Pricing", None),
        ("https://a.example/demo", "Book a demo", None),
    ],
)
def test_classify_link(url: str, text: str, kind: str | None) -> None:
    assert classify_link(url, text) == kind


def test_same_site() -> None:
    assert same_site("https://www.acme.com/a", "https://app.acme.com/b")
    assert same_site("https://shop.acme.co.uk/", "https://acme.co.uk/")
    assert not same_site("https://acme.com/", "https://acme.co.uk/")
    assert not same_site("https://acme.com/", "https://notacme.com/")


def test_same_site_compares_scheme_and_port_too() -> None:
    assert same_site("http://127.0.0.1:8000/", "http://127.0.0.1:8000/about")
    assert same_site("https://acme.com/", "https://www.acme.com:443/about")  # the default port, spelled out
    assert not same_site("http://127.0.0.1:8000/", "http://127.0.0.1:6379/")  # the allowed host's other port
    assert not same_site("https://acme.com/", "http://acme.com/about")
    assert not same_site("https://acme.com/", "https://acme.com:8443/")
    assert not same_site("https://acme.com/", "https://acme.com:99999/")  # unparseable port: never a link


def test_links_to_another_port_of_the_same_host_are_not_followed() -> None:
    page = extract_page('<a href="/about">About</a><a href="http://127.0.0.1:22/x">SSH</a>'
                        '<a href="https://127.0.0.1:8000/p">TLS</a>', "http://127.0.0.1:8000/")  # fmt: skip
    assert [link.url for link in page.links] == ["http://127.0.0.1:8000/about"]


def test_breadcrumbs_and_skip_links_are_not_page_text() -> None:
    html = ("<html><body><a class='skip-link' href='#main'>Skip to main content</a>"
            "<nav aria-label='Breadcrumb' class='breadcrumbs'><a href='/'>Home</a> / <a href='/payments'>Payments</a>"
            "</nav><ol class='breadcrumb'><li>Help</li><li>Billing</li></ol>"
            "<main><h1>Scheduling for dental practices</h1><p>Book patients online.</p></main></body></html>")
    page = extract_page(html, "https://seller.example/", "home")
    assert "Skip to main content" not in page.text and "Billing" not in page.text
    assert "Book patients online." in page.text
