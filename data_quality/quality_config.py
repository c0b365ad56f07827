"""`config/quality.yaml`: the limits the data checks apply (shares, drift, event volume, freshness,
suppressions)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assets.config_files import ConfigError, load_yaml, require

QUALITY_FILE = "quality.yaml"


@dataclass(frozen=True)
class QualityConfig:
    """Validated thresholds; percentages stay percentages (0-100) as the marketer wrote them."""

    max_other_persona_percent: float
    max_unassigned_channel_percent: float
    min_valid_raw_email_percent: float
    max_orphan_account_percent: float
    max_orphan_deal_percent: float
    drift_max_change_percent: float
    drift_min_segment_size: int
    volume_tolerance_percent: float
    volume_baseline_days: int
    volume_min_baseline_days: int
    freshness_max_age_days: int
    crm_freshness_max_age_days: int
    suppressions_min_share_percent: float
    future_tolerance_hours: float

    def value(self, key: str) -> float:
        """A threshold by its field name (suites refer to thresholds as `{config: <field>}`)."""
        if key not in self.__dataclass_fields__:
            known = ", ".join(sorted(self.__dataclass_fields__))
            raise KeyError(f"no threshold {key!r} in config/{QUALITY_FILE}; known: {known}")
        return getattr(self, key)


def _number(section: dict[str, Any], key: str, path: Path, where: str, *, percent: bool = False,
            integer: bool = False, minimum: float = 0) -> Any:
    value = require(section, key, int if integer else (int, float), path, where)
    if value < minimum:
        raise ConfigError(path, f"{where}.{key}", f"must be at least {minimum}, got {value}")
    if percent and value > 100:
        raise ConfigError(path, f"{where}.{key}", f"is a percentage (0-100), got {value}")
    return value


def load_quality_config(config_dir: Path | None = None) -> QualityConfig:
    """Read and validate `config/quality.yaml`; a ConfigError names the file and key when it is wrong."""
    path, data = load_yaml(QUALITY_FILE, config_dir)
    shares = require(data, "shares", dict, path)
    drift = require(data, "drift", dict, path)
    volume = require(data, "event_volume", dict, path)
    fresh = require(data, "freshness", dict, path)
    future = require(data, "future_timestamps", dict, path)
    suppressions = require(data, "suppressions", dict, path)
    baseline = _number(volume, "baseline_days", path, "event_volume", integer=True, minimum=1)
    min_baseline = _number(volume, "min_baseline_days", path, "event_volume", integer=True, minimum=1)
    if min_baseline > baseline:
        raise ConfigError(path, "event_volume.min_baseline_days",
                          f"{min_baseline} is more than baseline_days ({baseline}); lower it")
    return QualityConfig(
        max_other_persona_percent=_number(shares, "max_other_persona_percent", path, "shares", percent=True),
        max_unassigned_channel_percent=_number(shares, "max_unassigned_channel_percent", path, "shares", percent=True),
        min_valid_raw_email_percent=_number(shares, "min_valid_raw_email_percent", path, "shares", percent=True),
        max_orphan_account_percent=_number(shares, "max_orphan_account_percent", path, "shares", percent=True),
        max_orphan_deal_percent=_number(shares, "max_orphan_deal_percent", path, "shares", percent=True),
        drift_max_change_percent=_number(drift, "max_change_percent", path, "drift"),
        drift_min_segment_size=_number(drift, "min_segment_size", path, "drift", integer=True),
        volume_tolerance_percent=_number(volume, "tolerance_percent", path, "event_volume"),
        volume_baseline_days=baseline,
        volume_min_baseline_days=min_baseline,
        freshness_max_age_days=_number(fresh, "max_age_days", path, "freshness", integer=True),
        crm_freshness_max_age_days=_number(fresh, "crm_max_age_days", path, "freshness", integer=True),
        future_tolerance_hours=_number(future, "tolerance_hours", path, "future_timestamps"),
        suppressions_min_share_percent=_number(suppressions, "min_share_of_previous_percent", path,
                                               "suppressions", percent=True),
    )
