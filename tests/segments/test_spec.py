"""TierSpec: what a valid tier definition is, and the messages for an invalid one (no engine)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from lingxi.errors import SpecError
from lingxi.segments import ASSET_TYPES, DEFAULT_TIERS, Tier, TierSpec, tier_of


def tiers(*pairs: tuple[str, Any]) -> list[dict[str, Any]]:
    return [{"code": code, "lower": lower} for code, lower in pairs]


def test_default_tiers_are_design_md() -> None:
    assert DEFAULT_TIERS.codes == ("long_tail", "base", "wealth", "private")
    assert [t.lower for t in DEFAULT_TIERS.tiers] == [0, 50_000, 500_000, 6_000_000]
    assert ASSET_TYPES == ("deposit", "time_deposit", "wealth", "fund", "insurance", "pension")


@pytest.mark.parametrize(
    ("aum", "tier"),
    [
        (None, "long_tail"),
        (0, "long_tail"),
        (-10, "long_tail"),
        (49_999.99, "long_tail"),
        (50_000, "base"),
        (Decimal("499999.99"), "base"),
        (500_000, "wealth"),
        (5_999_999.99, "wealth"),
        (6_000_000, "private"),
        (10**12, "private"),
    ],
)
def test_tier_of_bounds_are_inclusive_lower(aum: Any, tier: str) -> None:
    assert tier_of(aum) == tier
    assert DEFAULT_TIERS.tier_of(aum) == tier


def test_valid_spec_round_trips_through_json() -> None:
    spec = TierSpec(name="mass", tiers=tiers(("low", 0), ("mid", "1000.50"), ("high", 10_000)))
    assert spec.tiers[1].lower == Decimal("1000.50")
    assert TierSpec.model_validate_json(spec.model_dump_json()) == spec
    assert TierSpec.model_validate(spec.model_dump()) == spec
    assert DEFAULT_TIERS == TierSpec.model_validate_json(DEFAULT_TIERS.model_dump_json())


def test_spec_is_frozen_and_hashable() -> None:
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error
        DEFAULT_TIERS.name = "other"  # type: ignore[misc]
    assert hash(DEFAULT_TIERS) == hash(TierSpec.model_validate(DEFAULT_TIERS.model_dump()))


def test_every_problem_is_listed_at_once() -> None:
    with pytest.raises(SpecError) as caught:
        TierSpec(name="bad", tiers=tiers(("Mass", 10), ("mass2", 5), ("mass2", 5)))
    error = caught.value
    assert error.subject == "Tier spec `bad`"
    assert error.problems == [
        "tier 1 (`Mass`): the first tier starts at 0, not 10",
        "tier 1: code `Mass` must match ^[a-z][a-z0-9_]*$ (e.g. `wealth`)",
        "tier 2 (`mass2`): lower bound 5 must be above tier 1's (10); order tiers from the lowest",
        "tier 3: code `mass2` is used twice",
        "tier 3 (`mass2`): lower bound 5 must be above tier 2's (5); order tiers from the lowest",
    ]
    assert str(error).startswith("Tier spec `bad` is invalid (5 problems):\n  - tier 1 (`Mass`)")
    assert "hint:" in str(error)


@pytest.mark.parametrize(
    ("data", "problems"),
    [
        ({"tiers": []}, ["no tiers: give at least one, starting at 0"]),
        ({}, ["tiers: Field required"]),
        ({"tiers": tiers(("a", "x"))}, ["tiers.0.lower: Input should be a valid decimal"]),
        ({"tiers": tiers(("a", 0), ("b", "NaN"))}, ["tiers.1.lower: Input should be a finite number"]),
        ({"tiers": tiers(("a", 0)), "colour": "red"}, ["colour: Extra inputs are not permitted"]),
        ({"tiers": [{"code": "a", "lower": 0, "upper": 5}]}, ["tiers.0.upper: Extra inputs are not permitted"]),
        ({"tiers": tiers(("a b", 0))}, ["tier 1: code `a b` must match ^[a-z][a-z0-9_]*$ (e.g. `wealth`)"]),
        ({"tiers": tiers(("x'--", 0))}, ["tier 1: code `x'--` must match ^[a-z][a-z0-9_]*$ (e.g. `wealth`)"]),
    ],
)
def test_invalid_specs(data: dict[str, Any], problems: list[str]) -> None:
    for build in (lambda: TierSpec(**data), lambda: TierSpec.model_validate(data)):
        with pytest.raises(SpecError) as caught:
            build()
        assert caught.value.problems == problems
        assert isinstance(caught.value, ValueError)  # callers may catch the builtin


def test_invalid_json_is_a_spec_error() -> None:
    with pytest.raises(SpecError) as caught:
        TierSpec.model_validate_json('{"tiers": [{"code": "a", "lower": 1}]}')
    assert caught.value.problems == ["tier 1 (`a`): the first tier starts at 0, not 1"]


def test_one_tier_is_enough() -> None:
    spec = TierSpec(tiers=[Tier(code="everyone", lower=Decimal(0))])
    assert spec.tier_of(None) == spec.tier_of(10**9) == "everyone"
