"""The ground truth is usable: uplift targeting beats propensity targeting; respond() behaves."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from lingxi.errors import ConfigError
from lingxi.sim import respond, respond_batch


@pytest.fixture(scope="module")
def truth(bank: Path) -> pa.Table:
    return pq.read_table(bank / "truth")


def test_top_uplift_decile_beats_top_propensity_decile_in_a_randomised_campaign(truth: pa.Table) -> None:
    """A randomised SMS campaign for wealth products, replayed 20 times over the 10,000 customers."""
    rng = np.random.default_rng(2025)
    reps = 20
    table = pa.concat_tables([truth] * reps)
    n = table.num_rows
    treated = rng.random(n) < 0.5
    channel = np.where(treated, "call", "none")
    hour = table["best_hour"].to_numpy()
    bought, _, _ = respond_batch(table, "wealth", channel, hour, rng)
    p0 = table["p_wealth_none"].to_numpy()
    uplift = table["p_wealth_call"].to_numpy() - p0

    def incremental(score: np.ndarray) -> float:
        top = score >= np.quantile(score, 0.9)
        rate_t = bought[top & treated].mean()
        rate_c = bought[top & ~treated].mean()
        return float((rate_t - rate_c) * top.sum())

    by_uplift, by_propensity = incremental(uplift), incremental(p0)
    assert by_uplift > 0
    assert by_uplift > 2 * by_propensity, (by_uplift, by_propensity)


def test_response_types_have_the_documented_shares_and_effects(truth: pa.Table) -> None:
    kinds = truth["response_type"].to_numpy(zero_copy_only=False)
    p0 = truth["p_wealth_none"].to_numpy()
    p_sms = truth["p_wealth_sms"].to_numpy()
    dog = kinds == "sleeping_dog"
    assert abs(dog.mean() - 0.03) < 0.01
    assert 0.04 <= (kinds == "persuadable").mean() <= 0.12
    assert np.all(p_sms[dog] <= p0[dog])  # do-not-disturb customers buy less when contacted
    persuadable = kinds == "persuadable"
    assert (p_sms[persuadable] > p0[persuadable]).mean() > 0.9  # unreachable ones excepted
    sure = kinds == "sure_thing"
    assert p0[sure].mean() > 3 * p0[kinds == "lost_cause"].mean()
    assert np.all(
        truth["attrition_hazard_90d_contacted"].to_numpy()[dog] > truth["attrition_hazard_90d"].to_numpy()[dog]
    )
    # Average relative lift stays below Hillstrom's e-mail lift (x1.4-2.2): a realistic, not easy, target.
    assert 1.0 < p_sms.mean() / p0.mean() < 2.2


def test_respond_samples_from_the_truth(truth: pa.Table) -> None:
    kinds = truth["response_type"].to_numpy(zero_copy_only=False)
    i = int(np.nonzero(kinds == "persuadable")[0][0])
    row = truth.slice(i, 1).to_pylist()[0]
    best = row["best_hour"]
    rng = np.random.default_rng(0)
    at_best = [respond(row, "wealth", "call", datetime(2025, 3, 3, best), rng).probability for _ in range(2)]
    assert at_best[0] == at_best[1] == pytest.approx(row["p_wealth_call"], rel=1e-6)
    night = respond(row, "wealth", "call", 3, rng)
    assert row["p_wealth_none"] <= night.probability < at_best[0]  # contact at 3 a.m. barely works
    control = respond(row, "wealth", None, best, rng)
    assert control.probability == pytest.approx(row["p_wealth_none"], rel=1e-6)
    assert control.opted_out is False
    tired = respond(row, "wealth", "call", best, rng, contacts_last_30d=5)
    assert tired.probability < at_best[0]
    same = [respond(row, "wealth", "sms", best, np.random.default_rng(9)).purchased for _ in range(2)]
    assert same[0] == same[1]


def test_respond_rejects_unknown_actions_and_channels(truth: pa.Table) -> None:
    row = truth.slice(0, 1).to_pylist()[0]
    with pytest.raises(ConfigError, match="unknown action"):
        respond(row, "lottery", "sms", 10, np.random.default_rng(0))
    with pytest.raises(ConfigError, match="unknown channel"):
        respond(row, "wealth", "carrier_pigeon", 10, np.random.default_rng(0))


def test_truth_marks_duplicates_and_churners(bank: Path, truth: pa.Table) -> None:
    dups = pc.drop_null(truth["duplicate_of"])
    assert 0.005 <= len(dups) / truth.num_rows <= 0.015
    customers = pq.read_table(bank / "customers")
    assert pc.all(pc.is_in(dups, customers["customer_id"])).as_py()
