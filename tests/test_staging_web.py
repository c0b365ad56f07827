"""Staging of web events: dedupe, bots, URL parsing, identity map, sessions and their source rules."""
from __future__ import annotations

import dataclasses

import pytest

from test_staging_fixtures import (  # noqa: F401
    BROWSER, contact, form, identify, page, rows, stage, ts, warehouse, web_rules, write_raw,
)

SITE = "https://northwindanalytics.com"


def event(con, message_id: str) -> dict:
    (found,) = rows(con, "select * from staging.events where message_id = ?", [message_id])
    return found


def sessions(con) -> list[dict]:
    return rows(con, "select * from staging.sessions order by anonymous_id, started_at")


# --- events -------------------------------------------------------------------------------------------

def test_duplicate_message_ids_keep_the_earliest_delivery(warehouse, web_rules):
    write_raw(warehouse, "web_events", [
        page("m1", "a1", "2026-03-02 09:00", url=f"{SITE}/late"),
        page("m1", "a1", "2026-03-01 09:00", url=f"{SITE}/first"),
        page("m1", "a1", "2026-03-01 09:00", url=f"{SITE}/same-time-later-line"),
        page("m2", "a1", "2026-03-01 09:05"),
    ])
    stage(warehouse, web_rules)
    assert warehouse.execute("select count(*), count(distinct message_id) from staging.events").fetchone() == (2, 2)
    assert event(warehouse, "m1")["page_url"] == f"{SITE}/first"


def test_bots_are_flagged_case_insensitively_and_left_out_of_sessions(warehouse, web_rules):
    write_raw(warehouse, "web_events", [
        page("m1", "bot1", "2026-03-01 09:00", user_agent="Mozilla/5.0 (compatible; Googlebot/2.1)"),
        page("m2", "bot2", "2026-03-01 09:00", user_agent="Mozilla/5.0 HeadlessChrome/126.0"),
        page("m3", "human", "2026-03-01 09:00"),
        page("m4", "no-ua", "2026-03-01 09:00", user_agent=None),
    ])
    stage(warehouse, web_rules)
    flags = dict(warehouse.execute("select message_id, is_bot from staging.events").fetchall())
    assert flags == {"m1": True, "m2": True, "m3": False, "m4": False}
    assert sorted(s["anonymous_id"] for s in sessions(warehouse)) == ["human", "no-ua"]


def test_no_bot_patterns_means_no_bots(warehouse, web_rules):
    write_raw(warehouse, "web_events", [page("m1", "a1", "2026-03-01 09:00", user_agent="Googlebot")])
    stage(warehouse, dataclasses.replace(web_rules, bot_patterns=[]))
    assert event(warehouse, "m1")["is_bot"] is False


def test_url_fields_referrer_host_click_ids_and_campaign_context(warehouse, web_rules):
    write_raw(warehouse, "web_events", [
        page("m1", "a1", "2026-03-01 09:00",
             url=f"{SITE}/guides/ppc?utm_source=linkedin&utm_medium=paid_social&utm_campaign=Q1+PPC%20Guide"
                 "&UTM_TERM=b2b&gclid=Cj0KCQ&msclkid=ms1&fbclid=fb1#top",
             referrer="HTTPS://WWW.LinkedIn.com:443/feed?x=1"),
        # context.campaign wins over the URL, field by field
        page("m2", "a2", "2026-03-01 09:00", url=f"{SITE}/?utm_source=url_source&utm_content=url_content",
             campaign_source="newsletter", campaign_medium="email"),
        page("m3", "a3", "2026-03-01 09:00", url=f"{SITE}/pricing?srsltid=AfmB&dclid=d1&gbraid=g1&wbraid=w1&gclsrc=aw.ds"),
    ])
    stage(warehouse, web_rules)
    one = event(warehouse, "m1")
    assert (one["utm_source"], one["utm_medium"], one["utm_campaign"], one["utm_term"]) == (
        "linkedin", "paid_social", "Q1 PPC Guide", "b2b")
    assert (one["gclid"], one["msclkid"], one["fbclid"], one["srsltid"]) == ("Cj0KCQ", "ms1", "fb1", None)
    assert one["referrer_host"] == "linkedin.com"
    two = event(warehouse, "m2")
    assert (two["utm_source"], two["utm_medium"], two["utm_content"]) == ("newsletter", "email", "url_content")
    three = event(warehouse, "m3")
    assert (three["srsltid"], three["dclid"], three["gbraid"], three["wbraid"], three["gclsrc"]) == (
        "AfmB", "d1", "g1", "w1", "aw.ds")


