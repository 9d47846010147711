"""NAICS 2022 reference data and the verticals' mapping onto it (issue 15, item 1)."""

from __future__ import annotations

import pytest

from graph.knowledge import load_knowledge
from graph.knowledge.base import _data_dir
from graph.knowledge.naics import NaicsReference, load_naics


@pytest.fixture(scope="module")
def naics() -> NaicsReference:
    return load_naics(_data_dir() / "naics.yaml")


def test_the_reference_holds_the_20_sectors_and_96_subsectors_of_naics_2022(naics: NaicsReference) -> None:
    assert naics.version == "2022"
    assert [s.code for s in naics.sectors] == [
        "11", "21", "22", "23", "31-33", "42", "44-45", "48-49", "51", "52", "53", "54", "55", "56", "61", "62",
        "71", "72", "81", "92"]
    assert len(naics.subsectors) == 96  # 2017 had 99; 2022 merged retail and publishing subsectors
    assert naics.subsectors["459"].startswith("Sporting Goods, Hobby")
    assert naics.subsectors["513"] == "Publishing Industries"
    assert len(naics.sectors[4].subsectors) == 21  # manufacturing


@pytest.mark.parametrize(("code", "ok"), [
    ("31", True), ("33", True), ("45", True), ("49", True), ("11", True), ("34", False), ("99", False),
    ("722", True), ("722511", True), ("3121", True), ("814110", True),
    ("453998", False), ("511210", False), ("999", False), ("7225x", False), ("1", False),
])
def test_a_code_is_checked_against_the_reference_by_prefix(naics: NaicsReference, code: str, ok: bool) -> None:
    assert (naics.problem(code) is None) is ok


def test_a_retired_2017_code_names_its_2022_heir(naics: NaicsReference) -> None:
    assert "459" in (naics.problem("453998") or "")
    assert "513" in (naics.problem("511210") or "")


def test_a_bare_sector_code_covers_no_subsector(naics: NaicsReference) -> None:
    assert naics.covered(["31", "44", "722511", "3121", "453998"]) == {"722", "312"}


def test_every_vertical_maps_to_at_least_one_current_subsector() -> None:
    kb = load_knowledge()
    assert kb.naics is not None
    unmapped = [v.id for v in kb.verticals.values() if not kb.naics.covered(v.naics)]
    assert unmapped == []
    stale = [(v.id, c) for v in kb.verticals.values() for c in v.naics if kb.naics.problem(c)]
    assert stale == []
