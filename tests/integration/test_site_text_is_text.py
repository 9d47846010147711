"""Text from sites is text: markup a site had entity-escaped comes out of the blueprint as text — escaped
in the Markdown (CLI and Jupyter), neutralised in ``company.name``/``summary`` and data point ``why``.

Before the fix the heading read ``# Enrichment blueprint — <img src=x onerror=alert(1)>``: live markup in
a notebook.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from graph import agenerate_blueprint
from graph.schemas import Blueprint, Company, DataPoint, neutralise_markup
from tests.support.site_server import SiteServer, serve_site

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("offline_env")]

PAYLOAD = "&lt;img src=x onerror=alert(1)&gt;"
HOSTILE = f"""<html><head><title>{PAYLOAD} Servewell | Restaurant POS</title>
<meta property="og:site_name" content="{PAYLOAD}Servewell">
<meta name="description" content="{PAYLOAD} The restaurant POS &lt;script&gt;alert(2)&lt;/script&gt; for multi-unit
restaurant groups: online ordering, kitchen display, payments. [click](javascript:alert(3))">
</head><body><main><h1>The POS for restaurant groups {PAYLOAD}</h1>
<p>Servewell runs front of house and kitchen for multi-unit restaurants, franchisees and QSR chains:
point of sale, kitchen display system, online ordering, loyalty and payroll.</p>
<p>Integrates with DoorDash, Uber Eats, QuickBooks and 7shifts.</p></main></body></html>"""


@pytest.fixture
def site() -> Iterator[SiteServer]:
    with serve_site({"/": HOSTILE}) as server:
        yield server


async def test_entity_escaped_markup_is_text_in_the_blueprint_and_its_markdown(site: SiteServer) -> None:
    bp = await agenerate_blueprint(site.url_for("/"))
    assert "Servewell" in bp.company.name
    for text in (bp.company.name, bp.company.summary, *(dp.why for dp in bp.data_points()),
                 *(dp.name for dp in bp.data_points())):  # fmt: skip
        assert "<" not in text and ">" not in text, text
    markdown = bp.to_markdown()
    assert "<img" not in markdown and "<script" not in markdown
    assert "[click](" not in markdown and "\\[click\\](javascript" in markdown  # no link can be forged
    assert bp._repr_markdown_() == markdown


def test_markdown_escapes_every_text_it_shows() -> None:
    hostile = "<img src=x onerror=alert(1)> [x](javascript:alert(1)) *bold* | cell `code`"
    bp = Blueprint.model_validate({
        "blueprint_id": "bp_1", "website": "https://acme.example", "icp": {},
        "company": Company(offering=hostile, markets_served=[hostile], integrations=[hostile]).model_dump(),
        "firmographic": {"data_points": [DataPoint(key="k", name="n", description=hostile, why="w",
                                                   example=hostile).model_dump()]},
        "technographic": {}, "personalization": {},
        "sources": [{"id": "s", "name": hostile, "kind": "api", "fields": {"k": "a|b`c"}, "notes": hostile}],
        "warnings": [{"code": "x", "message": hostile}],
    })  # fmt: skip
    markdown = bp.to_markdown()
    assert "<img" not in markdown and "&lt;img src=x onerror=alert(1)&gt;" in markdown
    assert "[x](javascript" not in markdown and "\\[x\\](javascript" in markdown
    assert "*bold*" not in markdown and "\\| cell" in markdown
    assert "`a\\|b'c`" in markdown  # a field path stays one code span in one cell


@pytest.mark.parametrize(("raw", "text"), [
    ("<img src=x onerror=alert(1)>Acme", "Acme"),
    ("Acme <b>POS</b>", "Acme POS"),
    ("we <3 diners; 5 > 3", "we ‹3 diners; 5 › 3"),
    ("<img src=x onerror=alert(1)", "‹img src=x onerror=alert(1)"),
    ("plain & simple", "plain & simple"),
])  # fmt: skip
def test_neutralise_markup(raw: str, text: str) -> None:
    assert neutralise_markup(raw) == text
