"""Content interests (from downloads and form fills) and nurture tracks, in Polars.

Topics, the content -> topic map and the tracks are data in `config/content.yaml` (its comments state
how an event's topic is found and how a track is chosen).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from assets.config_files import ConfigError, load_yaml, require, require_one_of
from assets.segments.distinct_values import with_per_combination

CONTENT_FILE = "content.yaml"
EVENT_COLUMNS = ("contact_id", "event", "content_topic", "content_id", "page_path", "ts")


@dataclass(frozen=True)
class ContentRules:
    """`config/content.yaml`, validated."""

    file: Path
    counted_events: tuple[str, ...]
    topics: tuple[str, ...]
    content_ids: dict[str, str]  # lowercased content_id -> topic
    keyword_rules: tuple[tuple[str, str], ...]  # (topic, regex), in order
    content_paths: str
    tracks: tuple[tuple[str, tuple[str, ...]], ...]
    default_track: str

    @property
    def topic_tracks(self) -> dict[str, str]:
        """Topic -> the first track (config order) that lists it."""
        out: dict[str, str] = {}
        for track, topics in self.tracks:
            for topic in topics:
                out.setdefault(topic, track)
        return out

    @property
    def track_names(self) -> list[str]:
        """Every value `nurture_track` can take: the tracks in order, then the default."""
        return [t for t, _ in self.tracks] + [self.default_track]


def _regex(value: object, file: Path, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(file, where, f"expected a regex (text), got {value!r}")
    try:
        pl.select(pl.lit("").str.contains(value)).item()
    except pl.exceptions.PolarsError as exc:
        raise ConfigError(file, where, f"not a valid regex {value!r}: {exc}") from exc
    return value


def _texts(data: dict, key: str, file: Path, where: str = "") -> list[str]:
    values = require(data, key, list, file, where)
    place = f"{where}.{key}" if where else key
    if not values or not all(isinstance(v, str) and v.strip() for v in values):
        raise ConfigError(file, place, "expected a non-empty list of names (texts)")
    if len(set(values)) != len(values):
        raise ConfigError(file, place, "a name appears twice")
    return values


def load_content_rules(config_dir: Path | None = None) -> ContentRules:
    """Read and validate `config/content.yaml`; every topic it refers to must be a declared topic."""
    file, data = load_yaml(CONTENT_FILE, config_dir)
    topics = _texts(data, "topics", file)
    known = set(topics)
    content_ids = require(data, "content_ids", dict, file)
    for content_id, topic in content_ids.items():
        require_one_of(topic, known, file, f"content_ids.{content_id}")
    rules = []
    for i, rule in enumerate(require(data, "keyword_rules", list, file)):
        where = f"keyword_rules[{i}]"
        topic = require(rule, "topic", str, file, where)
        require_one_of(topic, known, file, f"{where}.topic")
        rules.append((topic, _regex(require(rule, "matches", str, file, where), file, f"{where}.matches")))
    nurture = require(data, "nurture_tracks", dict, file)
    default = require(nurture, "default", str, file, "nurture_tracks")
    tracks: list[tuple[str, tuple[str, ...]]] = []
    entries = require(nurture, "tracks", list, file, "nurture_tracks")
    for i, entry in enumerate(entries):
        where = f"nurture_tracks.tracks[{i}]"
        name = require(entry, "track", str, file, where)
        if name in {t for t, _ in tracks} or name == default:
            raise ConfigError(file, f"{where}.track", f"{name!r} is used twice (tracks and default differ)")
        track_topics = _texts(entry, "topics", file, where)
        for j, topic in enumerate(track_topics):
            require_one_of(topic, known, file, f"{where}.topics[{j}]")
        tracks.append((name, tuple(track_topics)))
    return ContentRules(
        file=file,
        counted_events=tuple(_texts(data, "counted_events", file)),
        topics=tuple(topics),
        content_ids={str(k).strip().lower(): v for k, v in content_ids.items()},
        keyword_rules=tuple(rules),
        content_paths=_regex(require(data, "content_paths", str, file), file, "content_paths"),
        tracks=tuple(tracks),
        default_track=default,
    )


def _keyword_position(text: pl.Expr, rules: ContentRules) -> pl.Expr:
    """Index (in `rules.topics`) of the topic of the first keyword rule found in `text`, else NULL."""
    chain = pl
    for topic, regex in rules.keyword_rules:
        chain = chain.when(text.str.contains(regex)).then(pl.lit(rules.topics.index(topic), pl.UInt16))
    return chain.otherwise(pl.lit(None, pl.UInt16)) if rules.keyword_rules else pl.lit(None, pl.UInt16)


def event_topic_expr(
    content_topic: pl.Expr, content_id: pl.Expr, page_path: pl.Expr, *, rules: ContentRules | None = None
) -> pl.Expr:
    """Topic of a content event: its own topic, else content_id map, else keywords (see content.yaml)."""
    rules = rules or load_content_rules()
    position = {topic: i for i, topic in enumerate(rules.topics)}
    # Normalised once into struct fields (each is read several times below); the lookups work on
    # topic positions, named once at the end, which is several times faster than chains of strings.
    values = pl.struct(
        content_topic.cast(pl.String).str.strip_chars().str.to_lowercase()
        .str.replace_all(r"[\s\-]+", "_").alias("own"),
        content_id.cast(pl.String).str.strip_chars().str.to_lowercase().alias("cid"),
        page_path.cast(pl.String).str.strip_chars().str.to_lowercase().alias("path"),
    )
    own, cid, path = pl.field("own"), pl.field("cid"), pl.field("path")
    ids = {content: position[topic] for content, topic in rules.content_ids.items()}
    found = pl.coalesce(
        own.replace_strict(position, default=pl.lit(None, pl.UInt16), return_dtype=pl.UInt16),
        cid.replace_strict(ids, default=pl.lit(None, pl.UInt16), return_dtype=pl.UInt16),
        _keyword_position(cid, rules),
        pl.when(path.str.contains(rules.content_paths)).then(_keyword_position(path, rules)),
    )
    names = dict(enumerate(rules.topics))
    return (
        values.struct.with_fields(found.alias("topic")).struct.field("topic")
        .replace_strict(names, default=pl.lit(None, pl.String), return_dtype=pl.String)
    )


def content_interests(
    events: pl.LazyFrame | pl.DataFrame, *, rules: ContentRules | None = None
) -> pl.DataFrame:
    """One row per contact with at least one topical download or form fill.

    Input columns: contact_id, event, content_topic, content_id, page_path, ts (other columns are
    ignored). Only `counted_events` count; events with no contact_id or no topic are skipped.
    Output: contact_id, content_interests (topics by strength: event count desc, most recent desc,
    name asc), top_interest (the first of them). Contacts without interests are absent: join left and
    treat a missing list as no interest.
    """
    rules = rules or load_content_rules()
    lf = events.lazy()
    missing = [c for c in EVENT_COLUMNS if c not in lf.collect_schema().names()]
    if missing:
        raise ValueError(f"content_interests: events lack column(s) {', '.join(missing)}; "
                         f"expected {', '.join(EVENT_COLUMNS)} (as in staging.events)")
    counted = lf.filter(pl.col("event").is_in(rules.counted_events) & pl.col("contact_id").is_not_null())
    topic = event_topic_expr(pl.col("content_topic"), pl.col("content_id"), pl.col("page_path"), rules=rules)
    return (
        with_per_combination(counted, ["content_topic", "content_id", "page_path"], topic, "topic")
        .select("contact_id", "ts", "topic")
        .drop_nulls("topic")
        .group_by("contact_id", "topic")
        .agg(pl.len().alias("events"), pl.col("ts").max().alias("last_ts"))
        .sort(
            ["contact_id", "events", "last_ts", "topic"],
            descending=[False, True, True, False],
            nulls_last=True,
        )
        .group_by("contact_id", maintain_order=True)
        .agg(pl.col("topic").alias("content_interests"))
        .with_columns(pl.col("content_interests").list.first().alias("top_interest"))
        .collect()
    )


def nurture_track_expr(interests: pl.Expr, *, rules: ContentRules | None = None) -> pl.Expr:
    """Nurture track of a contact from their interests (strongest first).

    The strongest interest that some track lists decides (a topic in several tracks -> the first of
    them in config order); interests no track lists are skipped. No interest (NULL or empty list, or
    none listed by a track) -> the default track. Never NULL.
    """
    rules = rules or load_content_rules()
    mapping = rules.topic_tracks
    tracks = interests.list.eval(
        pl.element().replace_strict(mapping, default=pl.lit(None, pl.String), return_dtype=pl.String)
    )
    return tracks.list.drop_nulls().list.first().fill_null(rules.default_track)
