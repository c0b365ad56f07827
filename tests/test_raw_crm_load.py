"""CRM snapshots -> raw tables: typing, quarantine, structural errors, vendor exports, idempotency."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from assets.raw.crm_load import load_crm
from assets.raw.landing import CRM_ENTITIES, LandingFileError
from assets.raw.vendor_formats import CANONICAL_COLUMNS

VENDOR = Path(__file__).parent / "fixtures" / "vendor"
LOADED_AT = dt.datetime(2026, 3, 2, 1, 0)

GOOD = {
    "accounts": [
        ["A1", "Acme", "acme.com", "Software", "51-200", "1000000", "US", "Austin", "TX", "73301", "2024-01-02"],
        ["A2", "Beta", "beta.io", "Retail", "10001+", "2,500,000.50", "DE", "Berlin", "", "10115", "2024-01-02T10:00:00+02:00"],
        ["A3", "Gamma", "gamma.com", "Media", "1,000-5,000", "", "US", "", "", "", "2024-01-03 09:30"],
    ],
    "contacts": [
        ["C1", "A1", "ann@acme.com", "Ann", "Lee", "CEO", "+1 512 555 0100", "Austin", "TX", "73301", "US", "Web",
         "customer", "false", "2024-01-01T08:00:00Z", "2024-02-01T08:00:00.000+0000"],
        ["C2", "A2", "bob@beta.io", "Bob", "Li", "", "", "", "", "", "DE", "Paid Search", "lead", "Yes", "2024-01-05", ""],
    ],
    "opportunities": [
        ["O1", "A1", "C1", "upsell", "Closed Won", "12000", "2024-01-01", "2024-03-01", "true"],
        ["O2", "A2", "", "new_business", "Proposal", "", "2024-02-01", "", "false"],
    ],
    "subscriptions": [
        ["S1", "A1", "pro", "20", "17", "1500.5", "2024-01-01", "", "Active"],
        ["S2", "A2", "starter", "5", "1", "99", "2023-06-01", "2024-06-01", "cancelled"],
    ],
    "suppressions": [["gone@acme.com", "unsubscribed", "2024-03-01"]],
}


def write_csv(path: Path, header: list[str], rows: list[list[str]], extra: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buffer.getvalue() + extra, encoding="utf-8")
    return path


def landing(tmp_path: Path, **overrides: list[list[str]]) -> Path:
    """A landing folder with the canonical GOOD files, entity rows replaced by `overrides`."""
    root = tmp_path / "landing"
    for entity in CRM_ENTITIES:
        write_csv(root / "crm" / f"{entity}.csv", list(CANONICAL_COLUMNS[entity]), overrides.get(entity, GOOD[entity]))
    return root


def snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    tables = [*CRM_ENTITIES, "quarantine", "load_log"]
    return {t: con.table(f"raw.{t}").order("all").fetchall() for t in tables}


@pytest.fixture
def con(tmp_path):
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    yield connection
    connection.close()


def test_canonical_files_load_typed_with_lines_and_format(tmp_path, con):
    counts = load_crm(con, landing(tmp_path), LOADED_AT)
    assert {e: (c.rows_loaded, c.rows_quarantined, c.formats) for e, c in counts.items()} == {
        "accounts": (3, 0, ("canonical",)), "contacts": (2, 0, ("canonical",)),
        "opportunities": (2, 0, ("canonical",)), "subscriptions": (2, 0, ("canonical",)),
        "suppressions": (1, 0, ("canonical",)),
    }
    accounts = con.execute(
        "select account_id, employee_count, annual_revenue, created_at, state, _line, _format, _extra, _loaded_at "
        "from raw.accounts order by _line").fetchall()
    assert accounts == [
        ("A1", "51-200", 1_000_000.0, dt.datetime(2024, 1, 2), "TX", 2, "canonical", None, LOADED_AT),
        # +02:00 converted to UTC; thousands commas accepted; empty state -> NULL
        ("A2", "10001+", 2_500_000.5, dt.datetime(2024, 1, 2, 8, 0), None, 3, "canonical", None, LOADED_AT),
        ("A3", "1,000-5,000", None, dt.datetime(2024, 1, 3, 9, 30), None, 4, "canonical", None, LOADED_AT),
    ]
    assert con.execute("select contact_id, email_opt_out, created_at, updated_at from raw.contacts order by 1").fetchall() == [
        ("C1", False, dt.datetime(2024, 1, 1, 8), dt.datetime(2024, 2, 1, 8)),
        ("C2", True, dt.datetime(2024, 1, 5), None),
    ]
    assert con.execute("select opportunity_id, contact_id, amount, is_won from raw.opportunities order by 1").fetchall() == [
        ("O1", "C1", 12000.0, True), ("O2", None, None, False)]
    assert con.execute("select seats_purchased, seats_active, mrr, ends_at from raw.subscriptions order by subscription_id").fetchall() == [
        (20, 17, 1500.5, None), (5, 1, 99.0, dt.datetime(2024, 6, 1))]
    schema = dict(con.execute("select column_name, data_type from information_schema.columns "
                              "where table_schema = 'raw' and table_name = 'subscriptions'").fetchall())
    assert schema["seats_purchased"] == "INTEGER" and schema["_extra"] == "JSON" and schema["_line"] == "BIGINT"
    log = con.execute("select source, rows_loaded, rows_quarantined, file_size from raw.load_log order by 1").fetchall()
    assert [r[:3] for r in log] == [("accounts", 3, 0), ("contacts", 2, 0), ("opportunities", 2, 0),
                                    ("subscriptions", 2, 0), ("suppressions", 1, 0)]


BAD_VALUES = [
    ("accounts", 0, "", "missing account_id"),
    ("accounts", 0, "   ", "missing account_id"),
    ("accounts", 4, "lots", "not an employee count (integer or range) in employee_count: 'lots'"),
    ("accounts", 5, "$1M", "not a number in annual_revenue: '$1M'"),
    ("accounts", 10, "2024-13-45", "unparseable date in created_at: '2024-13-45'"),
    ("contacts", 0, "", "missing contact_id"),
    ("contacts", 13, "maybe", "not true/false in email_opt_out: 'maybe'"),
    ("contacts", 14, "01/02/2024", "unparseable date in created_at: '01/02/2024'"),
    ("opportunities", 0, "", "missing opportunity_id"),
    ("opportunities", 5, "12k", "not a number in amount: '12k'"),
    ("opportunities", 7, "soon", "unparseable date in closed_at: 'soon'"),
    ("subscriptions", 0, "", "missing subscription_id"),
    ("subscriptions", 3, "ten", "not a whole number in seats_purchased: 'ten'"),
    ("subscriptions", 4, "7.5", "not a whole number in seats_active: '7.5'"),
    ("subscriptions", 5, "n/a", "not a number in mrr: 'n/a'"),
    ("subscriptions", 6, "2024-02-30", "unparseable date in started_at: '2024-02-30'"),
    ("suppressions", 0, "", "missing email"),
    ("suppressions", 2, "yesterday", "unparseable date in added_at: 'yesterday'"),
]


def bad_row(case: int, entity: str, column: int, value: str) -> list[str]:
    row = list(GOOD[entity][0])
    row[0] = f"BAD{case}"  # unique id, so each case is one identifiable row
    row[column] = value
    return row


@pytest.fixture(scope="module")
def bad_values_load(tmp_path_factory):
    """One load with every BAD_VALUES case as an extra row of its entity's file."""
    tmp_path = tmp_path_factory.mktemp("bad_values")
    rows = {e: [list(r) for r in GOOD[e]] for e in CRM_ENTITIES}
    for case, (entity, column, value, _) in enumerate(BAD_VALUES):
        rows[entity].append(bad_row(case, entity, column, value))
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    counts = load_crm(con, landing(tmp_path, **rows), LOADED_AT)
    yield con, counts, rows
    con.close()


