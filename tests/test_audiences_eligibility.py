"""Eligibility (consent, matchability, customers) and deterministic holdouts."""
from __future__ import annotations

import hashlib

import duckdb
import polars as pl
import pytest

from assets.audiences.definitions import AudienceDefinition
from assets.audiences.eligibility import CONTACT_COLUMNS, audience_eligibility
from assets.audiences.holdout import hash_unit, write_members
from test_audiences_fixtures import CONTACTS_SCHEMA, DAY, SEGMENTS_SCHEMA, SUPPRESSIONS_SCHEMA, contact, frame, segment

EVERYONE = AudienceDefinition("everyone", "all", "custom", "true", ("meta",))
UPSELL = AudienceDefinition("upsell", "customers", "upsell", "true", ("meta",))  # filter says everyone
LEADS = AudienceDefinition("leads", "prospects", "lead_source", "true", ("meta",))


def run(contacts: list[dict], segments: list[dict] | None = None, suppressions=(), audiences=(EVERYONE,)):
    segments = segments if segments is not None else [segment(int(c["contact_id"][1:])) for c in contacts]
    return audience_eligibility(
        frame(segments, SEGMENTS_SCHEMA),
        frame(contacts, CONTACTS_SCHEMA),
        frame([{"email_normalized": e} for e in suppressions], SUPPRESSIONS_SCHEMA),
        list(audiences),
    )


def reasons(result, audience="everyone") -> dict[str, int]:
    rows = result.exclusions.filter(pl.col("audience") == audience)
    return dict(zip(rows["reason"], rows["contacts"]))


def member_ids(result, audience="everyone") -> set[str]:
    return set(result.members.filter(pl.col("audience") == audience)["contact_id"])


def test_opted_out_and_flagged_suppressed_are_excluded_with_reasons():
    result = run([contact(1), contact(2, email_opt_out=True), contact(3, is_suppressed=True),
                  contact(4, email_opt_out=None), contact(5, is_suppressed=None)])
    assert member_ids(result) == {"c00001"}
    assert reasons(result) == {"opted_out": 2, "suppressed": 2}  # unknown consent counts as no consent
    assert result.matched.row(0) == ("everyone", 5)


@pytest.mark.parametrize("listed", ["jane.doe@gmail.com", "  JANE.DOE@GMAIL.COM ", "janedoe@googlemail.com",
                                    "Jane.Doe+news@gmail.com"])
def test_suppression_matches_case_whitespace_and_gmail_variants(listed):
    # staging's is_suppressed only matches lower(trim()); the platforms merge more, so we do too.
    result = run([contact(1, email="JaneDoe@gmail.com", is_suppressed=False), contact(2)], suppressions=[listed])
    assert member_ids(result) == {"c00002"}
    assert reasons(result) == {"suppressed": 1}


def test_contacts_sharing_an_identifier_with_a_blocked_person_are_excluded():
    contacts = [
        contact(1, email="a@x.com", phone="+1 415 555 0101", email_opt_out=True),
        contact(2, email="other@x.com", phone="(415) 555-0101"),  # same E.164 number, written differently
        contact(3, email="A@X.com "),                               # same address as the opted-out person
        contact(4, email="d@x.com", phone="+1 415 555 0104"),
    ]
    result = run(contacts)
    assert member_ids(result) == {"c00004"}
    assert reasons(result) == {"opted_out": 1, "blocked_identifier": 2}


def test_blocked_person_outside_any_audience_still_blocks_its_phone():
    contacts = [contact(1, phone="+44 20 7946 0958", country="GB", email_opt_out=True),
                contact(2, email=None, email_valid=False, phone="020 7946 0958", country="United Kingdom")]
    result = run(contacts, segments=[segment(2)])
    assert member_ids(result) == set() and reasons(result) == {"blocked_identifier": 1}


def test_no_identifier_means_no_valid_email_and_no_e164_phone():
    contacts = [
        contact(1, email=None, email_valid=False),                                     # nothing
        contact(2, email="not-an-email", email_valid=False, phone="12"),               # invalid both
        contact(3, email="x@y.com", email_valid=False),                                # staging said invalid
        contact(4, email=None, email_valid=False, phone="415 555 0104"),              # national + country: ok
        contact(5, email=None, email_valid=False, phone="415 555 0105", country=None),  # no country: unknown
        contact(6),
    ]
    result = run(contacts)
    assert member_ids(result) == {"c00004", "c00006"}
    assert reasons(result) == {"no_identifier": 4}


def test_duplicates_and_merged_away_ids_are_never_members():
    contacts = [contact(1), contact(1, email="again@x.com"), contact(2), contact(3)]
    segments = [segment(1), segment(2), segment(2), segment(3), segment(9)]  # c00009 is not in staging
    result = run(contacts, segments)
    assert member_ids(result) == {"c00003"}
    assert reasons(result) == {"duplicate": 3}


def test_customer_rule_holds_whatever_the_filter_says():
    contacts = [contact(i) for i in range(1, 5)]
    segments = [segment(1, is_customer=True), segment(2, is_customer=False), segment(3, is_customer=None),
                segment(4, is_customer=True)]
    result = run(contacts, segments, audiences=(UPSELL, LEADS))
    assert member_ids(result, "upsell") == {"c00001", "c00004"}
    assert member_ids(result, "leads") == {"c00002"}
    assert reasons(result, "upsell") == {"non_customer": 2}
    assert reasons(result, "leads") == {"customer": 3}  # unknown is not a prospect either


