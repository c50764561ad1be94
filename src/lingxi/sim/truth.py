"""Ground truth: how each customer would respond to each offer, with and without each contact channel.

Written to OUT/truth/ and never read by features; it exists so that a targeting or decisioning policy can
be scored against what really would have happened. Each customer has a latent response type
(SIM_CALIBRATION C6): persuadables buy more when contacted, sure things buy anyway, lost causes do not
buy either way, and sleeping dogs ("do not disturb") buy less, opt out more and leave sooner when
contacted. `respond()` samples one outcome from these probabilities for offline evaluation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lingxi.errors import ConfigError
from lingxi.sim.arrays import chunk_rng, format_ids, take_strings, to_timestamp
from lingxi.sim.customers import customer_ids, has_phone
from lingxi.sim.params import CHANNELS, OFFER_TYPES, RESPONSE_TYPES, TIER_NAMES, SimParams
from lingxi.sim.population import APP_NEVER, APP_REGULAR, Population

SLEEPING_DOG = RESPONSE_TYPES.index("sleeping_dog")
PERSUADABLE = RESPONSE_TYPES.index("persuadable")
SURE_THING = RESPONSE_TYPES.index("sure_thing")


def response_types(pop: Population, p: SimParams, seed: int, chunk: int) -> np.ndarray:
    """Latent response type per customer; persuadables are commoner among wealthier, app-active ones."""
    rng = chunk_rng(seed, "response-type", chunk)
    persuadable = p.persuadable_base + 0.06 * (pop.tier >= 1) + 0.04 * (pop.app_class == APP_REGULAR)
    u = rng.random(len(pop))
    return np.select(
        [
            u < p.sleeping_dog_share,
            u < p.sleeping_dog_share + persuadable,
            u < p.sleeping_dog_share + persuadable + p.sure_thing_share,
        ],
        [SLEEPING_DOG, PERSUADABLE, SURE_THING],
        RESPONSE_TYPES.index("lost_cause"),
    )


def reachable(pop: Population) -> np.ndarray:
    """(n x channels) whether a contact can reach the customer at all (app for push, e-mail on file...)."""
    phone = has_phone(pop)
    return np.stack([pop.app_class != APP_NEVER, phone, phone, pop.has_email], axis=1)


def truth_table(pop: Population, kind: np.ndarray, p: SimParams, seed: int, chunk: int) -> pa.Table:
    rng = chunk_rng(seed, "truth", chunk)
    n, k = len(pop), len(OFFER_TYPES)
    base = np.asarray(p.offer_base)
    logit = np.log(base / (1 - base))[None, :] + rng.normal(0, 0.5, (n, k))
    logit += 0.6 * (pop.tier >= 1)[:, None] + 0.4 * (pop.app_class == APP_REGULAR)[:, None] + 0.3 * pop.held
    logit -= 1.5 * pop.dormant[:, None]
    p0 = 1 / (1 + np.exp(-logit))
    p0 = np.where((kind == SURE_THING)[:, None], np.minimum(p0 * 8, 0.6), p0)
    reach = reachable(pop)
    affinity = np.where(np.arange(len(CHANNELS))[None, :] == pop.channel_pref[:, None], 1.5, 0.8)
    type_factor = np.sqrt(base / 0.004)
    cols: dict[str, pa.Array] = {
        "customer_id": customer_ids(pop.index),
        "response_type": take_strings(RESPONSE_TYPES, kind),
        "tier": take_strings(TIER_NAMES, pop.tier),
        "aum_start": pa.array(pop.aum),
    }
    for j, offer in enumerate(OFFER_TYPES):
        cols[f"p_{offer}_none"] = pa.array(p0[:, j].astype(np.float32))
        for c, channel in enumerate(CHANNELS):
            lift = p.channel_lift[c] * type_factor[j] * affinity[:, c] * rng.lognormal(0, 0.3, n)
            p1 = np.where(kind == PERSUADABLE, np.minimum(p0[:, j] + lift, 0.95), p0[:, j])
            p1 = np.where(kind == SLEEPING_DOG, p0[:, j] * 0.5, p1)
            p1 = np.where(reach[:, c], p1, p0[:, j])
            cols[f"p_{offer}_{channel}"] = pa.array(p1.astype(np.float32))
    hazard90 = 1 - np.exp(-3 * pop.churn_hazard)
    cols["attrition_hazard_90d"] = pa.array(hazard90)
    cols["attrition_hazard_90d_contacted"] = pa.array(
        np.where(kind == SLEEPING_DOG, 1 - np.exp(-3 * 1.3 * pop.churn_hazard), hazard90)
    )
    cols["churn_at"] = to_timestamp(pop.churn_us, pop.churn_day >= 0)
    cols["preferred_channel"] = take_strings(CHANNELS, pop.channel_pref)
    cols["best_hour"] = pa.array(pop.best_hour.astype(np.int64))
    cols["optout_per_contact"] = pa.array(p.optout_per_contact * np.where(kind == SLEEPING_DOG, 3.0, 1.0))
    cols["duplicate_of"] = pc.if_else(
        pa.array(pop.dup_of >= 0), format_ids("C", np.maximum(pop.dup_of, 0), 9), pa.scalar(None, pa.string())
    )
    return pa.table(cols)


@dataclass(frozen=True)
class Response:
    """One sampled outcome: did the customer buy, did they opt out, and the probability that was used."""

    purchased: bool
    opted_out: bool
    probability: float


def _hour_factor(hour: np.ndarray, best: np.ndarray) -> np.ndarray:
    """Contact at the customer's best hour works fully; off-peak less; at night (22-7) it barely works."""
    gap = np.minimum(np.abs(hour - best), 24 - np.abs(hour - best))
    night = (hour >= 22) | (hour < 7)
    return np.where(gap <= 2, 1.0, np.where(night, 0.3, 0.6))


