"""Drift history and comparison, daily event volume and freshness: pure verdicts and their SQL."""
from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl
import pytest

from data_quality.drift import compare_sizes, record_and_compare, segment_sizes
from data_quality.event_monitors import (
    daily_event_counts, freshness_verdict, newest_event_date, volume_verdict,
)
from data_quality.passed_nights import mark_night_passed

AS_OF = dt.date(2026, 3, 15)


@pytest.fixture
def con(tmp_path):
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute("create schema segments; create schema raw")
    yield con
    con.close()


def sizes(rows: list[tuple[str, str, int]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"dimension": pl.String, "value": pl.String, "n": pl.Int64}, orient="row")


def test_compare_sizes_flags_changes_beyond_the_limit_and_ignores_small_segments():
    previous = sizes([("band", "1-10", 100), ("band", "11-50", 100), ("band", "51-200", 10), ("band", "gone", 80)])
    current = sizes([("band", "1-10", 124), ("band", "11-50", 140), ("band", "51-200", 30), ("band", "new", 60)])
    result = compare_sizes(current, previous, max_change_percent=25, min_size=50)
    by_value = {r["value"]: r for r in result.iter_rows(named=True)}
    assert by_value["1-10"]["drifted"] is False and by_value["1-10"]["change_percent"] == 24.0
    assert by_value["11-50"]["drifted"] is True and by_value["11-50"]["change_percent"] == 40.0
    assert by_value["51-200"]["drifted"] is False             # 10 -> 30 but below the minimum size
    assert by_value["gone"]["drifted"] is True and by_value["gone"]["n"] == 0
    assert by_value["new"]["drifted"] is True and by_value["new"]["change_percent"] is None


def test_drift_history_is_recorded_per_run_and_compared_with_the_latest_earlier_run(con):
    con.execute("create table segments.s as select (case when i < 60 then 'a' else 'b' end) as band, "
                "i % 2 = 0 as flag from range(100) t(i)")
    first = record_and_compare(con, "segments.s", ["band", "flag"], "run-1", AS_OF, 25, 10,
                               recorded_at=dt.datetime(2026, 3, 15, 2))
    assert not first.has_baseline and first.drifted.is_empty()
    # A retry of the same run replaces its rows instead of becoming its own baseline.
    again = record_and_compare(con, "segments.s", ["band", "flag"], "run-1", AS_OF, 25, 10,
                               recorded_at=dt.datetime(2026, 3, 15, 3))
    assert not again.has_baseline
    history = con.execute("select count(*), count(distinct run_id) from quality.segment_size_history").fetchone()
    assert history == (4, 1)   # band a/b, flag true/false
    mark_night_passed(con, AS_OF, "run-1")

    con.execute("update segments.s set band = 'a' where band = 'b' and flag")   # b: 40 -> 20, a: 60 -> 80
    second = record_and_compare(con, "segments.s", ["band", "flag"], "run-2", AS_OF + dt.timedelta(days=1), 25, 10,
                                recorded_at=dt.datetime(2026, 3, 16, 2))
    assert second.previous_run_id == "run-1" and second.previous_data_date == AS_OF
    drifted = second.drifted.select("dimension", "value", "previous_n", "n").rows()
    assert drifted == [("band", "a", 60, 80), ("band", "b", 40, 20)]
    mark_night_passed(con, AS_OF + dt.timedelta(days=1), "run-2")
    third = record_and_compare(con, "segments.s", ["band"], "run-3", AS_OF + dt.timedelta(days=2), 25, 10,
                               recorded_at=dt.datetime(2026, 3, 17, 2))
    assert third.previous_run_id == "run-2" and third.drifted.is_empty()
    assert set(third.comparison["dimension"]) == {"band"}     # a dimension no longer followed is not "gone"