@pytest.mark.parametrize("case", range(len(BAD_VALUES)), ids=[f"{b[0]}-{b[3][:30]}" for b in BAD_VALUES])
def test_bad_value_quarantines_the_row_with_reason_and_raw_text(bad_values_load, case):
    con, _, rows = bad_values_load
    entity, column, value, reason = BAD_VALUES[case]
    row = bad_row(case, entity, column, value)
    line = rows[entity].index(row) + 2
    expected_text = ",".join(f'"{v}"' if "," in v else v for v in row)
    quarantined = con.execute("select reason, raw_text, loaded_at from raw.quarantine where source = ? and line = ?",
                              [entity, line]).fetchall()
    assert quarantined == [(reason, expected_text, LOADED_AT)]


def test_bad_values_leave_the_good_rows_loaded(bad_values_load):
    con, counts, rows = bad_values_load
    for entity in CRM_ENTITIES:
        bad = sum(1 for b in BAD_VALUES if b[0] == entity)
        assert (counts[entity].rows_loaded, counts[entity].rows_quarantined) == (len(rows[entity]) - bad, bad)
        loaded = len(con.table(f"raw.{entity}").fetchall())
        assert loaded == len(GOOD[entity])


def test_structurally_broken_rows_are_quarantined_with_line_and_text(tmp_path, con):
    root = landing(tmp_path)
    path = root / "crm" / "contacts.csv"
    good = path.read_bytes()
    path.write_bytes(
        good
        + b"C3,A1,short@acme.com\n"                                            # too few fields
        + b"C4,A1,x@acme.com,X,Y,,,,,,US,Web,lead,no,2024-01-01,,surplus\n"  # too many fields
        + "C5,A1,m\u00fcller@acme.com,J\u00fcrgen,M,,,,,,DE,Web,lead,no,2024-01-01,\n".encode("latin-1")  # not UTF-8
        + b"C6,A1,ok@acme.com,Ok,Ok,,,,,,US,Web,lead,no,2024-01-01,\n"
    )
    counts = load_crm(con, root, LOADED_AT)["contacts"]
    assert (counts.rows_loaded, counts.rows_quarantined) == (3, 3)
    rows = con.execute("select line, reason, raw_text from raw.quarantine order by line").fetchall()
    assert rows[0] == (4, "too few fields for the header", "C3,A1,short@acme.com")
    assert rows[1][:2] == (5, "too many fields for the header")
    assert rows[2][:2] == (6, "bad encoding: not valid UTF-8")
    assert rows[2][2].startswith("C5,A1,m")  # DuckDB shows the invalid bytes as '?'
    assert con.execute("select contact_id, _line from raw.contacts where contact_id = 'C6'").fetchall() == [("C6", 7)]


