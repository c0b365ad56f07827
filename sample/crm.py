"""The CRM snapshot on the end date: accounts, contacts, opportunities, subscriptions, suppressions.

Canonical landing columns (docs/tables.md), one Polars frame per file, written as CSV. Timestamps are
UTC as `YYYY-MM-DD HH:MM:SS`. A snapshot changes little from one end date to the next: contact dates
follow fixed cycles and opportunities are keyed by (account, close day), so E+1 adds the day's changes.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from sample import effects
from sample.customers import simulate_upsells
from sample.population import Population
from sample.randomness import CRM, NEW_BUSINESS, hex_strings, mix64, rng

ACCOUNT_COLUMNS = ["account_id", "name", "domain", "industry", "employee_count", "annual_revenue", "country", "city",
                   "state", "zip", "created_at"]
CONTACT_COLUMNS = ["contact_id", "account_id", "email", "first_name", "last_name", "job_title", "phone", "city", "state",
                   "zip", "country", "lead_source", "lifecycle_stage", "email_opt_out", "created_at", "updated_at"]
OPPORTUNITY_COLUMNS = ["opportunity_id", "account_id", "contact_id", "type", "stage", "amount", "created_at",
                       "closed_at", "is_won"]
SUBSCRIPTION_COLUMNS = ["subscription_id", "account_id", "plan", "seats_purchased", "seats_active", "mrr", "started_at",
                        "ends_at", "status"]
SUPPRESSION_COLUMNS = ["email", "reason", "added_at"]

_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
UNPARSEABLE_DATE = "31/02/2024"
NON_NUMERIC_AMOUNT = "TBD"
OPEN_STAGES = ("Qualification", "Needs Analysis", "Proposal/Price Quote", "Negotiation/Review")


def at(day: pl.Expr, seconds: pl.Expr | int = 0) -> pl.Expr:
    """A UTC datetime from an ordinal day and seconds after midnight."""
    return (pl.lit(dt.datetime(1970, 1, 1)) + pl.duration(days=day - _EPOCH_ORDINAL, seconds=seconds)).cast(
        pl.Datetime("us"))


def _stable_id(prefix: str, seed: int, *parts: np.ndarray) -> pl.Series:
    return prefix + hex_strings(mix64(seed, *parts), 12)


def snapshot(pop: Population, end_day: int, first_event_day: int) -> dict[str, pl.DataFrame]:
    """All CRM files as of ordinal `end_day` (frames keyed by file name, columns in canonical order)."""
    subscriptions = _subscriptions(pop, end_day)
    active = pop.active_on(np.arange(pop.accounts.height), end_day)
    return {
        "accounts.csv": _accounts(pop),
        "contacts.csv": _contacts(pop, end_day, active),
        "opportunities.csv": _opportunities(pop, end_day, first_event_day),
        "subscriptions.csv": subscriptions,
        "suppressions.csv": _suppressions(pop, end_day),
    }


def _accounts(pop: Population) -> pl.DataFrame:
    return pop.accounts.with_columns(domain=pl.col("crm_domain"),
                                     created_at=at(pl.col("created_day"), pl.col("created_sec"))).select(ACCOUNT_COLUMNS)


def _contact_days(pop: Population, end_day: int) -> pl.DataFrame:
    c = pop.contacts
    created = end_day - np.mod(end_day - c["lead_phase"].to_numpy(), effects.LEAD_PERIOD_DAYS)
    updated = end_day - np.mod(end_day - c["update_phase"].to_numpy(), c["update_period"].to_numpy())
    return pl.DataFrame({"created_day": created, "updated_day": np.maximum(created, updated)})


def _contacts(pop: Population, end_day: int, active: np.ndarray) -> pl.DataFrame:
    c = pop.contacts.hstack(_contact_days(pop, end_day))
    ids = pop.accounts["account_id"]
    stage = (pl.when(pl.Series(active[c["a"].to_numpy()])).then(pl.lit("customer"))
             .when(pl.col("stage_draw") < 0.2).then(pl.lit("subscriber"))
             .when(pl.col("stage_draw") < 0.6).then(pl.lit("lead"))
             .when(pl.col("stage_draw") < 0.82).then(pl.lit("marketingqualifiedlead"))
             .otherwise(pl.lit("salesqualifiedlead")))
    created = at(pl.col("created_day"), pl.col("created_sec"))
    return c.with_columns(
        account_id=ids.gather(c["a"]),
        lifecycle_stage=stage,
        email_opt_out=pl.col("opt_out"),
        created_at=pl.when(pl.col("bad_created")).then(pl.lit(UNPARSEABLE_DATE))
        .otherwise(created.dt.strftime("%Y-%m-%d %H:%M:%S")),
        updated_at=at(pl.col("updated_day"), pl.col("created_sec") + 3600),
    ).select(CONTACT_COLUMNS)


def _current_start(pop: Population, idx: np.ndarray, day: int) -> np.ndarray:
    phase = pop.accounts["sub_phase"].to_numpy()[idx]
    return day - np.mod(day - phase, effects.SUBSCRIPTION_PERIOD_DAYS)


def _subscriptions(pop: Population, end_day: int) -> pl.DataFrame:
    cust = pop.customers
    acc = pop.accounts[cust]
    start = _current_start(pop, cust, end_day)
    length = acc["sub_length"].to_numpy()
    active = (end_day - start) < length
    loyal = acc["loyal"].to_numpy()
    shows_end = acc["shows_contract_end"].to_numpy()
    ends = np.where(~active, start + length, np.where(loyal & shows_end, start + effects.SUBSCRIPTION_PERIOD_DAYS, -1))
    seconds = (mix64(pop.seed, cust, 11) % np.uint64(36_000)).astype(np.int64) + 28_800
    frame = pl.DataFrame({"a": cust, "start": start, "ends": ends, "active": active, "sec": seconds})
    return frame.with_columns(
        subscription_id=_stable_id("sub_", pop.seed, cust, start),
        account_id=acc["account_id"],
        plan=acc["plan"],
        seats_purchased=acc["seats"],
        seats_active=pl.when(pl.col("active")).then(acc["active_users"]).otherwise(0),
        mrr=acc["mrr"],
        started_at=at(pl.col("start"), pl.col("sec")),
        ends_at=pl.when(pl.col("ends") >= 0).then(at(pl.col("ends"), pl.col("sec"))).otherwise(None),
        status=pl.when(pl.col("active")).then(pl.lit("active")).otherwise(pl.lit("cancelled")),
    ).select(SUBSCRIPTION_COLUMNS)


def _opportunities(pop: Population, end_day: int, first_event_day: int) -> pl.DataFrame:
    first = first_event_day - effects.UPSELL_HISTORY_BEFORE_EVENTS_DAYS
    acc = pop.accounts
    price = (acc["mrr"] / acc["seats"].clip(1)).to_numpy()
    upsells = simulate_upsells(pop, first, end_day + effects.OPEN_HORIZON_DAYS).with_columns(
        type=pl.lit("upsell"),
        amount=(pl.col("growth") * pl.lit(acc["seats"]).gather(pl.col("a")).cast(pl.Float64)).ceil()
        * pl.lit(pl.Series(price)).gather(pl.col("a")) * 12,
    ).select("a", "type", "close_day", "lag_days", "is_won", "amount")
    frames = [upsells, _subscription_deals(pop, first, end_day), _lost_new_business(pop, first, end_day)]
    opps = pl.concat(frames).with_columns(created_day=pl.col("close_day") - pl.col("lag_days"))
    opps = opps.filter(pl.col("created_day") <= end_day)
    a = opps["a"].to_numpy()
    close = opps["close_day"].to_numpy()
    kind = opps["type"].replace_strict({"upsell": 1, "renewal": 2, "new_business": 3}, return_dtype=pl.Int64).to_numpy()
    hashed = mix64(pop.seed, a, close, kind)
    # Primary contact rows are stored grouped by account (duplicates come after them).
    primaries = pop.contacts.filter(~pl.col("is_duplicate"))
    counts = np.bincount(primaries["a"].to_numpy(), minlength=acc.height)
    firsts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    contact_row = firsts[a] + (hashed % np.maximum(counts[a], 1).astype(np.uint64)).astype(np.int64)
    contact_ids = primaries["contact_id"].gather(contact_row)
    seconds = (hashed % np.uint64(30_000)).astype(np.int64) + 30_000
    is_closed = close <= end_day
    stage_idx = ((end_day - opps["created_day"].to_numpy()) * len(OPEN_STAGES)
                 // np.maximum(opps["lag_days"].to_numpy(), 1)).clip(0, len(OPEN_STAGES) - 1)
    frame = opps.with_columns(
        opportunity_id=_stable_id("opp_", pop.seed, a, close, kind),
        account_id=acc["account_id"].gather(opps["a"]),
        contact_id=pl.when(pl.Series((hashed >> np.uint64(40)) % np.uint64(20) == 0)).then(None).otherwise(contact_ids),
        closed=pl.Series(is_closed),
        sec=pl.Series(seconds),
        open_stage=pl.Series(OPEN_STAGES).gather(stage_idx),
    ).with_columns(
        stage=pl.when(~pl.col("closed")).then(pl.col("open_stage"))
        .when(pl.col("is_won")).then(pl.lit("Closed Won")).otherwise(pl.lit("Closed Lost")),
        is_won=pl.col("closed") & pl.col("is_won"),
        created_at=at(pl.col("created_day"), pl.col("sec")),
        closed_at=pl.when(pl.col("closed")).then(at(pl.col("close_day"), pl.col("sec") + 1800)).otherwise(None),
        amount=pl.col("amount").round(2).cast(pl.String),
    ).sort("close_day", "opportunity_id")
    # One row with an amount that is not a number (someone typed it into the CRM), on a lost deal.
    bad = frame.select((pl.col("type").eq("new_business") & ~pl.col("is_won") & pl.col("closed")).arg_max()).item()
    frame = frame.with_columns(amount=pl.when(pl.int_range(pl.len()) == bad).then(pl.lit(NON_NUMERIC_AMOUNT))
                               .otherwise(pl.col("amount")))
    return frame.select(OPPORTUNITY_COLUMNS)


def _subscription_deals(pop: Population, first: int, end_day: int) -> pl.DataFrame:
    """The won deal behind each subscription start in the window: renewals for loyal customers,
    new business (won back) for the others."""
    cust = pop.customers
    loyal = pop.accounts["loyal"].to_numpy()[cust]
    mrr = pop.accounts["mrr"].to_numpy()[cust]
    rows = []
    start = _current_start(pop, cust, end_day)
    while True:
        keep = start >= first
        if not keep.any():
            break
        rows.append(pl.DataFrame({
            "a": cust[keep], "type": np.where(loyal[keep], "renewal", "new_business"), "close_day": start[keep],
            "lag_days": 20 + (mix64(pop.seed, cust[keep], start[keep]) % np.uint64(70)).astype(np.int64),
            "is_won": np.ones(int(keep.sum()), dtype=bool), "amount": mrr[keep] * 12.0,
        }))
        start = start - effects.SUBSCRIPTION_PERIOD_DAYS
    return pl.concat(rows) if rows else pl.DataFrame(schema={"a": pl.Int64, "type": pl.String, "close_day": pl.Int64,
                                                             "lag_days": pl.Int64, "is_won": pl.Boolean,
                                                             "amount": pl.Float64})


def _lost_new_business(pop: Population, first: int, end_day: int) -> pl.DataFrame:
    """New-business deals with prospects that were lost or are still open (constant hazard)."""
    n = pop.accounts.height
    every = np.arange(n)
    rate = effects.daily_rate(effects.NEW_BUSINESS_LOSS_MONTHLY_HAZARD)
    emp = pop.accounts["employees"].to_numpy().astype(float)
    parts = []
    for day in range(first, end_day + 60):
        g = rng(pop.seed, NEW_BUSINESS, day)
        hit = (g.random(n) < rate) & ~pop.active_on(every, day)
        if hit.any():
            k = int(hit.sum())
            parts.append(pl.DataFrame({
                "a": every[hit], "type": np.full(k, "new_business"), "close_day": np.full(k, day, dtype=np.int64),
                "lag_days": g.integers(20, 120, k), "is_won": np.zeros(k, dtype=bool),
                "amount": np.round(np.clip(emp[hit], 5, 500) * g.uniform(200, 600, k), -2),
            }))
    return pl.concat(parts)


def _suppressions(pop: Population, end_day: int) -> pl.DataFrame:
    """Half of the opted-out people (emails typed differently than in the CRM), some bounced or
    complaining contacts that did not opt out, and addresses that match no contact at all."""
    c = pop.contacts.hstack(_contact_days(pop, end_day)).filter(pl.col("email_valid"))
    draw = pl.Series((mix64(pop.seed, c["j"].to_numpy(), 5) % np.uint64(1000)).astype(np.int64))
    c = c.with_columns(draw=draw)
    listed = c.filter((pl.col("opt_out") & (pl.col("draw") < 500)) | (~pl.col("opt_out") & (pl.col("draw") < 10)))
    known = listed.with_columns(
        email=pl.when(pl.col("draw") % 3 == 0).then(pl.col("email_person").str.to_uppercase())
        .when(pl.col("draw") % 3 == 1).then(" " + pl.col("email_person") + " ").otherwise(pl.col("email_person")),
        reason=pl.when(pl.col("opt_out")).then(pl.lit("unsubscribed"))
        .when(pl.col("draw") % 2 == 0).then(pl.lit("bounced")).otherwise(pl.lit("complaint")),
        added_at=at(pl.col("updated_day"), 43_200),
    ).select(SUPPRESSION_COLUMNS)
    n_unknown = max(3, pop.profile.contacts // 200)
    r = rng(pop.seed, CRM, 1)
    unknown = pl.DataFrame({"k": np.arange(n_unknown), "day": r.integers(0, 900, n_unknown)}).with_columns(
        email=pl.format("former.user{}@{}", pl.col("k"), pl.lit(pl.Series(["gmail.com", "yahoo.com", "example.org"]))
                        .gather(pl.col("k") % 3)),
        reason=pl.lit("legal_request"),
        added_at=at(pl.min_horizontal(pl.lit(dt.date(2024, 1, 1).toordinal()) + pl.col("day"), pl.lit(end_day)),
                    36_000),
    ).select(SUPPRESSION_COLUMNS)
    return pl.concat([known, unknown])
