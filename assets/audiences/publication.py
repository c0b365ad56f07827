"""Publish one audience to each of its destinations, log every outcome, record memberships.

No Dagster here: the export assets (`assets/exports/assets.py`) call `publish_audience` and turn the
result into metadata. The steps:

1. read the audience's treatment members with their contact and account fields
   (`sql/audiences/export_members.sql`; holdout members are never read, so never exported);
2. if the audience has a `min_size` and fewer treatment members, skip every destination;
3. otherwise render each destination (`Destination.render`, two at a time) and hand the rows to the publisher, which
   skips a destination below its own minimum, finds unchanged lists, and writes adds/removes; a
   destination that fails is logged as `failed` and the others still publish;
4. append the outcomes to `audiences.publish_log` (a re-run of the same night adds nothing:
   `sql/audiences/log_publishes.sql`);
5. when at least one destination was published or unchanged, upsert `audiences.memberships` with the
   data date as the publish time (deterministic, so re-runs change nothing).
"""
from __future__ import annotations

import datetime as dt
import json
import re
import dataclasses
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from assets.audiences.definitions import AudienceDefinition
from assets.exports.destinations import Destination, add_phone_e164
from assets.exports.phone_cache import cached_parser
from assets.exports.publishing import PublishContext, Publisher
from assets.metadata import mask_email, mask_phone
from assets.sql_files import run_sql
from assets.warehouse_tables import registered

PHONE_LIKE = re.compile(r"\+?\d[\d ().-]{6,}\d")  # 8+ characters of digits and phone punctuation
PUBLISH_THREADS = 2  # destinations of one audience rendered and written at once
RESULTS_VIEW = "publish_results"  # the name sql/audiences/log_publishes.sql reads
LOG_SCHEMA = {
    "run_id": pl.String, "data_date": pl.Date, "published_at": pl.Datetime("us"), "logged_at": pl.Datetime("us"),
    "audience": pl.String, "destination": pl.String, "status": pl.String, "reason": pl.String,
    "publish_id": pl.String, "rows": pl.Int64, "adds": pl.Int64, "removes": pl.Int64,
    "audience_size": pl.Int64, "treatment_size": pl.Int64, "holdout_size": pl.Int64,
    "sha256s": pl.String, "path": pl.String,
}


@dataclass(frozen=True)
class DestinationOutcome:
    """What happened to one destination: published | unchanged | skipped | failed (see `reason`)."""

    destination: str
    status: str
    reason: str | None = None
    publish_id: str | None = None
    path: Path | None = None
    rows: int = 0
    adds: int = 0
    removes: int = 0
    sha256: dict[str, str] = field(default_factory=dict)
    below_minimum: bool = False

    @property
    def skipped_for_size(self) -> bool:
        """Below a minimum size (the list or the audience): skipped, or published only to withdraw
        people who left the list. Either way the platform does not serve it: a warning."""
        return self.below_minimum or self.status == "skipped"


@dataclass(frozen=True)
class AudiencePublication:
    """The outcome of publishing one audience on one night."""

    audience: str
    data_date: dt.date
    treatment_size: int
    holdout_size: int
    exported_members: int  # treatment members still allowed at export time (consent re-checked)
    outcomes: list[DestinationOutcome]
    logged_rows: int  # new rows in audiences.publish_log (0 on a re-run of the same night)
    memberships_recorded: bool

    @property
    def audience_size(self) -> int:
        """Treatment plus holdout members."""
        return self.treatment_size + self.holdout_size

    @property
    def failed(self) -> list[DestinationOutcome]:
        """Destinations whose publish raised an error."""
        return [o for o in self.outcomes if o.status == "failed"]


def published_at(data_date: dt.date) -> dt.datetime:
    """The publish time we record: midnight of the data date (a re-run gives the same value)."""
    return dt.datetime.combine(data_date, dt.time())


def safe_reason(exc: Exception) -> str:
    """An error as a one-line reason, emails and phone-like digit runs masked (it goes to logs and
    metadata); other numbers (errno, counts) stay readable."""
    text = mask_email(f"{type(exc).__name__}: {exc}").replace("\n", " ")
    return PHONE_LIKE.sub(lambda m: mask_phone(m.group(0)), text)[:500]


def member_counts(con: duckdb.DuckDBPyConnection, audience: str) -> tuple[int, int]:
    """(treatment, holdout) members of `audience` in audiences.members."""
    counts = dict(run_sql(con, "audiences/member_counts", {"audience": audience}).fetchall())
    return int(counts.get("treatment", 0)), int(counts.get("holdout", 0))


def export_members(con: duckdb.DuckDBPyConnection, audience: str) -> pl.DataFrame:
    """The treatment members of `audience` as the destinations' input (MEMBER_COLUMNS, text)."""
    return run_sql(con, "audiences/export_members", {"audience": audience}).pl()


