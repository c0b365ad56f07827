"""Company size band and tier from employee count text (`config/company_size.yaml`)."""
from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import yaml

from assets.config_files import ConfigError
from assets.segments.company_size import (
    add_company_size,
    employee_count_lower_bound,
    load_company_size_rules,
    size_band_expr,
    tier_expr,
)
from workflows.settings import REPO_ROOT

CONFIG = REPO_ROOT / "config"


@pytest.fixture(scope="module")
def rules():
    return load_company_size_rules(CONFIG)


CASES = [
    # integers
    ("1", "1-10", "startup"),
    ("10", "1-10", "startup"),
    ("11", "11-50", "startup"),
    (" 75 ", "51-200", "smb"),
    ("200", "51-200", "smb"),
    ("201", "201-500", "mid_market"),
    ("250", "201-500", "mid_market"),
    ("1000", "501-1000", "mid_market"),
    ("1,200", "1001-5000", "enterprise"),
    ("5000", "1001-5000", "enterprise"),
    ("10000", "5001-10000", "enterprise"),
    ("10001", "10001+", "enterprise"),
    ("1,000,000", "10001+", "enterprise"),
    ("10 001", "10001+", "enterprise"),
    ("250.0", "201-500", "mid_market"),
    ("9000 employees", "5001-10000", "enterprise"),
    # ranges: banded by the lower bound
    ("51-200", "51-200", "smb"),
    ("1,001-5,000", "1001-5000", "enterprise"),
    ("51 to 200", "51-200", "smb"),
    ("51 - 200", "51-200", "smb"),
    ("51–200", "51-200", "smb"),
    ("501-1,000 Employees", "501-1000", "mid_market"),
    ("150-300", "51-200", "smb"),
    ("10001+", "10001+", "enterprise"),
    ("10,001+", "10001+", "enterprise"),
    ("5001 +", "5001-10000", "enterprise"),
    # garbage -> unknown
    ("", "unknown", "unknown"),
    ("   ", "unknown", "unknown"),
    (None, "unknown", "unknown"),
    ("n/a", "unknown", "unknown"),
    ("lots", "unknown", "unknown"),
    ("0", "unknown", "unknown"),
    ("-5", "unknown", "unknown"),
    ("200-50", "unknown", "unknown"),
    ("51-", "unknown", "unknown"),
    ("about 50", "unknown", "unknown"),
    ("99999999999999999999999", "unknown", "unknown"),
]


def test_bands_and_tiers(rules):
    frame = pl.DataFrame({"employee_count": [c for c, _, _ in CASES]}, schema={"employee_count": pl.String})
    out = add_company_size(frame, rules=rules)
    got = list(zip(out["employee_count"], out["company_size_band"], out["company_tier"]))
    assert [g for g, case in zip(got, CASES) if g != case] == []


def test_lower_bound():
    frame = pl.DataFrame({"e": ["1,001-5,000", "10,001+", "42", "x", "200-50"]})
    assert frame.select(employee_count_lower_bound(pl.col("e")).alias("low"))["low"].to_list() == [1001, 10001, 42, None, None]


def test_numeric_input_column_and_lazy_frame(rules):
    lf = pl.LazyFrame({"n": [5, 600, None]}, schema={"n": pl.Int64})
    out = add_company_size(lf, "n", band_col="band", tier_col="tier", rules=rules).collect()
    assert out.select("band", "tier").rows() == [("1-10", "startup"), ("501-1000", "mid_market"), ("unknown", "unknown")]


def test_tier_of_unrecognised_band_is_unknown(rules):
    out = pl.DataFrame({"b": ["51-200", "bogus", None]}).select(tier_expr(pl.col("b"), rules=rules).alias("b"))
    assert out["b"].to_list() == ["smb", "unknown", "unknown"]


def test_band_expr_is_vectorised_over_many_rows(rules):
    values = pl.Series(["250", "51-200", "", "10,001+"] * 50_000)
    out = pl.DataFrame({"e": values}).select(size_band_expr(pl.col("e"), rules=rules).alias("e"))
    assert out["e"].value_counts().sort("e").rows() == [
        ("10001+", 50_000), ("201-500", 50_000), ("51-200", 50_000), ("unknown", 50_000)
    ]


def test_add_company_size_missing_column_names_it(rules):
    with pytest.raises(ValueError, match="'employee_count'"):
        add_company_size(pl.DataFrame({"employees": ["5"]}), rules=rules)


def test_changed_cutoffs_change_tiers(tmp_path):
    data = yaml.safe_load((CONFIG / "company_size.yaml").read_text())
    data["tiers"] = [{"tier": "small", "min_employees": 1}, {"tier": "large", "min_employees": 501}]
    (tmp_path / "company_size.yaml").write_text(yaml.safe_dump(data))
    rules = load_company_size_rules(tmp_path)
    out = add_company_size(pl.DataFrame({"employee_count": ["500", "501"]}), rules=rules)
    assert out["company_tier"].to_list() == ["small", "large"]


# --- config validation -------------------------------------------------------------------------

def write_config(tmp_path: Path, mutate) -> Path:
    data = yaml.safe_load((CONFIG / "company_size.yaml").read_text())
    mutate(data)
    (tmp_path / "company_size.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return tmp_path


BAD = [
    (lambda d: d.pop("bands"), "bands", "required key is missing"),
    (lambda d: d.update(bands=[]), "bands", "no bands"),
    (lambda d: d["bands"].reverse(), "bands[0].max", "required key is missing"),
    (lambda d: d["bands"][2].update(min=52), "bands[2].min", "must be 51"),  # gap
    (lambda d: d["bands"][2].update(min=40), "bands[2].min", "must be 51"),  # overlap
    (lambda d: d["bands"][2].update(max=20), "bands[2].max", "below min"),
    (lambda d: d["bands"][0].update(min=0), "bands[0].min", ">= 1"),
    (lambda d: d["bands"][1].update(min="11"), "bands[1].min", "expected int"),
    (lambda d: d["bands"][-1].update(max=20000), "bands[7].max", "open-ended"),
    (lambda d: d["bands"][3].update(band="51-200"), "bands[3].band", "used twice"),
    (lambda d: d["tiers"][1].update(min_employees=100), "tiers[1].min_employees", "not where a band starts"),
    (lambda d: d["tiers"][0].update(min_employees=11), "tiers[0].min_employees", "first tier must start at 1"),
    (lambda d: d["tiers"].reverse(), "tiers[0].min_employees", "first tier must start at 1"),
    (lambda d: d["tiers"][3].update(min_employees=51), "tiers[3].min_employees", "ascending"),
    (lambda d: d["tiers"][2].update(tier="smb"), "tiers[2].tier", "used twice"),
    (lambda d: d.update(tiers=[]), "tiers", "no tiers"),
    (lambda d: d["tiers"][0].pop("min_employees"), "tiers[0].min_employees", "required key is missing"),
]


@pytest.mark.parametrize("mutate, where, problem", BAD)
def test_bad_config_names_file_and_key(tmp_path, mutate, where, problem):
    with pytest.raises(ConfigError) as err:
        load_company_size_rules(write_config(tmp_path, mutate))
    assert err.value.file.endswith("company_size.yaml")
    assert err.value.where == where
    assert problem in err.value.problem


def test_unreadable_yaml(tmp_path):
    (tmp_path / "company_size.yaml").write_text("bands: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_company_size_rules(tmp_path)
