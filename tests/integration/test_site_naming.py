"""End to end on loopback: a seller site without <title> is named from its page, never "127"."""

from __future__ import annotations

import pytest

from graph import agenerate_blueprint
from tests.support.http_helpers import free_port
from tests.support.site_server import serve_site

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("offline_env")]

PAGE = """<html><head><meta name="description" content="Petrivia runs a veterinary reference lab."></head>
<body><main><h1>Petrivia Diagnostics</h1>
<p>Petrivia runs a national veterinary reference lab and places in-clinic chemistry and hematology analyzers in
animal hospitals across the United States. Veterinarians and vet techs get next-day results for bloodwork,
urinalysis, cytology and histopathology, with a board-certified pathologist on call. Independent practices,
emergency and specialty hospitals and multi-site veterinary groups use Petrivia to give pet owners faster
answers. Petrivia integrates with ezyVet, Cornerstone, AVImark and Vetspire so results land in the record.</p>
</main></body></html>"""


async def test_a_loopback_site_without_title_is_named_by_its_first_heading() -> None:
    with serve_site({"/": PAGE}) as site:
        bp = await agenerate_blueprint(site.url, use_cache=False)
    assert bp.company.name == "Petrivia Diagnostics"


async def test_an_unreachable_loopback_site_with_an_icp_is_not_named_127() -> None:
    bp = await agenerate_blueprint(f"http://127.0.0.1:{free_port()}/", icp={"industries": ["veterinary clinics"]},
                                   use_cache=False)
    assert bp.company.name == "127.0.0.1"