def test_every_data_row_is_in_raw_or_quarantine(tmp_path, con):
    """Row accounting on a messy accounts file: blank lines are not rows, everything else is counted once."""
    root = landing(tmp_path)
    rows = [["A%d" % i, "N", "d.com", "X", str(i), str(i), "US", "", "", "", "2024-01-01"] for i in range(1, 41)]
    rows[3][4] = "many"          # bad employee count
    rows[7][0] = ""              # missing id
    rows[11][10] = "2024-99-01"  # bad date
    rows[15][5] = "abc"          # bad number
    text = "account_id,name,domain,industry,employee_count,annual_revenue,country,city,state,zip,created_at\n"
    lines = [",".join(r) for r in rows]
    lines.insert(20, "")                                  # blank line: skipped, counted in line numbers
    lines[30] = lines[30] + ",extra"                      # too many fields
    lines.insert(36, 'A99,"broken quote,d.com,X,1,1,US')  # unterminated quote: swallows the lines after it
    (root / "crm" / "accounts.csv").write_text(text + "\n".join(lines) + "\n")
    counts = load_crm(con, root, LOADED_AT)["accounts"]
    loaded, quarantined = con.execute(
        "select (select count(*) from raw.accounts), (select count(*) from raw.quarantine where source = 'accounts')"
    ).fetchone()
    assert (counts.rows_loaded, counts.rows_quarantined) == (loaded, quarantined)
    assert quarantined >= 6
    lines_seen = con.execute(
        "select list(l order by l) from (select _line as l from raw.accounts union all "
        "select line from raw.quarantine where source = 'accounts')").fetchone()[0]
    assert len(lines_seen) == len(set(lines_seen))  # no row twice
    # A raw row's _line points at its own line in the file (before the broken quote swallows lines)
    by_line = dict(con.execute("select _line, account_id from raw.accounts where _line < 38").fetchall())
    file_lines = (text + "\n".join(lines)).split("\n")
    for line, account_id in by_line.items():
        assert file_lines[line - 1].startswith(account_id + ","), (line, account_id)
    # data records = everything after the header except blank lines; the unterminated quote merges
    # its record with the following lines, so DuckDB sees fewer records than text lines
    assert loaded + quarantined <= len([x for x in lines if x])
    assert loaded + quarantined == len([x for x in lines if x]) - (con.execute(
        "select len(raw_text) - len(replace(raw_text, chr(10), '')) from raw.quarantine "
        "where reason like 'broken quoting%'").fetchone()[0])


