"""Upsell criteria as hypotheses: how often did a flagged customer buy an upsell soon after? (issue 6)

Method (no Dagster here):
1. `snapshot_dates`: the first of each month whose outcome window has ended by the data date, within
   the configured history and with enough event history before it.
2. `snapshot_features`: the point-in-time upsell features of every account at every snapshot, from
   the nightly segment's own feature SQL (`sql/segments/account_features.sql`, via
   `snapshots_account_features` with crm_fallback=False), for all missing snapshots in one set-based
   query that reads the events once, so a criterion is judged exactly as the segment computes it. Past
   snapshots never change, so they are cached in `readouts.criteria_snapshot_features` and only new
   snapshots are computed each night.
3. `upsell_outcomes`: successes per (snapshot, account) from `sql/readouts/upsell_outcomes.sql`.
4. `evaluate_criteria` (pure Polars): customers at each snapshot are scored with `score_accounts`
   (the criteria flags compiled from config/upsell.yaml) and pooled over snapshots; for every criterion,
   the candidate flag and each score band: flagged vs unflagged success rates, lift, intervals, p-value,
   precision, recall and a verdict.

Account-snapshots are pooled: the same account appears once per snapshot, so observations are not
independent and the intervals are somewhat too narrow (the report says so).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence

import duckdb
import polars as pl

from assets.readouts.readout_config import CriteriaReadoutConfig, ReadoutConfig
from assets.readouts.stats import compare_proportions
from assets.segments.upsell import (
    FEATURE_SCHEMA, SQL_MODEL, UpsellConfig, score_accounts, snapshots_account_features,
)
from assets.sql_files import run_sql, sql_text
from assets.warehouse_tables import registered, replace_table, table_exists

CACHE_TABLE = "readouts.criteria_snapshot_features"
SUPPORTED, NOT_SUPPORTED, NOT_ENOUGH = "supported", "not supported", "not enough data"

PERFORMANCE_SCHEMA: dict[str, pl.DataType] = {
    "criterion": pl.String(),
    "kind": pl.String(),                 # criterion | candidate | score_band
    "description": pl.String(),
    "snapshots": pl.Int64(),
    "first_snapshot": pl.Date(),
    "last_snapshot": pl.Date(),
    "n": pl.Int64(),                     # customer account-snapshots
    "n_flagged": pl.Int64(),
    "n_unflagged": pl.Int64(),
    "successes_flagged": pl.Int64(),
    "successes_unflagged": pl.Int64(),
    "success_rate": pl.Float64(),        # among flagged = precision
    "ci_low": pl.Float64(),              # Wilson interval of success_rate
    "ci_high": pl.Float64(),
    "baseline_rate": pl.Float64(),       # among unflagged customers
    "baseline_ci_low": pl.Float64(),
    "baseline_ci_high": pl.Float64(),
    "lift": pl.Float64(),                # success_rate / baseline_rate
    "lift_ci_low": pl.Float64(),
    "lift_ci_high": pl.Float64(),
    "abs_diff": pl.Float64(),            # success_rate - baseline_rate
    "diff_ci_low": pl.Float64(),
    "diff_ci_high": pl.Float64(),
    "p_value": pl.Float64(),
    "precision": pl.Float64(),
    "recall": pl.Float64(),              # share of all successes that were flagged
    "verdict": pl.String(),
    "reason": pl.String(),
    "outcome_window_days": pl.Int64(),
    "confidence_level": pl.Float64(),
}


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def snapshot_dates(data_date: dt.date, first_event_date: dt.date | None, config: CriteriaReadoutConfig) -> list[dt.date]:
    """First-of-month snapshots, oldest first: the outcome window [s + 1 day, s + 1 + N days) ends by the
    end of `data_date`, at most `history_months` of them, each with `min_event_history_days` of events
    before it. Empty when no event was loaded yet."""
    if first_event_date is None:
        return []
    latest_allowed = data_date - dt.timedelta(days=config.outcome_window_days)
    earliest_allowed = first_event_date + dt.timedelta(days=config.min_event_history_days)
    latest = dt.date(latest_allowed.year, latest_allowed.month, 1)
    dates = [_add_months(latest, -i) for i in range(config.history_months)]
    return sorted(d for d in dates if earliest_allowed <= d <= latest_allowed)


def features_fingerprint(upsell: UpsellConfig, first_event_date: dt.date | None) -> str:
    """What cached snapshot features depend on besides the snapshot date: the feature SQL
    (`sql/segments/account_features.sql`), its config parameters, the feature columns and where the
    event history starts (a backfill changes windows)."""
    payload = json.dumps({
        "sql": sql_text(SQL_MODEL), "params": upsell.sql_params(),
        "columns": list(FEATURE_SCHEMA), "first_event_date": str(first_event_date),
    }, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def _snapshot_fingerprints(con: duckdb.DuckDBPyConnection, snapshots: Sequence[dt.date], base: str) -> dict[dt.date, str]:
    """Per snapshot: `base` (the feature logic) + a digest of the event days landed up to it."""
    if not snapshots:
        return {}
    if table_exists(con, "raw", "load_log"):
        digests = dict(run_sql(con, "readouts/landed_history_digests", {"snapshots": list(snapshots)}).fetchall())
    else:
        digests = {}
    return {s: hashlib.sha256(f"{base}|{digests.get(s, '')}".encode()).hexdigest()[:16] for s in snapshots}


def _cached(con: duckdb.DuckDBPyConnection, expected: dict[dt.date, str]) -> pl.DataFrame | None:
    """Cached rows of the snapshots whose fingerprint still matches (None when there is no usable cache)."""
    if not table_exists(con, "readouts", "criteria_snapshot_features"):
        return None
    cached = con.table(CACHE_TABLE).pl()
    if list(cached.columns) != [*FEATURE_SCHEMA, "fingerprint"]:
        return None
    wanted = pl.DataFrame({"as_of": list(expected), "fingerprint": list(expected.values())},
                          schema={"as_of": pl.Date, "fingerprint": pl.String})
    return cached.join(wanted, on=["as_of", "fingerprint"], how="semi")


def snapshot_features(
    con: duckdb.DuckDBPyConnection,
    snapshots: Sequence[dt.date],
    contact_persona: pl.DataFrame,
    upsell: UpsellConfig,
    first_event_date: dt.date | None,
) -> tuple[pl.DataFrame, int]:
    """Features of every account at every snapshot (`FEATURE_SCHEMA`, `as_of` = the snapshot) and how
    many snapshots had to be computed (the others came from the cache table, which is rewritten to hold
    exactly the current snapshots, each under its fingerprint: feature logic + landed history)."""
    expected = _snapshot_fingerprints(con, snapshots, features_fingerprint(upsell, first_event_date))
    cached = _cached(con, expected)
    have = set(cached["as_of"].to_list()) if cached is not None else set()
    missing = [s for s in snapshots if s not in have]
    # The CRM snapshot columns describe today, never a past night: the SQL is crm_fallback=False.
    fresh = [snapshots_account_features(con, missing, contact_persona, upsell, crm_fallback=False).with_columns(
        fingerprint=pl.col("as_of").replace_strict({s: expected[s] for s in missing}, return_dtype=pl.String))
    ] if missing else []
    parts = ([cached] if cached is not None else []) + fresh
    everything = pl.concat(parts) if parts else pl.DataFrame(schema={**FEATURE_SCHEMA, "fingerprint": pl.String})
    if missing or cached is None:
        replace_table(con, CACHE_TABLE, everything)
    everything = everything.drop("fingerprint")
    wanted = pl.Series("as_of", list(snapshots), dtype=pl.Date)
    return everything.filter(pl.col("as_of").is_in(wanted.implode())), len(missing)


def upsell_outcomes(con: duckdb.DuckDBPyConnection, snapshots: Sequence[dt.date], window_days: int) -> pl.DataFrame:
    """(as_of, account_id, upsells_won) for accounts with a success after the snapshot."""
    with registered(con, "readout_snapshots", pl.DataFrame({"as_of": list(snapshots)}, schema={"as_of": pl.Date})):
        return run_sql(con, "readouts/upsell_outcomes", {"window_days": window_days}).pl()


def label_successes(features: pl.DataFrame, outcomes: pl.DataFrame, upsell: UpsellConfig) -> pl.DataFrame:
    """Customers at each snapshot, scored (criterion flags, score, candidate) with a `success` column."""
    customers = features.filter(pl.col("is_customer").fill_null(False))
    scored = score_accounts(customers, upsell)
    wins = outcomes.select("as_of", "account_id", success=pl.lit(True))
    return scored.join(wins, on=["as_of", "account_id"], how="left").with_columns(pl.col("success").fill_null(False))


def _verdict(n1: int, n2: int, successes: int, p_value: float | None, difference: float | None,
             config: CriteriaReadoutConfig, alpha: float) -> tuple[str, str]:
    if n1 < config.min_n_per_group or n2 < config.min_n_per_group:
        return NOT_ENOUGH, (f"{n1} flagged and {n2} unflagged account-snapshots; each group needs at least "
                            f"{config.min_n_per_group}")
    if successes < config.min_successes:
        return NOT_ENOUGH, f"{successes} successes in all; at least {config.min_successes} are needed"
    if p_value is not None and p_value < alpha and difference is not None and difference > 0:
        return SUPPORTED, f"flagged accounts upsell more often (p = {p_value:.3g})"
    if p_value is not None and p_value < alpha:
        return NOT_SUPPORTED, f"flagged accounts upsell LESS often (p = {p_value:.3g})"
    return NOT_SUPPORTED, f"no significant difference (p = {p_value:.3g})" if p_value is not None else "no test"


def evaluate_criteria(labelled: pl.DataFrame, upsell: UpsellConfig, config: ReadoutConfig) -> pl.DataFrame:
    """One row per criterion, the candidate flag and each score band (`PERFORMANCE_SCHEMA`).

    `labelled`: customer account-snapshots from `label_successes` (as_of, criterion_<name>,
    upsell_score, upsell_candidate, success)."""
    rules = config.criteria
    flags: list[tuple[str, str, str, pl.Expr]] = [
        (c.name, "criterion", c.description, pl.col(c.column).fill_null(False)) for c in upsell.criteria
    ]
    flags.append(("upsell_candidate", "candidate", "The combined candidate rule (config/upsell.yaml candidate_rule).",
                  pl.col("upsell_candidate").fill_null(False)))
    for band in rules.score_bands:
        in_band = pl.col("upsell_score") >= band.low
        if band.high is not None:
            in_band = in_band & (pl.col("upsell_score") < band.high)
        upper = f"< {band.high:g}" if band.high is not None else "and above"
        flags.append((band.name, "score_band", f"upsell_score from {band.low:g} {upper}", in_band.fill_null(False)))
    # One pass over the frame for every count of every flag: vectorised, not a loop over accounts.
    success = pl.col("success")
    counts = labelled.select(
        pl.len().alias("n"),
        success.sum().alias("successes"),
        pl.col("as_of").n_unique().alias("snapshots"),
        pl.col("as_of").min().alias("first_snapshot"),
        pl.col("as_of").max().alias("last_snapshot"),
        *[expr.sum().alias(f"{i}_flagged") for i, (*_, expr) in enumerate(flags)],
        *[(expr & success).sum().alias(f"{i}_hits") for i, (*_, expr) in enumerate(flags)],
    ).row(0, named=True)
    n, total_successes = int(counts["n"]), int(counts["successes"] or 0)
    alpha = 1 - config.confidence_level
    rows = []
    for i, (name, kind, description, _) in enumerate(flags):
        n1, x1 = int(counts[f"{i}_flagged"] or 0), int(counts[f"{i}_hits"] or 0)
        n2, x2 = n - n1, total_successes - x1
        cmp = compare_proportions(x1, n1, x2, n2, config.confidence_level)
        verdict, reason = _verdict(n1, n2, total_successes, cmp.p_value, cmp.difference, rules, alpha)
        if n == 0:
            reason = "no customer account-snapshot with a complete outcome window yet"
        enough = verdict != NOT_ENOUGH
        # Below the minimum n, intervals and p-values would be noise: leave them empty.
        inferential = lambda value: value if enough else None  # noqa: E731
        rows.append({
            "criterion": name, "kind": kind, "description": description,
            "snapshots": int(counts["snapshots"] or 0),
            "first_snapshot": counts["first_snapshot"], "last_snapshot": counts["last_snapshot"],
            "n": n, "n_flagged": n1, "n_unflagged": n2, "successes_flagged": x1, "successes_unflagged": x2,
            "success_rate": cmp.rate_1, "ci_low": inferential(cmp.rate_1_ci[0]), "ci_high": inferential(cmp.rate_1_ci[1]),
            "baseline_rate": cmp.rate_2, "baseline_ci_low": inferential(cmp.rate_2_ci[0]),
            "baseline_ci_high": inferential(cmp.rate_2_ci[1]),
            "lift": inferential(cmp.ratio), "lift_ci_low": inferential(cmp.ratio_ci[0]),
            "lift_ci_high": inferential(cmp.ratio_ci[1]),
            "abs_diff": inferential(cmp.difference), "diff_ci_low": inferential(cmp.difference_ci[0]),
            "diff_ci_high": inferential(cmp.difference_ci[1]), "p_value": inferential(cmp.p_value),
            "precision": cmp.rate_1, "recall": x1 / total_successes if total_successes else None,
            "verdict": verdict, "reason": reason,
            "outcome_window_days": rules.outcome_window_days, "confidence_level": config.confidence_level,
        })
    return pl.DataFrame(rows, schema=PERFORMANCE_SCHEMA)


def first_event_date(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The first day of loaded web/product events (staging.events), None when there is none."""
    return con.execute("select min(event_date) from staging.events").fetchone()[0]


def criteria_performance(
    con: duckdb.DuckDBPyConnection,
    data_date: dt.date,
    contact_persona: pl.DataFrame,
    upsell: UpsellConfig,
    config: ReadoutConfig,
) -> tuple[pl.DataFrame, list[dt.date], int]:
    """The whole readout: (performance table, snapshot dates used, snapshots computed this time)."""
    first = first_event_date(con)
    snapshots = snapshot_dates(data_date, first, config.criteria)
    features, computed = snapshot_features(con, snapshots, contact_persona, upsell, first)
    outcomes = upsell_outcomes(con, snapshots, config.criteria.outcome_window_days)
    labelled = label_successes(features, outcomes, upsell)
    return evaluate_criteria(labelled, upsell, config), snapshots, computed
