"""What a seller is called when its site has no <title>: the domain's registrable name, never an IP
octet; on loopback or another IP, og:site_name, else the page's first heading."""

from __future__ import annotations

import re

import pytest

from graph.engine.analysis import analyze_seller
from graph.knowledge import load_knowledge
from tools.extract import extract_page, registrable_name
from tools.site import SiteSnapshot

BODY = """<body><main><h1>Petrivia Diagnostics</h1><h2>Reference lab for veterinary practices</h2>
<p>Next-day bloodwork and pathology for independent animal hospitals and veterinary groups.</p></main></body>"""


@pytest.mark.parametrize(("host", "name"), [
    ("www.acme-robotics.co.uk", "Acme Robotics"), ("app.example.com", "Example"), ("tablely.io", "Tablely"),
    ("127.0.0.1", ""), ("10.1.2.3", ""), ("::1", ""), ("[::1]", ""), ("localhost", ""),
])
def test_registrable_name(host: str, name: str) -> None:
    assert registrable_name(host) == name


def name_of(html: str, url: str) -> str:
    host = re.sub(r"^https?://|[:/].*$", "", url)
    site = SiteSnapshot(url=url, final_url=url, domain=host, pages=[extract_page(html, url, "home")])
    return analyze_seller(site, load_knowledge()).company.name


@pytest.mark.parametrize(("head", "url", "name"), [
    ("", "http://127.0.0.1:8123/", "Petrivia Diagnostics"),  # loopback, no title: the H1
    ("", "http://10.0.0.7/", "Petrivia Diagnostics"),
    ('<meta property="og:site_name" content="Petrivia">', "http://127.0.0.1:8123/", "Petrivia"),
    ("", "https://www.petrivia-labs.com/", "Petrivia Labs"),  # a real domain: its registrable name
    ("<title>Petrivia | Vet lab</title>", "http://127.0.0.1:8123/", "Petrivia"),
    # a deep page's title leads with its headline, the brand last
    ("<title>How Vet Labs Handle Next-Day Bloodwork | Petrivia</title>", "http://127.0.0.1:8123/", "Petrivia"),
])
def test_a_site_without_a_title_is_named_sensibly(head: str, url: str, name: str) -> None:
    assert name_of(f"<html><head>{head}</head>{BODY}</html>", url) == name


def test_a_loopback_site_without_title_or_heading_is_named_by_its_host_not_an_octet() -> None:
    html = "<html><body><p>Next-day bloodwork for veterinary practices and animal hospitals.</p></body></html>"
    assert name_of(html, "http://127.0.0.1:8123/") == "127.0.0.1"


def test_a_long_first_heading_is_cut_at_a_word() -> None:
    html = ("<html><body><h1>Diagnostics your veterinary team can trust by morning, every morning, "
            "in every clinic</h1></body></html>")
    name = name_of(html, "http://127.0.0.1:8123/")
    assert len(name) <= 60 and name.startswith("Diagnostics your veterinary") and not name.endswith(" ")
