"""Daily multipliers of the window: weekends, month end, Spring Festival, shopping festivals, paydays.

Counts are drawn per customer from a Poisson with the window's total intensity and then spread over
days in proportion to these multipliers, which is how a Poisson process with a time-varying rate is
sampled without a loop over days. Shapes follow SIM_CALIBRATION C5 (the Spring Festival table).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lingxi.sim.arrays import day_number
from lingxi.sim.params import SPRING_FESTIVAL_EVE


@dataclass(frozen=True)
class Calendar:
    start_day: int
    days: int
    spend: np.ndarray  # card and QR spending
    transfer: np.ndarray  # P2P transfers, red envelopes, bills
    cash: np.ndarray
    app: np.ndarray

    def draw_days(self, rng: np.random.Generator, weights: np.ndarray, size: int) -> np.ndarray:
        """Day offsets in the window drawn in proportion to `weights`."""
        cum = np.cumsum(weights)
        return np.searchsorted(cum, rng.random(size) * cum[-1], side="right").clip(0, self.days - 1)


def spring_festival_offset(day_numbers: np.ndarray) -> np.ndarray:
    """Days since the nearest Spring Festival eve (negative before it)."""
    eves = np.array(sorted(day_number(d) for d in SPRING_FESTIVAL_EVE.values()))
    diff = day_numbers[:, None] - eves[None, :]
    nearest = np.argmin(np.abs(diff), axis=1)
    return diff[np.arange(len(day_numbers)), nearest]


def build_calendar(start_day: int, days: int, weekend_spend: float, month_end_bills: float) -> Calendar:
    d = np.arange(start_day, start_day + days)
    weekday = (d + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    dt = d.astype("datetime64[D]")
    month_start = dt.astype("datetime64[M]")
    dom = (dt - month_start).astype(np.int64) + 1
    month = (month_start - dt.astype("datetime64[Y]")).astype(np.int64) + 1
    days_in_month = ((month_start + 1).astype("datetime64[D]") - month_start.astype("datetime64[D]")).astype(np.int64)
    weekend = weekday >= 5
    month_end = dom > days_in_month - 3
    sf = spring_festival_offset(d)
    pre, holiday, post = (sf >= -14) & (sf < 0), (sf >= 0) & (sf <= 6), (sf >= 7) & (sf <= 21)

    spend = np.where(weekend, weekend_spend, 1.0)
    spend = spend * np.select([pre, holiday, post], [1.35, 1.05, 0.85], 1.0)
    spend = spend * np.where((month == 11) & (dom == 11), 1.3, 1.0) * np.where((month == 6) & (dom == 18), 1.15, 1.0)
    spend = spend * np.where((month == 10) & (dom <= 7), 1.2, 1.0)
    transfer = np.select([pre, (sf == 0) | (sf == 1), holiday, post], [1.6, 3.0, 1.5, 0.9], 1.0)
    transfer = transfer * np.where(month_end, month_end_bills, 1.0)
    cash = np.select([pre, holiday | post], [2.0, 0.8], 1.0)
    app = np.select([pre, holiday], [1.2, 1.1], 1.0)
    return Calendar(start_day, days, spend, transfer, cash, app)


def salary_days(start_day: int, days: int, dom_codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each salary-day code, its pay dates in the window, moved back off weekends.

    Returns (codes x months) day offsets into the window and a validity mask; code 31 means the last
    working day of the month.
    """
    first = np.datetime64(int(start_day), "D").astype("datetime64[M]")
    months = first + np.arange(days // 28 + 2)
    month_len = ((months + 1).astype("datetime64[D]") - months.astype("datetime64[D]")).astype(np.int64)
    dom = np.minimum(np.asarray(dom_codes)[:, None], month_len[None, :])
    pay = months.astype("datetime64[D]").astype(np.int64)[None, :] + dom - 1
    weekday = (pay + 3) % 7
    pay = pay - np.where(weekday == 5, 1, 0) - np.where(weekday == 6, 2, 0)
    offset = pay - start_day
    return offset, (offset >= 0) & (offset < days)
