"""Audience lift: did members who were sent to the ad platforms convert more than the holdout? (issue 6)

Members are randomised per contact by a stable hash (treatment | holdout, `audiences.memberships`).
For each audience, members whose outcome window (first publish + N days) has ended by the data date are
compared: conversion rate of treatment vs holdout, absolute and relative lift, a Newcombe interval for
the difference, the Katz log interval of the rate ratio (shown as relative lift: ratio - 1) and the
two-proportion z-test p-value (`assets.readouts.stats`). Too few matured members
in either group, or no holdout at all, gives "not enough data yet" instead of numbers.

With `match: account`, treatment and holdout contacts of the same account share the account's
opportunities: the holdout is partly exposed through colleagues, so the measured lift is a lower bound,
and outcomes are clustered by account (intervals somewhat too narrow). `match: contact` avoids both but
misses deals opened under another contact.
"""
from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from assets.readouts.readout_config import ReadoutConfig
from assets.readouts.stats import compare_proportions
from assets.sql_files import run_sql
from assets.warehouse_tables import registered

NOT_ENOUGH = "not enough data yet"
LIFT, DROP, NO_DIFFERENCE = "significant lift", "significant drop", "no significant difference"

MEMBER_SCHEMA: dict[str, pl.DataType] = {
    "audience": pl.String(),
    "contact_id": pl.String(),
    "group": pl.String(),
    "first_published_at": pl.Datetime("us"),
    "window_complete": pl.Boolean(),
    "converted": pl.Boolean(),
}

LIFT_SCHEMA: dict[str, pl.DataType] = {
    "audience": pl.String(),
    "outcome": pl.String(),
    "outcome_window_days": pl.Int64(),
    "first_published_at": pl.Datetime("us"),
    "members_treatment": pl.Int64(),      # all members ever published
    "members_holdout": pl.Int64(),
    "n_treatment": pl.Int64(),            # members whose outcome window has ended (compared)
    "n_holdout": pl.Int64(),
    "conversions_treatment": pl.Int64(),
    "conversions_holdout": pl.Int64(),
    "rate_treatment": pl.Float64(),
    "rate_holdout": pl.Float64(),
    "abs_lift": pl.Float64(),             # rate_treatment - rate_holdout
    "rel_lift": pl.Float64(),             # rate_treatment / rate_holdout - 1
    "rel_lift_ci_low": pl.Float64(),      # Katz interval of the ratio, minus 1 (0.5 added to zero cells)
    "rel_lift_ci_high": pl.Float64(),
    "diff_ci_low": pl.Float64(),
    "diff_ci_high": pl.Float64(),
    "p_value": pl.Float64(),
    "verdict": pl.String(),
    "reason": pl.String(),
    "confidence_level": pl.Float64(),
}


