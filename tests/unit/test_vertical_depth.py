"""Every buyer vertical carries its own depth (issue 15): enough data points specific to it per section.

A data point counts for a vertical when the vertical lists it in ``data_points`` or the data point's
``applies_to.verticals`` names the vertical, and it is not a generic (``applies_to.any``) data point.
"""

from __future__ import annotations

import pytest

from graph.knowledge import load_knowledge

MINIMUM = {"firmographic": 4, "technographic": 3, "personalization": 3}


def specific_counts() -> dict[str, dict[str, int]]:
    kb = load_knowledge()
    counts: dict[str, dict[str, int]] = {}
    for vid, vertical in kb.verticals.items():
        keys = set(vertical.data_points) | {
            key for key, dp in kb.data_points.items() if vid in dp.applies_to.verticals
        }
        per_section = dict.fromkeys(MINIMUM, 0)
        for key in keys:
            dp = kb.data_points.get(key)
            if dp is None or dp.applies_to.any or dp.section not in per_section:
                continue
            per_section[dp.section] += 1
        counts[vid] = per_section
    return counts


def test_there_are_verticals_to_check() -> None:
    assert len(load_knowledge().verticals) > 100


@pytest.mark.parametrize("section", sorted(MINIMUM))
def test_every_vertical_has_enough_specific_data_points(section: str) -> None:
    short = {vid: c[section] for vid, c in specific_counts().items() if c[section] < MINIMUM[section]}
    assert not short, (
        f"{len(short)} verticals under {MINIMUM[section]} specific {section} data points: {sorted(short.items())}"
    )
