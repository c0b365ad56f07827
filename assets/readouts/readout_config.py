"""`config/readouts.yaml`, validated: outcome windows, snapshot history, minimum n, score bands and the
audience outcome definitions. Errors name the file, the key and what to write instead."""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assets.config_files import ConfigError, load_yaml, require, require_one_of

CONFIG_FILE = "readouts.yaml"
OPPORTUNITY_TYPES = ("new_business", "upsell", "renewal", "other")
OUTCOME_EVENTS = ("created", "won")
OUTCOME_MATCHES = ("account", "contact")
FREQUENCIES = ("monthly",)


@dataclass(frozen=True)
class ScoreBand:
    """Customers whose upsell_score is in [low, high) (high None: no upper end)."""

    name: str
    low: float
    high: float | None


@dataclass(frozen=True)
class CriteriaReadoutConfig:
    """How upsell criteria are evaluated against later upsells."""

    outcome_window_days: int
    snapshot_frequency: str
    history_months: int
    min_event_history_days: int
    min_n_per_group: int
    min_successes: int
    score_bands: tuple[ScoreBand, ...]


@dataclass(frozen=True)
class AudienceOutcome:
    """What counts as a conversion for one audience's members."""

    event: str
    opportunity_types: tuple[str, ...]
    match: str

    def describe(self, window_days: int) -> str:
        """e.g. `upsell opportunity won within 90 days (account)`."""
        return (f"{' or '.join(self.opportunity_types)} opportunity {self.event} within {window_days} days "
                f"after first publish ({self.match})")


@dataclass(frozen=True)
class AudienceReadoutConfig:
    """How audience lift is measured."""

    outcome_window_days: int
    min_n_per_group: int
    outcome: AudienceOutcome
    audience_outcomes: dict[str, AudienceOutcome]

    def outcome_for(self, audience: str) -> AudienceOutcome:
        """The audience's own outcome, else the default."""
        return self.audience_outcomes.get(audience, self.outcome)


@dataclass(frozen=True)
class ReadoutConfig:
    """`config/readouts.yaml`."""

    path: Path
    confidence_level: float
    criteria: CriteriaReadoutConfig
    audiences: AudienceReadoutConfig


def _positive_int(data: dict[str, Any], key: str, path: Path, where: str, minimum: int = 1) -> int:
    value = require(data, key, int, path, where)
    if value < minimum:
        raise ConfigError(path, f"{where}.{key}", f"must be at least {minimum}, got {value}")
    return value


def _bands(items: Any, path: Path, where: str) -> tuple[ScoreBand, ...]:
    if not isinstance(items, list):
        raise ConfigError(path, where, "expected a list of {name, min, max} bands")
    bands = []
    for i, item in enumerate(items):
        place = f"{where}[{i}]"
        if not isinstance(item, dict) or set(item) - {"name", "min", "max"}:
            raise ConfigError(path, place, "each band is a mapping with name, min and optionally max")
        name = require(item, "name", str, path, place)
        low = require(item, "min", (int, float), path, place)
        high = item.get("max")
        if high is not None and (isinstance(high, bool) or not isinstance(high, (int, float)) or high <= low):
            raise ConfigError(path, f"{place}.max", f"must be a number above min ({low}), or left out; got {high!r}")
        if not math.isfinite(low):
            raise ConfigError(path, f"{place}.min", f"expected a finite number, got {low!r}")
        bands.append(ScoreBand(name=name, low=float(low), high=None if high is None else float(high)))
    if len({b.name for b in bands}) != len(bands):
        raise ConfigError(path, where, "band names must be unique")
    return tuple(bands)


def _outcome(data: Any, path: Path, where: str, default: AudienceOutcome | None) -> AudienceOutcome:
    if not isinstance(data, dict):
        raise ConfigError(path, where, "expected a mapping with event, opportunity_types, match")
    unknown = set(data) - {"event", "opportunity_types", "match"}
    if unknown:
        raise ConfigError(path, where, f"unknown key(s) {sorted(map(str, unknown))}; allowed: event, "
                          "opportunity_types, match")
    get = (lambda k, kind: require(data, k, kind, path, where)) if default is None else (
        lambda k, kind: require(data, k, kind, path, where) if k in data else getattr(default, k))
    event = require_one_of(get("event", str), list(OUTCOME_EVENTS), path, f"{where}.event")
    match = require_one_of(get("match", str), list(OUTCOME_MATCHES), path, f"{where}.match")
    types = get("opportunity_types", list)
    if not types:
        raise ConfigError(path, f"{where}.opportunity_types", "give at least one opportunity type")
    for i, kind in enumerate(types):
        require_one_of(kind, list(OPPORTUNITY_TYPES), path, f"{where}.opportunity_types[{i}]")
    return AudienceOutcome(event=event, opportunity_types=tuple(types), match=match)


def load_readout_config(config_dir: Path | None = None) -> ReadoutConfig:
    """Read and validate `config/readouts.yaml`; a ConfigError names the file, the key and the fix."""
    path, data = load_yaml(CONFIG_FILE, config_dir)
    confidence = require(data, "confidence_level", float, path)
    if not 0.5 <= confidence < 1:
        raise ConfigError(path, "confidence_level", f"must be between 0.5 and 1 (e.g. 0.95), got {confidence}")
    upsell = require(data, "upsell_criteria", dict, path)
    where = "upsell_criteria"
    frequency = require_one_of(require(upsell, "snapshot_frequency", str, path, where), list(FREQUENCIES), path,
                               f"{where}.snapshot_frequency")
    criteria = CriteriaReadoutConfig(
        outcome_window_days=_positive_int(upsell, "outcome_window_days", path, where),
        snapshot_frequency=frequency,
        history_months=_positive_int(upsell, "history_months", path, where),
        min_event_history_days=_positive_int(upsell, "min_event_history_days", path, where, minimum=0),
        min_n_per_group=_positive_int(upsell, "min_n_per_group", path, where),
        min_successes=_positive_int(upsell, "min_successes", path, where, minimum=0),
        score_bands=_bands(upsell.get("score_bands", []), path, f"{where}.score_bands"),
    )
    lift = require(data, "audience_lift", dict, path)
    where = "audience_lift"
    default = _outcome(require(lift, "outcome", dict, path, where), path, f"{where}.outcome", None)
    overrides = lift.get("audience_outcomes") or {}
    if not isinstance(overrides, dict):
        raise ConfigError(path, f"{where}.audience_outcomes", "expected a mapping of audience name to outcome")
    audiences = AudienceReadoutConfig(
        outcome_window_days=_positive_int(lift, "outcome_window_days", path, where),
        min_n_per_group=_positive_int(lift, "min_n_per_group", path, where),
        outcome=default,
        audience_outcomes={str(name): _outcome(spec, path, f"{where}.audience_outcomes.{name}", default)
                           for name, spec in overrides.items()},
    )
    return ReadoutConfig(path=path, confidence_level=float(confidence), criteria=criteria, audiences=audiences)
