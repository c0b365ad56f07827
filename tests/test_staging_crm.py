"""Staging of the CRM tables: contacts survivorship, id map, suppressions, accounts, opportunities,
subscriptions."""
from __future__ import annotations

import datetime as dt

import pytest

import duckdb

from test_staging_fixtures import AS_OF, contact, empty_raw, rows, stage, ts, warehouse, web_rules, write_raw  # noqa: F401


def person(con, contact_id: str) -> dict:
    (found,) = rows(con, "select * from staging.contacts where contact_id = ?", [contact_id])
    return found


def test_case_and_whitespace_duplicates_merge_into_the_most_recently_updated(warehouse, web_rules):
    write_raw(warehouse, "contacts", [
        contact("c1", "Jane.Doe@Acme.com", updated="2026-01-01 00:00", created="2024-05-01 00:00",
                job_title="Marketing Manager", phone="+1 415 555 0100", city="Boston"),
        contact("c2", "  jane.doe@acme.com ", updated="2026-02-01 00:00", created="2025-01-01 00:00",
                job_title="VP Marketing", phone=None, city=""),
        contact("c3", "JANE.DOE@ACME.COM", updated="2025-06-01 00:00", created="2023-01-01 00:00",
                phone="+1 415 555 0199", lead_source="Trade Show"),
    ])
    stage(warehouse, web_rules)
    people = rows(warehouse, "select * from staging.contacts")
    assert len(people) == 1
    jane = people[0]
    assert jane["contact_id"] == "c2"  # most recently updated
    assert jane["email"] == "jane.doe@acme.com"  # the survivor's email, trimmed
    assert jane["email_normalized"] == "jane.doe@acme.com"
    assert jane["job_title"] == "VP Marketing"  # survivor's value
    # survivor empty -> most recently updated non-empty value among the duplicates (c1 before c3)
    assert jane["phone"] == "+1 415 555 0100"
    assert jane["city"] == "Boston"
    assert jane["lead_source"] == "Trade Show"  # only c3 has one
    assert jane["created_at"] == ts("2023-01-01 00:00")  # earliest
    assert jane["updated_at"] == ts("2026-02-01 00:00")
    assert jane["merged_contact_ids"] == ["c1", "c2", "c3"]
    assert jane["duplicate_count"] == 2
    id_map = dict(warehouse.execute("select source_contact_id, contact_id from staging.contact_id_map").fetchall())
    assert id_map == {"c1": "c2", "c2": "c2", "c3": "c2"}


def test_survivor_ties_break_on_earliest_created_then_smallest_id(warehouse, web_rules):
    write_raw(warehouse, "contacts", [
        contact("c9", "a@acme.com", updated="2026-01-01 00:00", created="2025-01-01 00:00"),
        contact("c5", "a@acme.com", updated="2026-01-01 00:00", created="2024-01-01 00:00"),
        contact("b2", "b@acme.com", updated="2026-01-01 00:00", created="2024-01-01 00:00"),
        contact("b1", "b@acme.com", updated="2026-01-01 00:00", created="2024-01-01 00:00"),
    ])
    stage(warehouse, web_rules)
    survivors = {r["email_normalized"]: r["contact_id"] for r in rows(warehouse, "select * from staging.contacts")}
    assert survivors == {"a@acme.com": "c5", "b@acme.com": "b1"}


def test_opt_out_on_any_duplicate_propagates_to_the_person(warehouse, web_rules):
    write_raw(warehouse, "contacts", [
        contact("c1", "sam@acme.com", updated="2026-02-01 00:00", email_opt_out=False),
        contact("c2", "Sam@acme.com", updated="2025-01-01 00:00", email_opt_out=True),
        contact("c3", "kim@acme.com", email_opt_out=None),
    ])
    stage(warehouse, web_rules)
    assert person(warehouse, "c1")["email_opt_out"] is True
    assert person(warehouse, "c3")["email_opt_out"] is False


def test_invalid_and_missing_emails_are_never_merged(warehouse, web_rules):
    write_raw(warehouse, "contacts", [
        contact("c1", "not-an-email"),
        contact("c2", "NOT-AN-EMAIL "),
        contact("c3", None),
        contact("c4", ""),
        contact("c5", "jo@@acme.com"),
        contact("c6", "jo@acme"),
    ])
    stage(warehouse, web_rules)
    people = rows(warehouse, "select contact_id, email_valid, duplicate_count, email from staging.contacts order by 1")
    assert [p["contact_id"] for p in people] == ["c1", "c2", "c3", "c4", "c5", "c6"]
    assert all(p["email_valid"] is False and p["duplicate_count"] == 0 for p in people)
    assert people[3]["email"] is None  # an empty email is missing, not ""


