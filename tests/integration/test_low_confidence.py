"""Weak signals (issue 14, item 5): a page of real copy that matches no market well gets a blueprint on
what is certain, with a low_confidence warning listing the candidates and what to supply, never another
market's must-haves; a wordless page is still refused."""

from __future__ import annotations

import pytest

from graph import agenerate_blueprint
from graph.knowledge import load_knowledge
from tests.support.site_server import serve_site

pytestmark = pytest.mark.slow

VAGUE = ("<html><head><title>Connections | Acme Docs</title></head><body><main><h1>Authentication and "
         "connections</h1>" + "".join(
             f"<p>{line}</p>" for line in [
                 "Connect an account once and every product in your workspace can use it. Connections are "
                 "stored securely and refreshed automatically, so the people you invite never have to sign "
                 "in again to see their results.",
                 "Open the connections page, choose the service you want to link and follow the prompts. "
                 "When the link is active a green badge appears next to its name, and you can pause or "
                 "remove it at any time without losing the history that was already collected.",
                 "If a connection expires we send a notice to the workspace owner with the steps to renew "
                 "it. Owners can see which products use each connection and who created it, and can hand a "
                 "connection to another owner when someone leaves the team.",
                 "Connections follow the permissions of the workspace: a member sees the data of the "
                 "connections shared with them, and an owner decides which ones are shared. Everything "
                 "stays in one place, and you can export the list whenever you need it for a review.",
             ]) + "</main></body></html>")


@pytest.mark.usefixtures("offline_env")
async def test_a_vague_page_gets_a_certain_core_blueprint_with_candidates() -> None:
    with serve_site({"/": VAGUE}) as server:
        bp = (await agenerate_blueprint(server.url_for("/"))).model_dump()
    warning = next(w for w in bp["warnings"] if w["code"] == "low_confidence")
    assert set(warning["details"]) == {"candidates", "supply"}
    assert "icp.industries" in warning["details"]["supply"]
    candidates = warning["details"]["candidates"]
    assert candidates["verticals"] and all({"id", "name", "score"} <= set(c) for c in candidates["verticals"])
    kb = load_knowledge()
    for section in ("firmographic", "technographic", "personalization"):
        for dp in bp[section]["data_points"]:
            spec = kb.data_points[dp["key"]]
            if dp["priority"] in {"must", "should"}:
                assert spec.applies_to.any, (section, dp["key"])  # generic core only: no guessed market


LEAGUE = ("<html><head><title>Run your league online</title></head><body><main><h1>Run your league online</h1>"
          "<h2>Registration, schedules and standings</h2><p>Players and teams sign up online each season. Build "
          "the schedule, assign referees to every game, collect game reports and publish stats and standings. "
          "Track suspensions, cards and fines automatically. Coaches and club representatives manage their "
          "rosters and player cards from one login.</p><h2>Access levels</h2><p>Give the treasurer, coordinators "
          "and volunteers the access their role needs.</p><h2>Tournaments</h2><p>Run weekend tournaments with "
          "brackets and pools, and let visiting teams register and pay online.</p></main></body></html>")


@pytest.mark.usefixtures("offline_env")
async def test_a_page_no_category_word_names_but_that_reads_clearly_as_one_gets_that_category() -> None:
    """A league-management page that never names its category in the catalog's words, and names its buyers only
    weakly ("tournaments"): it reads as youth sports software far more than as anything else, so that is what
    it sells, still under the low_confidence warning."""
    with serve_site({"/": LEAGUE}) as server:
        bp = (await agenerate_blueprint(server.url_for("/"))).model_dump()
    assert any(w["code"] == "low_confidence" for w in bp["warnings"])
    assert bp["company"]["category_id"] == "youth_sports_software"
    assert bp["company"]["seller_kind"] == "software"
    assert any("youth sports" in industry.lower() for industry in bp["icp"]["industries"])
