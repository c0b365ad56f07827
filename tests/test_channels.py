"""GA4 default channel grouping and CRM lead source mapping (`config/channels.yaml`)."""
from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
import yaml

from assets.config_files import ConfigError
from assets.segments.channels import (
    accepted_channels,
    assign_channel,
    channel_expr,
    lead_source_channel_expr,
    load_channel_rules,
)
from workflows.settings import REPO_ROOT

CONFIG = REPO_ROOT / "config"
GA4_ORDER = [
    "Direct", "Cross-network", "Paid Shopping", "Paid Search", "Paid Social", "Paid Video", "Display",
    "Paid Other", "Organic Shopping", "Organic Social", "Organic Video", "Organic Search", "Referral",
    "Email", "Affiliates", "Audio", "SMS", "Mobile Push Notifications", "Unassigned",
]


@pytest.fixture(scope="module")
def rules():
    return load_channel_rules(CONFIG)


# (source, medium, campaign) -> channel, from Google's published definitions.
VECTORS = [
    # Direct: source (direct) and medium (none)/(not set); empty values count as (direct)/(not set)
    (("(direct)", "(none)", None), "Direct"),
    (("(DIRECT)", "(Not Set)", None), "Direct"),
    ((None, None, None), "Direct"),
    (("", "  ", ""), "Direct"),
    (("(direct)", "cpc", None), "Paid Other"),
    (("newsletter", "(none)", None), "Unassigned"),
    # Cross-network: campaign contains cross-network, before any paid rule
    (("google", "cpc", "PMax Cross-Network Q3"), "Cross-network"),
    (("foo", "bar", "summer_cross-network"), "Cross-network"),
    # Paid Shopping: (shopping source or shop campaign) and paid medium, before Paid Search
    (("Google Shopping", "cpc", None), "Paid Shopping"),
    (("IGShopping", "Paid", None), "Paid Shopping"),
    (("google", "cpc", "Black-Friday-Shop"), "Paid Shopping"),
    (("google", "cpc", "shopping_feed"), "Paid Shopping"),
    (("google", "cpc", "eshop"), "Paid Shopping"),  # GA4's [^a-df-z] lets "e" precede "shop"
    (("google", "cpc", "Workshop Series"), "Paid Search"),  # ...but not "k"
    # Paid Search: search source and paid medium
    (("google", "cpc", None), "Paid Search"),
    (("Bing", "PPC", None), "Paid Search"),
    (("google", "retargeting", None), "Paid Search"),
    (("duckduckgo", "paid_search", None), "Paid Search"),
    (("google", "cpm", None), "Paid Search"),  # cpm matches .*cp.*, Paid Search comes before Display
    # Paid Social: social source and paid medium (not Paid Search, not Organic Social)
    (("linkedin", "cpc", None), "Paid Social"),
    (("Facebook", "paid_social", None), "Paid Social"),
    (("LinkedIn.com", "Paid", None), "Paid Social"),
    # Paid Video
    (("youtube", "cpv", None), "Paid Video"),
    (("YouTube.com", "paid-video", None), "Paid Video"),
    # Display: medium display/banner/expandable/interstitial/cpm
    (("google", "display", None), "Display"),
    (("partner-site", "Banner", None), "Display"),
    (("partner-site", "cpm", None), "Display"),  # before Paid Other
    (("adnet", "Interstitial", None), "Display"),
    # Paid Other: paid medium, source on no list
    (("capterra", "cpc", None), "Paid Other"),
    (("g2", "Paid", None), "Paid Other"),
    (("newsletter-sponsor", "paid_newsletter", None), "Paid Other"),
    # Organic Shopping: shopping source or shop campaign, medium not paid
    (("amazon.com", "referral", None), "Organic Shopping"),  # before Referral
    (("partner", "referral", "holiday-shop"), "Organic Shopping"),
    (("ebay", None, None), "Organic Shopping"),
    # Organic Social
    (("linkedin.com", "referral", None), "Organic Social"),
    (("t.co", "referral", None), "Organic Social"),
    (("newsletter", "Social Media", None), "Organic Social"),
    (("foo", "sm", None), "Organic Social"),
    # Organic Video
    (("youtube.com", "referral", None), "Organic Video"),
    (("foo", "Video_Post", None), "Organic Video"),
    # Organic Search
    (("google", "organic", None), "Organic Search"),
    (("DuckDuckGo", "referral", None), "Organic Search"),
    (("foo", "ORGANIC", None), "Organic Search"),
    # Referral: medium referral/app/link
    (("example.com", "referral", None), "Referral"),
    (("partner.io", "Link", None), "Referral"),
    (("someapp", "app", None), "Referral"),
    (("email", "referral", None), "Referral"),  # Referral comes before Email
    # Email: source or medium exactly email / e-mail / e_mail / e mail
    (("newsletter", "email", None), "Email"),
    (("E-Mail", "foo", None), "Email"),
    (("mailchimp", "e mail", None), "Email"),
    (("hubspot", "E_MAIL", None), "Email"),
    (("hubspot", "email-blast", None), "Unassigned"),  # "=" in Google's table: the whole value
    # Affiliates
    (("partnerstack", "affiliate", None), "Affiliates"),
    (("impact", "Affiliate", None), "Affiliates"),
    # Audio
    (("spotify", "audio", None), "Audio"),
    (("podcast", "AUDIO", None), "Audio"),
    # SMS
    (("sms", "foo", None), "SMS"),
    (("twilio", "SMS", None), "SMS"),
    # Mobile Push Notifications
    (("onesignal", "web-push", None), "Mobile Push Notifications"),
    (("app", "Mobile", None), "Mobile Push Notifications"),
    (("app", "in_app_notification", None), "Mobile Push Notifications"),
    (("Firebase", "foo", None), "Mobile Push Notifications"),
    # Unassigned
    (("foo", "bar", None), "Unassigned"),
    (("chatgpt.com", "(not set)", None), "Unassigned"),
]