def test_a_rerun_of_the_same_night_compares_with_the_night_before_not_with_itself(con):
    """A crashed attempt and its re-run (different run ids, same data date) leave one set of sizes."""
    con.execute("create table segments.s as select (case when i < 60 then 'a' else 'b' end) as band from range(100) t(i)")
    record_and_compare(con, "segments.s", ["band"], "night-1", AS_OF, 25, 10)
    mark_night_passed(con, AS_OF, "night-1")
    con.execute("update segments.s set band = 'a'")   # the next night: b vanishes
    crashed = record_and_compare(con, "segments.s", ["band"], "night-2-killed", AS_OF + dt.timedelta(days=1), 25, 10)
    rerun = record_and_compare(con, "segments.s", ["band"], "night-2-rerun", AS_OF + dt.timedelta(days=1), 25, 10)
    assert crashed.previous_run_id == rerun.previous_run_id == "night-1"
    assert not rerun.drifted.is_empty()
    history = con.execute("select data_date, count(distinct run_id) from quality.segment_size_history "
                          "group by 1 order by 1").fetchall()
    assert history == [(AS_OF, 1), (AS_OF + dt.timedelta(days=1), 1)]


def test_a_blocked_night_is_never_the_baseline(con):
    """Night 2 is corrupt and its blocking checks fail (never marked passed): night 3 is compared with
    night 1, the last successful run. A blocked re-run of night 1 also stops night 1 being a baseline."""
    con.execute("create table segments.s as select (case when i < 60 then 'a' else 'b' end) as band from range(100) t(i)")
    night = [AS_OF + dt.timedelta(days=d) for d in range(4)]
    record_and_compare(con, "segments.s", ["band"], "run-1", night[1], 25, 10)
    mark_night_passed(con, night[1], "run-1")

    con.execute("update segments.s set band = 'a'")                       # corrupt: b vanishes
    corrupt = record_and_compare(con, "segments.s", ["band"], "run-2", night[2], 25, 10)
    assert corrupt.previous_run_id == "run-1" and not corrupt.drifted.is_empty()   # its own check warns

    con.execute("update segments.s set band = 'b' where rowid >= 60")     # repaired: back to 60 / 40
    repaired = record_and_compare(con, "segments.s", ["band"], "run-3", night[3], 25, 10)
    assert (repaired.previous_run_id, repaired.previous_data_date) == ("run-1", night[1])
    assert repaired.has_baseline and repaired.drifted.is_empty()

    # A blocked re-run of night 1 replaces its sizes; the passed run's sizes are gone, so no baseline.
    record_and_compare(con, "segments.s", ["band"], "run-1-rerun", night[1], 25, 10)
    assert not record_and_compare(con, "segments.s", ["band"], "run-4", night[3], 25, 10).has_baseline
    mark_night_passed(con, night[1], "run-1-rerun")                        # the re-run passed after all
    assert record_and_compare(con, "segments.s", ["band"], "run-4", night[3], 25, 10).previous_run_id == "run-1-rerun"


def test_segment_sizes_count_nulls_and_reject_unknown_columns(con):
    con.execute("create table segments.t as select * from (values ('x'), ('x'), (null)) v(track)")
    assert segment_sizes(con, "segments.t", ["track"]).rows() == [("track", "(null)", 1), ("track", "x", 2)]
    with pytest.raises(ValueError, match="no column.*planet.*drift_dimensions"):
        segment_sizes(con, "segments.t", ["planet"])


def daily(counts: dict[int, int]) -> pl.DataFrame:
    return pl.DataFrame({"event_date": [AS_OF - dt.timedelta(days=d) for d in counts],
                         "n": list(counts.values())})


def test_volume_verdict_against_the_median_of_earlier_days():
    normal = {d: 1000 + 10 * d for d in range(1, 15)}
    steady = volume_verdict(daily({0: 1100, **normal}), tolerance_percent=50, min_baseline_days=7)
    assert steady.day == AS_OF and not steady.anomalous and steady.baseline_days == 14
    assert steady.baseline_median == 1075 and "within" in steady.message
    drop = volume_verdict(daily({0: 300, **normal}), tolerance_percent=50, min_baseline_days=7)
    assert drop.anomalous and drop.change_percent == -72.1 and "outside" in drop.message
    spike = volume_verdict(daily({0: 5000, **normal}), tolerance_percent=50, min_baseline_days=7)
    assert spike.anomalous and spike.change_percent > 300
    young = volume_verdict(daily({0: 5, 1: 1000, 2: 1000}), tolerance_percent=50, min_baseline_days=7)
    assert not young.anomalous and not young.enough_history and "7 needed" in young.message
    empty = volume_verdict(daily({}).head(0), tolerance_percent=50, min_baseline_days=7)
    assert empty.day is None and not empty.anomalous


