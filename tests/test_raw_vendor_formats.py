"""Vendor detection and column mapping on the real reference headers (tests/fixtures/vendor/)."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from assets.config_files import ConfigError
from assets.raw.landing import LandingFileError
from assets.raw.vendor_formats import CANONICAL_COLUMNS, detect_format, load_vendor_formats, read_csv_header
from workflows.settings import REPO_ROOT

VENDOR = Path(__file__).parent / "fixtures" / "vendor"


@pytest.fixture(scope="module")
def formats():
    return load_vendor_formats(REPO_ROOT / "config")


def salesforce_json_header(name: str) -> list[str]:
    """The header a Salesforce export of these sample records would have (Id added: the tree format
    only carries a referenceId)."""
    records = json.loads((VENDOR / name).read_text())["records"]
    keys = ["Id"] + sorted({k for r in records for k in r if k != "attributes"})
    return keys


def test_hubspot_contacts_reference_header_is_hubspot(formats):
    header = read_csv_header(VENDOR / "hubspot_contacts_export_header.csv")
    assert len(header) == 182
    fmt = detect_format(header, "contacts", formats)
    assert fmt.vendor == "hubspot"
    named = {c: fmt.header[i] for c, i in fmt.columns.items()}
    assert named == {
        "contact_id": "Record ID", "account_id": "Associated Company IDs", "email": "Email",
        "first_name": "First Name", "last_name": "Last Name", "job_title": "Job Title", "phone": "Phone Number",
        "city": "City", "state": "State/Region", "zip": "Postal Code", "country": "Country/Region",
        "lead_source": "Original Source", "lifecycle_stage": "Lifecycle Stage",
        "email_opt_out": "Unsubscribed from all email", "created_at": "Create Date", "updated_at": "Last Modified Date",
    }
    # every other column is kept as _extra, including the non-ASCII one
    assert len(fmt.extra) == 182 - 16
    assert "höbbela" in [fmt.header[i] for i in fmt.extra]
    assert fmt.values["lifecycle_stage"]["marketing qualified lead"] == "marketingqualifiedlead"


def test_salesforce_leads_sample_derives_contact_id_from_email(formats):
    header = read_csv_header(VENDOR / "salesforce_leads_export_sample.csv")
    fmt = detect_format(header, "contacts", formats)
    assert fmt.vendor == "salesforce"
    assert "contact_id" not in fmt.columns and "account_id" not in fmt.columns
    assert fmt.derive == {"contact_id": {"hash_of": "email", "prefix": "sf-lead-"}}
    assert {fmt.header[fmt.columns[c]] for c in ("email", "job_title", "lead_source", "zip")} == {
        "Email", "Title", "LeadSource", "PostalCode"}
    assert [fmt.header[i] for i in fmt.extra] == [
        "Salutation", "Company", "Status", "Industry", "Rating", "AnnualRevenue", "NumberOfEmployees"]


@pytest.mark.parametrize("name, entity, expected", [
    ("salesforce_accounts.json", "accounts", {"account_id": "Id", "name": "Name", "employee_count": "NumberOfEmployees"}),
    ("salesforce_contacts.json", "contacts", {"contact_id": "Id", "account_id": "AccountId", "email": "Email",
                                              "first_name": "FirstName", "last_name": "LastName", "job_title": "Title",
                                              "phone": "Phone"}),
    ("salesforce_opportunities.json", "opportunities", {"opportunity_id": "Id", "account_id": "AccountId",
                                                        "stage": "StageName", "amount": "Amount", "closed_at": "CloseDate"}),
])
def test_salesforce_sample_records_map_by_api_name(formats, name, entity, expected):
    fmt = detect_format(salesforce_json_header(name), entity, formats)
    assert fmt.vendor == "salesforce"
    assert {c: fmt.header[i] for c, i in fmt.columns.items()} == expected


def test_hubspot_deals_and_companies_headers(formats):
    deals = ["Record ID", "Deal Name", "Deal Stage", "Amount", "Close Date", "Create Date", "Deal Type",
             "Associated Company IDs", "Pipeline"]
    fmt = detect_format(deals, "opportunities", formats)
    assert fmt.vendor == "hubspot" and fmt.derive == {"is_won": {"true_when": "stage", "in": ["closed won", "closedwon"]}}
    companies = ["Record ID", "Company name", "Company Domain Name", "Number of Employees", "Company size",
                 "Country/Region", "Create Date"]
    fmt = detect_format(companies, "accounts", formats)
    assert fmt.vendor == "hubspot"
    # first accepted name wins; the other stays in _extra
    assert fmt.header[fmt.columns["employee_count"]] == "Number of Employees"
    assert "Company size" in [fmt.header[i] for i in fmt.extra]


def test_canonical_header_is_case_and_whitespace_insensitive(formats):
    header = [f"  {c.upper()} " for c in CANONICAL_COLUMNS["subscriptions"]] + ["notes"]
    fmt = detect_format(header, "subscriptions", formats)
    assert fmt.vendor == "canonical"
    assert fmt.columns == {c: i for i, c in enumerate(CANONICAL_COLUMNS["subscriptions"])}
    assert fmt.extra == (9,)


def test_canonical_file_missing_its_key_is_not_taken_for_a_vendor(formats):
    # Salesforce could derive contact_id, but no Salesforce column is present: it must not qualify.
    header = [c for c in CANONICAL_COLUMNS["contacts"] if c != "contact_id"]
    with pytest.raises(LandingFileError) as err:
        detect_format(header, "contacts", formats, file="crm/contacts.csv")
    message = str(err.value)
    assert message.startswith("crm/contacts.csv: not a recognised contacts export")
    assert "missing required column(s) contact_id" in message
    assert "hubspot 'Record ID'" in message and "salesforce 'Id'" in message


def test_unknown_header_names_the_missing_required_columns(formats):
    with pytest.raises(LandingFileError, match=r"missing required column\(s\) subscription_id, account_id, "
                                               r"seats_purchased, seats_active, started_at"):
        detect_format(["foo", "bar"], "subscriptions", formats, file="crm/subscriptions.csv")


def test_ambiguous_header_is_an_error(formats):
    # Both vendors' key columns and the same number of matches: refuse to guess.
    with pytest.raises(LandingFileError, match="ambiguous header: it matches the accounts format of hubspot and salesforce"):
        detect_format(["Record ID", "Id"], "accounts", formats, file="crm/accounts.csv")


def test_empty_and_non_utf8_header(tmp_path):
    empty = tmp_path / "accounts.csv"
    empty.write_bytes(b"")
    with pytest.raises(LandingFileError, match="accounts.csv: the file is empty"):
        read_csv_header(empty)
    latin = tmp_path / "contacts.csv"
    latin.write_bytes("contact_id,Prénom\n".encode("latin-1"))
    with pytest.raises(LandingFileError, match="contacts.csv: the header is not UTF-8"):
        read_csv_header(latin)


def test_bom_is_ignored(tmp_path, formats):
    path = tmp_path / "suppressions.csv"
    path.write_bytes("\ufeffemail,reason,added_at\n".encode("utf-8"))
    assert detect_format(read_csv_header(path), "suppressions", formats).vendor == "canonical"


def broken_config(tmp_path: Path, old: str, new: str) -> Path:
    text = (REPO_ROOT / "config" / "vendor_formats.yaml").read_text()
    assert old in text
    (tmp_path / "vendor_formats.yaml").write_text(text.replace(old, new, 1))
    return tmp_path


@pytest.mark.parametrize("old, new, where", [
    ("        job_title: [\"Job Title\"]", "        job_titel: [\"Job Title\"]", "vendors.hubspot.contacts.columns.job_titel"),
    ("    key: contact_id", "    key: person_id", "entities.contacts.key"),
    ("  true_values: [\"true\", \"t\", \"yes\", \"y\", \"1\"]", "  true_values: [\"true\", \"0\"]", "booleans"),
    ("        contact_id: {hash_of: email, prefix: \"sf-lead-\"}", "        contact_id: {md5_of: email}",
     "vendors.salesforce.contacts.derive.contact_id"),
    ("      signature: [\"Record ID\", \"Deal ID\", \"Deal Stage\", \"Deal Name\"]", "      signature: []",
     "vendors.hubspot.opportunities.signature"),
])
def test_config_errors_name_file_and_key(tmp_path, old, new, where):
    with pytest.raises(ConfigError) as err:
        load_vendor_formats(broken_config(tmp_path, old, new))
    assert err.value.where == where
    assert err.value.file.endswith("vendor_formats.yaml")


def test_config_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_vendor_formats(tmp_path)


def test_leads_sample_rows_parse_with_header_length(formats):
    # every sample row has as many fields as the header (the loader relies on it for c1..cN)
    with (VENDOR / "salesforce_leads_export_sample.csv").open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert len(rows) == 23 and {len(r) for r in rows} == {16}