def test_email_and_content_fields(warehouse, web_rules):
    write_raw(warehouse, "web_events", [
        identify("m1", "a1", "2026-03-01 09:00", " Jane@Acme.COM "),
        form("m2", "a2", "2026-03-01 09:00", "BOB@acme.com", content_id="ppc-guide", topic="paid_media"),
        {**page("m3", "a3", "2026-03-01 09:00"), "type": "track", "event": "Content Downloaded",
         "properties": {"content_id": "seo-guide", "topic": "seo", "email": "not-a-form@acme.com"}},
    ])
    stage(warehouse, web_rules)
    assert event(warehouse, "m1")["email_normalized"] == "jane@acme.com"
    two = event(warehouse, "m2")
    assert (two["email_normalized"], two["content_id"], two["content_topic"]) == ("bob@acme.com", "ppc-guide", "paid_media")
    three = event(warehouse, "m3")
    assert (three["email_normalized"], three["content_topic"]) == (None, "seo")  # not a form event


def test_event_without_message_id_gets_a_stable_id(warehouse, web_rules):
    write_raw(warehouse, "web_events", [page(None, "a1", "2026-03-01 09:00"), page(None, "a1", "2026-03-01 09:01")])
    stage(warehouse, web_rules)
    ids = [r[0] for r in warehouse.execute("select message_id from staging.events order by ts").fetchall()]
    stage(warehouse, web_rules)
    assert len(set(ids)) == 2 and all(i.startswith("missing-") for i in ids)
    assert ids == [r[0] for r in warehouse.execute("select message_id from staging.events order by ts").fetchall()]


# --- identity map -------------------------------------------------------------------------------------

def test_identity_priority_user_id_then_identify_then_form(warehouse, web_rules):
    write_raw(warehouse, "contacts", [
        contact("c1", "one@acme.com"), contact("c2", "two@acme.com"), contact("c3", "three@acme.com"),
        contact("c4", "bad-email"),
    ])
    write_raw(warehouse, "web_events", [
        # a1: form (earliest), identify, then a userId -> the userId wins
        form("m1", "a1", "2026-03-01 09:00", "three@acme.com"),
        identify("m2", "a1", "2026-03-01 10:00", "two@acme.com"),
        {**page("m3", "a1", "2026-03-02 10:00"), "user_id": "c1"},
        # a2: form earlier than identify -> identify wins
        form("m4", "a2", "2026-03-01 09:00", "three@acme.com"),
        identify("m5", "a2", "2026-03-01 10:00", "TWO@acme.com"),
        # a3: two identifies -> the earliest wins
        identify("m6", "a3", "2026-03-01 11:00", "one@acme.com"),
        identify("m7", "a3", "2026-03-01 10:00", "two@acme.com"),
        # a4: form only; a5: an unknown email and an unknown userId; a6: an invalid email never matches
        form("m8", "a4", "2026-03-01 09:00", "three@acme.com"),
        identify("m9", "a5", "2026-03-01 09:00", "stranger@acme.com", user_id="u-unknown"),
        identify("m10", "a6", "2026-03-01 09:00", "bad-email"),
    ])
    stage(warehouse, web_rules)
    got = {r["anonymous_id"]: (r["contact_id"], r["method"]) for r in rows(warehouse, "select * from staging.identity_map")}
    assert got == {
        "a1": ("c1", "user_id"),
        "a2": ("c2", "identify"),
        "a3": ("c2", "identify"),
        "a4": ("c3", "form"),
    }


def test_user_id_maps_through_merged_contacts(warehouse, web_rules):
    write_raw(warehouse, "contacts", [
        contact("c-old", "pat@acme.com", updated="2025-01-01 00:00"),
        contact("c-new", "Pat@acme.com", updated="2026-01-01 00:00"),
    ])
    write_raw(warehouse, "web_events", [{**page("m1", "a1", "2026-03-01 09:00"), "user_id": "c-old"},
                                        {**page("m2", None, "2026-03-01 09:00"), "user_id": "c-old"}])
    stage(warehouse, web_rules)
    assert rows(warehouse, "select anonymous_id, contact_id, method from staging.identity_map") == [
        {"anonymous_id": "a1", "contact_id": "c-new", "method": "user_id"}]
    assert event(warehouse, "m2")["contact_id"] == "c-new"