def test_daily_counts_and_newest_day_from_the_warehouse(con):
    con.execute("create table raw.web_events (event_date date, message_id varchar)")
    assert newest_event_date(con) is None
    con.execute("""insert into raw.web_events select date '2026-03-15' - (i % 20)::integer, 'm' || i
                   from range(2000) t(i)""")
    counts = daily_event_counts(con, AS_OF, 14)
    assert counts.height == 15 and counts["event_date"].max() == AS_OF and counts["n"].sum() == 1500
    assert newest_event_date(con) == AS_OF


def test_freshness_verdict():
    fresh = freshness_verdict(dt.date(2026, 3, 14), AS_OF, max_age_days=2)
    assert fresh.passed and fresh.age_days == 1
    stale = freshness_verdict(dt.date(2026, 3, 10), AS_OF, max_age_days=2)
    assert not stale.passed and stale.age_days == 5 and "freshness.max_age_days" in stale.message
    nothing = freshness_verdict(None, AS_OF, max_age_days=2)
    assert not nothing.passed and "empty" in nothing.message


def test_an_empty_data_date_counts_as_zero_events_and_is_flagged(con):
    """A night whose event file never landed is the anomaly itself: it is a row with n = 0."""
    con.execute("create table raw.web_events (event_date date, message_id varchar)")
    con.execute("""insert into raw.web_events select date '2026-03-14' - (i % 14)::integer, 'm' || i
                   from range(1400) t(i)""")        # 100 events on each of the 14 days before AS_OF
    counts = daily_event_counts(con, AS_OF, 14)
    assert counts.row(-1) == (AS_OF, 0) and counts.height == 15
    verdict = volume_verdict(counts, tolerance_percent=50, min_baseline_days=7)
    assert verdict.day == AS_OF and verdict.n == 0 and verdict.baseline_median == 100
    assert verdict.anomalous and verdict.change_percent == -100.0 and "outside" in verdict.message
    # A gap inside the baseline stays a gap (no zero pulled into the median).
    con.execute("delete from raw.web_events where event_date = date '2026-03-10'")
    assert date_missing(daily_event_counts(con, AS_OF, 14), dt.date(2026, 3, 10))


def date_missing(counts: pl.DataFrame, day: dt.date) -> bool:
    return day not in counts["event_date"].to_list()


def test_freshness_reference_is_the_explicit_data_date_else_today(monkeypatch):
    from assets.data_date import freshness_reference_date

    today = dt.date(2026, 12, 2)
    monkeypatch.delenv("DATA_DATE", raising=False)
    assert freshness_reference_date({}, today) == (today, "today (UTC)")
    assert freshness_reference_date({"data_date": "2026-11-20"}, today) == (dt.date(2026, 11, 20), "data date")
    monkeypatch.setenv("DATA_DATE", "2026-11-19")          # a dated manual run counts as explicit
    assert freshness_reference_date({}, today) == (dt.date(2026, 11, 19), "data date")
    assert freshness_reference_date({"data_date": "2026-11-20"}, today)[0] == dt.date(2026, 11, 20)


def test_crm_freshness_verdict_and_signals(con):
    from assets.raw.landing import create_raw_tables
    from data_quality.event_monitors import crm_freshness, crm_freshness_verdict

    stale = crm_freshness_verdict(dt.date(2026, 3, 10), AS_OF, max_age_days=3, reference="today (UTC)")
    assert not stale.passed and stale.age_days == 5
    assert "before today (UTC) 2026-03-15" in stale.message and "freshness.crm_max_age_days" in stale.message
    unknown = crm_freshness_verdict(None, AS_OF, max_age_days=3)
    assert unknown.passed and "unknown" in unknown.message
    assert crm_freshness(con).newest_update is None                      # before the raw tables exist
    create_raw_tables(con)
    con.execute("insert into raw.contacts (contact_id, updated_at) values ('c1', timestamp '2026-03-14 09:00')")
    con.execute("insert into raw.load_log (source, file_mtime) values ('contacts', timestamp '2026-03-15 01:00')")
    con.execute("insert into raw.load_log (source, event_date, file_mtime) "
                "values ('web_events', date '2026-03-15', timestamp '2026-03-16 01:00')")   # not a CRM file
    signals = crm_freshness(con)
    assert signals.newest_update == dt.datetime(2026, 3, 14, 9) and signals.newest_file_mtime == dt.datetime(2026, 3, 15, 1)
