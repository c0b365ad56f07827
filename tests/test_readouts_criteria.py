"""Criteria performance on synthetic account-snapshots: snapshot dates, counts, verdicts, config errors."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml

from assets.config_files import ConfigError
from assets.readouts.criteria_performance import (
    NOT_ENOUGH, NOT_SUPPORTED, PERFORMANCE_SCHEMA, SUPPORTED, evaluate_criteria, snapshot_dates,
)
from assets.readouts.readout_config import load_readout_config
from assets.segments.upsell import load_upsell_config
from workflows.settings import REPO_ROOT

UPSELL = load_upsell_config()


def write_config(folder: Path, **criteria_changes) -> Path:
    data = yaml.safe_load((REPO_ROOT / "config" / "readouts.yaml").read_text())
    data["upsell_criteria"].update(criteria_changes)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "readouts.yaml").write_text(yaml.safe_dump(data))
    return folder


def test_snapshots_are_month_starts_with_complete_outcome_windows(tmp_path):
    rules = load_readout_config(write_config(tmp_path)).criteria  # window 90, 12 months, 30 days of history
    got = snapshot_dates(dt.date(2026, 6, 30), dt.date(2025, 11, 2), rules)
    # 2026-04-01 + 90 days = 2026-06-30: its window ends with the data date; 2025-12-01 has 29 days of events
    assert got == [dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1), dt.date(2026, 4, 1)]
    assert snapshot_dates(dt.date(2026, 6, 29), dt.date(2025, 11, 2), rules)[-1] == dt.date(2026, 3, 1)
    assert snapshot_dates(dt.date(2026, 6, 30), None, rules) == []
    short = load_readout_config(write_config(tmp_path / "s", history_months=2)).criteria
    assert snapshot_dates(dt.date(2026, 6, 30), dt.date(2020, 1, 1), short) == [dt.date(2026, 3, 1), dt.date(2026, 4, 1)]


def labelled(n: int, seed: int, rate_flagged: float, rate_unflagged: float) -> pl.DataFrame:
    """Customer account-snapshots: high_seat_utilization lifts success, every other criterion is noise."""
    rng = np.random.default_rng(seed)
    flagged = rng.random(n) < 0.3
    success = rng.random(n) < np.where(flagged, rate_flagged, rate_unflagged)
    frame = {c.column: rng.random(n) < 0.5 for c in UPSELL.criteria}
    frame["criterion_high_seat_utilization"] = flagged
    scored = pl.DataFrame(frame).with_columns(
        upsell_score=pl.sum_horizontal(pl.col(c.column).cast(pl.Float64) for c in UPSELL.criteria),
        as_of=pl.Series([dt.date(2026, 1 + i % 3, 1) for i in range(n)]),
        success=pl.Series(success),
    )
    return scored.with_columns(upsell_candidate=pl.col("upsell_score") >= 2)


def test_a_real_effect_is_supported_and_counts_add_up(tmp_path):
    config = load_readout_config(write_config(tmp_path))
    frame = labelled(6000, 3, 0.3, 0.1)
    table = evaluate_criteria(frame, UPSELL, config)
    assert table.schema == pl.Schema(PERFORMANCE_SCHEMA)
    assert table["criterion"].to_list()[:len(UPSELL.criteria)] == [c.name for c in UPSELL.criteria]
    assert table["kind"].to_list()[len(UPSELL.criteria):] == ["candidate"] + ["score_band"] * 4
    row = table.filter(pl.col("criterion") == "high_seat_utilization").row(0, named=True)
    flagged = frame.filter("criterion_high_seat_utilization")
    assert row["n_flagged"] == flagged.height and row["n"] == 6000 and row["snapshots"] == 3
    assert row["successes_flagged"] == flagged["success"].sum()
    assert row["successes_unflagged"] == frame["success"].sum() - flagged["success"].sum()
    assert row["verdict"] == SUPPORTED and row["lift_ci_low"] < 3 < row["lift_ci_high"]
    assert row["precision"] == row["success_rate"]
    assert row["recall"] == pytest.approx(row["successes_flagged"] / frame["success"].sum())
    # the bands partition the customers
    bands = table.filter(pl.col("kind") == "score_band")
    assert bands["n_flagged"].sum() == 6000


def test_noise_criteria_are_mostly_not_supported(tmp_path):
    """Across 40 synthetic datasets, the five noise criteria are 'supported' at about the 5% level."""
    config = load_readout_config(write_config(tmp_path))
    supported = []
    for seed in range(40):
        table = evaluate_criteria(labelled(1500, 100 + seed, 0.2, 0.1), UPSELL, config)
        noise = table.filter((pl.col("kind") == "criterion") & (pl.col("criterion") != "high_seat_utilization"))
        supported += (noise["verdict"] == SUPPORTED).to_list()
    assert np.mean(supported) <= 0.08  # one-sided: the expected rate is 2.5%


def test_too_little_data_says_so_instead_of_printing_noise(tmp_path):
    config = load_readout_config(write_config(tmp_path, min_n_per_group=100, min_successes=10))
    table = evaluate_criteria(labelled(150, 5, 0.5, 0.1), UPSELL, config)
    row = table.filter(pl.col("criterion") == "high_seat_utilization").row(0, named=True)
    assert row["verdict"] == NOT_ENOUGH and "each group needs at least 100" in row["reason"]
    assert row["lift"] is None and row["p_value"] is None and row["ci_low"] is None
    assert row["success_rate"] is not None  # the observed rate is still shown
    few = labelled(2000, 6, 0.0, 0.0).with_columns(success=pl.arange(0, 2000) < 3)
    row = evaluate_criteria(few, UPSELL, config).row(0, named=True)
    assert row["verdict"] == NOT_ENOUGH and "3 successes" in row["reason"]


def test_no_snapshot_yet_gives_a_row_per_criterion_with_not_enough_data(tmp_path):
    config = load_readout_config(write_config(tmp_path))
    empty = labelled(10, 1, 0.1, 0.1).clear()
    table = evaluate_criteria(empty, UPSELL, config)
    assert set(table["verdict"]) == {NOT_ENOUGH} and table["n"].to_list() == [0] * table.height
    assert "no customer account-snapshot" in table["reason"][0]


def test_a_criterion_that_predicts_fewer_upsells_is_not_supported(tmp_path):
    config = load_readout_config(write_config(tmp_path))
    row = evaluate_criteria(labelled(6000, 9, 0.05, 0.2), UPSELL, config).row(0, named=True)
    assert row["verdict"] == NOT_SUPPORTED and "LESS" in row["reason"]


@pytest.mark.parametrize("changes, where", [
    ({"outcome_window_days": 0}, "upsell_criteria.outcome_window_days"),
    ({"snapshot_frequency": "weekly"}, "upsell_criteria.snapshot_frequency"),
    ({"history_months": 1.5}, "upsell_criteria.history_months"),
    ({"min_n_per_group": None}, "upsell_criteria.min_n_per_group"),
    ({"score_bands": [{"name": "x", "min": 2, "max": 1}]}, "score_bands[0].max"),
    ({"score_bands": [{"name": "x", "min": 0}, {"name": "x", "min": 1}]}, "band names must be unique"),
    ({"score_bands": [{"name": "x", "lower": 0}]}, "score_bands[0]"),
])
def test_bad_criteria_config_names_file_and_key(tmp_path, changes, where):
    with pytest.raises(ConfigError) as error:
        load_readout_config(write_config(tmp_path, **changes))
    assert "readouts.yaml" in str(error.value) and where in str(error.value)


def test_bad_confidence_level_is_rejected(tmp_path):
    data = yaml.safe_load((REPO_ROOT / "config" / "readouts.yaml").read_text())
    data["confidence_level"] = 95
    (tmp_path / "readouts.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match="confidence_level"):
        load_readout_config(tmp_path)