def test_user_id_evidence_is_the_earliest_event_of_each_pair_ties_by_message_id(warehouse, web_rules):
    write_raw(warehouse, "contacts", [contact("c1", "one@acme.com"), contact("c2", "two@acme.com")])
    write_raw(warehouse, "web_events", [
        # a1 carries two userIds; c1's first event is at 10:00, c2's first at 09:00 (and later ones):
        # c2 wins, and first_identified_at is its earliest event, not the later ones
        {**page("m5", "a1", "2026-03-01 10:00"), "user_id": "c1"},
        {**page("m6", "a1", "2026-03-01 11:00"), "user_id": "c2"},
        {**page("m7", "a1", "2026-03-01 09:00"), "user_id": "c2"},
        {**page("m1", "a1", "2026-03-02 08:00"), "user_id": "c1"},
        # a2: both userIds first seen at the same instant -> the smaller message_id decides (m2 < m3)
        {**page("m3", "a2", "2026-03-01 09:00"), "user_id": "c1"},
        {**page("m2", "a2", "2026-03-01 09:00"), "user_id": "c2"},
        {**page("m4", "a2", "2026-03-01 08:00")},
    ])
    stage(warehouse, web_rules)
    assert rows(warehouse, "select anonymous_id, contact_id, method, first_identified_at from staging.identity_map "
                           "order by anonymous_id") == [
        {"anonymous_id": "a1", "contact_id": "c2", "method": "user_id", "first_identified_at": ts("2026-03-01 09:00")},
        {"anonymous_id": "a2", "contact_id": "c2", "method": "user_id", "first_identified_at": ts("2026-03-01 09:00")},
    ]


def test_sessions_before_the_identify_call_are_stitched(warehouse, web_rules):
    write_raw(warehouse, "contacts", [contact("c1", "lee@acme.com")])
    write_raw(warehouse, "web_events", [
        page("m1", "a1", "2026-02-01 09:00", referrer="https://www.google.com/"),  # weeks before
        page("m2", "a1", "2026-03-01 09:00"),
        form("m3", "a1", "2026-03-01 09:05", "Lee@Acme.com"),
        page("m4", "a1", "2026-03-05 09:00"),
        page("m5", "a9", "2026-03-01 09:00"),  # never identifies
    ])
    stage(warehouse, web_rules)
    assert rows(warehouse, "select contact_id, method, first_identified_at from staging.identity_map") == [
        {"contact_id": "c1", "method": "form", "first_identified_at": ts("2026-03-01 09:05")}]
    got = [(s["anonymous_id"], s["started_at"], s["contact_id"]) for s in sessions(warehouse)]
    assert got == [
        ("a1", ts("2026-02-01 09:00"), "c1"),
        ("a1", ts("2026-03-01 09:00"), "c1"),
        ("a1", ts("2026-03-05 09:00"), "c1"),
        ("a9", ts("2026-03-01 09:00"), None),
    ]
    assert event(warehouse, "m1")["contact_id"] == "c1"


# --- sessions -----------------------------------------------------------------------------------------

def test_a_gap_over_the_timeout_starts_a_new_session(warehouse, web_rules):
    write_raw(warehouse, "web_events", [
        page("m1", "a1", "2026-03-01 09:00"),
        page("m2", "a1", "2026-03-01 09:29"),
        page("m3", "a1", "2026-03-01 09:59"),  # exactly 30 minutes: same session
        {**page("m4", "a1", "2026-03-01 10:29:01"), "type": "track", "event": "Content Downloaded"},  # 30m01s: new
        page("m5", "a1", "2026-03-01 10:40"),
        page("m6", "a2", "2026-03-01 09:10"),  # another visitor, overlapping in time
    ])
    stage(warehouse, web_rules)
    got = [(s["anonymous_id"], s["started_at"], s["ended_at"], s["pageviews"], s["events"]) for s in sessions(warehouse)]
    assert got == [
        ("a1", ts("2026-03-01 09:00"), ts("2026-03-01 09:59"), 3, 3),
        ("a1", ts("2026-03-01 10:29:01"), ts("2026-03-01 10:40"), 1, 2),
        ("a2", ts("2026-03-01 09:10"), ts("2026-03-01 09:10"), 1, 1),
    ]
    assert sessions(warehouse)[0]["session_date"].isoformat() == "2026-03-01"


def test_session_timeout_comes_from_the_rules(warehouse, web_rules):
    write_raw(warehouse, "web_events", [page("m1", "a1", "2026-03-01 09:00"), page("m2", "a1", "2026-03-01 09:20")])
    stage(warehouse, dataclasses.replace(web_rules, session_timeout_minutes=10))
    assert len(sessions(warehouse)) == 2


def test_session_ids_are_stable_and_visitors_without_anonymous_id_use_user_id(warehouse, web_rules):
    write_raw(warehouse, "contacts", [contact("c1", "kai@acme.com")])
    write_raw(warehouse, "web_events", [
        page("m1", "a1", "2026-03-01 09:00"),
        {**page("m2", None, "2026-03-01 09:00"), "user_id": "c1", "type": "track", "event": "Feature Used"},
        {**page("m3", None, "2026-03-01 09:10"), "user_id": "c1", "type": "track", "event": "Report Created"},
    ])
    stage(warehouse, web_rules)
    first = rows(warehouse, "select session_id, anonymous_id, contact_id, events from staging.sessions order by session_id")
    stage(warehouse, web_rules)
    again = rows(warehouse, "select session_id, anonymous_id, contact_id, events from staging.sessions order by session_id")
    assert first == again and len({s["session_id"] for s in first}) == 2
    assert sorted((s["anonymous_id"] or "", s["contact_id"] or "", s["events"]) for s in first) == [("", "c1", 2), ("a1", "", 1)]