def _render_and_publish(
    audience: AudienceDefinition, destination: Destination, members: pl.DataFrame,
    publisher: Publisher, context: PublishContext,
) -> DestinationOutcome:
    try:
        result = publisher.publish(audience.name, destination, destination.render(members), context)
    except Exception as exc:  # noqa: BLE001 - one destination failing must not stop the others
        return DestinationOutcome(destination.name, "failed", reason=safe_reason(exc))
    return DestinationOutcome(
        destination=destination.name, status=result.status, reason=result.reason, publish_id=result.publish_id,
        path=result.path, rows=result.rows, adds=result.adds, removes=result.removes, sha256=dict(result.sha256),
        below_minimum=result.below_minimum,
    )


def logged_outcome(outcome: DestinationOutcome, data_date: dt.date) -> DestinationOutcome:
    """The outcome as the publish log records it. Files found unchanged but published TONIGHT (a run
    killed after `latest` moved and before it logged, then re-run) are logged as that publish, with the
    counts of its manifest; the log ignores a row it already has, so a plain re-run adds nothing."""
    if (
        outcome.status != "unchanged"
        or not outcome.publish_id
        or not outcome.publish_id.startswith(f"{data_date.isoformat()}-")
        or not outcome.path
    ):
        return outcome
    counts = json.loads((Path(outcome.path) / "manifest.json").read_text(encoding="utf-8"))["counts"]
    return dataclasses.replace(outcome, status="published", reason=None, adds=counts["adds"], removes=counts["removes"])


def log_outcomes(
    con: duckdb.DuckDBPyConnection, audience: str, outcomes: list[DestinationOutcome], run_id: str,
    data_date: dt.date, treatment_size: int, holdout_size: int,
) -> int:
    """Append the outcomes to audiences.publish_log unless already logged for this night; new rows."""
    logged_at = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    rows = pl.DataFrame(
        [
            {
                "run_id": run_id, "data_date": data_date, "published_at": published_at(data_date),
                "logged_at": logged_at, "audience": audience, "destination": o.destination,
                "status": o.status, "reason": o.reason, "publish_id": o.publish_id, "rows": o.rows,
                "adds": o.adds, "removes": o.removes, "audience_size": treatment_size + holdout_size,
                "treatment_size": treatment_size, "holdout_size": holdout_size,
                "sha256s": json.dumps(o.sha256, sort_keys=True) if o.sha256 else None,
                "path": str(o.path) if o.path else None,
            }
            for o in (logged_outcome(o, data_date) for o in outcomes)
        ],
        schema=LOG_SCHEMA,
    )
    run_sql(con, "audiences/create_tables")
    with registered(con, RESULTS_VIEW, rows):
        inserted = run_sql(con, "audiences/log_publishes").fetchone()
    return int(inserted[0]) if inserted else 0


def publish_audience(
    con: duckdb.DuckDBPyConnection,
    audience: AudienceDefinition,
    destinations: dict[str, Destination],
    publisher: Publisher,
    run_id: str,
    data_date: dt.date,
    check_results: dict | None = None,
) -> AudiencePublication:
    """Publish `audience` from audiences.members to its destinations (see the module docstring).
    `check_results` goes into every manifest.json as is (JSON-serialisable): the export assets pass the
    run's blocking checks upstream of the export; empty only when called outside a run (tests, tools)."""
    unknown = [d for d in audience.destinations if d not in destinations]
    if unknown:
        raise ValueError(f"{audience.where}: destinations {unknown} are not in config/destinations.yaml "
                         f"(known: {sorted(destinations)})")
    run_sql(con, "audiences/create_tables")
    treatment, holdout = member_counts(con, audience.name)
    members = export_members(con, audience.name)
    below_minimum = None
    if audience.min_size is not None and members.height < audience.min_size:
        below_minimum = f"{members.height} treatment members, below the audience min_size of {audience.min_size}"
    context = PublishContext(run_id=run_id, data_date=data_date, holdout_size=holdout,
                             check_results=check_results or {}, below_minimum=below_minimum)
    members = add_phone_e164(members, cached_parser(con))  # parsed once (ever), shared by every destination
    # Destinations render and write side by side: Polars, DuckDB's hashing and file writes release
    # the GIL, and one destination alone keeps ~1.3 of 2 cores busy. Each writes its own folder.
    with ThreadPoolExecutor(max_workers=PUBLISH_THREADS) as pool:
        outcomes = list(pool.map(
            lambda name: _render_and_publish(audience, destinations[name], members, publisher, context),
            audience.destinations,
        ))
    logged = log_outcomes(con, audience.name, outcomes, run_id, data_date, treatment, holdout)
    delivered = any(o.status in ("published", "unchanged") for o in outcomes)
    if delivered:
        run_sql(con, "audiences/upsert_memberships",
                {"audience": audience.name, "published_at": published_at(data_date)})
    return AudiencePublication(
        audience=audience.name, data_date=data_date, treatment_size=treatment, holdout_size=holdout,
        exported_members=members.height, outcomes=outcomes, logged_rows=logged, memberships_recorded=delivered,
    )
