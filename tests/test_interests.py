"""Content interests from downloads and form fills, and nurture tracks (`config/content.yaml`)."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
import yaml

from assets.config_files import ConfigError
from assets.segments.interests import (
    content_interests,
    event_topic_expr,
    load_content_rules,
    nurture_track_expr,
)
from workflows.settings import REPO_ROOT

CONFIG = REPO_ROOT / "config"
T0 = datetime(2026, 3, 1, 9, 0)
SCHEMA = {
    "contact_id": pl.String, "event": pl.String, "content_topic": pl.String,
    "content_id": pl.String, "page_path": pl.String, "ts": pl.Datetime("us"),
}


@pytest.fixture(scope="module")
def rules():
    return load_content_rules(CONFIG)


def events(rows: list[tuple]) -> pl.DataFrame:
    """Rows of (contact_id, event, content_topic, content_id, page_path, day offset)."""
    return pl.DataFrame(
        [(*r[:5], T0 + timedelta(days=r[5])) for r in rows], schema=SCHEMA, orient="row"
    )


TOPICS = [
    # (content_topic, content_id, page_path) -> topic
    (("paid_media", None, None), "paid_media"),
    (("Paid Media", None, None), "paid_media"),  # case and spaces
    ((" SOCIAL-MEDIA ", None, None), "social_media"),
    (("seo", "newsletter-playbook", "/guides/email-drip"), "seo"),  # the event's own topic wins
    (("webinars", "linkedin-ppc-guide", None), "paid_media"),  # undeclared topic -> look further
    ((None, "LinkedIn-PPC-Guide", None), "paid_media"),  # configured content_id
    ((None, "state-of-b2b-search", None), "seo"),  # configured content_id, no keyword
    ((None, "abm-starter-kit", None), "abm"),  # keyword in the content_id
    ((None, None, "/guides/linkedin-ppc-guide"), "paid_media"),  # the seed's example
    ((None, None, "/Blog/LinkedIn-Ads-Guide"), "paid_media"),  # paid before social
    ((None, None, "/blog/linkedin-company-page-tips"), "social_media"),
    ((None, None, "/guides/technical-seo-checklist"), "seo"),
    ((None, None, "/resources/ga4-attribution-workbook"), "analytics"),
    ((None, None, "/blog/account-based-marketing-101"), "abm"),
    ((None, None, "/blog/editorial-calendar"), "content_marketing"),
    ((None, "unknown-thing", "/guides/email-deliverability"), "email_marketing"),
    ((None, None, "/pricing"), None),  # not a content page
    ((None, None, "/product/email-integration"), None),  # keywords only under content sections
    ((None, None, "/guides/company-news"), None),  # content page, no keyword
    ((None, None, None), None),
]


def test_event_topic(rules):
    frame = pl.DataFrame([list(v) for v, _ in TOPICS], schema=["t", "c", "p"], orient="row")
    got = frame.select(event_topic_expr(pl.col("t"), pl.col("c"), pl.col("p"), rules=rules).alias("x"))["x"]
    wrong = [(v, exp, g) for (v, exp), g in zip(TOPICS, got.to_list()) if exp != g]
    assert wrong == []


def test_interests_ordered_by_count_then_recency_then_name(rules):
    out = content_interests(events([
        # c1: seo x2, paid_media x1 (most recent), analytics x1 (older) -> seo, paid_media, analytics
        ("c1", "Content Downloaded", "seo", None, None, 0),
        ("c1", "Form Submitted", None, None, "/guides/seo-basics", 1),
        ("c1", "Content Downloaded", "analytics", None, None, 2),
        ("c1", "Content Downloaded", None, "linkedin-ppc-guide", None, 5),
        # c2: a tie on count and time -> by name
        ("c2", "Content Downloaded", "social_media", None, None, 3),
        ("c2", "Content Downloaded", "abm", None, None, 3),
        # c3: only events that do not count
        ("c3", "Page Viewed", None, None, "/guides/seo-basics", 0),
        ("c3", "Feature Used", "seo", None, None, 0),
        ("c3", "Form Submitted", None, None, "/pricing", 0),
        # anonymous: skipped
        (None, "Content Downloaded", "seo", None, None, 0),
    ]), rules=rules)
    assert out.columns == ["contact_id", "content_interests", "top_interest"]
    assert out.schema["content_interests"] == pl.List(pl.String)
    assert out.sort("contact_id").rows() == [
        ("c1", ["seo", "paid_media", "analytics"], "seo"),
        ("c2", ["abm", "social_media"], "abm"),
    ]


def test_recency_breaks_count_ties(rules):
    out = content_interests(events([
        ("c1", "Content Downloaded", "abm", None, None, 0),
        ("c1", "Content Downloaded", "seo", None, None, 9),
    ]).lazy(), rules=rules)
    assert out.rows() == [("c1", ["seo", "abm"], "seo")]


def test_missing_input_column_is_named(rules):
    with pytest.raises(ValueError, match="page_path"):
        content_interests(events([]).drop("page_path"), rules=rules)


def test_empty_events_give_empty_frame(rules):
    out = content_interests(events([]), rules=rules)
    assert out.height == 0 and out.columns == ["contact_id", "content_interests", "top_interest"]


def test_many_events_vectorised(rules):
    n = 200_000
    frame = pl.DataFrame({
        "contact_id": pl.select(pl.format("c{}", pl.int_range(n) % 50_000)).to_series(),
        "event": pl.Series(["Content Downloaded", "Form Submitted", "Page Viewed", "Content Downloaded"] * (n // 4)),
        "content_topic": pl.Series(["seo", None, "abm", None] * (n // 4), dtype=pl.String),
        "content_id": pl.Series([None, None, None, "linkedin-ppc-guide"] * (n // 4), dtype=pl.String),
        "page_path": pl.Series([None, "/blog/email-drip", None, None] * (n // 4), dtype=pl.String),
        "ts": pl.repeat(T0, n, eager=True),
    })
    out = content_interests(frame, rules=rules)
    assert out.height == 37_500  # a quarter of the contacts only ever viewed pages
    assert set(out["content_interests"].explode().unique()) == {"seo", "email_marketing", "paid_media"}


TRACKS = [
    (["paid_media"], "paid-media"),
    (["social_media", "seo"], "paid-media"),
    (["seo", "paid_media"], "seo-content"),  # the strongest interest decides, not track order
    (["content_marketing"], "seo-content"),
    (["email_marketing", "abm"], "email"),
    (["analytics"], "analytics"),
    (["abm", "analytics"], "abm"),
    ([], "general"),
    (None, "general"),
]


def test_nurture_tracks(rules):
    frame = pl.DataFrame({"i": [v for v, _ in TRACKS]}, schema={"i": pl.List(pl.String)})
    got = frame.select(nurture_track_expr(pl.col("i"), rules=rules).alias("t"))["t"].to_list()
    assert got == [t for _, t in TRACKS]
    assert rules.track_names == ["paid-media", "seo-content", "email", "analytics", "abm", "general"]


# --- config validation -------------------------------------------------------------------------

def write_config(tmp_path: Path, mutate) -> Path:
    data = yaml.safe_load((CONFIG / "content.yaml").read_text())
    mutate(data)
    (tmp_path / "content.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return tmp_path


def test_topic_outside_every_track_is_skipped(tmp_path):
    def drop_seo(data):
        data["nurture_tracks"]["tracks"][1]["topics"] = ["content_marketing"]

    rules = load_content_rules(write_config(tmp_path, drop_seo))
    frame = pl.DataFrame({"i": [["seo", "analytics"], ["seo"]]})
    assert frame.select(nurture_track_expr(pl.col("i"), rules=rules))["i"].to_list() == ["analytics", "general"]


def test_no_content_id_map_still_works(tmp_path):
    rules = load_content_rules(write_config(tmp_path, lambda d: d.update(content_ids={})))
    out = content_interests(events([("c1", "Content Downloaded", None, "state-of-b2b-search", None, 0),
                                    ("c1", "Content Downloaded", None, "linkedin-ppc-guide", None, 0)]), rules=rules)
    assert out.rows() == [("c1", ["paid_media"], "paid_media")]


BAD = [
    (lambda d: d["nurture_tracks"]["tracks"][0]["topics"].append("paid_ads"), "nurture_tracks.tracks[0].topics[2]", "'paid_ads' is not one of"),
    (lambda d: d["nurture_tracks"]["tracks"][1].update(track="paid-media"), "nurture_tracks.tracks[1].track", "used twice"),
    (lambda d: d["nurture_tracks"]["tracks"][1].update(track="general"), "nurture_tracks.tracks[1].track", "used twice"),
    (lambda d: d["nurture_tracks"]["tracks"][2].update(topics=[]), "nurture_tracks.tracks[2].topics", "non-empty list"),
    (lambda d: d["nurture_tracks"].pop("default"), "nurture_tracks.default", "required key is missing"),
    (lambda d: d["content_ids"].update({"ppc-101": "ppc"}), "content_ids.ppc-101", "'ppc' is not one of"),
    (lambda d: d["keyword_rules"][0].update(topic="paid"), "keyword_rules[0].topic", "is not one of"),
    (lambda d: d["keyword_rules"][1].update(matches="abm("), "keyword_rules[1].matches", "not a valid regex"),
    (lambda d: d.update(content_paths="^/(guides"), "content_paths", "not a valid regex"),
    (lambda d: d["topics"].append("seo"), "topics", "appears twice"),
    (lambda d: d.update(topics=[]), "topics", "non-empty list"),
    (lambda d: d.update(counted_events="Content Downloaded"), "counted_events", "expected list"),
]


@pytest.mark.parametrize("mutate, where, problem", BAD)
def test_bad_config_names_file_and_key(tmp_path, mutate, where, problem):
    with pytest.raises(ConfigError) as err:
        load_content_rules(write_config(tmp_path, mutate))
    assert err.value.file.endswith("content.yaml")
    assert err.value.where == where
    assert problem in err.value.problem
