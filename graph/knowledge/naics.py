"""NAICS 2022 reference data (``data/naics.yaml``): the sectors and subsectors a vertical's ``naics:`` codes
must fall inside, and the coverage map (which subsectors have a vertical) that ``blueprint knowledge stats``
reports."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

__all__ = ["NaicsReference", "NaicsSector", "load_naics"]

_CODE = re.compile(r"^\d{2,6}$")


class NaicsSector(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^\d{2}(-\d{2})?$", description="'11', or a range such as '31-33'.")
    title: str
    subsectors: dict[str, str] = Field(min_length=1, description="3-digit code -> title.")

    def two_digit_codes(self) -> list[str]:
        """'31-33' -> ['31', '32', '33']: each part of a range is a valid sector code on its own."""
        first, _, last = self.code.partition("-")
        return [str(n) for n in range(int(first), int(last or first) + 1)]


class NaicsReference(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str
    sectors: list[NaicsSector]
    retired: dict[str, list[str]] = Field(default_factory=dict, description="Older subsector -> its heirs.")

    @model_validator(mode="after")
    def _consistent(self) -> NaicsReference:
        codes = [code for sector in self.sectors for code in sector.subsectors]
        if len(codes) != len(set(codes)):
            raise ValueError("a subsector code appears twice")
        for sector in self.sectors:
            parts = sector.two_digit_codes()
            stray = [code for code in sector.subsectors if code[:2] not in parts or len(code) != 3]
            if stray:
                raise ValueError(f"sector {sector.code}: subsectors {stray} do not belong to it")
        heirs = {h for targets in self.retired.values() for h in targets}
        if not heirs <= set(codes) or set(self.retired) & set(codes):
            raise ValueError("retired codes must map onto current subsectors and not be current themselves")
        return self

    @property
    def subsectors(self) -> dict[str, str]:
        return {code: title for sector in self.sectors for code, title in sector.subsectors.items()}

    def sector_of(self, code: str) -> NaicsSector | None:
        return next((s for s in self.sectors if code[:2] in s.two_digit_codes()), None)

    def problem(self, code: str) -> str | None:
        """Why ``code`` is not a NAICS 2022 code this reference knows (``None`` when it is fine).

        A 2-digit code must be a sector (or a part of a range sector); a 3-6 digit code must start with a
        current subsector (the 4-6 digit industries are checked by prefix: the reference stops at 3 digits).
        """
        if not _CODE.match(code):
            return f"{code!r} is not a NAICS code (2-6 digits)"
        if len(code) == 2:
            return None if self.sector_of(code) else f"{code!r} is not a NAICS {self.version} sector"
        prefix = code[:3]
        if prefix in self.subsectors:
            return None
        if prefix in self.retired:
            return (f"{code!r}: subsector {prefix} is NAICS 2017; in {self.version} it is "
                    f"{' / '.join(self.retired[prefix])}")
        return f"{code!r}: {prefix} is not a NAICS {self.version} subsector"

    def covered(self, codes: Iterable[str]) -> set[str]:
        """The subsectors these codes name (a code of 3-6 digits names its 3-digit prefix). A bare sector
        code names none: '31' says 'some manufacturing', not which of its 21 subsectors."""
        known = self.subsectors
        return {code[:3] for code in codes if len(code) >= 3 and code[:3] in known}


def load_naics(path: Path) -> NaicsReference:
    from graph.knowledge.base import KnowledgeError

    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
        return NaicsReference.model_validate(raw)
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise KnowledgeError(f"{path.name}: {exc}") from exc
