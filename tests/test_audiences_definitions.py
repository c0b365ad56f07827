"""config/audiences.yaml: the shipped defaults, the nurture-track template, and every rejected input."""
from __future__ import annotations

import polars as pl
import pytest

from assets.audiences.definitions import CONTACT_SEGMENT_TYPES, build_audiences, load_audiences, slug
from assets.config_files import ConfigError

DESTINATIONS = {"google_ads", "meta", "linkedin_contacts", "linkedin_companies"}
TRACKS = ["paid-media", "seo-content", "general"]  # the default track last, as ContentRules.track_names
FILE = "config/audiences.yaml"


def audience(**changes) -> dict:
    return {"name": "upsell-dm", "description": "Decision makers", "kind": "upsell",
            "filter": "upsell_candidate", "destinations": ["google_ads"]} | changes


def build(*entries) -> list:
    return build_audiences({"audiences": list(entries)}, FILE, DESTINATIONS, TRACKS)


def error(*entries) -> str:
    with pytest.raises(ConfigError) as caught:
        build(*entries)
    assert str(caught.value).startswith(FILE)
    return str(caught.value)


def test_shipped_config_has_the_default_audiences():
    audiences = {a.name: a for a in load_audiences()}
    tracks = ["paid-media", "seo-content", "email", "analytics", "abm", "general"]
    assert set(audiences) == {"upsell-decision-makers", "enterprise-marketing-leaders"} | {f"nurture-{t}" for t in tracks}
    upsell, enterprise = audiences["upsell-decision-makers"], audiences["enterprise-marketing-leaders"]
    assert (upsell.kind, enterprise.kind) == ("upsell", "custom")
    assert "linkedin_companies" in upsell.destinations and "linkedin_companies" in enterprise.destinations
    for track in tracks:
        nurture = audiences[f"nurture-{track}"]
        assert (nurture.kind, nurture.track, nurture.holdout_share) == ("lead_source", track, 0.10)
        assert nurture.destinations == ("google_ads", "meta", "linkedin_contacts")
    assert all(a.holdout_share == 0.10 for a in audiences.values())


def test_shipped_filters_select_the_intended_people():
    audiences = {a.name: a for a in load_audiences()}
    people = pl.DataFrame(
        [
            {"persona_function": "marketing", "persona_seniority": "director", "company_tier": "enterprise", "upsell_candidate": True},
            {"persona_function": "marketing", "persona_seniority": "manager", "company_tier": "enterprise", "upsell_candidate": True},
            {"persona_function": "engineering", "persona_seniority": "vp", "company_tier": "smb", "upsell_candidate": True},
            {"persona_function": "sales", "persona_seniority": "entry", "company_tier": "smb", "upsell_candidate": True},
            {"persona_function": "finance", "persona_seniority": "cxo", "company_tier": None, "upsell_candidate": False},
        ],
    )
    schema = {**CONTACT_SEGMENT_TYPES, **people.schema}
    picked = lambda name: people.with_columns(  # noqa: E731
        *(pl.lit(None, dtype).alias(c) for c, dtype in CONTACT_SEGMENT_TYPES.items() if c not in people.columns)
    ).select(audiences[name].filter_expr(schema))[:, 0].to_list()
    assert picked("upsell-decision-makers") == [True, True, False, False, False]
    assert picked("enterprise-marketing-leaders") == [True, False, False, False, False]


def test_template_makes_one_audience_per_track_and_adds_the_track_condition():
    template = {"for_each_nurture_track": {"name": "nurture-{track}", "description": "Track {track}",
                                           "kind": "lead_source", "destinations": ["meta"]}}
    audiences = build(template)
    assert [a.name for a in audiences] == ["nurture-paid-media", "nurture-seo-content"]  # no default unless asked
    assert audiences[0].description == "Track paid-media" and audiences[0].filter is None
    frame = pl.DataFrame({"nurture_track": ["paid-media", "seo-content", None], "is_customer": [False, False, False]})
    assert frame.select(audiences[0].filter_expr(frame.schema))[:, 0].to_list() == [True, False, False]

    with_default = build({"for_each_nurture_track": template["for_each_nurture_track"]
                          | {"include_default_track": True, "filter": "is_customer == false"}})
    assert [a.name for a in with_default][-1] == "nurture-general"


def test_an_audience_names_the_columns_its_membership_reads():
    template = {"for_each_nurture_track": {"name": "nurture-{track}", "description": "x", "kind": "lead_source",
                                           "destinations": ["meta"], "filter": "is_customer == false"}}
    structured = audience(filter={"all": ["upsell_candidate", {"any": ["persona_function == 'it'",
                                                                       "contains(content_interests, 'ai')"]}]})
    by_name = {a.name: a.columns for a in build(template, structured)}
    assert by_name == {"nurture-paid-media": {"nurture_track", "is_customer"},
                       "nurture-seo-content": {"nurture_track", "is_customer"},
                       "upsell-dm": {"upsell_candidate", "persona_function", "content_interests"}}
    unfiltered = {"for_each_nurture_track": {k: v for k, v in template["for_each_nurture_track"].items() if k != "filter"}}
    assert [a.columns for a in build(unfiltered)] == [{"nurture_track"}] * 2