def test_quoted_multiline_value_and_extra_columns(tmp_path, con):
    root = landing(tmp_path)
    header = list(CANONICAL_COLUMNS["accounts"]) + ["Notes", "notes"]
    rows = [GOOD["accounts"][0] + ["line one\nline two", "b"], GOOD["accounts"][1] + ["", None]]
    write_csv(root / "crm" / "accounts.csv", header, rows)
    load_crm(con, root, LOADED_AT)
    extras = con.execute("select account_id, _extra from raw.accounts order by 1").fetchall()
    assert json.loads(extras[0][1]) == {"Notes": "line one\nline two", "notes": "b"}
    assert json.loads(extras[1][1]) == {"Notes": None, "notes": None}


def test_missing_required_column_stops_before_any_table_changes(tmp_path, con):
    root = landing(tmp_path)
    load_crm(con, root, LOADED_AT)
    before = snapshot(con)
    write_csv(root / "crm" / "opportunities.csv", ["opportunity_id", "account_id", "amount"], [["O9", "A1", "5"]])
    (root / "crm" / "subscriptions.csv").write_text("subscription_id,account_id,plan,seats_purchased,seats_active,mrr,started_at\n")
    (root / "crm" / "accounts.csv").write_text("account_id,name\nA7,New\n")  # valid: would change the table
    with pytest.raises(LandingFileError) as err:
        load_crm(con, root, LOADED_AT.replace(hour=5))
    message = str(err.value)
    assert "opportunities.csv: not a recognised opportunities export: missing required column(s) stage" in message
    assert "subscriptions.csv: the file has a header but no data rows" in message
    assert {Path(f).name for f, _ in err.value.problems} == {"opportunities.csv", "subscriptions.csv"}
    assert snapshot(con) == before


def test_a_failure_while_replacing_changes_no_table_and_leaves_no_temp_tables(tmp_path, con):
    """The five tables are replaced in one transaction after every file was read and typed: a table
    that cannot take its rows (the last one here) leaves every table as it was."""
    root = landing(tmp_path)
    load_crm(con, root, LOADED_AT)
    con.execute("alter table raw.suppressions add column note varchar")  # no longer the contract's columns
    before = snapshot(con)
    write_csv(root / "crm" / "accounts.csv", list(CANONICAL_COLUMNS["accounts"]), GOOD["accounts"][:1])
    with pytest.raises(duckdb.Error):
        load_crm(con, root, LOADED_AT.replace(hour=5))
    assert snapshot(con) == before
    assert con.execute("select count(*) from raw.accounts").fetchone()[0] == 3
    temp = con.execute("select table_name from duckdb_tables() where temporary union all "
                       "select view_name from duckdb_views() where temporary and not internal").fetchall()
    assert temp == []


def test_an_absent_optional_file_clears_its_quarantine_keeps_its_load_log_and_no_temp_table_stays(tmp_path, con):
    root = landing(tmp_path, suppressions=[*GOOD["suppressions"], ["", "bounced", "2024-03-02"]])
    load_crm(con, root, LOADED_AT)
    assert con.execute("select count(*) from raw.quarantine where source = 'suppressions'").fetchone()[0] == 1
    (root / "crm" / "suppressions.csv").unlink()
    counts = load_crm(con, root, LOADED_AT.replace(hour=5))
    assert (counts["suppressions"].rows_loaded, counts["suppressions"].files_read) == (0, 0)
    assert con.execute("select count(*) from raw.suppressions").fetchone()[0] == 0
    assert con.execute("select count(*) from raw.quarantine where source = 'suppressions'").fetchone()[0] == 0
    # the previous load of the file is still the latest one there was
    assert con.execute("select rows_loaded, rows_quarantined, loaded_at from raw.load_log where source = 'suppressions'"
                       ).fetchall() == [(1, 1, LOADED_AT)]
    assert con.execute("select loaded_at from raw.load_log where source = 'contacts'").fetchall() == [(LOADED_AT.replace(hour=5),)]
    temp = con.execute("select table_name from duckdb_tables() where temporary union all "
                       "select view_name from duckdb_views() where temporary and not internal").fetchall()
    assert temp == []


