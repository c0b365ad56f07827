"""What happens after a publish: CRM opportunities of audience members with a KNOWN audience effect.

The sample's CRM is a snapshot on the end date, and the pipeline publishes audiences on that data date,
so nothing in it can answer "did the members convert afterwards?". `write_audience_outcomes` writes
that answer into the landing folder: for each audience given an effect multiple, every member's group
(treatment | holdout) is decided by the pipeline's own hash (`assets.audiences.holdout.hash_unit`, so
the two can never disagree), and the member converts with the probability of `sample.effects`
(holdout rate, times the multiple in treatment). The opportunities are appended to
`crm/opportunities.csv` as the CRM would show them on `as_of`: created by then, won by then or open.

    generate(landing, end_date=P)                  # the world up to the publish day P
    ... nightly run on P publishes audiences (audiences.memberships) ...
    write_audience_outcomes(landing, members, published_on=P, as_of=P + 89 days,
                            multiples={"nurture-general": 2.0, "upsell-decision-makers": 1.0})
    ... reload the CRM, run the readout on the later data date ...

Only these outcomes are added after P (the rest of the world stays as of P), so the true rates are
exactly the ones in `sample.effects` plus whatever the snapshot already had on day P itself. Each
member's draw is keyed by (seed, audience, contact), never by row order: the same member gets the same
outcome whatever else is in the frame, and a later `as_of` only reveals more of the same outcomes.
"""
from __future__ import annotations

import datetime as dt
import zlib
from pathlib import Path
from typing import Mapping

import numpy as np
import polars as pl

from assets.audiences.holdout import hash_unit
from sample import effects
from sample.crm import OPPORTUNITY_COLUMNS, OPEN_STAGES, at
from sample.generate import CSV_DATETIME, DEFAULT_SEED, _write_if_changed
from sample.population import Population, build_population
from sample.profiles import parse_scale
from sample.randomness import AUDIENCE_OUTCOME, hex_strings, mix64

OPPORTUNITIES_FILE = Path("crm") / "opportunities.csv"
DEFAULT_HOLDOUT_SHARE = 0.10  # config/audiences.yaml's default


def member_groups(members: pl.DataFrame, holdout_shares: Mapping[str, float] | None = None) -> pl.DataFrame:
    """`members` (audience, contact_id) with `group`: holdout when hash_unit(audience, contact_id) is below
    the audience's holdout share (default 0.10), as assets/audiences/holdout.py decides it."""
    shares = dict(holdout_shares or {})
    # One call of the pipeline's own function per member (thousands in a test): the point is to use
    # exactly its formula, not a second implementation that could drift from it.
    units = [hash_unit(a, c) for a, c in zip(members["audience"], members["contact_id"])]
    share = pl.col("audience").replace_strict(shares, default=DEFAULT_HOLDOUT_SHARE, return_dtype=pl.Float64)
    return members.with_columns(hash_unit=pl.Series(units, dtype=pl.Float64)).with_columns(
        group=pl.when(pl.col("hash_unit") < share).then(pl.lit("holdout")).otherwise(pl.lit("treatment")),
    ).drop("hash_unit")


def conversion_probability(group: pl.Expr, multiple: pl.Expr) -> pl.Expr:
    """The true probability that a member converts after the publish (sample.effects)."""
    base = pl.lit(effects.AUDIENCE_HOLDOUT_CONVERSION)
    return pl.when(group == "treatment").then(base * multiple).otherwise(base)


def _check_members(members: pl.DataFrame, multiples: Mapping[str, float]) -> pl.DataFrame:
    """The members of the audiences given an effect; each contact in at most one of them (a deal of
    a contact in two audiences would count for both, and neither true rate would hold)."""
    missing = [c for c in ("audience", "contact_id") if c not in members.columns]
    if missing:
        raise ValueError(f"audience outcomes: the members frame lacks {missing} (audiences.memberships has both)")
    bad = {a: m for a, m in multiples.items() if not 0 <= m * effects.AUDIENCE_HOLDOUT_CONVERSION <= 1}
    if bad:
        raise ValueError(f"audience outcomes: multiples {bad} give a conversion probability outside [0, 1]")
    chosen = members.select("audience", "contact_id").unique().filter(pl.col("audience").is_in(list(multiples)))
    shared = chosen.group_by("contact_id").len().filter(pl.col("len") > 1)
    if shared.height:
        raise ValueError(f"audience outcomes: {shared.height} contact(s) are in more than one of {sorted(multiples)}; "
                         "give effects to audiences without common members (e.g. different nurture tracks)")
    return chosen