def test_template_slugs_track_names_but_filters_on_the_exact_value():
    template = {"for_each_nurture_track": {"name": "nurture-{track}", "description": "x", "kind": "lead_source",
                                           "destinations": ["meta"]}}
    audiences = build_audiences({"audiences": [template]}, FILE, DESTINATIONS, ["Paid Media", "general"])
    assert audiences[0].name == "nurture-paid-media" and audiences[0].track == "Paid Media"
    assert slug("SEO / Content") == "seo-content"


def test_structured_filters_and_defaults():
    [parsed] = build(audience(filter={"all": ["upsell_candidate", {"any": ["persona_function == 'it'",
                                                                           "persona_function == 'data'"]}]}))
    assert parsed.holdout_share == 0.10 and parsed.min_size is None
    [sized] = build(audience(holdout_share=0, min_size=50))
    assert (sized.holdout_share, sized.min_size) == (0.0, 50)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"destinations": ["google_ads", "tiktok"]}, "destinations[1]: 'tiktok' is not one of"),
        ({"destinations": []}, "list at least one destination"),
        ({"destinations": ["meta", "meta"]}, "listed twice"),
        ({"kind": "retention"}, "kind: 'retention' is not one of: custom, lead_source, upsell"),
        ({"filter": "revenue > 3"}, "unknown column 'revenue'"),
        ({"filter": "__import__('os').system('x')"}, "only the functions is_null, contains and startswith can be called"),
        ({"filter": "persona_function > 3"}, "cannot compare a str value with a num value"),
        ({"filter": {"every": ["upsell_candidate"]}}, "exactly one key: all, any or not"),
        ({"filter": 3}, "expected str or dict"),
        ({"holdout_share": 1.0}, "holdout_share: expected a share from 0 to below 1"),
        ({"holdout_share": -0.1}, "holdout_share"),
        ({"holdout_share": True}, "holdout_share"),
        ({"min_size": 0}, "min_size: expected a whole number of 1 or more"),
        ({"min_size": "100"}, "min_size"),
        ({"name": "Upsell"}, "not a valid audience name"),
        ({"name": "upsell_dm"}, "not a valid audience name"),  # would clash with upsell-dm as an asset key
        ({"name": "a" * 61}, "not a valid audience name"),
        ({"description": "  "}, "description: say what the audience is for"),
        ({"colour": "red"}, "unknown keys ['colour']"),
    ],
)
def test_bad_audience_entries_name_the_key(changes, message):
    assert message in error(audience(**changes))


def test_missing_keys_and_bad_file_shapes():
    assert "audiences[0].filter: required key is missing" in error({k: v for k, v in audience().items() if k != "filter"})
    assert "audiences[0]: expected a mapping" in error("upsell-dm")
    with pytest.raises(ConfigError, match="declare at least one audience"):
        build_audiences({"audiences": []}, FILE, DESTINATIONS, TRACKS)
    with pytest.raises(ConfigError, match="audiences: required key is missing"):
        build_audiences({}, FILE, DESTINATIONS, TRACKS)


def test_duplicate_names_are_rejected_including_template_collisions():
    assert "is used twice" in error(audience(), audience())
    template = {"for_each_nurture_track": {"name": "nurture-{track}", "description": "x", "kind": "lead_source",
                                           "destinations": ["meta"]}}
    assert "'nurture-paid-media' is used twice" in error(audience(name="nurture-paid-media"), template)


@pytest.mark.parametrize(
    "template, message",
    [
        ({"name": "nurture", "description": "x", "kind": "lead_source", "destinations": ["meta"]}, "must contain {track}"),
        ({"name": "n-{track}", "description": "x", "kind": "lead_source", "destinations": ["meta"],
          "include_default_track": "yes"}, "include_default_track: expected true or false"),
        ({"name": "n-{track}", "description": "x", "kind": "lead_source", "destinations": ["meta"], "size": 1},
         "unknown keys ['size']"),
        ({"name": "n-{track}", "description": "x", "kind": "lead_source", "destinations": ["x"]}, "is not one of"),
        ("nurture-{track}", "expected a mapping"),
    ],
)
def test_bad_templates_are_rejected(template, message):
    assert message in error({"for_each_nurture_track": template})


def test_template_must_stand_alone():
    assert "stands alone" in error({"for_each_nurture_track": {}, "name": "x"})


def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(ConfigError, match="audiences.yaml: file not found"):
        load_audiences(tmp_path)
