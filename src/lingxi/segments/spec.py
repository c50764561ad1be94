"""Tier definitions as a bank writes them: ordered tiers, each a code and an inclusive lower bound in CNY.

A `TierSpec` cuts AUM (assets under management) into tiers: a customer belongs to the last tier whose
lower bound is at most their AUM, so the tiers cover every amount from 0 up without gaps or overlaps.
The spec is a frozen pydantic model (it can be read from YAML or JSON); an invalid one raises SpecError
listing every problem at once, whichever way it was built (constructor, `model_validate`,
`model_validate_json`).
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from lingxi.errors import InputError, SpecError

CODE = re.compile(r"^[a-z][a-z0-9_]*$")
DOCS = "order tiers from the lowest, the first at 0 (lingxi.segments.library.DEFAULT_TIERS is an example)"


class Tier(BaseModel):
    """One tier: a code (`wealth`) and the AUM, in CNY, from which it starts (inclusive)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    lower: Decimal


class TierSpec(BaseModel):
    """Ordered tiers; the first starts at 0 and each lower bound is above the one before."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = "aum_tiers"
    tiers: tuple[Tier, ...]

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as e:
            raise _spec_error(data, e) from None

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> TierSpec:
        try:
            return super().model_validate(obj, *args, **kwargs)
        except ValidationError as e:
            raise _spec_error(obj, e) from None

    @classmethod
    def model_validate_json(cls, json_data: str | bytes | bytearray, *args: Any, **kwargs: Any) -> TierSpec:
        try:
            return super().model_validate_json(json_data, *args, **kwargs)
        except ValidationError as e:
            raise _spec_error(None, e) from None

    @model_validator(mode="after")
    def _check(self) -> TierSpec:
        problems = tier_problems(self.tiers)
        if problems:
            raise SpecError(_subject(self.name), problems, hint=DOCS)
        return self

    @property
    def codes(self) -> tuple[str, ...]:
        """The tier codes, lowest tier first."""
        return tuple(t.code for t in self.tiers)

    def tier_of(self, aum: float | Decimal | int | None) -> str:
        """The code of the tier `aum` falls in (None counts as 0, as a customer without holdings)."""
        value = aum if aum is not None else 0
        code = self.tiers[0].code
        for tier in self.tiers[1:]:
            if value < tier.lower:
                break
            code = tier.code
        return code


def load_tier_spec(path: Path) -> TierSpec:
    """A TierSpec from a YAML (or JSON) file; a missing or unreadable file is an InputError naming it."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise InputError(f"cannot read tier file `{path}`: {e.strerror}", hint="check the path") from e
    except yaml.YAMLError as e:
        raise InputError(f"tier file `{path}` is not valid YAML: {e}", hint=DOCS) from e
    if not isinstance(data, dict):
        raise InputError(f"tier file `{path}` must hold a mapping with `tiers:`", hint=DOCS)
    return TierSpec.model_validate(data)


def tier_problems(tiers: tuple[Tier, ...]) -> list[str]:
    """Every problem of an ordered list of tiers (empty when valid)."""
    if not tiers:
        return ["no tiers: give at least one, starting at 0"]
    problems = []
    if tiers[0].lower != 0:
        problems.append(f"tier 1 (`{tiers[0].code}`): the first tier starts at 0, not {tiers[0].lower}")
    seen: set[str] = set()
    for i, tier in enumerate(tiers, start=1):
        if not CODE.match(tier.code):
            problems.append(f"tier {i}: code `{tier.code}` must match ^[a-z][a-z0-9_]*$ (e.g. `wealth`)")
        if tier.code in seen:
            problems.append(f"tier {i}: code `{tier.code}` is used twice")
        seen.add(tier.code)
        if i > 1 and tier.lower <= tiers[i - 2].lower:
            problems.append(
                f"tier {i} (`{tier.code}`): lower bound {tier.lower} must be above tier {i - 1}'s "
                f"({tiers[i - 2].lower}); order tiers from the lowest"
            )
    return problems


def _subject(name: object) -> str:
    return f"Tier spec `{name}`" if isinstance(name, str) and name else "Tier spec"


def _spec_error(data: Any, error: ValidationError) -> SpecError:
    problems: list[str] = []
    for item in error.errors():
        cause = (item.get("ctx") or {}).get("error")
        if isinstance(cause, SpecError):
            problems.extend(cause.problems)
            continue
        where = ".".join(str(p) for p in item["loc"]) or "spec"
        problems.append(f"{where}: {item['msg']}")
    name = data.get("name", "aum_tiers") if isinstance(data, dict) else "aum_tiers"
    return SpecError(_subject(name), problems, hint=DOCS)


__all__ = ["Tier", "TierSpec", "load_tier_spec", "tier_problems"]
