"""One-off migration of the knowledge packs to the typed value set of issue 16.

Mechanical part: string/range → text, currency_usd → currency, numeric examples reduced to the value they
lead with, lists of named tools → multi_enum whose options are the tools the description names (the
example keeps the ones it mentions), open-ended lists → text. Everything judged by hand (every enum's
options, units, dates, booleans, the numeric points that are really composite) lives in
``value_type_choices.yaml`` next to this script and wins over the mechanical rule.

Run from the repository root: ``python scripts/migrate_value_types.py``. Points already in the new set
whose example reads as their type are left alone, so it is safe to run again, e.g. on a pack written
against the old set (an old ``enum`` then needs its options in the choices file). The packs are edited
line by line so comments and layout survive.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from graph.values import option_value, parse_value

PACKS = Path("graph/knowledge/data/packs")
CHOICES = Path(__file__).with_name("value_type_choices.yaml")
NEW_TYPES = {"integer", "number", "currency", "percent", "date", "boolean", "enum", "multi_enum", "url", "text"}
_SCALE = {"k": 1_000, "K": 1_000, "M": 1_000_000, "B": 1_000_000_000}
_LOWER_BRANDS = {"dbt"}
# extracted names trimmed to the product (the description's gloss stays in the description); None drops
# a generic category that is not a product
_LABEL_FIXES: dict[str, str | None] = {
    "LibDib for three-tier ordering": "LibDib", "HIPAA for healthcare programmes": "HIPAA",
    "FRISS for fraud": "FRISS", "PVsyst for utility-scale": "PVsyst", "ShiftWise/AMN for healthcare":
    "ShiftWise / AMN", "ClassPass for spas": "ClassPass", "Shopify with compliance apps": "Shopify",
    "ADMS/OMS from GE Vernova": "GE Vernova ADMS/OMS", "Aya vendor management": "Aya", "Pushpay app": "Pushpay",
    "UM platforms": None, "KDS": None,
}
_GENERIC = {"other", "others", "etc", "custom", "in-house", "none", "e.g.", "eg", "and more"}


def slug(label: str) -> str:
    return option_value(label)


def _names(fragment: str) -> list[str]:
    parts = re.split(r",|;|\bor\b|\band\b|\bvs\.?\b", fragment)
    # a parenthesis of four or more short lower-case items is a list of categories (trades, segments...)
    categories = len(parts) >= 4 and all(0 < len(p.split()) <= 4 for p in parts if p.strip())
    out = []
    for part in parts:
        name = part.strip(" .'\"-").removeprefix("e.g. ").removeprefix("such as ").strip()
        if not name or name.lower() in _GENERIC or len(name) > 40 or len(name.split()) > 4:
            continue
        if categories and name.islower() and name not in _LOWER_BRANDS:
            name = name[0].upper() + name[1:]
        if not (name[0].isupper() or name[0].isdigit()):
            continue  # a lower-case phrase is prose, not a product or a named value
        fixed = _LABEL_FIXES.get(name, name)
        if fixed is not None:
            out.append(fixed)
    return out


def list_options(description: str, example: str) -> tuple[list[str], str]:
    """Names of tools/values the description enumerates (in parentheses or after a dash), and the
    example reduced to those it mentions; ([], "") when the list is open-ended."""
    found: list[str] = []
    fragments = re.findall(r"\(([^()]*(?:\([^()]*\)[^()]*)*)\)", description)
    fragments += [m for m in re.findall(r" - ([^-]+?)(?: - |$)", description)]
    for fragment in fragments:
        inner = re.sub(r"\([^()]*\)", "", fragment)
        for name in _names(inner):
            if name.lower() not in {f.lower() for f in found}:
                found.append(name)
    if not 2 <= len(found) <= 40:
        return [], ""
    mentioned = [n for n in found if re.search(rf"(?<!\w){re.escape(n)}(?!\w)", example, re.I)]
    if not mentioned:
        return [], ""
    return found, ", ".join(mentioned)


def leading_number(example: str) -> float | None:
    match = re.match(r"^[~≈+]?\s*\$?([\d,]*\.?\d+)\s*([kKMB])?\b", example.strip())
    if not match:
        return None
    value = float(match.group(1).replace(",", ""))
    return value * _SCALE.get(match.group(2) or "", 1)


def first_currency(example: str) -> str | None:
    match = re.search(r"\$([\d,]*\.?\d+)\s*([kKMB])?(?![\d-])", example)
    return f"${match.group(1)}{match.group(2) or ''}" if match else None


def first_percent(example: str) -> str | None:
    match = re.search(r"([+-]?\d+(?:\.\d+)?)%", example)
    return f"{match.group(1)}%" if match else None


def convert(dp: dict[str, Any], choices: dict[str, Any]) -> dict[str, Any]:
    """The new ``value_type``/``example``/``unit``/``options`` of one data point."""
    key, vt, example = dp["key"], dp.get("value_type", "string"), str(dp["example"])
    if key in choices:
        choice = dict(choices[key])
        choice.setdefault("example", example)
        if "options" in choice:
            choice["options"] = [o if isinstance(o, dict) else {"value": slug(o), "label": o}
                                 for o in choice["options"]]
        return choice
    if vt in {"url", "text", "multi_enum", "currency"}:
        return {"value_type": vt, "example": example}
    if vt in {"string", "range"}:
        return {"value_type": "text", "example": example}
    if vt == "integer":
        number = leading_number(example)
        if number is not None and number == int(number):
            return {"value_type": "integer", "example": f"{int(number):,}" if number >= 1_000 else str(int(number))}
        return {"value_type": "text", "example": example}
    if vt == "currency_usd":
        value = first_currency(example)
        return {"value_type": "currency", "example": value} if value else {"value_type": "text", "example": example}
    if vt == "percent":
        value = first_percent(example)
        return {"value_type": "percent", "example": value} if value else {"value_type": "text", "example": example}
    if vt == "list":
        options, mentioned = list_options(dp["description"], example)
        if options:
            return {"value_type": "multi_enum", "example": mentioned,
                    "options": [{"value": slug(o), "label": o} for o in options]}
        return {"value_type": "text", "example": example}
    raise SystemExit(f"{key}: value_type {vt} needs a hand-made choice in {CHOICES.name}")


def migrated(dp: dict[str, Any]) -> bool:
    """True when ``dp`` is already typed in the new set: a new value type its example reads as."""
    if dp.get("value_type") not in NEW_TYPES:
        return False
    options = [SimpleNamespace(**o) for o in dp.get("options") or []]
    try:
        parse_value(dp["value_type"], str(dp["example"]), options)
    except ValueError:
        return False
    return True


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _lines(new: dict[str, Any]) -> list[str]:
    out = [f"    value_type: {new['value_type']}\n"]
    if new.get("unit"):
        out.append(f"    unit: {_quote(new['unit'])}\n")
    if new.get("options"):
        out.append("    options:\n")
        out += [f"      - {{value: {o['value']}, label: {_quote(o['label'])}}}\n" for o in new["options"]]
    return out


def migrate_file(path: Path, choices: dict[str, Any]) -> int:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    by_key = {dp["key"]: dp for dp in data.get("data_points", [])}
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    out: list[str] = []
    key: str | None = None
    changed = 0
    i = 0
    while i < len(lines):
        line = lines[i]
        if m := re.match(r"^  - key: (\S+)", line):
            key = m.group(1)
        if key in by_key and line.startswith("    value_type:"):
            dp = by_key[key]
            if migrated(dp) and key not in choices:
                out.append(line)
                i += 1
                continue
            new = convert(dp, choices)
            out += _lines(new)
            by_key[key] = {**dp, "_new_example": new["example"]}
            changed += 1
            i += 1
            while i < len(lines) and re.match(r"^    (unit|options):|^      - \{value", lines[i]):
                i += 1  # drop the old unit/options of a point being rewritten
            continue
        if key in by_key and line.startswith("    example:") and "_new_example" in by_key[key]:
            out.append(f"    example: {_quote(by_key[key]['_new_example'])}\n")
            i += 1
            continue
        out.append(line)
        i += 1
    path.write_text("".join(out), encoding="utf-8")
    return changed


def main() -> int:
    choices = yaml.safe_load(CHOICES.read_text(encoding="utf-8")) or {}
    total = 0
    for path in sorted(PACKS.glob("*.yaml")):
        total += migrate_file(path, choices)
    print(f"wrote the type of {total} data points (the rest were already typed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