def test_every_ga4_channel_has_at_least_two_vectors():
    counts = pl.Series([channel for _, channel in VECTORS]).value_counts()
    have = dict(counts.iter_rows())
    assert {c: have.get(c, 0) for c in GA4_ORDER if have.get(c, 0) < 2} == {}


def test_channel_vectors_in_one_frame(rules):
    frame = pl.DataFrame(
        [list(v) for v, _ in VECTORS], schema=["source", "medium", "campaign"], orient="row"
    )
    out = assign_channel(frame, rules=rules)
    got = out["channel"].to_list()
    wrong = [(v, exp, g) for (v, exp), g in zip(VECTORS, got) if exp != g]
    assert wrong == []


def test_shipped_rules_are_ga4_order(rules):
    assert rules.ga4_channels == GA4_ORDER
    assert accepted_channels(CONFIG) == GA4_ORDER + ["Offline", "Partner", "Purchased List"]


def test_channel_expr_on_lazy_frame_custom_columns(rules):
    lf = pl.LazyFrame({"s": ["google"], "m": ["cpc"], "c": [None]}, schema={"s": pl.String, "m": pl.String, "c": pl.String})
    out = lf.select(channel_expr(pl.col("s"), pl.col("m"), pl.col("c"), rules=rules).alias("ch")).collect()
    assert out["ch"].to_list() == ["Paid Search"]
    renamed = assign_channel(lf, "s", "m", "c", "first_touch_channel", rules=rules).collect()
    assert renamed["first_touch_channel"].to_list() == ["Paid Search"]


def test_assign_channel_missing_column_names_it(rules):
    with pytest.raises(ValueError, match="'utm_campaign'"):
        assign_channel(pl.DataFrame({"source": ["a"], "medium": ["b"]}), campaign_col="utm_campaign", rules=rules)