def test_rows_keep_their_file_lines_on_a_connection_that_turned_insertion_order_off(tmp_path, con):
    """Rows are numbered by their place in the table DuckDB read the file into, which follows the file
    only while preserve_insertion_order is on: the load turns it on for itself and back off after."""
    root = landing(tmp_path)
    rows = [[f"A{i}", f"Name {i}", "", "", "", "", "", "", "", "", ""] for i in range(1, 2001)]
    rows[1500][10] = "not a date"
    write_csv(root / "crm" / "accounts.csv", list(CANONICAL_COLUMNS["accounts"]), rows)
    con.execute("set preserve_insertion_order = false")
    load_crm(con, root, LOADED_AT)
    assert con.execute("select current_setting('preserve_insertion_order')").fetchone()[0] is False
    lines = con.execute("select account_id, _line from raw.accounts").fetchall()
    assert len(lines) == 1999 and all(line == int(account[1:]) + 1 for account, line in lines)
    assert con.execute("select line from raw.quarantine where source = 'accounts'").fetchall() == [(1502,)]


def test_missing_and_empty_required_files(tmp_path, con):
    root = landing(tmp_path)
    (root / "crm" / "contacts.csv").unlink()
    (root / "crm" / "accounts.csv").write_text("")
    with pytest.raises(LandingFileError) as err:
        load_crm(con, root, LOADED_AT)
    problems = dict((Path(f).name, p) for f, p in err.value.problems)
    assert problems["contacts.csv"].startswith("required file is missing")
    assert problems["accounts.csv"].startswith("the file is empty")
    # nothing was created either
    assert con.execute("select count(*) from information_schema.tables where table_schema = 'raw'").fetchone()[0] == 0


def test_reload_is_idempotent_and_optional_suppressions_can_disappear(tmp_path, con):
    rows = [list(r) for r in GOOD["accounts"]] + [["A4", "Bad", "b.com", "X", "huge", "1", "US", "", "", "", "x"]]
    root = landing(tmp_path, accounts=rows)
    load_crm(con, root, LOADED_AT)
    first = snapshot(con)
    load_crm(con, root, LOADED_AT)
    assert snapshot(con) == first
    assert len(first["quarantine"]) == 1
    (root / "crm" / "suppressions.csv").unlink()
    counts = load_crm(con, root, LOADED_AT)
    assert counts["suppressions"].files_read == 0
    assert con.execute("select count(*) from raw.suppressions").fetchone()[0] == 0
    assert snapshot(con)["accounts"] == first["accounts"]


def hubspot_contacts_file(path: Path) -> None:
    header = next(csv.reader((VENDOR / "hubspot_contacts_export_header.csv").open(encoding="utf-8")))
    def row(values: dict[str, str]) -> list[str]:
        return [values.get(h, "") for h in header]
    write_csv(path, header, [
        row({"Record ID": "101", "Email": "Jane@Acme.com", "First Name": "Jane", "Job Title": "VP Marketing",
             "Lifecycle Stage": "Marketing Qualified Lead", "Unsubscribed from all email": "true",
             "Create Date": "2024-05-01 14:03", "Associated Company IDs": "9001;9002", "höbbela": "x",
             "Original Source": "Paid Social"}),
        row({"Record ID": "102", "Email": "tom@beta.io", "Lifecycle Stage": "Customer",
             "Unsubscribed from all email": "", "Create Date": "2024-05-02 08:00", "Associated Company IDs": "9003"}),
    ])


