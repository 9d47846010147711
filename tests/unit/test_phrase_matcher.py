"""The phrase matcher indexed by first word finds exactly what the compiled trie regex it replaced found.

The reference below is the former implementation (one trie-shaped alternation per phrase set, compiled at
start-up). Every matcher the engine builds for the real knowledge base is compared with it on every
fixture page's zones and, when they were rebuilt (``evals/realworld/rebuild.py``), every real-world page's.
"""

from __future__ import annotations

import gc
import re
from collections import Counter
from pathlib import Path
from typing import get_args

import pytest

from graph.engine.analysis import analyze_seller, site_zones
from graph.engine.cues import score_cues
from graph.engine.select import rank_candidates
from graph.engine.text import PhraseMatcher, normalize
from graph.knowledge import KnowledgeBase
from graph.schemas import SectionName
from tools.extract import extract_page
from tools.site import SiteSnapshot

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_PAGES = sorted((ROOT / "tests" / "fixtures" / "sites").rglob("*.html"))
REALWORLD_PAGES = sorted((ROOT / "evals" / "realworld" / ".pages").glob("*.html"))  # git-ignored: may be absent


class _TrieRegexMatcher:
    """The former PhraseMatcher: one compiled trie-shaped alternation, word-bounded, scanned with findall."""

    def __init__(self, phrases: tuple[str, ...]) -> None:
        unique = {normalize(p) for p in phrases if p.strip()}
        body = _trie_pattern(unique) if unique else r"(?!x)x"
        self._regex = re.compile(rf"(?<!\w)(?:{body})(?!\w)(?!'t\b)")

    def count(self, text: str) -> Counter[str]:
        return Counter(self._regex.findall(normalize(text)))


def _trie_pattern(phrases: set[str]) -> str:
    trie: dict[str, dict] = {}
    for phrase in phrases:
        node = trie
        for char in phrase:
            node = node.setdefault(char, {})
        node[""] = {}

    def render(node: dict[str, dict]) -> str:
        ends = "" in node
        branches = [re.escape(char) + render(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        inner = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{inner})?" if ends else inner

    return render(trie)


TRICKY_PHRASES = (
    "pos", "point of sale", "café", "cafe", "isn", "won", "x-ray", "x", "ray", "c++", "c", "c#", ".net", "net",
    "dental", "dental lab", "dental lab software", "lab software", "software", "3d", "3d printing", "24/7",
    "401(k)", "u.s.", "us", "mid-market", "market", "a/r", "#hashtag", "'s", "pet", "pets", "vet", "vet clinic",
    "clinic management", "münchen", "straße", "e-commerce", "commerce", "k-12", "12", "_x", "plan",
)
TRICKY_TEXTS = (
    "Posé sur le comptoir; point-of-sale. Modern POS, posted daily",
    "It isn't here, it won't be; we won. Isn't it? isn't",
    "X-ray labs: x-ray, x ray, xray. Ray-Ban. x-rays",
    "We write C++ and C# code; C++11 and c+ and .NET, asp.net, .net's runtime, net-net",
    "Dental lab software for dental labs: dental lab softwares, dental lab, lab software software",
    "3D printing in 3d; 3d-printing; 3dprinting; 24/7 support, 24/7/365, 401(k) plans, 401(k)s",
    "Based in the U.S. (us), US-based, u.s.a., mid-market and market-leading, A/R, a/r's",
    "#hashtag #hashtags ##hashtag it's Joe's 's",
    "Vet clinic management for vet clinics; pets, pet's, PET scan, vet-clinic management",
    "Café in München an der Straße; cafe, CAFÉ, cafés, e-commerce, ecommerce, K-12 schools, grades 12",
    "x_x _x __x plan plans planning plan's plan't",
    "",
    "   ",
    "pos",
)


@pytest.mark.parametrize("text", TRICKY_TEXTS)
def test_tricky_texts_match_as_the_trie_regex_did(text: str) -> None:
    assert PhraseMatcher(TRICKY_PHRASES).count(text) == _TrieRegexMatcher(TRICKY_PHRASES).count(text)
    for size in (1, 3, 16, 17):  # the substring prefilter of small sets, and past it
        subset = TRICKY_PHRASES[:size]
        assert PhraseMatcher(subset).count(text) == _TrieRegexMatcher(subset).count(text)


def test_what_tricky_texts_find() -> None:
    matcher = PhraseMatcher(TRICKY_PHRASES)
    # an accented letter is a word letter; a contraction's first part is no word
    assert matcher.count("Posé, POS; it isn't, they won't, we won") == Counter({"pos": 1, "won": 1})
    # the longest phrase at a position, then no overlap: "dental lab software" hides "lab software"
    assert matcher.count("dental lab software and lab software") == Counter(
        {"dental lab software": 1, "lab software": 1})
    assert matcher.count("x-ray x ray") == Counter({"x-ray": 1, "x": 1, "ray": 1})
    # a phrase ending or starting with punctuation (".net" in "asp.net" follows a word letter: "net" is found)
    assert matcher.count("C++ C+ c#, .NET asp.net") == Counter({"c++": 1, "c": 1, "c#": 1, ".net": 1, "net": 1})
    assert matcher.count("3D printing 3d-printing 24/7 401(k)") == Counter(
        {"3d printing": 1, "3d": 1, "24/7": 1, "401(k)": 1})
    assert PhraseMatcher(("",)).count("anything") == Counter()


def _site(path: Path) -> SiteSnapshot:
    url = f"https://{path.stem.replace('_', '-')}.invalid/"
    page = extract_page(path.read_bytes().decode("utf-8", errors="replace"), url, "home")
    return SiteSnapshot(url=url, final_url=url, domain=f"{path.stem.replace('_', '-')}.invalid", pages=[page])


def _engine_matchers(kb: KnowledgeBase, sites: list[SiteSnapshot]) -> list[PhraseMatcher]:
    """Every phrase matcher the engine builds: run it over the sites, then take every live matcher."""
    for site in sites:
        market = analyze_seller(site, kb).market
        zones = site_zones(site)
        for section in get_args(SectionName):
            rank_candidates(section, kb, market, zones)
        score_cues(kb.verticals.values(), zones)  # the ICP's reading: verticals without singulars
    unique: dict[tuple[str, ...], PhraseMatcher] = {}
    for obj in gc.get_objects():
        if isinstance(obj, PhraseMatcher):
            unique.setdefault(obj.phrases, obj)
    return list(unique.values())


def test_every_engine_matcher_matches_as_the_trie_regex_did_on_real_pages(kb: KnowledgeBase) -> None:
    sites = [_site(path) for path in [*FIXTURE_PAGES, *REALWORLD_PAGES]]
    matchers = _engine_matchers(kb, sites)
    sizes = sorted(len(m.phrases) for m in matchers)
    # the cue indexes (verticals with and without singulars, categories), section signals, the small sets
    assert len(matchers) >= 18 and sum(size > 3000 for size in sizes) >= 3, sizes
    texts = {zone.text for site in sites for zone in site_zones(site)}
    texts |= {page.text for site in sites for page in site.pages}
    found = 0
    for matcher in matchers:
        reference = _TrieRegexMatcher(matcher.phrases)
        for text in texts:
            counts = matcher.count(text)
            assert counts == reference.count(text), (len(matcher.phrases), text[:80])
            found += counts.total()
    assert found > 1000  # the comparison saw matches, not only empty counters
