"""sample.outcomes: post-publish opportunities with a known audience effect (fast: the tiny world, a
header-only opportunities file; the end-to-end recovery is tests/test_readouts_audience_recovery.py)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from assets.audiences.holdout import hash_unit
from sample import effects
from sample.crm import OPPORTUNITY_COLUMNS
from sample.outcomes import OPPORTUNITIES_FILE, draw_outcomes, member_groups, write_audience_outcomes
from sample.population import build_population
from sample.profiles import parse_scale

PUBLISHED = dt.date(2026, 11, 20)


@pytest.fixture(scope="module")
def pop():
    return build_population(7, parse_scale("tiny"))


def _members(pop, audience: str = "aud") -> pl.DataFrame:
    contacts = pop.contacts.filter(~pl.col("is_duplicate"))["contact_id"]
    return pl.DataFrame({"audience": [audience] * len(contacts), "contact_id": contacts})


def _landing(tmp_path: Path) -> Path:
    path = tmp_path / OPPORTUNITIES_FILE
    path.parent.mkdir(parents=True)
    path.write_text(",".join(OPPORTUNITY_COLUMNS) + "\n", encoding="utf-8")
    return tmp_path


def test_groups_are_the_pipelines_holdout_hash(pop):
    groups = member_groups(_members(pop), {"aud": 0.3})
    expected = ["holdout" if hash_unit("aud", c) < 0.3 else "treatment" for c in groups["contact_id"]]
    assert groups["group"].to_list() == expected
    assert 0.2 < (groups["group"] == "holdout").mean() < 0.4


def test_draws_follow_the_known_rates_and_do_not_depend_on_the_other_members(pop):
    members = _members(pop)
    draws = draw_outcomes(pop, members, PUBLISHED, {"aud": 2.0}, {"aud": 0.5})
    rates = dict(draws.group_by("group").agg(pl.col("probability").first()).rows())
    assert rates == {"holdout": effects.AUDIENCE_HOLDOUT_CONVERSION,
                     "treatment": effects.AUDIENCE_HOLDOUT_CONVERSION * 2.0}
    converters = draws.filter("converts")
    assert converters.height > 0
    offsets = converters["created_day"] - PUBLISHED.toordinal()
    assert offsets.min() >= 1 and offsets.max() <= effects.AUDIENCE_OUTCOME_CREATED_DAYS
    # upsells at customers are won inside the 90-day window; prospects' deals stay open
    assert (converters.filter(pl.col("kind") == "upsell")["close_day"] - PUBLISHED.toordinal()).max() < 90
    assert converters.filter(pl.col("kind") == "new_business")["close_day"].null_count() == converters.filter(
        pl.col("kind") == "new_business").height
    half = draw_outcomes(pop, members.head(members.height // 2), PUBLISHED, {"aud": 2.0}, {"aud": 0.5})
    assert half.equals(draws.join(half.select("contact_id"), on="contact_id", how="semi"))


def test_the_crm_shows_what_happened_by_as_of_and_a_rewrite_never_duplicates(pop, tmp_path):
    landing = _landing(tmp_path)
    members = _members(pop)
    early = PUBLISHED + dt.timedelta(days=10)
    truth = write_audience_outcomes(landing, members, PUBLISHED, early, {"aud": 2.0}, scale="tiny")
    first = pl.read_csv(landing / OPPORTUNITIES_FILE, infer_schema=False)
    assert first.height == truth.filter(pl.col("converts") & (pl.col("created_day") <= early.toordinal())).height
    assert first["contact_id"].is_in(members["contact_id"].implode()).all()
    late = PUBLISHED + dt.timedelta(days=89)
    write_audience_outcomes(landing, members, PUBLISHED, late, {"aud": 2.0}, scale="tiny")
    write_audience_outcomes(landing, members, PUBLISHED, late, {"aud": 2.0}, scale="tiny")
    final = pl.read_csv(landing / OPPORTUNITIES_FILE, infer_schema=False)
    assert final.height == truth["converts"].sum() and final["opportunity_id"].is_unique().all()
    assert set(final["stage"]) <= {"Qualification", "Closed Won"}
    assert (final.filter(pl.col("type") == "upsell")["is_won"] == "true").all()


def test_overlapping_audiences_and_bad_multiples_are_refused(pop, tmp_path):
    both = pl.concat([_members(pop, "a"), _members(pop, "b")])
    with pytest.raises(ValueError, match="more than one"):
        draw_outcomes(pop, both, PUBLISHED, {"a": 2.0, "b": 1.0})
    with pytest.raises(ValueError, match="outside"):
        draw_outcomes(pop, _members(pop), PUBLISHED, {"aud": 20.0})
    with pytest.raises(ValueError, match="before the publish"):
        write_audience_outcomes(_landing(tmp_path), _members(pop), PUBLISHED, PUBLISHED - dt.timedelta(days=1),
                                {"aud": 2.0}, scale="tiny")