def draw_outcomes(pop: Population, members: pl.DataFrame, published_on: dt.date, multiples: Mapping[str, float],
                  holdout_shares: Mapping[str, float] | None = None) -> pl.DataFrame:
    """One row per member of the audiences in `multiples`: audience, contact_id, group, account index `a`,
    `probability` (true), `converts`, and for converters `created_day` / `close_day` (ordinals, close_day
    null for open deals) and `kind` (upsell at an active customer, else new_business). Members unknown
    to the population (not a sample contact) are left out."""
    chosen = member_groups(_check_members(members, multiples), holdout_shares)
    contacts = pop.contacts.select("contact_id", "j", "a")
    frame = chosen.join(contacts, on="contact_id", how="inner").sort("audience", "contact_id")
    j, a = frame["j"].to_numpy(), frame["a"].to_numpy()
    audience_key = np.array([zlib.crc32(name.encode("utf-8")) for name in frame["audience"]], dtype=np.uint64)
    h = mix64(pop.seed, AUDIENCE_OUTCOME, audience_key, j)
    uniform = (h >> np.uint64(11)).astype(np.float64) / 2.0**53
    second = mix64(h, 1)
    published = published_on.toordinal()
    created = published + 1 + (second % np.uint64(effects.AUDIENCE_OUTCOME_CREATED_DAYS)).astype(np.int64)
    lag = 1 + ((second >> np.uint64(20)) % np.uint64(effects.AUDIENCE_OUTCOME_WIN_LAG_DAYS)).astype(np.int64)
    customer = pop.active_on(a, published)
    frame = frame.with_columns(
        multiple=pl.col("audience").replace_strict(dict(multiples), return_dtype=pl.Float64),
        uniform=pl.Series(uniform), created=pl.Series(created), lag=pl.Series(lag), customer=pl.Series(customer),
    ).with_columns(probability=conversion_probability(pl.col("group"), pl.col("multiple")))
    converts = pl.col("uniform") < pl.col("probability")
    return frame.with_columns(
        converts=converts,
        created_day=pl.when(converts).then(pl.col("created")),
        close_day=pl.when(converts & pl.col("customer")).then(pl.col("created") + pl.col("lag")),
        kind=pl.when(pl.col("customer")).then(pl.lit("upsell")).otherwise(pl.lit("new_business")),
        hash=pl.Series(h),
    ).drop("uniform", "created", "lag", "multiple")


def outcome_opportunities(pop: Population, outcomes: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """The converters' opportunities as `crm/opportunities.csv` shows them on `as_of` (text columns in
    canonical order): only deals created by then; won by then (upsells) or still open."""
    end = as_of.toordinal()
    deals = outcomes.filter(pl.col("converts") & (pl.col("created_day") <= end))
    seconds = (deals["hash"].to_numpy() % np.uint64(30_000)).astype(np.int64) + 30_000
    won = pl.col("close_day").is_not_null() & (pl.col("close_day") <= end)
    text = lambda expr: expr.dt.strftime(CSV_DATETIME)  # noqa: E731  (the generator's CSV format)
    return deals.with_columns(sec=pl.Series(seconds, dtype=pl.Int64)).with_columns(
        opportunity_id="opp_" + hex_strings(mix64(deals["hash"].to_numpy(), 2), 12),
        account_id=pop.accounts["account_id"].gather(deals["a"]),
        type=pl.col("kind"),
        stage=pl.when(won).then(pl.lit("Closed Won")).otherwise(pl.lit(OPEN_STAGES[0])),
        amount=pl.when(pl.col("kind") == "upsell").then(pl.lit("6000.0")).otherwise(pl.lit("12000.0")),
        created_at=text(at(pl.col("created_day"), pl.col("sec"))),
        closed_at=pl.when(won).then(text(at(pl.col("close_day"), pl.col("sec") + 1800))),
        is_won=pl.when(won).then(pl.lit("true")).otherwise(pl.lit("false")),
    ).select(OPPORTUNITY_COLUMNS)


def append_opportunities(landing: Path, new: pl.DataFrame) -> bool:
    """Add `new` rows to the landing folder's crm/opportunities.csv, replacing rows with the same
    opportunity_id (so a second call, or a later as_of, never duplicates a deal); True if written."""
    path = Path(landing) / OPPORTUNITIES_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: generate the sample first (python -m sample.generate --out {landing})")
    current = pl.read_csv(path, infer_schema=False)
    kept = current.join(new.select("opportunity_id"), on="opportunity_id", how="anti")
    combined = pl.concat([kept, new.select(current.columns)])
    return _write_if_changed(path, combined.write_csv().encode("utf-8"))


def write_audience_outcomes(landing: Path, members: pl.DataFrame, published_on: dt.date, as_of: dt.date,
                            multiples: Mapping[str, float], holdout_shares: Mapping[str, float] | None = None,
                            scale: str = "small", seed: int = DEFAULT_SEED) -> pl.DataFrame:
    """Append the post-publish opportunities of the members of `multiples`' audiences (treatment
    converts at multiple x the holdout rate) to `landing`/crm/opportunities.csv as of `as_of`.

    `members` has audience and contact_id (e.g. audiences.memberships); `scale` and `seed` must be the
    ones the sample was generated with. Returns the per-member draws (`draw_outcomes`), the truth a test
    compares the readout with."""
    if as_of < published_on:
        raise ValueError(f"audience outcomes: as_of {as_of} is before the publish day {published_on}")
    pop = build_population(seed, parse_scale(scale))
    outcomes = draw_outcomes(pop, members, published_on, multiples, holdout_shares)
    append_opportunities(landing, outcome_opportunities(pop, outcomes, as_of))
    return outcomes.drop("hash")
