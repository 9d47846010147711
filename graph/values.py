"""Typed values of data points: how a value written for a person ("$1.8M", "+9%", "2026-08-14") reads
as the value it stands for.

One parser serves the knowledge-base lint (every example must read as its type) and the exports (a
record built from a blueprint's examples must validate against its JSON Schema), so the two cannot
drift apart. Accepted forms are deliberately narrow: an example that needs prose to explain itself
belongs to a ``text`` data point.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Protocol
from urllib.parse import urlsplit

__all__ = ["OptionLike", "option_value", "parse_value", "split_multi"]

_SCALE = {"": 1, "k": 1_000, "K": 1_000, "M": 1_000_000, "B": 1_000_000_000, "bn": 1_000_000_000}
_INTEGER = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)$")
_NUMBER = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")
_CURRENCY = re.compile(r"^(-)?\$(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(k|K|M|B|bn)?$")
_PERCENT = re.compile(r"^([+-]?\d+(?:\.\d+)?)\s?%$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TRUE = {"yes", "true"}
_FALSE = {"no", "false"}


class OptionLike(Protocol):
    @property
    def value(self) -> str: ...

    @property
    def label(self) -> str: ...


def option_value(label: str) -> str:
    """The stable snake_case value of an option labelled ``label`` ('Shopify Plus' → 'shopify_plus')."""
    value = re.sub(r"[^a-z0-9]+", "_", label.casefold()).strip("_")[:90]
    return value if value[:1].isalpha() else f"v_{value or 'option'}"


def split_multi(text: str) -> list[str]:
    """The items of a ``multi_enum`` value written as 'A, B, C'."""
    return [part.strip() for part in text.split(",") if part.strip()]


def _option(text: str, options: Sequence[OptionLike]) -> str:
    wanted = text.strip().casefold()
    for option in options:
        if wanted in {option.value.casefold(), option.label.casefold()}:
            return option.value
    raise ValueError(f"{text!r} is not one of the options")


def parse_value(value_type: str, text: str, options: Sequence[OptionLike] = ()) -> object:
    """``text`` read as ``value_type``: int, float, bool, an ISO date string, an option value, a list of
    option values, a URL or the text itself. Raises ``ValueError`` when it does not read as that type."""
    raw = text.strip()
    if not raw:
        raise ValueError("empty value")
    if value_type == "integer":
        if not _INTEGER.match(raw):
            raise ValueError(f"{raw!r} is not an integer (digits, optional thousands commas)")
        return int(raw.replace(",", ""))
    if value_type == "number":
        if not _NUMBER.match(raw):
            raise ValueError(f"{raw!r} is not a number")
        return float(raw.replace(",", ""))
    if value_type == "currency":
        match = _CURRENCY.match(raw)
        if not match:
            raise ValueError(f"{raw!r} is not a USD amount such as $62M or $14,300")
        sign, whole, fraction, scale = match.groups()
        amount = float(whole.replace(",", "") + (fraction or "")) * _SCALE[scale or ""]
        return -amount if sign else amount
    if value_type == "percent":
        match = _PERCENT.match(raw)
        if not match:
            raise ValueError(f"{raw!r} is not a percentage such as 38% or +9%")
        return float(match.group(1))
    if value_type == "date":
        if not _DATE.match(raw):
            raise ValueError(f"{raw!r} is not an ISO date (YYYY-MM-DD)")
        return dt.date.fromisoformat(raw).isoformat()  # also rejects 2026-02-30
    if value_type == "boolean":
        if raw.casefold() in _TRUE:
            return True
        if raw.casefold() in _FALSE:
            return False
        raise ValueError(f"{raw!r} is not yes/no")
    if value_type == "enum":
        return _option(raw, options)
    if value_type == "multi_enum":
        values = [_option(item, options) for item in split_multi(raw)]
        if len(values) != len(set(values)):
            raise ValueError(f"{raw!r} repeats an option")
        return values
    if value_type == "url":
        parts = urlsplit(raw)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError(f"{raw!r} is not an http(s) URL")
        return raw
    if value_type == "text":
        return raw
    raise ValueError(f"unknown value type {value_type!r}")
