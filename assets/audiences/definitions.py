"""The audiences marketers declare in `config/audiences.yaml`, loaded and validated.

Every mistake stops the load with a ConfigError naming the file and the key: an unknown destination,
a filter outside the rule language or naming a column `segments.contact_segments` does not have, a bad
holdout share, a name that is not a slug or is used twice. The file's comments describe each key.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import polars as pl

from assets.config_files import ConfigError, load_yaml, require, require_one_of
from assets.exports.destinations import load_destinations
from assets.rule_expressions import RuleError, compile_rule, rule_columns
from assets.segments.interests import load_content_rules

CONFIG_FILE = "audiences.yaml"
KINDS = ("upsell", "lead_source", "custom")
DEFAULT_HOLDOUT_SHARE = 0.10
# A slug: it names a folder under EXPORT_DIR and (dashes -> underscores) a Dagster asset key, so
# underscores are not allowed (a-b and a_b would be the same asset).
NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
MAX_NAME_LENGTH = 60
AUDIENCE_KEYS = {"name", "description", "kind", "filter", "destinations", "holdout_share", "min_size"}
TEMPLATE_KEY = "for_each_nurture_track"
TEMPLATE_KEYS = (AUDIENCE_KEYS | {"include_default_track"})

# The columns of segments.contact_segments (docs/tables.md) and their types: filters are checked
# against these when the file is loaded, and against the real table's schema when the audience runs.
CONTACT_SEGMENT_TYPES: dict[str, pl.DataType] = {
    "contact_id": pl.String(), "account_id": pl.String(), "persona_function": pl.String(),
    "persona_seniority": pl.String(), "persona": pl.String(), "first_touch_channel": pl.String(),
    "first_touch_source": pl.String(), "first_touch_medium": pl.String(),
    "first_touch_campaign": pl.String(), "first_touch_at": pl.Datetime("us"),
    "last_touch_channel": pl.String(), "lead_source_channel": pl.String(),
    "content_interests": pl.List(pl.String()), "nurture_track": pl.String(),
    "company_size_band": pl.String(), "company_tier": pl.String(), "is_customer": pl.Boolean(),
    "upsell_candidate": pl.Boolean(),
}


@dataclass(frozen=True)
class AudienceDefinition:
    """One audience, validated. `track` is set for audiences made by the nurture-track template: the
    audience is then that track's contacts that also meet `filter` (None = all of them)."""

    name: str
    description: str
    kind: str
    filter: str | Mapping[str, Any] | None
    destinations: tuple[str, ...]
    holdout_share: float = DEFAULT_HOLDOUT_SHARE
    min_size: int | None = None
    track: str | None = None
    where: str = ""  # e.g. "config/audiences.yaml: audiences[0]", for run-time error messages

    @property
    def asset_name(self) -> str:
        """The Dagster asset name of its export: the name with dashes as underscores."""
        return self.name.replace("-", "_")

    @property
    def columns(self) -> set[str]:
        """The contact_segments columns its membership test reads (the filter's, and the track's)."""
        used = rule_columns(self.filter, self.where) if self.filter is not None else set()
        return used | ({"nurture_track"} if self.track is not None else set())

    def filter_expr(self, columns: Mapping[str, pl.DataType] | set[str]) -> pl.Expr:
        """The audience's membership test as a Polars expression over contact_segments (null -> false).

        `columns`: the frame's schema (types are checked) or column names. The customer rule of the
        kind is NOT in here: eligibility applies it, so it holds whatever the filter says.
        """
        parts = []
        if self.filter is not None:
            parts.append(compile_rule(self.filter, columns, where=f"{self.where}.filter"))
        if self.track is not None:
            if "nurture_track" not in columns:
                raise RuleError("nurture_track", None, "contact_segments has no nurture_track column", self.where)
            parts.append((pl.col("nurture_track") == self.track).fill_null(False))
        return pl.all_horizontal(parts) if parts else pl.lit(True)


