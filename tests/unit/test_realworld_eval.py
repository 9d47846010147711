"""The real-world eval set is well-formed, and its pages rebuild from a local copy (synthetic text only here)."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import pytest

from graph.evaluation import SECTIONS, generic_blueprint, load_cases, run_eval

ROOT = Path(__file__).resolve().parents[2]
REALWORLD = ROOT / "evals" / "realworld"
SETS = {"dev": REALWORLD / "dev" / "cases.json", "blind": REALWORLD / "blind" / "cases.json",
        "heldout": REALWORLD / "heldout" / "cases.json"}
SELLER_KINDS = {"software", "services", "manufacturer", "distributor", "lender", "agency", "marketplace",
                "fulfilment", "staffing"}
GROUP_LIMITS = {"firmographic": (3, 5), "technographic": (2, 4), "personalization": (2, 4), "sources": (1, 3),
                "must_not": (0, 2)}


def _rebuild_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("realworld_rebuild", REALWORLD / "rebuild.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses resolve their annotations through sys.modules
    spec.loader.exec_module(module)
    return module


def _raw(name: str) -> list[dict[str, Any]]:
    data = json.loads(SETS[name].read_text(encoding="utf-8"))
    assert isinstance(data, list)
    return data


def _in_blind_part(url: str) -> bool:
    """The split rule, fixed before any run: a third of the URLs by hash are blind."""
    return int(hashlib.sha256(url.encode()).hexdigest()[:8], 16) % 3 == 0


@pytest.mark.parametrize("name", sorted(SETS))
def test_case_files_are_well_formed(name: str) -> None:
    raw = _raw(name)
    assert len(raw) >= {"dev": 40, "blind": 20, "heldout": 36}[name]
    assert len(load_cases(SETS[name])) == len(raw)  # the runner reads every case
    for case in raw:
        cid = case["id"]
        assert case["site"] == f"../.pages/{cid}.html", cid
        assert case["url"].startswith(("http://", "https://")) and ".example" not in case["url"], cid
        assert case["icp"] is None or isinstance(case["icp"], dict), cid
        assert case["seller_kind"] in SELLER_KINDS, cid
        assert case["page_kind"] and case["sells"], cid
        assert 0 < len(case["title"]) <= 160, cid  # a title, never the page's text
        expect = case["expect"]
        assert set(expect) == {"icp_industries_any", "buyer_titles_any", *SECTIONS, "must_not"}, cid
        for check in ("icp_industries_any", "buyer_titles_any"):
            assert expect[check] and all(isinstance(p, str) and p.strip() for p in expect[check]), (cid, check)
        for section, (low, high) in GROUP_LIMITS.items():
            groups = expect[section]
            assert low <= len(groups) <= high, (cid, section, len(groups))
            for group in groups:
                assert group and all(isinstance(p, str) and p.strip() and p == p.lower() for p in group), (cid, group)
                # a short phrase without a word boundary matches inside unrelated words
                assert all(len(p.strip()) >= 3 or p != p.strip() for p in group), (cid, group)


def test_sets_are_disjoint_and_split_by_url_hash() -> None:
    dev, blind, heldout = _raw("dev"), _raw("blind"), _raw("heldout")
    ids = [c["id"] for c in dev + blind + heldout]
    urls = [c["url"] for c in dev + blind + heldout]
    assert len(set(ids)) == len(ids) and len(set(urls)) == len(urls)
    assert not any(_in_blind_part(c["url"]) for c in dev)
    assert all(_in_blind_part(c["url"]) for c in blind)


def _site(url: str) -> str:
    return (urlsplit(url).hostname or "").removeprefix("www.")


def test_heldout_set_holds_only_companies_the_other_sets_lack() -> None:
    """The held-out set measures unseen sellers: none of its sites is a dev or blind case's site."""
    seen = {_site(c["url"]) for c in _raw("dev") + _raw("blind")}
    heldout_sites = [_site(c["url"]) for c in _raw("heldout")]
    assert not seen.intersection(heldout_sites)
    assert len(set(heldout_sites)) == len(heldout_sites)


def _write_cases(path: Path, cases: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(cases), encoding="utf-8")


