"""The opportunity and subscription suites (raw and staging), validated for real by Great Expectations
over small DuckDB tables in tmp_path: the clean tables pass, and each corruption a broken CRM export
produces fails the expectation written for it."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from data_quality.checks import CHECKED_TABLES
from data_quality.gx_validate import validate_table
from data_quality.quality_config import load_quality_config
from data_quality.suites import load_suite_for
from data_quality.validation_report import failures_markdown
from data_quality.value_sets import RunValues
from test_quality_gx import TEST_QUALITY_YAML, by_check

AS_OF = dt.date(2026, 3, 1)
FUTURE = "2026-03-10 00:00:00"  # past the end of the data date + 24 h tolerance
REPO_CONFIG = Path(__file__).resolve().parent.parent / "config"
RAW_EXTRA = "'opportunities.csv' as _source_file, 2::bigint as _line, 'canonical' as _format, null::json as _extra, " \
            "timestamp '2026-03-01 02:00' as _loaded_at"


@pytest.fixture
def run(tmp_path: Path) -> RunValues:
    config_dir = tmp_path / "config"
    shutil.copytree(REPO_CONFIG, config_dir)
    (config_dir / "quality.yaml").write_text(TEST_QUALITY_YAML)
    return RunValues(as_of=AS_OF, quality=load_quality_config(config_dir), config_dir=config_dir)


@pytest.fixture
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute("create schema raw; create schema staging")
    con.execute("create table staging.accounts as select 'a' || i as account_id from range(1, 4) t(i)")
    yield con
    con.close()


def opportunities(con, table: str, rows: list[tuple], staging: bool) -> None:
    """rows: (opportunity_id, account_id, type, amount, created_at, closed_at, is_closed)."""
    con.execute(f"drop table if exists {table}")   # table: a fixed name from this module
    con.execute("create temp table opp_rows (opportunity_id varchar, account_id varchar, type varchar, "
                "amount double, created_at timestamp, closed_at timestamp, is_closed boolean)")
    con.executemany("insert into opp_rows values (?, ?, ?, ?, ?, ?, ?)", rows)
    tail = "is_closed" if staging else RAW_EXTRA
    con.execute(f"""create table {table} as select opportunity_id, account_id, 'c1' as contact_id, type,
                    'Closed Won' as stage, amount, created_at, closed_at, is_closed as is_won, {tail} from opp_rows""")
    con.execute("drop table opp_rows")


def subscriptions(con, table: str, rows: list[tuple], staging: bool) -> None:
    """rows: (subscription_id, account_id, seats_purchased, seats_active, mrr, started_at, status)."""
    con.execute(f"drop table if exists {table}")
    con.execute("create temp table sub_rows (subscription_id varchar, account_id varchar, seats_purchased integer, "
                "seats_active integer, mrr double, started_at timestamp, status varchar)")
    con.executemany("insert into sub_rows values (?, ?, ?, ?, ?, ?, ?)", rows)
    tail = "true as is_active_as_of" if staging else RAW_EXTRA
    con.execute(f"""create table {table} as select subscription_id, account_id, 'pro' as plan, seats_purchased,
                    seats_active, mrr, started_at, timestamp '2029-01-01' as ends_at, status, {tail} from sub_rows""")
    con.execute("drop table sub_rows")


GOOD_OPPORTUNITIES = [
    ("o1", "a1", "upsell", 1200.0, "2026-01-05 10:00:00", "2026-02-01 12:00:00", True),
    ("o2", "a2", "new_business", 5000.0, "2026-02-10 09:00:00", "2026-04-30 00:00:00", False),  # open: close date ahead
    ("o3", "a3", "renewal", 0.0, "2026-02-28 23:00:00", None, False),
    ("o4", "a1", "other", None, "2025-12-01 08:00:00", "2025-12-20 08:00:00", True),
]
GOOD_SUBSCRIPTIONS = [
    ("s1", "a1", 10, 9, 900.0, "2025-01-01 00:00:00", "active"),
    ("s2", "a2", 50, 0, 0.0, "2026-02-01 00:00:00", "trialing"),
    ("s3", "a3", 5, 5, 250.0, "2024-06-01 00:00:00", "cancelled"),
]


def test_the_new_suites_are_wired_as_blocking_checks():
    for table in ("raw.opportunities", "raw.subscriptions", "staging.opportunities", "staging.subscriptions"):
        assert table in CHECKED_TABLES
        assert load_suite_for(table).table == table


@pytest.mark.parametrize("table, staging", [("raw.opportunities", False), ("staging.opportunities", True)])
def test_clean_opportunities_pass(con, run, table, staging):
    opportunities(con, table, GOOD_OPPORTUNITIES, staging)
    result = validate_table(con, load_suite_for(table), run)
    assert result.success, failures_markdown(result)


@pytest.mark.parametrize("table, staging", [("raw.subscriptions", False), ("staging.subscriptions", True)])
def test_clean_subscriptions_pass(con, run, table, staging):
    subscriptions(con, table, GOOD_SUBSCRIPTIONS, staging)
    result = validate_table(con, load_suite_for(table), run)
    assert result.success, failures_markdown(result)


def test_raw_opportunities_repeated_id_negative_amount_and_future_creation(con, run, tmp_path):
    rows = [list(r) for r in GOOD_OPPORTUNITIES]
    rows[1][0] = "o1"            # the export repeated a deal
    rows[2][3] = -300.0          # a negative amount
    rows[3][4] = FUTURE          # created after the data date
    opportunities(con, "raw.opportunities", [tuple(r) for r in rows], staging=False)
    result = validate_table(con, load_suite_for("raw.opportunities"), run, tmp_path / "reports")
    assert not result.success
    dupes = by_check(result, "expect_column_values_to_be_unique", "opportunity_id")
    assert not dupes.success and dupes.examples == ["opportunity_id=o1"]
    amount = by_check(result, "expect_column_values_to_be_between", "amount")
    assert not amount.success and amount.unexpected_count == 1 and amount.examples == ["amount=-300.0, opportunity_id=o3"]
    created = by_check(result, "expect_column_max_to_be_between", "created_at")
    assert not created.success and "2026-03-10" in created.examples[0]
    assert "-300.0" in result.report_path.read_text()


def test_staging_opportunities_unknown_type_future_close_of_a_closed_deal_and_orphans(con, run):
    rows = [list(r) for r in GOOD_OPPORTUNITIES]
    rows[0][2] = "upsel"          # a type the mapping does not produce
    rows[0][5] = FUTURE           # a CLOSED deal closing in the future (o2's future close date is fine: open)
    rows[2][1] = "a404"           # the account is not in staging.accounts (1 of 4 > 5%)
    opportunities(con, "staging.opportunities", [tuple(r) for r in rows], staging=True)
    result = validate_table(con, load_suite_for("staging.opportunities"), run)
    types = by_check(result, "expect_column_values_to_be_in_set", "type")
    assert not types.success and types.examples == ["type=upsel, opportunity_id=o1"]
    closed = [e for e in result.expectations if e.check == "expect_column_max_to_be_between" and e.column == "closed_at"]
    assert len(closed) == 1 and not closed[0].success and "only rows where is_closed == True" in closed[0].detail
    orphan = by_check(result, "references", "account_id")
    assert not orphan.success and orphan.examples == ["account_id=a404, opportunity_id=o3"]
    assert by_check(result, "expect_column_values_to_be_unique", "opportunity_id").success


def test_raw_subscriptions_missing_id_and_negative_seats(con, run):
    rows = [list(r) for r in GOOD_SUBSCRIPTIONS]
    rows[0][0] = None            # an id lost in the export
    rows[1][3] = -2              # negative active seats
    rows[2][2] = -5              # negative purchased seats
    subscriptions(con, "raw.subscriptions", [tuple(r) for r in rows], staging=False)
    result = validate_table(con, load_suite_for("raw.subscriptions"), run)
    nulls = by_check(result, "expect_column_values_to_not_be_null", "subscription_id")
    assert not nulls.success and nulls.unexpected_count == 1
    assert not by_check(result, "expect_column_values_to_be_between", "seats_active").success
    assert not by_check(result, "expect_column_values_to_be_between", "seats_purchased").success
    assert by_check(result, "expect_column_values_to_be_between", "mrr").success


def test_staging_subscriptions_unknown_status_negative_mrr_future_start_and_orphan(con, run):
    rows = [list(r) for r in GOOD_SUBSCRIPTIONS]
    rows[0][6] = "zombie"        # a status nobody mapped
    rows[1][4] = -10.0           # negative MRR
    rows[2][5] = FUTURE          # starts after the data date
    rows[2][1] = "a404"          # no such account
    subscriptions(con, "staging.subscriptions", [tuple(r) for r in rows], staging=True)
    result = validate_table(con, load_suite_for("staging.subscriptions"), run)
    status = by_check(result, "expect_column_values_to_be_in_set", "status")
    assert not status.success and status.examples == ["status=zombie, subscription_id=s1"]
    assert not by_check(result, "expect_column_values_to_be_between", "mrr").success
    assert not by_check(result, "expect_column_max_to_be_between", "started_at").success
    assert by_check(result, "references", "account_id").examples == ["account_id=a404, subscription_id=s3"]


def test_only_the_columns_a_suite_needs_are_read(con, run):
    """Cheap checks: the plan, the stage and the _extra JSON are never pulled into pandas."""
    subscriptions(con, "staging.subscriptions", GOOD_SUBSCRIPTIONS, staging=True)
    needed = load_suite_for("staging.subscriptions").columns_needed(con.table("staging.subscriptions").columns)
    assert "plan" not in needed and "ends_at" not in needed
    opportunities(con, "raw.opportunities", GOOD_OPPORTUNITIES, staging=False)
    needed = load_suite_for("raw.opportunities").columns_needed(con.table("raw.opportunities").columns)
    assert set(needed) == {"opportunity_id", "amount", "created_at", "_format"}
