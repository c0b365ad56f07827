"""Values a suite refers to by name (`{from: channels}`), resolved when the checks run.

A suite says *which* vocabulary a column must stay in; the vocabulary itself lives where the
business rule lives: the config file its owner edits (`config/channels.yaml`, `config/personas.yaml`,
`config/company_size.yaml`, `config/content.yaml`). Those files are read defensively by shape: when a
file is missing or shaped differently, the fixed vocabulary of `vocabularies.py` is used instead, and
the report says which one was used (`origin`).

Scalar values that depend on the run (the latest acceptable timestamp) are resolved the same way.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from assets.config_files import ConfigError, load_yaml
from data_quality import vocabularies as vocab
from data_quality.quality_config import QualityConfig


@dataclass(frozen=True)
class RunValues:
    """What a value provider may look at: the run's data date, the thresholds, the config folder."""

    as_of: dt.date
    quality: QualityConfig
    config_dir: Path | None = None


@dataclass(frozen=True)
class Resolved:
    """A resolved value and where it came from (shown in the report)."""

    value: Any
    origin: str


NAME_KEYS = ("name", "label", "band", "channel", "track", "function", "seniority", "level", "tier", "topic", "id")


def _names(node: Any) -> list[str] | None:
    """Names from the usual config shapes: a list of strings, a list of mappings with a name-like
    key, or a mapping keyed by name. None when the shape is not one of these."""
    if isinstance(node, dict) and node and all(isinstance(k, str) for k in node):
        return list(node)
    if isinstance(node, list) and node:
        names = []
        for item in node:
            if isinstance(item, str):
                names.append(item)
            elif isinstance(item, dict) and any(isinstance(item.get(k), str) for k in NAME_KEYS):
                names.append(next(item[k] for k in NAME_KEYS if isinstance(item.get(k), str)))
            else:
                return None
        return names
    return None


def _from_config(run: RunValues, file: str, keys: Iterable[str], always: Iterable[str],
                 fallback: Iterable[str]) -> Resolved:
    """The names under the first of `keys` in `config/<file>` (plus `always`), else `fallback`."""
    try:
        path, data = load_yaml(file, run.config_dir)
    except ConfigError:
        return Resolved(tuple(fallback), f"built-in list (config/{file} not readable)")
    for key in keys:
        names = _names(data.get(key))
        if names:
            extra = [a for a in always if a not in names]
            return Resolved(tuple(names + extra), f"{path.name}: {key}")
    return Resolved(tuple(fallback), f"built-in list (no {' / '.join(keys)} in config/{file})")


def _company_size(run: RunValues, key: str, fallback: Iterable[str]) -> Resolved:
    # The file names its own catch-all label (`unknown: unknown`); it is always accepted.
    try:
        _, data = load_yaml("company_size.yaml", run.config_dir)
        unknown = data.get("unknown") if isinstance(data.get("unknown"), str) else "unknown"
    except ConfigError:
        unknown = "unknown"
    return _from_config(run, "company_size.yaml", (key,), (unknown,), fallback)


def company_size_bands(run: RunValues) -> Resolved:
    """The size band labels (`unknown` is always accepted: no usable employee count)."""
    return _company_size(run, "bands", vocab.COMPANY_SIZE_BANDS)


def company_tiers(run: RunValues) -> Resolved:
    """The company tiers (startup, smb, mid_market, enterprise) plus `unknown`."""
    return _company_size(run, "tiers", vocab.COMPANY_TIERS)


def persona_functions(run: RunValues) -> Resolved:
    """Persona functions, always including the catch-all `other`."""
    return _from_config(run, "personas.yaml", ("functions",), (vocab.OTHER_PERSONA,), vocab.PERSONA_FUNCTIONS)


def persona_seniorities(run: RunValues) -> Resolved:
    """Seniority levels: `persona_labels.seniorities` of `config/personas.yaml` (else the levels of its
    `seniority` rules), plus `entry` (the default level) and `unknown` (no title)."""
    always = ("entry", "unknown")
    try:
        path, data = load_yaml("personas.yaml", run.config_dir)
    except ConfigError:
        return Resolved(vocab.PERSONA_SENIORITIES, "built-in list (config/personas.yaml not readable)")
    labels = data.get("persona_labels")
    names = _names(labels.get("seniorities")) if isinstance(labels, dict) else None
    origin = f"{path.name}: persona_labels.seniorities"
    if not names:
        names, origin = _names(data.get("seniority")), f"{path.name}: seniority levels"
    if not names:
        return Resolved(vocab.PERSONA_SENIORITIES, "built-in list (no seniorities in config/personas.yaml)")
    return Resolved(tuple(names + [a for a in always if a not in names]), origin)