def test_email_domain_personal_flag_and_suppression(warehouse, web_rules):
    write_raw(warehouse, "suppressions", [
        {"email": " Ann@Acme.com", "reason": "unsubscribed", "added_at": ts("2026-01-05 00:00")},
        {"email": "ann@acme.com", "reason": "complaint", "added_at": ts("2026-01-01 00:00")},
        {"email": "", "reason": "blank row", "added_at": ts("2026-01-01 00:00")},
    ])
    write_raw(warehouse, "contacts", [
        contact("c1", "ann@acme.com"),
        contact("c2", "Bob.Smith@Gmail.com"),
    ])
    stage(warehouse, web_rules)
    ann, bob = person(warehouse, "c1"), person(warehouse, "c2")
    assert (ann["email_domain"], ann["is_personal_email"], ann["is_suppressed"]) == ("acme.com", False, True)
    assert (bob["email_domain"], bob["is_personal_email"], bob["is_suppressed"]) == ("gmail.com", True, False)
    assert rows(warehouse, "select * from staging.suppressions") == [
        {"email_normalized": "ann@acme.com", "reason": "complaint", "added_at": ts("2026-01-01 00:00")}
    ]


def test_missing_suppressions_table_means_nobody_is_suppressed(warehouse, web_rules):
    warehouse.execute("drop table raw.suppressions")
    write_raw(warehouse, "contacts", [contact("c1", "ann@acme.com")])
    stage(warehouse, web_rules)
    assert warehouse.execute("select count(*) from staging.suppressions").fetchone() == (0,)
    assert person(warehouse, "c1")["is_suppressed"] is False


def test_same_contact_id_twice_keeps_its_latest_row(warehouse, web_rules):
    write_raw(warehouse, "contacts", [
        contact("c1", "old@acme.com", updated="2025-01-01 00:00"),
        contact("c1", "new@acme.com", updated="2026-01-01 00:00"),
    ])
    stage(warehouse, web_rules)
    assert rows(warehouse, "select contact_id, email from staging.contacts") == [{"contact_id": "c1", "email": "new@acme.com"}]
    assert warehouse.execute("select count(*) from staging.contact_id_map").fetchone() == (1,)


def test_accounts_one_row_per_id_latest_created_and_bare_domain(warehouse, web_rules):
    write_raw(warehouse, "accounts", [
        {"account_id": "a1", "name": "Acme old", "domain": "acme.com", "created_at": ts("2024-01-01 00:00")},
        {"account_id": "a1", "name": "Acme", "domain": " HTTPS://www.Acme.com/about?x=1 ", "created_at": ts("2025-01-01 00:00")},
        {"account_id": "a2", "name": "Globex", "domain": "globex.io:8080", "employee_count": "51-200"},
        {"account_id": "a3", "name": "Initech", "domain": ""},
    ])
    stage(warehouse, web_rules)
    got = rows(warehouse, "select account_id, name, domain, employee_count from staging.accounts order by 1")
    assert got == [
        {"account_id": "a1", "name": "Acme", "domain": "acme.com", "employee_count": None},
        {"account_id": "a2", "name": "Globex", "domain": "globex.io", "employee_count": "51-200"},
        {"account_id": "a3", "name": "Initech", "domain": None, "employee_count": None},
    ]


@pytest.mark.parametrize(
    ("raw_type", "expected"),
    [
        ("New Business", "new_business"), ("newbusiness", "new_business"), ("New Customer", "new_business"),
        ("Upsell", "upsell"), ("existingbusiness", "upsell"), ("Existing Customer - Upgrade", "upsell"),
        ("Renewal", "renewal"), ("Existing Customer - Replacement", "renewal"),
        ("Existing Customer - Downgrade", "other"), ("", "other"), (None, "other"),
    ],
)
def test_opportunity_type_is_normalised(warehouse, web_rules, raw_type, expected):
    write_raw(warehouse, "opportunities", [{"opportunity_id": "o1", "type": raw_type}])
    stage(warehouse, web_rules)
    assert warehouse.execute("select type from staging.opportunities").fetchone() == (expected,)