def test_hubspot_contacts_export_loads_with_mapped_values(tmp_path, con):
    root = landing(tmp_path)
    hubspot_contacts_file(root / "crm" / "contacts.csv")
    counts = load_crm(con, root, LOADED_AT)
    assert counts["contacts"].formats == ("hubspot",)
    rows = con.execute(
        "select contact_id, account_id, email, lifecycle_stage, email_opt_out, created_at, lead_source, _format, "
        "_extra->>'höbbela', json_array_length(json_keys(_extra)) from raw.contacts order by 1").fetchall()
    assert rows == [
        ("101", "9001", "Jane@Acme.com", "marketingqualifiedlead", True, dt.datetime(2024, 5, 1, 14, 3), "Paid Social",
         "hubspot", "x", 166),
        ("102", "9003", "tom@beta.io", "customer", None, dt.datetime(2024, 5, 2, 8), None, "hubspot", None, 166),
    ]


def test_salesforce_leads_get_stable_ids_from_email(tmp_path, con):
    root = landing(tmp_path)
    shutil.copy(VENDOR / "salesforce_leads_export_sample.csv", root / "crm" / "contacts.csv")
    counts = load_crm(con, root, LOADED_AT)["contacts"]
    assert (counts.rows_loaded, counts.rows_quarantined, counts.formats) == (22, 0, ("salesforce",))
    first = con.execute("select contact_id, email, account_id, job_title, country, _extra->>'Company' "
                        "from raw.contacts where email = 'jrogers@btca.com'").fetchone()
    assert first[0].startswith("sf-lead-") and first[2] is None
    assert first[3:] == ("VP, Facilities", "USA", "Burlington Textiles Corp of America")
    ids = con.execute("select count(distinct contact_id) from raw.contacts").fetchone()[0]
    assert ids == 22
    # reordering the export does not change anyone's id
    lines = (VENDOR / "salesforce_leads_export_sample.csv").read_text().splitlines()
    (root / "crm" / "contacts.csv").write_text("\n".join([lines[0], *reversed(lines[1:])]) + "\n")
    load_crm(con, root, LOADED_AT)
    assert con.execute("select contact_id from raw.contacts where email = 'jrogers@btca.com'").fetchone()[0] == first[0]


def salesforce_csv(name: str, path: Path, extra_rows: list[dict] = ()) -> None:
    """A Salesforce export of the sample records: API names, referenceId as Id, '@Ref' links as ids."""
    records = json.loads((VENDOR / name).read_text())["records"] + list(extra_rows)
    keys = ["Id"] + sorted({k for r in records for k in r if k != "attributes"})
    rows = []
    for r in records:
        values = {"Id": r.get("attributes", {}).get("referenceId", r.get("Id", "")),
                  **{k: str(v).lstrip("@") for k, v in r.items() if k != "attributes"}}
        rows.append([values.get(k, "") for k in keys])
    write_csv(path, keys, rows)


def test_salesforce_sample_records_load(tmp_path, con):
    root = landing(tmp_path)
    salesforce_csv("salesforce_accounts.json", root / "crm" / "accounts.csv")
    salesforce_csv("salesforce_contacts.json", root / "crm" / "contacts.csv")
    salesforce_csv("salesforce_opportunities.json", root / "crm" / "opportunities.csv", [
        {"Id": "OppX1", "AccountId": "AccountRef1", "StageName": "Closed Won", "Amount": "1000",
         "CloseDate": "2025-02-01", "Type": "Existing Customer - Upgrade"},
        {"Id": "OppX2", "AccountId": "AccountRef2", "StageName": "Prospecting", "Type": "New Customer"},
    ])
    counts = load_crm(con, root, LOADED_AT)
    assert {e: counts[e].formats for e in ("accounts", "contacts", "opportunities")} == {
        "accounts": ("salesforce",), "contacts": ("salesforce",), "opportunities": ("salesforce",)}
    assert counts["accounts"].rows_loaded == 10 and counts["contacts"].rows_loaded == 6
    assert counts["opportunities"].rows_loaded == 22
    assert con.execute("select employee_count, _extra->>'Type' from raw.accounts where account_id = 'AccountRef1'"
                       ).fetchone() == ("12345", "Technology Partner")
    assert con.execute("select account_id from raw.contacts where email = 'amy@demo.net'").fetchone()[0] == "AccountRef1"
    opps = dict((r[0], r[1:]) for r in con.execute(
        "select opportunity_id, type, is_won, closed_at, amount from raw.opportunities").fetchall())
    # no IsWon column: derived from the stage; Type mapped to the canonical values
    assert opps["OppX1"] == ("upsell", True, dt.datetime(2025, 2, 1), 1000.0)
    assert opps["OppX2"] == ("new_business", False, None, None)
    assert opps["OpportunityRef4"][1] is True and opps["OpportunityRef1"][1] is False


