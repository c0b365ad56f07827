"""Day-by-day draws for customer accounts: /pricing and /upgrade visits, and upsell outcomes.

The web-event generator materialises exactly these visits as page views, and the upsell simulation
reads the same visits, so the effect of pricing interest on upsells is carried by the event history.
"""
from __future__ import annotations

import numpy as np
import polars as pl

from sample import effects
from sample.population import Population
from sample.randomness import PRICING, UPGRADE, UPSELL_LOSS, UPSELL_WIN, rng


def pricing_visits(pop: Population, day: int) -> tuple[np.ndarray, np.ndarray]:
    """(account indexes of customer accounts, number of /pricing visits on ordinal `day`)."""
    cust = pop.customers
    rate = pop.accounts["pricing_rate"].to_numpy()[cust]
    counts = rng(pop.seed, PRICING, day).poisson(rate) * pop.active_on(cust, day)
    return cust, counts.astype(np.int64)


def upgrade_visits(pop: Population, day: int) -> tuple[np.ndarray, np.ndarray]:
    """(customer account indexes, /upgrade visits on `day`): same rate everywhere, no effect on upsells."""
    cust = pop.customers
    counts = rng(pop.seed, UPGRADE, day).poisson(effects.UPGRADE_RATE, len(cust)) * pop.active_on(cust, day)
    return cust, counts.astype(np.int64)


def simulate_upsells(pop: Population, first_day: int, last_day: int) -> pl.DataFrame:
    """Every upsell opportunity that closes (won or lost) on a day in [first_day, last_day].

    One row per opportunity: a (customer account index), close_day, lag_days (created = close - lag),
    growth (share of seats added), is_won, plus the features that set its hazard (for tests).
    """
    cust = pop.customers
    acc = pop.accounts
    utilization = acc["utilization"].fill_null(0.0).to_numpy()[cust]
    lookback = effects.PRICING_WINDOW_DAYS
    visits = np.zeros((last_day - first_day + 1 + lookback, len(cust)), dtype=np.int32)
    for offset, day in enumerate(range(first_day - lookback, last_day + 1)):
        visits[offset] = pricing_visits(pop, day)[1]
    cumulative = np.vstack([np.zeros((1, len(cust)), dtype=np.int64), np.cumsum(visits, axis=0)])
    loss_rate = effects.daily_rate(effects.UPSELL_LOSS_MONTHLY_HAZARD)
    parts: list[pl.DataFrame] = []
    for offset, day in enumerate(range(first_day, last_day + 1)):
        # Visits on the PRICING_WINDOW_DAYS days before `day` (rows offset .. offset+lookback-1).
        window = cumulative[offset + lookback] - cumulative[offset]
        active = pop.active_on(cust, day)
        win_rate = effects.daily_rate(effects.monthly_upsell_hazard(utilization, window))
        g = rng(pop.seed, UPSELL_WIN, day)
        won = active & (g.random(len(cust)) < win_rate)
        lag, growth = g.integers(14, 76, len(cust)), g.uniform(0.1, 0.5, len(cust))
        h = rng(pop.seed, UPSELL_LOSS, day)
        lost = active & ~won & (h.random(len(cust)) < loss_rate)
        lost_lag = h.integers(14, 90, len(cust))
        for mask, is_won, lags in ((won, True, lag), (lost, False, lost_lag)):
            if mask.any():
                parts.append(pl.DataFrame({
                    "a": cust[mask], "close_day": np.full(int(mask.sum()), day, dtype=np.int64),
                    "lag_days": lags[mask], "growth": growth[mask], "is_won": np.full(int(mask.sum()), is_won),
                    "utilization": utilization[mask], "pricing_visits_30d": window[mask].astype(np.int64),
                }))
    schema = {"a": pl.Int64, "close_day": pl.Int64, "lag_days": pl.Int64, "growth": pl.Float64, "is_won": pl.Boolean,
              "utilization": pl.Float64, "pricing_visits_30d": pl.Int64}
    return pl.concat(parts) if parts else pl.DataFrame(schema=schema)
