"""The true effects built into the sample data, as constants the readout tests can import.

The simulated world (see `sample/__init__.py`) is stationary: customers, their seat use and their
interest in pricing are defined for every calendar day, so any window of days can be generated and a
day's data never depends on which window was asked for.

Seat utilisation. Every customer account has a utilisation u = active_users / seats_purchased, with
active_users = round(u * seats_purchased) fixed contacts of the account. Each of them uses the product
at least once every `ACTIVE_USER_CADENCE_DAYS` days while the subscription is active, so the number of
distinct product users in ANY 30-day window equals active_users, and CRM `seats_active` equals it now.

Upsell. While a subscription is active, a WON upsell opportunity closes on a given day with the daily
rate equivalent to a monthly hazard of
    UPSELL_BASE_MONTHLY_HAZARD
    x HIGH_UTILIZATION_HAZARD_RATIO  if u >= HIGH_UTILIZATION
    x PRICING_HAZARD_RATIO           if the account had >= PRICING_VISITS_MIN visits to /pricing in the
                                     PRICING_WINDOW_DAYS days before that day (the visits are in the
                                     web events, by the account's product users).
Tenure and company size have no effect (ratios of 1); neither do /upgrade visits, product event
volume or decision makers. Lost upsells arrive at a constant rate that depends on nothing. Upsells are
simulated from `UPSELL_HISTORY_BEFORE_EVENTS_DAYS` before the first event day until `OPEN_HORIZON_DAYS`
after the last, so opportunities that close after the snapshot show as open.

Audience lift (`sample.outcomes`). After an audience is published on day P, each member of an audience
given an effect converts (one opportunity, attached to the member and their account) with probability
    AUDIENCE_HOLDOUT_CONVERSION                         in the holdout
    AUDIENCE_HOLDOUT_CONVERSION x AUDIENCE_LIFT_MULTIPLE in the treatment group (the ads work)
(a multiple of 1 is an audience with no effect). The group is the pipeline's own holdout hash. The
opportunity is created 1..AUDIENCE_OUTCOME_CREATED_DAYS days after P; at a customer it is an upsell won
AUDIENCE_OUTCOME_WIN_LAG_DAYS later at most, at a prospect an open new-business deal. Both count as a
conversion under every outcome of config/readouts.yaml (created new_business/upsell, or won upsell),
inside its 90-day window. With `match: contact` the true relative lift is exactly multiple - 1; with
`match: account` colleagues in the other group share deals, so the measured lift is smaller.
"""
from __future__ import annotations

import numpy as np

UPSELL_BASE_MONTHLY_HAZARD = 0.03
HIGH_UTILIZATION = 0.8
HIGH_UTILIZATION_HAZARD_RATIO = 3.0
PRICING_VISITS_MIN = 2
PRICING_WINDOW_DAYS = 30
PRICING_HAZARD_RATIO = 2.0
TENURE_HAZARD_RATIO = 1.0
COMPANY_SIZE_HAZARD_RATIO = 1.0
UPGRADE_PAGE_HAZARD_RATIO = 1.0
UPSELL_LOSS_MONTHLY_HAZARD = 0.02
NEW_BUSINESS_LOSS_MONTHLY_HAZARD = 0.01
ACTIVE_USER_CADENCE_DAYS = 14
AUDIENCE_HOLDOUT_CONVERSION = 0.10
AUDIENCE_LIFT_MULTIPLE = 2.0
AUDIENCE_OUTCOME_CREATED_DAYS = 45
AUDIENCE_OUTCOME_WIN_LAG_DAYS = 40
UPSELL_HISTORY_BEFORE_EVENTS_DAYS = 365
OPEN_HORIZON_DAYS = 120

# Daily /pricing visit rate per customer account: a persistent trait (a minority keeps looking).
PRICING_RATE_HIGH, PRICING_RATE_LOW, PRICING_HIGH_SHARE = 0.2, 0.01, 0.3
UPGRADE_RATE = 0.03
# Share of customer accounts with u >= HIGH_UTILIZATION (before rounding to whole seats).
HIGH_UTILIZATION_SHARE = 0.3

# Lifecycles, in days. Subscriptions renew (or churn and are won back) every SUBSCRIPTION_PERIOD_DAYS;
# a contact's lead record is (re)created every LEAD_PERIOD_DAYS; browsers lose cookies every COOKIE_DAYS.
SUBSCRIPTION_PERIOD_DAYS = 1095
LEAD_PERIOD_DAYS = 2160
COOKIE_DAYS = 180
PRE_LEAD_DAYS = 60


def daily_rate(monthly_hazard: np.ndarray | float) -> np.ndarray:
    """The daily probability that gives `monthly_hazard` over 30 days."""
    return 1.0 - np.power(1.0 - np.asarray(monthly_hazard, dtype=float), 1.0 / 30.0)


def monthly_upsell_hazard(utilization: np.ndarray, pricing_visits_30d: np.ndarray) -> np.ndarray:
    """The true monthly hazard of a won upsell for customers with these features (vectorised)."""
    hazard = np.full(np.shape(utilization), UPSELL_BASE_MONTHLY_HAZARD, dtype=float)
    hazard = np.where(np.asarray(utilization) >= HIGH_UTILIZATION - 1e-9, hazard * HIGH_UTILIZATION_HAZARD_RATIO, hazard)
    return np.where(np.asarray(pricing_visits_30d) >= PRICING_VISITS_MIN, hazard * PRICING_HAZARD_RATIO, hazard)