def test_consent_reasons_come_before_the_customer_rule_and_members_carry_settings():
    shared = AudienceDefinition("leads", "p", "lead_source", "persona_function == 'marketing'", ("meta",),
                                holdout_share=0.25)
    result = run([contact(1, email_opt_out=True), contact(2)], [segment(1), segment(2, is_customer=False)],
                 audiences=(shared,))
    assert reasons(result, "leads") == {"opted_out": 1}
    assert result.members.to_dicts() == [{"audience": "leads", "contact_id": "c00002", "account_id": "a002",
                                          "holdout_share": 0.25}]


def test_missing_columns_name_the_table():
    contacts = frame([contact(1)], CONTACTS_SCHEMA).drop("email_opt_out")
    with pytest.raises(ValueError, match=r"staging.contacts lacks column\(s\) \['email_opt_out'\]"):
        audience_eligibility(frame([segment(1)], SEGMENTS_SCHEMA), contacts,
                             frame([], SUPPRESSIONS_SCHEMA), [EVERYONE])
    assert "email_opt_out" in CONTACT_COLUMNS


def test_filter_type_mistake_against_the_real_schema_names_the_rule():
    bad = AudienceDefinition("bad", "x", "custom", "company_tier > 3", ("meta",), where="config/audiences.yaml: audiences[0]")
    with pytest.raises(ValueError, match=r"audiences\[0\].filter: rule 'company_tier > 3'"):
        run([contact(1)], audiences=(bad,))


# -- holdouts -------------------------------------------------------------------------------------------

def groups(members: pl.DataFrame) -> dict[tuple[str, str], str]:
    with duckdb.connect() as con:
        write_members(con, members, DAY)
        rows = con.execute('select audience, contact_id, "group", as_of from audiences.members').fetchall()
    assert {r[3] for r in rows} <= {DAY}
    return {(a, c): g for a, c, g, _ in rows}


def members_frame(audience: str, ids, share: float) -> pl.DataFrame:
    return pl.DataFrame({"audience": audience, "contact_id": [f"c{i}" for i in ids], "account_id": None,
                         "holdout_share": share}, schema={"audience": pl.String, "contact_id": pl.String,
                                                          "account_id": pl.String, "holdout_share": pl.Float64})


def test_sql_hash_equals_the_documented_md5_formula():
    assert hash_unit("a", "b") == int(hashlib.md5(b"a:b").hexdigest()[:8], 16) / 2**32
    members = members_frame("upsell-dm", range(300), 0.3)
    assigned = groups(members)
    for (audience, contact_id), group in assigned.items():
        assert group == ("holdout" if hash_unit(audience, contact_id) < 0.3 else "treatment")


def test_holdout_share_is_close_and_groups_are_stable_as_the_audience_changes():
    first = groups(members_frame("nurture-seo", range(20_000), 0.10))
    share = sum(g == "holdout" for g in first.values()) / len(first)
    assert 0.09 < share < 0.11
    # Next night: half the people left, new people came; everyone who stayed keeps their group.
    second = groups(members_frame("nurture-seo", range(10_000, 30_000), 0.10))
    stayed = set(first) & set(second)
    assert len(stayed) == 10_000 and all(first[k] == second[k] for k in stayed)


def test_each_audience_has_its_own_holdout_and_zero_share_has_none():
    a = groups(members_frame("a", range(2000), 0.5))
    b = groups(members_frame("b", range(2000), 0.5))
    agree = sum(a[("a", f"c{i}")] == b[("b", f"c{i}")] for i in range(2000)) / 2000
    assert 0.4 < agree < 0.6  # independent, not the same people held out everywhere
    assert set(groups(members_frame("z", range(500), 0.0)).values()) == {"treatment"}


def test_write_members_rejects_an_incomplete_frame():
    with duckdb.connect() as con, pytest.raises(ValueError, match=r"lacks \['holdout_share'\]"):
        write_members(con, members_frame("a", range(3), 0.1).drop("holdout_share"), DAY)


def test_members_read_only_the_segment_columns_their_filters_need(tmp_path):
    """The members asset reads the columns eligibility and the filters use, in table order; a table
    without a column a filter names is read whole, so the filter's error lists every column it has."""
    from assets.audiences.assets import segment_columns
    from assets.rule_expressions import RuleError

    segments = frame([segment(1), segment(2, persona_function="it")], SEGMENTS_SCHEMA)
    it = AudienceDefinition("it", "IT people", "custom", "persona_function == 'it'", ("meta",))
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("create schema segments")
    con.execute("create table segments.contact_segments as select * from segments")
    read = segment_columns(con, [it, LEADS])
    assert read.columns == [c for c in segments.columns if c in {"contact_id", "account_id", "is_customer", "persona_function"}]
    contacts = frame([contact(1), contact(2)], CONTACTS_SCHEMA)
    no_suppressions = frame([], SUPPRESSIONS_SCHEMA)
    whole = audience_eligibility(segments, contacts, no_suppressions, [it, LEADS])
    assert audience_eligibility(read, contacts, no_suppressions, [it, LEADS]).members.equals(whole.members)
    assert member_ids(whole, "it") == {"c00002"}

    con.execute("alter table segments.contact_segments drop column persona_function")
    read = segment_columns(con, [it])
    assert read.columns == [c for c in segments.columns if c != "persona_function"]
    with pytest.raises(RuleError, match="unknown column 'persona_function'; columns you can use: account_id, "):
        audience_eligibility(read, contacts, no_suppressions, [it])