def test_hubspot_deals_type_and_won_flag(tmp_path, con):
    root = landing(tmp_path)
    write_csv(root / "crm" / "opportunities.csv",
              ["Record ID", "Deal Name", "Deal Stage", "Amount", "Close Date", "Create Date", "Deal Type", "Associated Company IDs"],
              [["7001", "Expansion", "Closed Won", "1,200.00", "2024-06-30 00:00", "2024-05-01 10:00", "Existing Business", "9001"],
               ["7002", "New logo", "Appointment Scheduled", "", "", "2024-05-03 10:00", "New Business", ""]])
    load_crm(con, root, LOADED_AT)
    assert con.execute("select opportunity_id, account_id, type, is_won, amount, _format from raw.opportunities order by 1"
                       ).fetchall() == [("7001", "9001", "upsell", True, 1200.0, "hubspot"),
                                        ("7002", None, "new_business", False, None, "hubspot")]


def test_every_employee_count_form_the_size_bands_accept_loads(tmp_path, con):
    """raw accepts exactly the text forms that config/company_size.yaml documents (and segments band)."""
    from assets.segments.company_size import employee_count_lower_bound
    import polars as pl

    forms = ["250.0", "51 to 200", "51-200 employees", "10 001", "1,200", " 75 ", "51–200", "10,001+", "200 Employees"]
    bad = ["lots", "n/a", "50-", "1,5 to"]
    base = GOOD["accounts"][0]
    rows = [[f"E{i}", *base[1:4], value, *base[5:]] for i, value in enumerate(forms + bad)]
    counts = load_crm(con, landing(tmp_path, accounts=rows), LOADED_AT)
    assert (counts["accounts"].rows_loaded, counts["accounts"].rows_quarantined) == (len(forms), len(bad))
    loaded = [r[0] for r in con.execute("select employee_count from raw.accounts order by account_id").fetchall()]
    assert sorted(loaded) == sorted(f.strip() for f in forms)
    lower = pl.DataFrame({"v": forms}).select(employee_count_lower_bound(pl.col("v"))).to_series().to_list()
    assert None not in lower  # and every loaded form gets a band
    reasons = [r[0] for r in con.execute("select reason from raw.quarantine where source = 'accounts'").fetchall()]
    assert all(r.startswith("not an employee count") for r in reasons) and len(reasons) == len(bad)


SPACES = [" ", "\t", "\n", "\r\n", "\u00a0", "\u2003", "\u3000", "\ufeff", "\x1f"]


def test_trim_fast_gives_what_trim_gives(con):
    """trim_fast (raw and staging SQL) skips DuckDB's trim only for all-ASCII values with no space at either
    end; every mix of ASCII and Unicode spaces, inner spaces and non-ASCII letters trims as trim does."""
    from assets.sql_files import run_sql

    run_sql(con, "shared/trim_fast")
    cores = ["", "a", "Zoë", "a b", "ä", "x\u00a0y", "\u00e9t\u00e9"]
    values = [None] + [left + core + right for core in cores for left in ["", *SPACES] for right in ["", *SPACES]]
    got = con.execute("select v, trim_fast(v), trim(v) from unnest(?::varchar[]) t(v)", [values]).fetchall()
    assert len(got) == len(values) and all(fast == slow for _, fast, slow in got), [r for r in got if r[1] != r[2]]


def test_crm_cells_are_trimmed_of_unicode_spaces_too(tmp_path, con):
    row = list(GOOD["contacts"][0])
    row[3], row[4], row[5] = "\u00a0Ann ", "  Lee\u3000", "\u2003"  # a title of spaces only is NULL
    load_crm(con, landing(tmp_path, contacts=[row]), LOADED_AT)
    assert con.execute("select first_name, last_name, job_title from raw.contacts").fetchall() == [("Ann", "Lee", None)]
