"""A seller's home page as the site reader would have read it, from a title and body HTML (no HTTP)."""

from __future__ import annotations

from tools.extract import extract_page
from tools.site import SiteSnapshot

SELLER_URL = "https://seller.example/"


def seller_site(title: str, body_html: str, *, nav: str = "", footer: str = "") -> SiteSnapshot:
    """One home page: ``nav``, an ``<h1>`` of the title, ``body_html``, ``footer`` (page chrome a real site has)."""
    html = (f"<html><head><title>{title}</title></head><body>{nav}<h1>{title}</h1>{body_html}{footer}"
            "</body></html>")
    page = extract_page(html, SELLER_URL, kind="home")
    return SiteSnapshot(url=SELLER_URL, final_url=SELLER_URL, domain="seller.example", pages=[page])


def product_page(title: str, body: str) -> SiteSnapshot:
    """A vendor's product page: a paragraph of ``body`` with the navigation and footer every such page carries."""
    return seller_site(title, f"<p>{body}</p>",
                       nav="<nav><a href='/'>Home</a> <a href='/features'>Features</a> <a href='/pricing'>Pricing"
                           "</a></nav>",
                       footer="<footer>Privacy policy. Terms of service. Book a demo. (c) 2026</footer>")