def slug(text: str) -> str:
    """Lowercase, runs of anything but letters and digits turned into one dash: 'Paid Media' -> 'paid-media'."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _name(value: Any, file: Path, where: str) -> str:
    if not isinstance(value, str) or not NAME.fullmatch(value) or len(value) > MAX_NAME_LENGTH:
        raise ConfigError(file, where, f"{value!r} is not a valid audience name: use lowercase letters, digits "
                          f"and single dashes, starting with a letter, at most {MAX_NAME_LENGTH} characters "
                          "(e.g. upsell-decision-makers)")
    return value


def _audience(entry: Any, file: Path, where: str, destination_names: set[str],
              columns: Mapping[str, pl.DataType], allowed_keys: set[str], track: str | None = None,
              ) -> AudienceDefinition:
    """Validate one audience entry (or the template filled in for one track)."""
    if not isinstance(entry, dict):
        raise ConfigError(file, where, "expected a mapping with name, description, kind, filter, destinations")
    unknown = sorted(set(entry) - allowed_keys)
    if unknown:
        raise ConfigError(file, where, f"unknown keys {unknown}; allowed: {sorted(allowed_keys)}")
    name = require(entry, "name", str, file, where)
    description = require(entry, "description", str, file, where).strip()
    if track is not None:
        # The name takes the track's slug ("Paid Media" -> paid-media); the filter the exact value.
        name, description = name.replace("{track}", slug(track)), description.replace("{track}", track)
    name = _name(name, file, f"{where}.name")
    if not description:
        raise ConfigError(file, f"{where}.description", "say what the audience is for")
    kind = require_one_of(require(entry, "kind", str, file, where), set(KINDS), file, f"{where}.kind")

    if track is None or "filter" in entry:
        rule = require(entry, "filter", (str, dict), file, where)
        try:
            compile_rule(rule, columns)
        except RuleError as exc:  # its message: the rule, the character position and what is allowed
            raise ConfigError(file, f"{where}.filter", str(exc)) from exc
    else:
        rule = None

    destinations = require(entry, "destinations", list, file, where)
    if not destinations:
        raise ConfigError(file, f"{where}.destinations", "list at least one destination")
    for i, destination in enumerate(destinations):
        require_one_of(destination, destination_names, file, f"{where}.destinations[{i}]")
    if len(set(destinations)) != len(destinations):
        raise ConfigError(file, f"{where}.destinations", "a destination is listed twice")

    share = entry.get("holdout_share", DEFAULT_HOLDOUT_SHARE)
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 <= share < 1:
        raise ConfigError(file, f"{where}.holdout_share", f"expected a share from 0 to below 1 (e.g. 0.10), got {share!r}")
    min_size = entry.get("min_size")
    if min_size is not None and (isinstance(min_size, bool) or not isinstance(min_size, int) or min_size < 1):
        raise ConfigError(file, f"{where}.min_size", f"expected a whole number of 1 or more, got {min_size!r}")
    return AudienceDefinition(
        name=name, description=description, kind=kind, filter=rule, destinations=tuple(destinations),
        holdout_share=float(share), min_size=min_size, track=track, where=f"{file}: {where}",
    )


def build_audiences(
    data: dict[str, Any],
    file: Path | str,
    destination_names: set[str],
    nurture_tracks: list[str],
    columns: Mapping[str, pl.DataType] | None = None,
) -> list[AudienceDefinition]:
    """Audiences from the parsed YAML (see module docstring); pure, so tests pass their own data.

    `nurture_tracks`: every value of contact_segments.nurture_track, the default track last.
    """
    file = Path(file)
    columns = CONTACT_SEGMENT_TYPES if columns is None else columns
    entries = require(data, "audiences", list, file)
    if not entries:
        raise ConfigError(file, "audiences", "declare at least one audience")
    audiences: list[AudienceDefinition] = []
    for i, entry in enumerate(entries):
        where = f"audiences[{i}]"
        if isinstance(entry, dict) and TEMPLATE_KEY in entry:
            if len(entry) != 1:
                raise ConfigError(file, where, f"{TEMPLATE_KEY} stands alone in its list item (found {sorted(entry)})")
            template = entry[TEMPLATE_KEY]
            place = f"{where}.{TEMPLATE_KEY}"
            if not isinstance(template, dict):
                raise ConfigError(file, place, "expected a mapping (name, description, kind, destinations, ...)")
            if "{track}" not in str(template.get("name", "")):
                raise ConfigError(file, f"{place}.name", "must contain {track}, e.g. nurture-{track}")
            include_default = template.get("include_default_track", False)
            if not isinstance(include_default, bool):
                raise ConfigError(file, f"{place}.include_default_track", f"expected true or false, got {include_default!r}")
            tracks = nurture_tracks if include_default else nurture_tracks[:-1]
            for track in tracks:
                if not slug(track):
                    raise ConfigError(file, place, f"nurture track {track!r} (config/content.yaml) gives an empty name")
                audiences.append(_audience(template, file, place, destination_names, columns, TEMPLATE_KEYS, track))
        else:
            audiences.append(_audience(entry, file, where, destination_names, columns, AUDIENCE_KEYS))
    seen: dict[str, str] = {}
    for audience in audiences:
        if audience.asset_name in seen:
            raise ConfigError(file, audience.where.split(": ", 1)[-1],
                              f"audience name {audience.name!r} is used twice (also at {seen[audience.asset_name]})")
        seen[audience.asset_name] = audience.where.split(": ", 1)[-1]
    return audiences


def load_audiences(config_dir: Path | None = None) -> list[AudienceDefinition]:
    """Read and validate `config/audiences.yaml` against `destinations.yaml` and `content.yaml`."""
    path, data = load_yaml(CONFIG_FILE, config_dir)
    destination_names = set(load_destinations(config_dir))
    tracks = load_content_rules(config_dir).track_names
    return build_audiences(data, path, destination_names, tracks)


def find_audience(audiences: list[AudienceDefinition], name: str, file: Path | str) -> AudienceDefinition:
    """The audience called `name`; a ConfigError when the file no longer declares it."""
    for audience in audiences:
        if audience.name == name:
            return audience
    raise ConfigError(file, "audiences", f"no audience named {name!r} any more; reload the Dagster code "
                      "location after editing the file so the export assets match it")