def test_opportunity_contact_points_to_the_survivor_and_is_closed(warehouse, web_rules):
    write_raw(warehouse, "contacts", [
        contact("c1", "x@acme.com", updated="2025-01-01 00:00"),
        contact("c2", "X@acme.com", updated="2026-01-01 00:00"),
    ])
    write_raw(warehouse, "opportunities", [
        {"opportunity_id": "o1", "contact_id": "c1", "stage": "Closed Won", "is_won": True},
        {"opportunity_id": "o2", "contact_id": "c9", "stage": "closedlost", "is_won": False},
        # Salesforce: an open deal has an expected CloseDate and IsWon = false
        {"opportunity_id": "o3", "contact_id": None, "stage": "Negotiation", "is_won": False,
         "closed_at": ts("2026-06-30 00:00")},
    ])
    stage(warehouse, web_rules)
    got = rows(warehouse, "select opportunity_id, contact_id, is_closed from staging.opportunities order by 1")
    assert got == [
        {"opportunity_id": "o1", "contact_id": "c2", "is_closed": True},
        {"opportunity_id": "o2", "contact_id": "c9", "is_closed": True},  # unknown contact kept as given
        {"opportunity_id": "o3", "contact_id": None, "is_closed": False},
    ]


@pytest.mark.parametrize(
    ("started", "ends", "status", "active"),
    [
        ("2026-03-31 23:00", None, "Active", True),  # started on the data date
        ("2026-04-01 00:00", None, "active", False),  # starts the day after
        ("2025-01-01 00:00", "2026-04-01 00:00", "active", True),  # ends the day after
        ("2025-01-01 00:00", "2026-03-31 12:00", "active", False),  # ends on the data date
        ("2025-01-01 00:00", None, "Cancelled", False),
        ("2025-01-01 00:00", None, "canceled", False),
        ("2025-01-01 00:00", None, " CHURNED ", False),
        ("2025-01-01 00:00", None, "expired", False),
        ("2025-01-01 00:00", None, "past_due", True),
        (None, None, "active", False),  # no start date: cannot be shown active
    ],
)
def test_subscription_is_active_as_of_boundaries(warehouse, web_rules, started, ends, status, active):
    write_raw(warehouse, "subscriptions", [{
        "subscription_id": "s1", "status": status,
        "started_at": ts(started) if started else None, "ends_at": ts(ends) if ends else None,
    }])
    stage(warehouse, web_rules, as_of=dt.date(2026, 3, 31))
    got = rows(warehouse, "select status, is_active_as_of from staging.subscriptions")
    assert got == [{"status": status.strip().lower(), "is_active_as_of": active}]


def test_a_changed_snapshot_staged_over_yesterday_equals_staging_it_from_scratch(warehouse, web_rules, tmp_path):
    # staging.contacts is written by its changed rows: what yesterday left must not show through
    yesterday = [
        contact("c1", "ann@acme.com", updated="2026-01-01 00:00", job_title="CFO"),
        contact("c2", "ANN@acme.com", updated="2026-01-02 00:00"),          # merged into c2
        contact("c3", "bob@acme.com", city="Boston"),                        # will change
        contact("c4", "gone@acme.com"),                                      # will leave
        contact("c5", "not-an-email"), contact("c5", "not-an-email", updated="2026-02-01 00:00", city="Rome"),
    ]
    today = [
        contact("c1", "ann@acme.com", updated="2026-03-01 00:00", job_title="CEO"),  # survivor now
        contact("c2", "ANN@acme.com", updated="2026-01-02 00:00"),
        contact("c3", "bob@acme.com", city="Berlin"),
        contact("c5", "not-an-email", updated="2026-02-01 00:00", city="Rome"),
        contact("c6", "bob@acme.com", updated="2026-04-01 00:00"),          # new, merges c3 away
    ]
    write_raw(warehouse, "contacts", yesterday)
    stage(warehouse, web_rules)
    warehouse.execute("delete from raw.contacts")
    write_raw(warehouse, "contacts", today)
    stage(warehouse, web_rules)

    fresh = duckdb.connect(str(tmp_path / "fresh.duckdb"))
    empty_raw(fresh)
    write_raw(fresh, "contacts", today)
    stage(fresh, web_rules)
    everything = "select * from staging.contacts order by contact_id"
    assert rows(warehouse, everything) == rows(fresh, everything)
    assert [(r["contact_id"], r["merged_contact_ids"]) for r in rows(fresh, everything)] == [
        ("c1", ["c1", "c2"]), ("c5", ["c5"]), ("c6", ["c3", "c6"])]
    fresh.close()