def memberships_exist(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether `audiences.memberships` exists (it is created by the first publish)."""
    return bool(con.execute(
        "select count(*) from information_schema.tables where table_schema = 'audiences' and table_name = 'memberships'"
    ).fetchone()[0])


def member_conversions(con: duckdb.DuckDBPyConnection, data_date: dt.date, config: ReadoutConfig) -> pl.DataFrame:
    """One row per published member (`MEMBER_SCHEMA`) from `sql/readouts/audience_conversions.sql`;
    empty when nothing was published yet."""
    if not memberships_exist(con):
        return pl.DataFrame(schema=MEMBER_SCHEMA)
    audiences = [row[0] for row in con.execute("select distinct audience from audiences.memberships").fetchall()]
    lift = config.audiences
    outcomes = pl.DataFrame(
        [{"audience": a, "event": lift.outcome_for(a).event, "opportunity_types": list(lift.outcome_for(a).opportunity_types),
          "match": lift.outcome_for(a).match} for a in audiences],
        schema={"audience": pl.String, "event": pl.String, "opportunity_types": pl.List(pl.String), "match": pl.String},
    )
    with registered(con, "audience_outcomes", outcomes):
        members = run_sql(con, "readouts/audience_conversions",
                          {"window_days": lift.outcome_window_days, "data_date": data_date}).pl()
    return members.select(list(MEMBER_SCHEMA)).cast(MEMBER_SCHEMA)


def evaluate_audiences(members: pl.DataFrame, config: ReadoutConfig) -> pl.DataFrame:
    """One row per audience (`LIFT_SCHEMA`) from member rows with audience, group, first_published_at,
    window_complete and converted (pure: tests pass hand-made frames)."""
    missing = [c for c in ("audience", "group", "first_published_at", "window_complete", "converted") if c not in members.columns]
    if missing:
        raise ValueError(f"evaluate_audiences: the members frame lacks column(s) {missing}; build it with "
                         "member_conversions()")
    lift = config.audiences
    treatment, holdout = pl.col("group") == "treatment", pl.col("group") == "holdout"
    done = pl.col("window_complete").fill_null(False)
    converted = pl.col("converted").fill_null(False)
    per_audience = members.group_by("audience").agg(
        pl.col("first_published_at").min(),
        treatment.sum().alias("members_treatment"),
        holdout.sum().alias("members_holdout"),
        (treatment & done).sum().alias("n_treatment"),
        (holdout & done).sum().alias("n_holdout"),
        (treatment & done & converted).sum().alias("conversions_treatment"),
        (holdout & done & converted).sum().alias("conversions_holdout"),
    ).sort("audience")
    alpha = 1 - config.confidence_level
    rows = []
    # One iteration per audience (a handful), each a closed-form test on four counts.
    for row in per_audience.iter_rows(named=True):
        n1, n2 = int(row["n_treatment"]), int(row["n_holdout"])
        x1, x2 = int(row["conversions_treatment"]), int(row["conversions_holdout"])
        cmp = compare_proportions(x1, n1, x2, n2, config.confidence_level)
        if row["members_holdout"] == 0:
            verdict, reason = NOT_ENOUGH, "the audience has no holdout members: lift cannot be measured"
        elif n1 < lift.min_n_per_group or n2 < lift.min_n_per_group:
            waiting = (row["members_treatment"] - n1) + (row["members_holdout"] - n2)
            reason = (f"{n1} treatment and {n2} holdout members with a complete {lift.outcome_window_days}-day window; "
                      f"each group needs {lift.min_n_per_group}")
            verdict, reason = NOT_ENOUGH, reason + (f" ({waiting} members still inside their window)" if waiting else "")
        elif cmp.p_value is not None and cmp.p_value < alpha:
            verdict = LIFT if cmp.difference > 0 else DROP
            reason = f"p = {cmp.p_value:.3g}"
        else:
            verdict, reason = NO_DIFFERENCE, f"p = {cmp.p_value:.3g}" if cmp.p_value is not None else "no test"
        enough = verdict != NOT_ENOUGH
        keep = lambda value: value if enough else None  # noqa: E731  (no noise below the minimum n)
        rel = cmp.ratio - 1 if cmp.ratio is not None else None
        rel_ci = tuple(None if bound is None else bound - 1 for bound in cmp.ratio_ci)
        rows.append({
            **row,
            "outcome": lift.outcome_for(row["audience"]).describe(lift.outcome_window_days),
            "outcome_window_days": lift.outcome_window_days,
            "rate_treatment": cmp.rate_1, "rate_holdout": cmp.rate_2,
            "abs_lift": keep(cmp.difference), "rel_lift": keep(rel),
            "rel_lift_ci_low": keep(rel_ci[0]), "rel_lift_ci_high": keep(rel_ci[1]),
            "diff_ci_low": keep(cmp.difference_ci[0]), "diff_ci_high": keep(cmp.difference_ci[1]),
            "p_value": keep(cmp.p_value), "verdict": verdict, "reason": reason,
            "confidence_level": config.confidence_level,
        })
    return pl.DataFrame(rows, schema=LIFT_SCHEMA)


def audience_lift(con: duckdb.DuckDBPyConnection, data_date: dt.date, config: ReadoutConfig) -> pl.DataFrame:
    """The readout table; empty (no rows) when no audience was published yet."""
    return evaluate_audiences(member_conversions(con, data_date, config), config)
