"""The knowledge base's typed values (issue 16): every data point of every pack has a type from the closed
set, its example reads as that type, and every enum/multi_enum offers 2-40 unique options."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from graph.knowledge import load_knowledge
from graph.knowledge.models import MAX_OPTIONS, MIN_OPTIONS, DataPointSpec
from graph.schemas import VALUE_TYPES, ValueOption
from graph.values import option_value, parse_value

_KB = load_knowledge()
_SPECS = sorted(_KB.data_points.values(), key=lambda s: s.key)


@pytest.mark.parametrize("spec", _SPECS, ids=lambda s: s.key)
def test_every_example_reads_as_its_type(spec: DataPointSpec) -> None:
    assert spec.value_type in VALUE_TYPES
    parse_value(spec.value_type, spec.example, spec.options)


def test_choices_have_two_to_forty_unique_options() -> None:
    choices = [s for s in _SPECS if s.value_type in {"enum", "multi_enum"}]
    assert len(choices) > 100  # the conversion kept real picklists, not just free text
    for spec in choices:
        assert MIN_OPTIONS <= len(spec.options) <= MAX_OPTIONS, spec.key
        values = [o.value for o in spec.options]
        labels = [o.label.casefold() for o in spec.options]
        assert len(set(values)) == len(values) and len(set(labels)) == len(labels), spec.key
        assert all("," not in o.label for o in spec.options), spec.key  # a comma separates multi_enum items
    for spec in _SPECS:
        if spec.value_type == "number":
            assert spec.unit, spec.key
        if spec.value_type not in {"enum", "multi_enum"}:
            assert not spec.options, spec.key


def _spec(**overrides: object) -> dict[str, object]:
    return {"key": "x_point", "section": "firmographic", "name": "X", "description": "X.", "example": "a",
            "why": "w", "applies_to": {"any": True}, "sources": [{"source": "apollo"}], **overrides}


@pytest.mark.parametrize("overrides", [
    {"value_type": "enum", "options": [{"value": "a", "label": "A"}]},                      # one option
    {"value_type": "enum", "options": [{"value": f"v{i}", "label": f"V{i}"} for i in range(41)]},
    {"value_type": "enum", "options": [{"value": "a", "label": "A"}, {"value": "b", "label": "a"}]},
    {"value_type": "text", "options": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]},
    {"value_type": "number", "example": "1.5"},                                               # no unit
    {"value_type": "string"},                                                                 # old set
])
def test_spec_rejects_badly_typed_points(overrides: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        DataPointSpec.model_validate(_spec(**overrides))


_OPTIONS = [ValueOption(value="shopify_plus", label="Shopify Plus"), ValueOption(value="wix", label="Wix")]


@pytest.mark.parametrize(("value_type", "text", "expected"), [
    ("integer", "18,400", 18400), ("integer", "-3", -3), ("number", "5.8", 5.8),
    ("currency", "$62M", 62_000_000), ("currency", "$14,300", 14300), ("currency", "$1.8B", 1.8e9),
    ("percent", "+9%", 9.0), ("percent", "-14%", -14.0), ("date", "2026-08-14", "2026-08-14"),
    ("boolean", "Yes", True), ("boolean", "false", False), ("enum", "Shopify Plus", "shopify_plus"),
    ("enum", "wix", "wix"), ("multi_enum", "Wix, Shopify Plus", ["wix", "shopify_plus"]),
    ("url", "https://acme.example/x", "https://acme.example/x"), ("text", " anything ", "anything"),
])
def test_parse_value_reads_each_type(value_type: str, text: str, expected: object) -> None:
    assert parse_value(value_type, text, _OPTIONS) == expected


@pytest.mark.parametrize(("value_type", "text"), [
    ("integer", "340 (201-500)"), ("integer", "1,00"), ("number", "5.8 TRIR"), ("currency", "62M"),
    ("currency", "~$650k monthly"), ("percent", "9"), ("date", "Dec 2027"), ("date", "2026-02-30"),
    ("boolean", "maybe"), ("enum", "Magento"), ("multi_enum", "Wix, Wix"), ("multi_enum", "Wix, Magento"),
    ("url", "acme.example"), ("text", "  "), ("list", "a"),
])
def test_parse_value_rejects_what_is_not_the_type(value_type: str, text: str) -> None:
    with pytest.raises(ValueError):
        parse_value(value_type, text, _OPTIONS)


def test_option_values_are_snake_case() -> None:
    assert option_value("Adobe Commerce (Magento)") == "adobe_commerce_magento"
    assert option_value("360Learning") == "v_360learning"
    assert option_value("***") == "v_option"