def purchase_probability(
    truth: pa.Table,
    action: str,
    channel: np.ndarray,
    hour: np.ndarray,
    contacts_last_30d: np.ndarray | int = 0,
) -> np.ndarray:
    """Probability of buying `action` for each truth row under the given channel ("none") and hour.

    The treatment effect (p_channel - p_none) is scaled by the hour and by fatigue
    exp(-0.15 * contacts in the last 30 days); the no-contact probability is not.
    """
    if action not in OFFER_TYPES:
        raise ConfigError(f"unknown action `{action}`", hint=f"use a product type: {', '.join(OFFER_TYPES)}")
    channel = np.asarray(channel)
    p0 = truth[f"p_{action}_none"].to_numpy().astype(np.float64)
    p = p0.copy()
    best = truth["best_hour"].to_numpy()
    factor = _hour_factor(np.asarray(hour), best) * np.exp(-0.15 * np.asarray(contacts_last_30d))
    for name in CHANNELS:
        on = channel == name
        if on.any():
            p1 = truth[f"p_{action}_{name}"].to_numpy().astype(np.float64)
            p = np.where(on, p0 + (p1 - p0) * factor, p)
    unknown = ~np.isin(channel, (*CHANNELS, "none"))
    if unknown.any():
        raise ConfigError(f"unknown channel `{channel[unknown][0]}`", hint=f"use none or {', '.join(CHANNELS)}")
    return p


def respond_batch(
    truth: pa.Table,
    action: str,
    channel: np.ndarray,
    hour: np.ndarray,
    rng: np.random.Generator,
    contacts_last_30d: np.ndarray | int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised respond(): (purchased, opted_out, probability) arrays for every truth row."""
    prob = purchase_probability(truth, action, channel, hour, contacts_last_30d)
    contacted = np.asarray(channel) != "none"
    night = (np.asarray(hour) >= 22) | (np.asarray(hour) < 7)
    p_out = truth["optout_per_contact"].to_numpy() * np.where(night, 2.0, 1.0) * contacted
    return rng.random(len(prob)) < prob, rng.random(len(prob)) < p_out, prob


def respond(
    customer: Mapping[str, Any],
    action: str,
    channel: str | None,
    time: datetime | int,
    rng: np.random.Generator,
    contacts_last_30d: int = 0,
) -> Response:
    """Sample the outcome of offering `action` to one customer through `channel` at `time`.

    Args:
        customer: one row of the truth table, e.g. `truth.slice(i, 1).to_pylist()[0]`.
        action: the product type offered (deposit, time_deposit, wealth, fund, insurance, pension, loan,
            credit_card).
        channel: push, sms, call, email, or None for no contact (the control arm).
        time: when the contact is made (a datetime, or an hour 0-23).
        rng: the caller's generator, so an evaluation is reproducible.
        contacts_last_30d: earlier contacts, for fatigue.

    Examples:
        >>> rng = np.random.default_rng(1)
        >>> row = pq.read_table("out/truth").slice(0, 1).to_pylist()[0]  # doctest: +SKIP
        >>> respond(row, "wealth", "sms", datetime(2025, 3, 3, 20), rng).purchased  # doctest: +SKIP
    """
    hour = time.hour if isinstance(time, datetime) else int(time)
    table = pa.Table.from_pylist([dict(customer)])
    bought, out, prob = respond_batch(
        table, action, np.array([channel or "none"]), np.array([hour]), rng, contacts_last_30d
    )
    return Response(bool(bought[0]), bool(out[0]), float(prob[0]))
