"""A `limit_to_rebuilt` suite (staging.sessions) checks the rows rebuilt since it last passed: real GX
validations of the shipped suite over a DuckDB file in tmp_path, and the real Dagster check, which
empties the queue only when the suite passes."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest
from dagster import AssetKey, MaterializeResult, asset, materialize

from assets.sql_files import run_sql
from data_quality.checks import build_expectation_check
from data_quality.gx_validate import validate_table
from data_quality.quality_config import load_quality_config
from data_quality.rebuilt_rows import mark_checked, unchecked
from data_quality.suites import SuiteError, load_suite, load_suite_for
from data_quality.value_sets import RunValues
from workflows.resources import Folders, Warehouse

AS_OF = dt.date(2026, 3, 1)
REPO_CONFIG = Path(__file__).resolve().parent.parent / "config"
SESSIONS = "staging.sessions"
# (session_id, visitor_key, source): three visitors, two sessions each
ROWS = [("s1", "a:v1", "google"), ("s2", "a:v1", "(direct)"), ("s3", "a:v2", "bing"),
        ("s4", "a:v2", "google"), ("s5", "u:v3", "(direct)"), ("s6", "u:v3", "linkedin")]


def write_sessions(con: duckdb.DuckDBPyConnection, rows: list[tuple]) -> None:
    con.execute("create schema if not exists staging")
    con.execute("drop table if exists staging.sessions")
    con.execute("""create table staging.sessions (
        session_id varchar, visitor_key varchar, anonymous_id varchar, contact_id varchar, started_at timestamp,
        ended_at timestamp, session_date date, pageviews bigint, events bigint, landing_url varchar,
        landing_path varchar, source varchar, medium varchar, campaign varchar, term varchar, content varchar,
        click_id varchar, referrer_host varchar, is_direct boolean)""")
    con.executemany("""insert into staging.sessions (session_id, visitor_key, started_at, ended_at, session_date,
        pageviews, events, source, is_direct)
        values (?, ?, timestamp '2026-02-28 10:00', timestamp '2026-02-28 10:20', date '2026-02-28', 2, 3, ?,
                false)""", rows)


def queue(con: duckdb.DuckDBPyConnection, *keys: str | None) -> None:
    run_sql(con, "staging/build_state")
    if keys:
        con.executemany("insert into build_state.unchecked_rows values (?, ?)", [(SESSIONS, k) for k in keys])


@pytest.fixture
def con(tmp_path: Path):
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    write_sessions(con, ROWS)
    yield con
    con.close()


@pytest.fixture
def run() -> RunValues:
    return RunValues(as_of=AS_OF, quality=load_quality_config(REPO_CONFIG), config_dir=REPO_CONFIG)


def validate(con, run, tmp_path):
    return validate_table(con, load_suite_for(SESSIONS), run, tmp_path / "reports")


def test_without_a_queue_or_after_a_full_build_every_row_is_checked(con, run, tmp_path):
    result = validate(con, run, tmp_path)
    assert result.success and result.rows_checked == result.table_rows == 6
    assert result.scope.startswith("every row")
    queue(con, None, "a:v1")            # a full build, then an incremental night: still everything
    result = validate(con, run, tmp_path)
    assert result.rows_checked == 6 and "6 rows checked of 6 (every row" in result.report_path.read_text()


def test_only_the_queued_visitors_rows_are_checked(con, run, tmp_path):
    con.execute("update staging.sessions set source = null where session_id = 's5'")   # checked on an earlier night
    queue(con, "a:v1", "a:v1", "a:v2")
    result = validate(con, run, tmp_path)
    assert result.success and (result.rows_checked, result.table_rows) == (4, 6)
    assert result.scope == "the rows of 2 visitor_key value(s) rebuilt since the suite last passed"
    assert "4 rows checked of 6 (the rows of 2 visitor_key" in result.report_path.read_text()
    queue(con, "u:v3")
    failed = [(e.check, e.column, e.unexpected_count) for e in validate(con, run, tmp_path).failed]
    assert failed == [("expect_column_values_to_not_be_null", "source", 1)]


def test_a_rebuilt_session_id_is_unique_against_the_whole_table(con, run, tmp_path):
    write_sessions(con, [*ROWS, ("s1", "a:v2", "google")])   # v2's rebuild repeats v1's session id
    queue(con, "a:v2")
    result = validate(con, run, tmp_path)
    unique = next(e for e in result.expectations if e.check == "expect_column_values_to_be_unique")
    assert result.rows_checked == 3 and not unique.success and unique.unexpected_count == 1
    assert unique.examples == ["session_id=s1"]


def test_nothing_rebuilt_since_the_last_pass_checks_no_row(con, run, tmp_path):
    queue(con)
    result = validate(con, run, tmp_path)
    assert result.success and (result.rows_checked, result.table_rows) == (0, 6)
    assert {e.detail for e in result.expectations if e.check != "expect_table_columns_to_match_set"} == {
        "no row rebuilt since the suite last passed: nothing to check"}
    assert unchecked(con, SESSIONS).keys == 0 and not unchecked(con, SESSIONS).whole_table


def test_mark_checked_empties_only_that_tables_queue(con):
    queue(con, "a:v1", None)
    con.execute("insert into build_state.unchecked_rows values ('staging.other', 'x')")
    mark_checked(con, SESSIONS)
    assert con.execute("select * from build_state.unchecked_rows").fetchall() == [("staging.other", "x")]


def test_a_suite_selecting_by_a_missing_column_fails_clearly(con, run, tmp_path):
    con.execute("alter table staging.sessions drop column visitor_key")
    result = validate(con, run, tmp_path)
    assert [(e.check, e.detail) for e in result.failed] == [
        ("limit_to_rebuilt", "staging.sessions has no column visitor_key to select the rebuilt rows by")]


def test_a_malformed_limit_to_rebuilt_is_a_suite_error(tmp_path):
    path = tmp_path / "staging.sessions.yaml"
    path.write_text("table: staging.sessions\nkey: [session_id]\nlimit_to_rebuilt: [visitor_key]\n"
                    "expectations:\n  - expect_column_values_to_not_be_null: {column: session_id}\n")
    with pytest.raises(SuiteError, match="limit_to_rebuilt: must be the name of the column"):
        load_suite(path)


def sessions_asset(rows: list[tuple], queued: tuple[str | None, ...]):
    """Stands in for the sessions build: writes the table and queues what it rebuilt."""

    @asset(key=AssetKey(["staging", "sessions"]))
    def sessions(warehouse: Warehouse) -> MaterializeResult:
        with warehouse.connect() as con:
            write_sessions(con, rows)
            queue(con, *queued)
        return MaterializeResult()

    return sessions


def test_the_check_empties_the_queue_only_when_it_passes(tmp_path):
    resources = {"warehouse": Warehouse(path=str(tmp_path / "warehouse.duckdb")),
                 "folders": Folders(landing_dir=str(tmp_path / "landing"), export_dir=str(tmp_path / "exports"),
                                    report_dir=str(tmp_path / "reports"), config_dir=str(REPO_CONFIG))}
    check = build_expectation_check(SESSIONS)
    bad = [(s, v, None if s == "s3" else source) for s, v, source in ROWS]
    failed = materialize([sessions_asset(bad, ("a:v2",)), check], resources=resources,
                         tags={"data_date": AS_OF.isoformat()}, raise_on_error=False)
    evaluation = failed.get_asset_check_evaluations()[0]
    assert not evaluation.passed and evaluation.metadata["rows_checked"].value == 2
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        assert unchecked(con, SESSIONS).keys == 1          # kept: the next night checks v2 again

    passed = materialize([sessions_asset(ROWS, ("u:v3",)), check], resources=resources,
                         tags={"data_date": AS_OF.isoformat()})
    evaluation = passed.get_asset_check_evaluations()[0]
    assert evaluation.passed and evaluation.metadata["rows_checked"].value == 4   # v2's and v3's rows
    assert "rebuilt since the suite last passed" in evaluation.metadata["rows_checked_scope"].value
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        assert unchecked(con, SESSIONS).keys == 0