def _synthetic_case(cid: str) -> dict[str, Any]:
    return {"id": cid, "site": f"../.pages/{cid}.html", "url": f"https://{cid}.invalid/docs", "title": cid,
            "seller_kind": "software", "page_kind": "docs", "sells": "x", "icp": None,
            "expect": {"icp_industries_any": ["dental"], "buyer_titles_any": ["owner"],
                       "firmographic": [["locations"]], "technographic": [["dentrix"]],
                       "personalization": [["hiring"]], "sources": [["npi"]], "must_not": []}}


def test_rebuild_writes_plain_pages_from_a_local_copy(tmp_path: Path) -> None:
    rebuild = _rebuild_module()
    cache, out = tmp_path / "cache", tmp_path / "set" / ".pages"
    cache.mkdir()
    cases_file = tmp_path / "set" / "dev" / "cases.json"
    _write_cases(cases_file, [_synthetic_case(i) for i in ("txtcase", "jsoncase", "nocopy", "othercopy")])
    (cache / "txtcase.txt").write_text(
        "url: https://txtcase.invalid/docs\ntitle: Chairs & Co | Help\n\nSkip to main content\n"
        "Getting started with chairs\nWe sell <chairs> to dental offices, clinics and labs.\n"
        "  • Book a demo\n  • Read the docs\n1. Sign up\nFooter: privacy policy\n", encoding="utf-8")
    copy = {"url": "https://jsoncase.invalid/docs", "title": "Json page",
            "text": "# Pricing\nPlans start at $10 per user."}
    (cache / "jsoncase.json").write_text(json.dumps(copy), encoding="utf-8")
    (cache / "othercopy.txt").write_text("url: https://elsewhere.invalid/\ntitle: t\n\nSome text.\n", encoding="utf-8")

    report = rebuild.rebuild([cases_file], cache, out)

    assert report.written == ["txtcase", "jsoncase"]
    assert report.missing == ["nocopy"] and report.mismatched == ["othercopy"]
    assert sorted(p.name for p in out.iterdir()) == ["jsoncase.html", "txtcase.html"]
    page = (out / "txtcase.html").read_text(encoding="utf-8")
    assert "<title>Chairs &amp; Co | Help</title>" in page
    assert "<h1>Skip to main content</h1>" in page and "<h2>Getting started with chairs</h2>" in page
    assert "<p>We sell &lt;chairs&gt; to dental offices, clinics and labs.</p>" in page
    assert "<ul>\n<li>Book a demo</li>\n<li>Read the docs</li>\n<li>Sign up</li>\n</ul>" in page
    assert "Footer: privacy policy" in page  # navigation and footer noise is kept as stored
    json_page = (out / "jsoncase.html").read_text(encoding="utf-8")
    assert "<h1>Pricing</h1>" in json_page and "<p>Plans start at $10 per user.</p>" in json_page


def test_rebuild_cli_needs_a_cache_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    rebuild = _rebuild_module()
    monkeypatch.delenv(rebuild.CACHE_ENV, raising=False)
    assert rebuild.main(["--out", str(tmp_path / "pages")]) == 2
    assert "--cache" in capsys.readouterr().err
    cases_file = tmp_path / "cases.json"
    _write_cases(cases_file, [_synthetic_case("only")])
    (tmp_path / "cache").mkdir()
    assert rebuild.main([str(cases_file), "--cache", str(tmp_path / "cache"), "--out", str(tmp_path / "pages")]) == 0
    assert "skipped, no local copy: only" in capsys.readouterr().out


async def test_run_eval_skips_cases_without_a_page_only_when_asked(tmp_path: Path) -> None:
    cases_file = tmp_path / "set" / "dev" / "cases.json"
    _write_cases(cases_file, [_synthetic_case("present"), _synthetic_case("absent")])
    pages = tmp_path / "set" / ".pages"
    pages.mkdir()
    (pages / "present.html").write_text("<html><title>p</title><body>Dental chairs.</body></html>", encoding="utf-8")

    async def generate(url: str, icp: dict[str, Any] | None) -> dict[str, Any]:
        return generic_blueprint(icp)

    with pytest.raises(FileNotFoundError, match="absent"):
        await run_eval(cases_file, out_dir=None, generate=generate)
    report = await run_eval(cases_file, out_dir=None, generate=generate, skip_missing=True)
    assert [c.id for c in report.cases] == ["present"] and report.skipped == ["absent"]
    assert "skipped (no page file): absent" in report.to_text()
    assert report.to_dict()["skipped"] == ["absent"]