LANDINGS = {
    "campaign": ({"url": f"{SITE}/?utm_source=ignored", "campaign_source": "newsletter", "campaign_medium": "email",
                  "campaign_name": "March", "referrer": "https://www.google.com/"},
                 ("newsletter", "email", "March", False)),
    "url_utm": ({"url": f"{SITE}/guides/ppc?utm_source=linkedin&utm_medium=paid_social&utm_campaign=ppc&gclid=x",
                 "referrer": "https://www.linkedin.com/"},
                ("linkedin", "paid_social", "ppc", False)),
    "utm_source_only": ({"url": f"{SITE}/?utm_source=partner_x"}, ("partner_x", "(not set)", "(not set)", False)),
    "gclid": ({"url": f"{SITE}/pricing?gclid=Cj0", "referrer": "https://www.google.com/"},
              ("google", "cpc", "(not set)", False)),
    "gbraid": ({"url": f"{SITE}/pricing?gbraid=0AA"}, ("google", "cpc", "(not set)", False)),
    "msclkid": ({"url": f"{SITE}/pricing?msclkid=abc", "referrer": "https://www.bing.com/"},
                ("bing", "cpc", "(not set)", False)),
    "srsltid": ({"url": f"{SITE}/pricing?srsltid=AfmB"}, ("google", "organic", "(organic)", False)),
    "search_referrer": ({"referrer": "https://www.google.co.uk/search?q=segmentation"},
                        ("google", "organic", "(organic)", False)),
    "listed_search_host": ({"referrer": "https://uk.search.yahoo.com/"}, ("yahoo", "organic", "(organic)", False)),
    "search_subdomain": ({"referrer": "https://search.yahoo.com/search?p=x"}, ("yahoo", "organic", "(organic)", False)),
    "dotted_engine": ({"referrer": "https://www.ecosia.org/search?q=x"}, ("ecosia.org", "organic", "(organic)", False)),
    "duckduckgo": ({"referrer": "https://duckduckgo.com/"}, ("duckduckgo", "organic", "(organic)", False)),
    "other_referrer": ({"referrer": "https://blog.partner.io/post/1"},
                       ("blog.partner.io", "referral", "(referral)", False)),
    "webmail_is_referral": ({"referrer": "https://mail.google.com/"},
                            ("mail.google.com", "referral", "(referral)", False)),
    "fbclid_is_referral": ({"url": f"{SITE}/?fbclid=IwAR", "referrer": "https://m.facebook.com/"},
                           ("m.facebook.com", "referral", "(referral)", False)),
    "own_domain": ({"referrer": "https://northwindanalytics.com/blog/x"}, ("(direct)", "(none)", "(direct)", True)),
    "own_subdomain": ({"referrer": "https://app.northwindanalytics.com/"}, ("(direct)", "(none)", "(direct)", True)),
    "direct": ({}, ("(direct)", "(none)", "(direct)", True)),
}


@pytest.mark.parametrize("case", sorted(LANDINGS))
def test_session_source_rules(warehouse, web_rules, case):
    landing, expected = LANDINGS[case]
    first = page("m1", "a1", "2026-03-01 09:00", url=landing.get("url", f"{SITE}/"), referrer=landing.get("referrer"),
                 **{k: v for k, v in landing.items() if k.startswith("campaign_")})
    # a later page in the same session with other signals must not change the session's source
    later = page("m2", "a1", "2026-03-01 09:10", url=f"{SITE}/x?utm_source=later&gclid=later",
                 referrer="https://www.bing.com/")
    write_raw(warehouse, "web_events", [first, later])
    stage(warehouse, web_rules)
    (s,) = sessions(warehouse)
    assert (s["source"], s["medium"], s["campaign"], s["is_direct"]) == expected
    assert s["landing_url"] == first["page_url"] and s["pageviews"] == 2


def test_session_click_id_term_and_content(warehouse, web_rules):
    write_raw(warehouse, "web_events", [
        page("m1", "a1", "2026-03-01 09:00", url=f"{SITE}/?utm_source=google&utm_medium=cpc&utm_term=crm&utm_content=ad1&gclid=G1"),
    ])
    stage(warehouse, web_rules)
    (s,) = sessions(warehouse)
    assert (s["click_id"], s["term"], s["content"], s["landing_path"]) == ("G1", "crm", "ad1", "/")
