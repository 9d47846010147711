"""The goods, trade and transport economy (NAICS sectors 11-49, issue 15): every subsector has a buyer market,
and each market of the packs written for it carries its own depth - four firmographic, three technographic
and three personalization data points that are not the generic core, and a registry or dataset to find them in."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
import yaml

from graph.knowledge import KnowledgeBase, load_knowledge
from graph.knowledge.base import _data_dir

# NAICS 2022 subsectors of sectors 11, 21, 22, 23, 31-33, 42, 44-45 and 48-49
SUBSECTORS = (
    "111", "112", "113", "114", "115", "211", "212", "213", "221", "236", "237", "238", "311", "312", "313",
    "314", "315", "316", "321", "322", "323", "324", "325", "326", "327", "331", "332", "333", "334", "335",
    "336", "337", "339", "423", "424", "425", "441", "444", "445", "449", "455", "456", "457", "458", "459",
    "481", "482", "483", "484", "485", "486", "487", "488", "491", "492", "493",
)
PACKS = ("naics_11_23_primary.yaml", "naics_31_33_manufacturing.yaml", "naics_42_49_trade_transport.yaml",
         "naics_11_49_niches.yaml", "naics_23_trades.yaml")
DEPTH = {"firmographic": 4, "technographic": 3, "personalization": 3}


@cache
def kb() -> KnowledgeBase:
    return load_knowledge()


def pack_verticals() -> list[str]:
    ids: list[str] = []
    for name in PACKS:
        raw = yaml.safe_load((Path(_data_dir()) / "packs" / name).read_text(encoding="utf-8"))
        ids += [v["id"] for v in raw.get("verticals", [])]
    return ids


def test_every_goods_trade_and_transport_subsector_has_a_vertical() -> None:
    covered = {code[:3] for v in kb().verticals.values() for code in v.naics if len(code) >= 3}
    assert [s for s in SUBSECTORS if s not in covered] == []


def test_the_packs_add_many_markets() -> None:
    assert len(pack_verticals()) >= 40


@pytest.mark.parametrize("vertical_id", pack_verticals())
def test_each_market_has_its_own_depth_and_a_registry(vertical_id: str) -> None:
    base = kb()
    vertical = base.verticals[vertical_id]
    applying = {k for k, dp in base.data_points.items() if vertical_id in dp.applies_to.verticals}
    keys = set(vertical.data_points) | applying
    own = [base.data_points[k] for k in keys if not base.data_points[k].applies_to.any]
    for section, minimum in DEPTH.items():
        assert sum(1 for dp in own if dp.section == section) >= minimum, (vertical_id, section)
    registries = {ref.source for dp in own for ref in dp.sources
                  if base.sources[ref.source].kind in {"registry", "dataset"}}
    assert registries, vertical_id
    assert vertical.naics and all(code[:2] in {"11", "21", "22", "23", "31", "32", "33", "42", "44", "45", "48",
                                                "49", "53", "54", "56", "61", "72"} for code in vertical.naics)
    assert vertical.incumbent_tools and len(vertical.buyer_titles) >= 4, vertical_id
