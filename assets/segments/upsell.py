"""Upsell: which current customers are primed to spend more (issue 3), point-in-time (issue 6).

Three pure steps, no Dagster:
- `load_upsell_config()` reads `config/upsell.yaml`: named criteria (hypotheses) in the rule language
  (`assets/rule_expressions.py`), the candidate rule, decision-maker seniorities, page paths.
- `snapshots_account_features(con, snapshots, contact_persona)` runs `sql/segments/account_features.sql`:
  one row per (snapshot, account), using only data before the end of each snapshot, all snapshots in one
  set-based query (the readouts rebuild many past nights with it); `account_features(con, as_of,
  contact_persona)` is the one-night form the nightly segment uses.
- `score_accounts(features, config)` adds `criterion_<name>` flags, `upsell_criteria_met`,
  `upsell_score` and `upsell_candidate`.

Scoring decision: criterion flags (and `upsell_criteria_met`) are computed for every account, so a
readout can compare flagged and unflagged accounts of any kind; `upsell_score` is only defined for
current customers (null otherwise: "not scored", not "scored zero"); `upsell_candidate` is true only
for customers whose candidate rule holds. A feature that is null never meets a criterion.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from assets.config_files import ConfigError, load_yaml, require
from assets.rule_expressions import RuleError, compile_rule
from assets.sql_files import run_sql
from assets.warehouse_tables import registered

CONFIG_FILE = "upsell.yaml"
SQL_MODEL = "segments/account_features"

# Output of sql/segments/account_features.sql, in order; also what criteria are checked against.
FEATURE_SCHEMA: dict[str, pl.DataType] = {
    "account_id": pl.String(),
    "is_customer": pl.Boolean(),
    "seats_purchased": pl.Int64(),
    "active_seats_30d": pl.Int64(),
    "active_seats_30d_prior": pl.Int64(),
    "seat_utilization": pl.Float64(),
    "seat_utilization_source": pl.String(),
    "active_seat_growth_90d": pl.Float64(),
    "product_events_30d": pl.Int64(),
    "pricing_page_visits_30d": pl.Int64(),
    "upgrade_page_visits_30d": pl.Int64(),
    "engaged_decision_makers_90d": pl.Int64(),
    "tenure_days": pl.Int32(),
    "mrr": pl.Float64(),
    "open_upsell_opportunity": pl.Boolean(),
    "latest_night": pl.Boolean(),
    "as_of": pl.Date(),
}
PERSONA_COLUMNS = ("contact_id", "persona_seniority", "persona_function")
SENIORITIES = ("owner", "cxo", "vp", "director", "manager", "senior", "entry", "intern")
CRITERION_NAME = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
CRITERION_KEYS = {"name", "description", "rule", "weight"}
TOP_KEYS = {
    "criteria", "candidate_rule", "decision_maker_seniorities", "pricing_page_paths",
    "upgrade_page_paths", "product_events", "cancelled_statuses",
}


@dataclass(frozen=True)
class Criterion:
    """One upsell hypothesis: a named rule over the account features and its weight in the score."""

    name: str
    description: str
    rule: str | dict[str, Any]
    weight: float

    @property
    def column(self) -> str:
        """The flag column in the segment table, `criterion_<name>`."""
        return f"criterion_{self.name}"


@dataclass(frozen=True)
class UpsellConfig:
    """`config/upsell.yaml`, validated."""

    path: Path
    criteria: tuple[Criterion, ...]
    candidate_rule: str | dict[str, Any]
    decision_maker_seniorities: tuple[str, ...]
    pricing_page_paths: tuple[str, ...]
    upgrade_page_paths: tuple[str, ...]
    product_events: tuple[str, ...]
    cancelled_statuses: tuple[str, ...]

    @property
    def criterion_columns(self) -> list[str]:
        """The `criterion_<name>` columns, in config order."""
        return [c.column for c in self.criteria]

    def sql_params(self) -> dict[str, Any]:
        """The config part of the parameters of `sql/segments/account_features.sql`."""
        return {
            "product_events": list(self.product_events),
            "pricing_paths": list(self.pricing_page_paths),
            "upgrade_paths": list(self.upgrade_page_paths),
            "decision_seniorities": list(self.decision_maker_seniorities),
            "cancelled_statuses": list(self.cancelled_statuses),
        }


def scored_schema(criteria: tuple[Criterion, ...] | list[Criterion]) -> dict[str, pl.DataType]:
    """Columns the candidate rule may use: the features, each criterion flag and the score."""
    return {
        **FEATURE_SCHEMA,
        **{c.column: pl.Boolean() for c in criteria},
        "upsell_criteria_met": pl.List(pl.String()),
        "upsell_score": pl.Float64(),
    }


def _string_list(data: dict[str, Any], key: str, path: Path, allowed: tuple[str, ...] = ()) -> tuple[str, ...]:
    values = require(data, key, list, path)
    if not values:
        raise ConfigError(path, key, "give at least one value")
    for i, value in enumerate(values):
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(path, f"{key}[{i}]", f"expected a non-empty text value, got {value!r}")
        if allowed and value not in allowed:
            raise ConfigError(path, f"{key}[{i}]", f"{value!r} is not one of: {', '.join(allowed)}")
    return tuple(v.strip() for v in values)


def _paths(data: dict[str, Any], key: str, path: Path) -> tuple[str, ...]:
    values = _string_list(data, key, path)
    for i, value in enumerate(values):
        if not value.startswith("/"):
            raise ConfigError(path, f"{key}[{i}]", f"a page path starts with '/', e.g. /pricing (got {value!r})")
    return values


def _check_rule(rule: Any, columns: Mapping[str, pl.DataType], path: Path, where: str) -> None:
    try:
        compile_rule(rule, columns)
    except RuleError as exc:
        raise ConfigError(path, where, str(exc)) from None


def _criterion(item: Any, i: int, path: Path) -> Criterion:
    where = f"criteria[{i}]"
    if not isinstance(item, dict):
        raise ConfigError(path, where, "each criterion is a mapping with name, description, rule, weight")
    unknown = set(item) - CRITERION_KEYS
    if unknown:
        raise ConfigError(path, where, f"unknown key(s) {sorted(map(str, unknown))}; allowed: "
                          f"{', '.join(sorted(CRITERION_KEYS))}")
    name = require(item, "name", str, path, where)
    if not CRITERION_NAME.match(name):
        raise ConfigError(path, f"{where}.name", f"{name!r} must be snake_case: lowercase letters, digits and _, "
                          "starting with a letter, at most 48 characters")
    description = require(item, "description", str, path, where)
    rule = require(item, "rule", (str, dict), path, where)
    weight = require(item, "weight", (int, float), path, where)
    if not math.isfinite(weight):
        raise ConfigError(path, f"{where}.weight", f"expected a finite number, got {weight!r}")
    _check_rule(rule, FEATURE_SCHEMA, path, f"{where}.rule")
    return Criterion(name=name, description=description.strip(), rule=rule, weight=float(weight))


def load_upsell_config(config_dir: Path | None = None) -> UpsellConfig:
    """Read and validate `config/upsell.yaml`; a ConfigError names the file, the key and the fix."""
    path, data = load_yaml(CONFIG_FILE, config_dir)
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise ConfigError(path, ", ".join(sorted(map(str, unknown))),
                          f"unknown key(s); allowed: {', '.join(sorted(TOP_KEYS))}")
    items = require(data, "criteria", list, path)
    if not items:
        raise ConfigError(path, "criteria", "declare at least one criterion")
    criteria = tuple(_criterion(item, i, path) for i, item in enumerate(items))
    seen: set[str] = set()
    for i, criterion in enumerate(criteria):
        if criterion.name in seen:
            raise ConfigError(path, f"criteria[{i}].name", f"{criterion.name!r} is used twice; names must be unique")
        seen.add(criterion.name)
    candidate_rule = require(data, "candidate_rule", (str, dict), path)
    _check_rule(candidate_rule, scored_schema(criteria), path, "candidate_rule")
    return UpsellConfig(
        path=path,
        criteria=criteria,
        candidate_rule=candidate_rule,
        decision_maker_seniorities=_string_list(data, "decision_maker_seniorities", path, SENIORITIES),
        pricing_page_paths=_paths(data, "pricing_page_paths", path),
        upgrade_page_paths=_paths(data, "upgrade_page_paths", path),
        product_events=_string_list(data, "product_events", path),
        cancelled_statuses=tuple(s.lower() for s in _string_list(data, "cancelled_statuses", path)),
    )


def snapshots_account_features(
    con: duckdb.DuckDBPyConnection,
    snapshots: Sequence[dt.date],
    contact_persona: pl.DataFrame,
    config: UpsellConfig | None = None,
    crm_fallback: bool = True,
) -> pl.DataFrame:
    """Upsell features of every account at every snapshot (`as_of`), point-in-time (only data before
    as_of + 1 day), ordered by as_of, account_id, from one set-based query
    (`sql/segments/account_features.sql`). Columns: `FEATURE_SCHEMA`.

    `contact_persona`: one row per contact with contact_id, persona_seniority, persona_function (from
    the persona classifier). `crm_fallback=False` never uses the CRM's seats_active snapshot (the SQL
    also only uses it on a latest night: no event landed after as_of)."""
    config = config or load_upsell_config()
    missing = [c for c in PERSONA_COLUMNS if c not in contact_persona.columns]
    if missing:
        raise ValueError(f"contact_persona lacks column(s) {missing}: pass contact_id, persona_seniority, "
                         "persona_function (one row per contact)")
    if not snapshots:
        return pl.DataFrame(schema=FEATURE_SCHEMA)
    persona = contact_persona.select(pl.col(c).cast(pl.String) for c in PERSONA_COLUMNS)
    with registered(con, "contact_persona", persona):
        params = {"snapshots": list(snapshots), "crm_fallback": crm_fallback, **config.sql_params()}
        result = run_sql(con, SQL_MODEL, params)
        features = pl.from_arrow(result.to_arrow_table())
    return features.cast(FEATURE_SCHEMA)


def account_features(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    contact_persona: pl.DataFrame,
    config: UpsellConfig | None = None,
    crm_fallback: bool = True,
) -> pl.DataFrame:
    """Upsell features, one row per account, point-in-time at `as_of` (only data before as_of + 1 day):
    `snapshots_account_features` for the one snapshot `as_of`. Columns: `FEATURE_SCHEMA`."""
    return snapshots_account_features(con, [as_of], contact_persona, config, crm_fallback)


def score_accounts(features: pl.DataFrame, config: UpsellConfig) -> pl.DataFrame:
    """Add `criterion_<name>` (bool, every account), `upsell_criteria_met` (names in config order),
    `upsell_score` (sum of weights met; customers only, null otherwise) and `upsell_candidate`
    (a customer whose candidate rule holds)."""
    if "is_customer" not in features.columns:
        raise ValueError("score_accounts: the features frame has no is_customer column; build it with "
                         "account_features()")
    schema = dict(features.schema)
    flags = [
        compile_rule(c.rule, schema, where=f"{config.path}: criteria[{i}].rule").alias(c.column)
        for i, c in enumerate(config.criteria)
    ]
    scored = features.with_columns(flags)
    is_customer = pl.col("is_customer").fill_null(False)
    met = pl.concat_list(
        [pl.when(pl.col(c.column)).then(pl.lit(c.name)).otherwise(pl.lit(None, dtype=pl.String)) for c in config.criteria]
    ).list.drop_nulls()
    score = pl.sum_horizontal(pl.col(c.column).cast(pl.Float64) * c.weight for c in config.criteria)
    scored = scored.with_columns(
        met.alias("upsell_criteria_met"),
        pl.when(is_customer).then(score).otherwise(pl.lit(None, dtype=pl.Float64)).alias("upsell_score"),
    )
    candidate = compile_rule(config.candidate_rule, dict(scored.schema), where=f"{config.path}: candidate_rule")
    return scored.with_columns((is_customer & candidate).alias("upsell_candidate"))