def test_large_frame_is_vectorised(rules):
    n = 200_000
    frame = pl.DataFrame({
        "source": pl.Series(["google", "linkedin", "(direct)", "foo"] * (n // 4)),
        "medium": pl.Series(["cpc", "social", "(none)", "email"] * (n // 4)),
        "campaign": pl.Series([None, "x", None, "y"] * (n // 4), dtype=pl.String),
    })
    out = assign_channel(frame, rules=rules)
    assert out["channel"].value_counts().sort("channel").rows() == [
        ("Direct", n // 4), ("Email", n // 4), ("Organic Social", n // 4), ("Paid Search", n // 4),
    ]


LEAD_SOURCES = [
    ("Web", "Direct"),
    ("Phone Inquiry", "Offline"),
    ("Partner Referral", "Partner"),
    ("Purchased List", "Purchased List"),
    ("purchased_list", "Purchased List"),
    ("Trade Show", "Offline"),
    ("Employee Referral", "Referral"),
    ("External Referral", "Referral"),
    ("Other", "Unassigned"),
    ("Advertisement", "Paid Other"),
    ("Seminar - Internal", "Offline"),
    ("Seminar - Partner", "Partner"),
    ("ORGANIC_SEARCH", "Organic Search"),
    ("PAID_SEARCH", "Paid Search"),
    ("EMAIL_MARKETING", "Email"),
    ("SOCIAL_MEDIA", "Organic Social"),
    ("REFERRALS", "Referral"),
    ("PAID_SOCIAL", "Paid Social"),
    ("DIRECT_TRAFFIC", "Direct"),
    ("OFFLINE", "Offline"),
    ("Offline Sources", "Offline"),
    ("OTHER_CAMPAIGNS", "Unassigned"),
    ("AI_REFERRALS", "Referral"),
    ("  paid search ", "Paid Search"),  # case, spaces, underscores do not matter
    ("Paid_Search", "Paid Search"),
    ("paid-social", "Paid Social"),
    ("Organic Search", "Organic Search"),  # GA4 names map to themselves
    ("partner", "Partner"),
    ("Carrier pigeon", "Unassigned"),
    ("", "Unassigned"),
    (None, "Unassigned"),
]


def test_lead_source_channels(rules):
    frame = pl.DataFrame({"lead_source": [v for v, _ in LEAD_SOURCES]}, schema={"lead_source": pl.String})
    got = frame.select(lead_source_channel_expr(pl.col("lead_source"), rules=rules))["lead_source"].to_list()
    wrong = [(v, exp, g) for (v, exp), g in zip(LEAD_SOURCES, got) if exp != g]
    assert wrong == []


def test_every_crm_channel_is_accepted(rules):
    assert set(rules.crm_lead_sources.values()) <= set(rules.accepted_channels)


# --- config validation -------------------------------------------------------------------------

def write_config(tmp_path: Path, mutate) -> Path:
    """A copy of the shipped channels.yaml (and GA4 list) in tmp_path, changed by `mutate(data)`."""
    (tmp_path / "reference").mkdir()
    shutil.copy(CONFIG / "reference" / "ga4_source_categories.csv", tmp_path / "reference")
    data = yaml.safe_load((CONFIG / "channels.yaml").read_text())
    mutate(data)
    (tmp_path / "channels.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return tmp_path


def test_edited_rule_changes_classification(tmp_path):
    def add_rule(data):
        data["channels"].insert(0, {"channel": "Webinar", "when": {"field": "medium", "equals": "webinar"}})

    rules = load_channel_rules(write_config(tmp_path, add_rule))
    out = pl.select(channel_expr(pl.lit("zoom"), pl.lit("Webinar"), pl.lit(None), rules=rules)).item()
    assert out == "Webinar"


BAD = [
    (lambda d: d.pop("channels"), "channels", "required key is missing"),
    (lambda d: d["channels"][2]["when"]["all"][1].update(pattern="paid_mediums"), "channels[2].when.all[1].pattern", "paid_medium"),
    (lambda d: d["patterns"].update(paid_medium="^(cp"), "patterns.paid_medium", "not a valid regex"),
    (lambda d: d["channels"][1]["when"].update(field="utm_campaign"), "channels[1].when.field", "campaign, medium, source"),
    (lambda d: d["channels"][1]["when"].update(equals="x"), "channels[1].when", "exactly one test"),
    (lambda d: d["channels"][1].update(when={"field": "campaign", "startswith": "x"}), "channels[1].when", "exactly one test"),
    (lambda d: d["channels"][3]["when"]["all"][0].update(in_category="SOURCE_CATEGORY_SEARCHES"), "in_category", "SOURCE_CATEGORY_SEARCH"),
    (lambda d: d["channels"][3]["when"]["all"][0].update(field="medium"), "in_category", "use field: source"),
    (lambda d: d["channels"][4].update(channel="Paid Search"), "channels[4].channel", "appears twice"),
    (lambda d: d["channels"][0]["when"].update(all=[]), "channels[0].when.all", "empty group"),
    (lambda d: d["channels"][6]["when"].update(one_of=[]), "channels[6].when.one_of", "non-empty list"),
    (lambda d: d["channels"][0].update(when={"all": [], "any": []}), "channels[0].when", "only one key"),
    (lambda d: d["extra_channels"].append("Referral"), "extra_channels[3]", "new, non-empty"),
    (lambda d: d["crm_lead_sources"].update(Webinars=["Webinar"]), "crm_lead_sources.Webinars", "is not one of"),
    (lambda d: d["crm_lead_sources"]["Offline"].append("paid_search"), "crm_lead_sources.Offline", "already maps to 'Paid Search'"),
    (lambda d: d["crm_lead_sources"]["Offline"].append("--"), "crm_lead_sources.Offline", "no letters or digits"),
    (lambda d: d["missing"].pop("medium"), "missing.medium", "required key is missing"),
]


@pytest.mark.parametrize("mutate, where, problem", BAD)
def test_bad_config_names_file_and_key(tmp_path, mutate, where, problem):
    config_dir = write_config(tmp_path, mutate)
    with pytest.raises(ConfigError) as err:
        load_channel_rules(config_dir)
    assert err.value.file.endswith("channels.yaml")
    assert where in err.value.where
    assert problem in err.value.problem


def test_missing_ga4_list_is_a_config_error(tmp_path):
    config_dir = write_config(tmp_path, lambda d: None)
    (config_dir / "reference" / "ga4_source_categories.csv").write_text("src,category\ngoogle,SOURCE_CATEGORY_SEARCH\n")
    with pytest.raises(ConfigError, match="ga4_source_categories.csv: header: missing column"):
        load_channel_rules(config_dir)
    (config_dir / "reference" / "ga4_source_categories.csv").unlink()
    with pytest.raises(ConfigError, match="file not found"):
        load_channel_rules(config_dir)
