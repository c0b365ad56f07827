"""Real Great Expectations validations of the shipped suites over small DuckDB tables in tmp_path:
a clean table passes; each kind of bad data fails with counts, masked examples and an HTML report."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from data_quality.gx_validate import mask_value, validate_table
from data_quality.quality_config import load_quality_config
from data_quality.suites import load_suite, load_suite_for
from data_quality.validation_report import failures_markdown
from data_quality.value_sets import RunValues

AS_OF = dt.date(2026, 3, 1)
REPO_CONFIG = Path(__file__).resolve().parent.parent / "config"
# The tests' own thresholds (the repo's config/quality.yaml is the marketer's to edit).
TEST_QUALITY_YAML = """
shares: {max_other_persona_percent: 30, max_unassigned_channel_percent: 40, min_valid_raw_email_percent: 80,
         max_orphan_account_percent: 1, max_orphan_deal_percent: 5}
drift: {max_change_percent: 25, min_segment_size: 50}
event_volume: {tolerance_percent: 50, baseline_days: 14, min_baseline_days: 7}
freshness: {max_age_days: 2, crm_max_age_days: 3}
suppressions: {min_share_of_previous_percent: 50}
future_timestamps: {tolerance_hours: 24}
"""

CONTACT_SEGMENT_COLUMNS = """contact_id, account_id, persona_function, persona_seniority, persona, first_touch_channel,
    first_touch_source, first_touch_medium, first_touch_campaign, first_touch_at, last_touch_channel,
    lead_source_channel, content_interests, nurture_track, company_size_band, company_tier, is_customer,
    upsell_candidate"""
GOOD_CONTACT_SEGMENTS = [
    ("c1", "a1", "marketing", "vp", "Marketing VP", "Paid Search", "google", "cpc", "brand", "2026-02-01 10:00:00",
     "Paid Search", "Paid Search", ["paid_media"], "paid-media", "51-200", "smb", True, True),
    ("c2", "a1", "sales", "manager", "Sales Manager", "Organic Search", "google", "organic", None, "2026-02-03 09:00:00",
     "Email", "Organic Search", [], "general", "51-200", "smb", True, False),
    ("c3", "a2", "other", "unknown", "Unknown", None, None, None, None, None,
     None, "Offline", [], "general", "unknown", "unknown", False, False),
    ("c4", "a2", "data", "entry", "Data IC", "Direct", "(direct)", "(none)", None, "2026-02-28 23:00:00",
     None, "Direct", ["analytics"], "analytics", "1001-5000", "enterprise", False, False),
]


@pytest.fixture
def run(tmp_path: Path) -> RunValues:
    config_dir = tmp_path / "config"
    shutil.copytree(REPO_CONFIG, config_dir)     # the vocabularies other config files hold
    (config_dir / "quality.yaml").write_text(TEST_QUALITY_YAML)
    return RunValues(as_of=AS_OF, quality=load_quality_config(config_dir), config_dir=config_dir)


@pytest.fixture
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    for schema in ("raw", "staging", "segments"):
        con.execute(f"create schema {schema}")  # fixed names from this test
    con.execute("""create table staging.accounts as select * from (values
        ('a1', 'Acme', 'acme.com', 'Software', '120', 1.0e6, 'US', 'Austin', 'TX', '73301', timestamp '2024-01-01'),
        ('a2', 'Globex', 'globex.io', 'Retail', '2000', 5.0e6, 'DE', 'Berlin', null, '10115', timestamp '2025-05-05'))
        v(account_id, name, domain, industry, employee_count, annual_revenue, country, city, state, zip, created_at)""")
    yield con
    con.close()


def write_contact_segments(con: duckdb.DuckDBPyConnection, rows: list[tuple]) -> None:
    con.execute("drop table if exists segments.contact_segments")
    con.execute(f"""create table segments.contact_segments (
        contact_id varchar, account_id varchar, persona_function varchar, persona_seniority varchar, persona varchar,
        first_touch_channel varchar, first_touch_source varchar, first_touch_medium varchar,
        first_touch_campaign varchar, first_touch_at timestamp, last_touch_channel varchar,
        lead_source_channel varchar, content_interests varchar[], nurture_track varchar, company_size_band varchar,
        company_tier varchar, is_customer boolean, upsell_candidate boolean)""")
    con.executemany(f"insert into segments.contact_segments ({CONTACT_SEGMENT_COLUMNS}) values "
                    f"({', '.join(['?'] * 18)})", rows)


def by_check(result, check: str, column: str | None = None):
    matches = [e for e in result.expectations if e.check == check and (column is None or e.column == column)]
    assert matches, f"no result for {check} {column}"
    return matches[0]


def test_clean_contact_segments_pass_and_report_is_written(con, run, tmp_path):
    write_contact_segments(con, GOOD_CONTACT_SEGMENTS)
    result = validate_table(con, load_suite_for("segments.contact_segments"), run, tmp_path / "reports")
    assert result.success, failures_markdown(result)
    assert result.rows_checked == result.table_rows == 4
    assert result.report_path == tmp_path / "reports" / "validation" / "segments.contact_segments" / "2026-03-01.html"
    assert "passed" in result.report_path.read_text()
    assert failures_markdown(result).startswith("All ")


def test_null_and_duplicate_keys_and_values_outside_the_vocabulary(con, run, tmp_path):
    rows = [list(r) for r in GOOD_CONTACT_SEGMENTS]
    rows[1][0] = "c1"               # duplicate contact_id
    rows[2][0] = None               # null contact_id
    rows[3][2] = "astronaut"        # persona_function outside the taxonomy
    rows[3][11] = "Carrier Pigeon"  # lead_source_channel outside the GA4 + CRM channels
    write_contact_segments(con, [tuple(r) for r in rows])
    result = validate_table(con, load_suite_for("segments.contact_segments"), run, tmp_path)
    assert not result.success
    nulls = by_check(result, "expect_column_values_to_not_be_null", "contact_id")
    assert (nulls.success, nulls.unexpected_count, nulls.unexpected_percent) == (False, 1, 25.0)
    dupes = by_check(result, "expect_column_values_to_be_unique", "contact_id")
    assert not dupes.success and dupes.unexpected_count == 2 and dupes.examples == ["contact_id=c1"]
    persona = by_check(result, "expect_column_values_to_be_in_set", "persona_function")
    assert persona.unexpected_count == 1 and persona.examples == ["persona_function=astronaut, contact_id=c4"]
    assert "personas.yaml" in persona.detail
    channel = by_check(result, "expect_column_values_to_be_in_set", "lead_source_channel")
    assert channel.examples == ["lead_source_channel=Carrier Pigeon, contact_id=c4"]
    page = result.report_path.read_text()
    assert "FAILED" in page and "astronaut" in page and "Carrier Pigeon" in page
    markdown = failures_markdown(result)
    assert "| expect_column_values_to_be_unique | contact_id | 2 | 66.67% | contact_id=c1 |" in markdown


def test_ceiling_exceeded_future_timestamp_and_non_customer_candidate(con, run, tmp_path):
    rows = [list(r) for r in GOOD_CONTACT_SEGMENTS]
    rows[0][2] = rows[1][2] = "other"           # 3 of 4 are `other`: 75% > 30%
    rows[3][9] = "2026-03-05 00:00:00"          # after the end of the data date + 24 h
    rows[3][17] = True                          # an upsell candidate that is not a customer
    write_contact_segments(con, [tuple(r) for r in rows])
    result = validate_table(con, load_suite_for("segments.contact_segments"), run, tmp_path)
    share = by_check(result, "share_of_value_at_most", "persona_function")
    assert not share.success and share.unexpected_percent == 75.0 and share.gx_type == "expect_column_values_to_not_be_in_set"
    assert "at most 30%" in share.detail
    assert by_check(result, "share_of_value_at_most", "lead_source_channel").success
    future = by_check(result, "expect_column_max_to_be_between", "first_touch_at")
    assert not future.success and future.examples == ["observed: 2026-03-05 00:00:00"]
    assert "2026-03-03 00:00:00" in future.detail
    candidate = by_check(result, "expect_column_values_to_be_in_set", "is_customer")
    assert not candidate.success and candidate.unexpected_count == 1
    assert candidate.examples == ["is_customer=False, contact_id=c4"]
    assert "upsell_candidate == True" in candidate.detail


def write_staging_contacts(con: duckdb.DuckDBPyConnection, rows: list[tuple]) -> None:
    con.execute("""create table staging.contacts (
        contact_id varchar, account_id varchar, email varchar, email_normalized varchar, email_valid boolean,
        email_domain varchar, is_personal_email boolean, first_name varchar, last_name varchar, job_title varchar,
        phone varchar, city varchar, state varchar, zip varchar, country varchar, lead_source varchar,
        lifecycle_stage varchar, email_opt_out boolean, is_suppressed boolean, created_at timestamp,
        updated_at timestamp, merged_contact_ids varchar[], duplicate_count integer)""")
    con.executemany("""insert into staging.contacts (contact_id, account_id, email, email_normalized, email_valid,
        phone, email_opt_out, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?)""", rows)


def test_orphan_account_and_bad_email_are_reported_with_masked_examples(con, run, tmp_path):
    write_staging_contacts(con, [
        ("c1", "a1", "Jane.Doe@acme.com", "jane.doe@acme.com", True, "+1 415 555 0199", False, "2025-01-01", "2025-02-01"),
        ("c2", "a404", "bob@globex.io", "bob@globex.io", True, None, False, "2025-01-01", "2025-02-01"),
        ("c3", None, "not-an-email", "secretname", True, None, False, "2025-01-01", "2025-02-01"),
        ("c4", "a2", "n/a", "n/a", False, None, True, "2025-01-01", "2025-02-01"),
    ])
    result = validate_table(con, load_suite_for("staging.contacts"), run, tmp_path)
    orphan = by_check(result, "references", "account_id")
    assert not orphan.success and orphan.unexpected_count == 1 and orphan.unexpected_percent == 25.0
    assert orphan.examples == ["account_id=a404, contact_id=c2"]
    assert "missing from staging.accounts.account_id" in orphan.detail
    email = by_check(result, "expect_column_values_to_match_regex", "email_normalized")
    assert not email.success and email.unexpected_count == 1   # the invalid-flagged n/a row is not judged
    assert email.examples == ["email_normalized=s***, contact_id=c3"]
    assert "secretname" not in result.report_path.read_text()


def test_a_missing_referenced_table_fails_clearly(con, run, tmp_path):
    write_staging_contacts(con, [("c1", "a1", "a@b.co", "a@b.co", True, None, False, "2025-01-01", "2025-01-01")])
    con.execute("drop table staging.accounts")
    result = validate_table(con, load_suite_for("staging.contacts"), run, None)
    orphan = by_check(result, "references", "account_id")
    assert not orphan.success and "staging.accounts does not exist" in orphan.detail


def test_missing_table_and_missing_columns_fail_with_their_names(con, run, tmp_path):
    result = validate_table(con, load_suite_for("segments.account_segments"), run, tmp_path)
    assert not result.success and "does not exist" in result.expectations[0].detail
    assert result.report_path.is_file()
    con.execute("create table segments.account_segments as select 'a1' as account_id, '1-10' as company_size_band")
    result = validate_table(con, load_suite_for("segments.account_segments"), run, tmp_path)
    columns = by_check(result, "expect_table_columns_to_match_set")
    assert not columns.success and any("company_tier" in x for x in columns.examples)
    tier = by_check(result, "expect_column_values_to_be_in_set", "company_tier")
    assert not tier.success and "company_tier" in tier.detail


def test_raw_emails_tolerate_a_few_bad_ones_and_phones_are_masked(con, run, tmp_path):
    con.execute("""create table raw.contacts as select
            'c' || i as contact_id, case when i < 2 then 'bad email ' || i else 'p' || i || '@x.com' end as email,
            '+1 415 555 01' || lpad(i::varchar, 2, '0') as phone, timestamp '2025-01-01' as created_at,
            timestamp '2025-01-01' as updated_at, 'canonical' as _format
        from range(10) t(i)""")
    suite = load_suite_for("raw.contacts")
    result = validate_table(con, suite, run, tmp_path)
    email = by_check(result, "expect_column_values_to_match_regex", "email")
    assert email.success and email.unexpected_count == 2     # 80% valid meets min_valid_raw_email_percent
    con.execute("update raw.contacts set email = 'broken' where contact_id = 'c5'")
    email = by_check(validate_table(con, suite, run, tmp_path), "expect_column_values_to_match_regex", "email")
    assert not email.success and email.unexpected_count == 3
    assert mask_value("phone", "+1 415 555 0199") == "+* *** *** **99"
    assert mask_value("email", "jane@acme.com") == "j***@acme.com"
    assert mask_value("notes", "write to jane@acme.com") == "write to j***@acme.com"


def test_web_events_only_the_data_date_is_read(con, run, tmp_path):
    con.execute("""create table raw.web_events as select * from (values
        (date '2026-03-01', 'm1', 'page', timestamp '2026-03-01 10:00:00', 'segment'),
        (date '2026-03-01', 'm2', 'track', timestamp '2026-03-01 11:00:00', 'segment'),
        (date '2026-02-27', null, 'bogus', timestamp '2030-01-01 00:00:00', 'segment'))
        v(event_date, message_id, type, ts, _format)""")
    result = validate_table(con, load_suite_for("raw.web_events"), run, tmp_path)
    assert result.rows_checked == 2 and result.table_rows == 3
    assert [e.check for e in result.failed] == ["expect_table_columns_to_match_set"]  # the rest: that day is clean
    con.execute("insert into raw.web_events values (date '2026-03-01', null, 'bogus', timestamp '2026-03-09', 'segment')")
    failed = {(e.check, e.column) for e in validate_table(con, load_suite_for("raw.web_events"), run, tmp_path).failed}
    assert {("expect_column_values_to_not_be_null", "message_id"), ("expect_column_values_to_be_in_set", "type"),
            ("expect_column_max_to_be_between", "ts")} <= failed


def test_only_the_columns_a_suite_needs_are_read(con):
    suite = load_suite_for("segments.contact_segments")
    write_contact_segments(con, GOOD_CONTACT_SEGMENTS)
    needed = suite.columns_needed(con.table("segments.contact_segments").columns)
    assert "content_interests" not in needed and "persona" not in needed and "first_touch_source" not in needed
    assert {"contact_id", "upsell_candidate", "is_customer", "first_touch_at"} <= set(needed)


def test_audience_members_compound_key_groups_and_members_outside_the_segments(con, run, tmp_path):
    write_contact_segments(con, GOOD_CONTACT_SEGMENTS)
    con.execute("create schema audiences")
    con.execute("""create table audiences.members as select * from (values
        ('upsell', 'c1', 'a1', 'treatment'), ('upsell', 'c1', 'a1', 'holdout'), ('nurture', 'c2', 'a1', 'control'),
        ('nurture', 'c9', 'a1', 'holdout'))
        v(audience, contact_id, account_id, "group")""")
    result = validate_table(con, load_suite_for("audiences.members"), run, None)
    assert not by_check(result, "expect_compound_columns_to_be_unique").success
    group = by_check(result, "expect_column_values_to_be_in_set", "group")
    assert group.examples == ["group=control, audience=nurture, contact_id=c2"]
    orphan = by_check(result, "references", "contact_id")
    assert orphan.unexpected_count == 1 and orphan.examples == ["contact_id=c9, audience=nurture"]


def test_a_few_orphans_within_the_configured_ceiling_pass_but_are_shown(con, run, tmp_path):
    rows = [(f"c{i}", "a1" if i else "a-quarantined", f"p{i}@acme.com", f"p{i}@acme.com", True, None, False,
             "2025-01-01", "2025-02-01") for i in range(200)]
    write_staging_contacts(con, rows)
    result = validate_table(con, load_suite_for("staging.contacts"), run, tmp_path)
    orphan = by_check(result, "references", "account_id")
    assert orphan.success and orphan.unexpected_count == 1 and orphan.unexpected_percent == 0.5
    assert orphan.examples == ["account_id=a-quarantined, contact_id=c0"] and "at most 1%" in orphan.detail
    assert result.success and "a-quarantined" in result.report_path.read_text()


def test_a_missing_data_date_column_fails_with_its_name(con, run):
    con.execute("create table raw.web_events as select 'm1' as message_id")
    result = validate_table(con, load_suite_for("raw.web_events"), run, None)
    assert not result.success and result.expectations[0].column == "event_date"
    assert "no column event_date" in result.expectations[0].detail


def test_unique_check_found_by_duckdb_reports_what_gx_unique_reports(con, run, tmp_path):
    """A plain unique check runs as GX's null check on DuckDB-found duplicates; with `mostly` it runs as
    GX's own unique check. Both must fail the same rows with the same count, share and examples."""
    con.execute("create table staging.things as select * from (values "
                "('k1', 'x'), ('k2', 'x'), ('k2', 'y'), (null, 'z'), ('k3', 'z'), ('k3', 'w'), ('k3', 'v'), (null, 'u')) "
                "v(thing_id, label)")
    suite_file = tmp_path / "staging.things.yaml"
    suite_file.write_text("table: staging.things\nkey: [thing_id]\nexpectations:\n"
                          "  - expect_column_values_to_be_unique: {column: thing_id}\n"
                          "  - expect_column_values_to_be_unique: {column: thing_id, mostly: 1.0}\n"
                          "  - expect_column_values_to_be_unique: {column: label}\n")
    result = validate_table(con, load_suite(suite_file), run, None)
    duckdb_found, gx_found, labels = result.expectations
    assert (duckdb_found.gx_type, gx_found.gx_type) == ("expect_column_values_to_be_null", "expect_column_values_to_be_unique")
    assert not duckdb_found.success and not gx_found.success
    assert (duckdb_found.unexpected_count, duckdb_found.unexpected_percent) == (5, round(100 * 5 / 6, 3))
    assert (gx_found.unexpected_count, gx_found.unexpected_percent) == (5, round(100 * 5 / 6, 3))
    assert sorted(duckdb_found.examples) == sorted(gx_found.examples) == ["thing_id=k2", "thing_id=k3"]
    assert not labels.success and labels.unexpected_count == 4 and "label=x, thing_id=k1" in labels.examples
    con.execute("delete from staging.things where thing_id in ('k2', 'k3')")
    assert validate_table(con, load_suite(suite_file), run, None).success


def test_label_like_text_is_told_apart_on_a_sample_spread_over_the_column():
    import pyarrow as pa

    from data_quality.gx_validate import LABEL_SAMPLE, _label_like

    rows = 5 * LABEL_SAMPLE
    labels = pa.chunked_array([[f"stage {i % 7}" for i in range(rows)]])
    ids = pa.chunked_array([[f"c{i}" for i in range(rows)]])
    # the first half one value, the second half all distinct: a sample of the head alone would call it a label
    mixed = pa.chunked_array([["same"] * (rows // 2), [f"v{i}" for i in range(rows - rows // 2)]])
    assert _label_like(labels) and not _label_like(ids) and not _label_like(mixed)
    assert _label_like(pa.chunked_array([["a"] * 19 + ["b"]])) and not _label_like(pa.chunked_array([["a", "b", "c"]]))