def channels(run: RunValues) -> Resolved:
    """GA4 default channels + CRM-only channels + `Unassigned`, as `config/channels.yaml` lists them."""
    fallback = vocab.GA4_CHANNELS + vocab.CRM_ONLY_CHANNELS + (vocab.UNASSIGNED_CHANNEL,)
    try:
        path, data = load_yaml("channels.yaml", run.config_dir)
    except ConfigError:
        return Resolved(fallback, "built-in list (config/channels.yaml not readable)")
    names = _names(data.get("channels"))
    if not names:
        return Resolved(fallback, "built-in list (no channels in config/channels.yaml)")
    extra = _names(data.get("extra_channels")) or list(vocab.CRM_ONLY_CHANNELS)
    unassigned = data.get("unassigned") if isinstance(data.get("unassigned"), str) else vocab.UNASSIGNED_CHANNEL
    values = list(dict.fromkeys(names + extra + [unassigned]))
    return Resolved(tuple(values), f"{path.name}: channels + extra_channels + unassigned")


def nurture_tracks(run: RunValues) -> Resolved:
    """Nurture tracks declared in `config/content.yaml` (`nurture_tracks: {default, tracks: [...]}`).
    No fallback list exists (tracks are pure configuration), so an unreadable file gives an empty set
    and every non-null track fails loudly rather than passing unchecked."""
    try:
        path, data = load_yaml("content.yaml", run.config_dir)
    except ConfigError:
        return Resolved((), "nothing (config/content.yaml not readable)")
    node = data.get("nurture_tracks")
    if isinstance(node, dict) and "tracks" in node:
        names = _names(node.get("tracks")) or []
        default = node.get("default")
        values = names + ([default] if isinstance(default, str) and default not in names else [])
        return Resolved(tuple(values), f"{path.name}: nurture_tracks.tracks + default")
    names = _names(node)
    if names:
        return Resolved(tuple(names), f"{path.name}: nurture_tracks")
    return Resolved((), f"nothing (no nurture_tracks.tracks in {path.name})")


def content_topics(run: RunValues) -> Resolved:
    """Content topics (config/content.yaml `topics`, else the seven topics of the table contract)."""
    return _from_config(run, "content.yaml", ("topics",), (), vocab.CONTENT_TOPICS)


def web_event_types(run: RunValues) -> Resolved:
    """Segment call types."""
    return Resolved(vocab.WEB_EVENT_TYPES, "Segment spec")


def raw_formats(run: RunValues) -> Resolved:
    """`_format` values a raw loader writes."""
    return Resolved(vocab.RAW_FORMATS, "table contract (docs/tables.md)")


def opportunity_types(run: RunValues) -> Resolved:
    """The opportunity types staging maps every vendor picklist to."""
    return Resolved(vocab.OPPORTUNITY_TYPES, "sql/staging/opportunities.sql")


def subscription_statuses(run: RunValues) -> Resolved:
    """Subscription states a billing export may hold (lowercase)."""
    return Resolved(vocab.SUBSCRIPTION_STATUSES, "data_quality/vocabularies.py")


def latest_allowed_timestamp(run: RunValues) -> Resolved:
    """End of the data date plus the configured tolerance: anything later is "in the future"."""
    hours = run.quality.future_tolerance_hours
    end_of_day = dt.datetime.combine(run.as_of + dt.timedelta(days=1), dt.time())
    return Resolved(end_of_day + dt.timedelta(hours=hours),
                    f"end of data date {run.as_of} + {hours:g} h (config/quality.yaml)")


PROVIDERS: dict[str, Callable[[RunValues], Resolved]] = {
    "company_size_bands": company_size_bands,
    "company_tiers": company_tiers,
    "persona_functions": persona_functions,
    "persona_seniorities": persona_seniorities,
    "channels": channels,
    "nurture_tracks": nurture_tracks,
    "content_topics": content_topics,
    "web_event_types": web_event_types,
    "raw_formats": raw_formats,
    "opportunity_types": opportunity_types,
    "subscription_statuses": subscription_statuses,
    "latest_allowed_timestamp": latest_allowed_timestamp,
}


def resolve(name: str, run: RunValues) -> Resolved:
    """The value a suite names with `{from: <name>}`."""
    if name not in PROVIDERS:
        raise KeyError(f"unknown value source {name!r}; known: {', '.join(sorted(PROVIDERS))}")
    return PROVIDERS[name](run)
