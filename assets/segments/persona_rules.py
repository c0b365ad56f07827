"""`config/personas.yaml`, validated and compiled into the regular expressions the classifier runs.

The taxonomy (keywords, abbreviations, translations, seniority conventions) is data a marketer edits;
this module checks it on load so a typo stops the run with the file, the key and what to do, instead of
silently classifying everyone as `other`. See the comments at the top of the YAML for how it is read.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from assets.config_files import ConfigError, load_yaml, require, require_one_of

PERSONAS_FILE = "personas.yaml"

# The vocabulary is the table contract (docs/tables.md, issue 3): the config may not invent values.
FUNCTIONS = ("marketing", "sales", "customer_success", "product", "design", "engineering", "it", "data",
             "finance", "hr", "operations", "legal", "general_management", "other")
SENIORITIES = ("owner", "cxo", "vp", "director", "manager", "senior", "entry", "intern")
OTHER, UNKNOWN, DEFAULT_SENIORITY = "other", "unknown", "entry"
HEADS_OF_FIRM = ("owner", "cxo")          # seniorities whose function defaults to general_management
RULE_LEVELS = tuple(s for s in SENIORITIES if s != DEFAULT_SENIORITY)   # `entry` is what no rule matched
RULE_FUNCTIONS = tuple(f for f in FUNCTIONS if f != OTHER)              # `other` is what no entry matched
STRONG_LISTS = ("phrases", "abbreviations")
WEAK_LISTS = ("keywords", "translations")

# Patterns run against the normalised title, where words are separated by single spaces; matching a
# space or the start/end around an entry makes every entry whole-word ("it" never matches "digital").
_BEFORE, _AFTER = "(?:^| )", "(?: |$)"
_ESCAPES = re.compile(r"\\[pP]\{[^}]*\}|\\.")
_UNICODE_CLASSES = re.compile(r"(?<!\\)(?:\\\\)*\\[wWbB]")   # an unescaped \w, \W, \b or \B


@dataclass(frozen=True)
class PersonaRules:
    """The validated taxonomy: each regex is whole-word, over the normalised title, or None if empty."""

    file: Path
    characters: dict[str, str]
    rewrites: tuple[tuple[str, str], ...]            # (regex with pre/post groups, replacement)
    missing_titles: tuple[str, ...]
    executive: tuple[tuple[str, str], ...]           # (function, regex), first match wins
    seniority: tuple[tuple[str, str, str | None], ...]  # (level, regex, unless regex), precedence order
    strong: tuple[tuple[str, str | None], ...]       # (function, regex) in tie-break order
    weak: tuple[tuple[str, str | None], ...]
    function_labels: dict[str, str]
    seniority_labels: dict[str, str]
    unknown_label: str


def whole_words(patterns: list[str]) -> str:
    """One regex matching any of `patterns` as whole words of a normalised title."""
    return _BEFORE + "(?:" + "|".join(f"(?:{p})" for p in patterns) + ")" + _AFTER


def _compiles(patterns: list[str]) -> str | None:
    """None if Polars (Rust regex) compiles the whole-word regex of `patterns`, else the parser's message."""
    try:
        pl.Series("t", [""], dtype=pl.String).str.contains(whole_words(patterns))
    except Exception as exc:  # polars raises ComputeError carrying the regex parser's message
        return str(exc).split("\n\nThis error occurred")[0]
    return None


def _text_pattern(value: Any, file: Path, where: str) -> str:
    """A config regex as text: non-empty, lowercase, unaccented, no Unicode word classes."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(file, where, f"expected a non-empty text pattern, got {value!r}")
    if _UNICODE_CLASSES.search(value):
        raise ConfigError(file, where, f"{value!r} uses \\w or \\b; write [a-z] instead (titles are plain "
                          "lowercase letters after normalisation, and the Unicode \\w makes matching ~100x slower)")
    letters = _ESCAPES.sub("", value)
    if any(ch.isupper() for ch in letters):
        raise ConfigError(file, where, f"{value!r} has capital letters; titles are lowercased before "
                          "matching, so write the pattern in lowercase")
    if any(ch == "ß" or unicodedata.normalize("NFKD", ch) != ch for ch in letters):
        raise ConfigError(file, where, f"{value!r} has accents; titles are matched without them, so write "
                          "ae/oe/ue/ss for ä/ö/ü/ß and drop other accents (é -> e)")
    return value


def _valid_patterns(values: list[Any], file: Path, place: str) -> list[str]:
    """Check each entry's text, then compile the list once; only on failure find the entry to blame."""
    patterns = [_text_pattern(v, file, f"{place}[{i}]") for i, v in enumerate(values)]
    if _compiles(patterns) is not None:
        for i, pattern in enumerate(patterns):
            reason = _compiles([pattern])
            if reason is not None:
                raise ConfigError(file, f"{place}[{i}]", f"{pattern!r} is not a valid regular expression "
                                  f"(Rust syntax, no look-around): {reason}")
    return patterns


def _patterns(entry: dict[str, Any], key: str, file: Path, where: str, required: bool = True) -> list[str]:
    """A non-empty list of patterns under `entry[key]` (absent is allowed when not required)."""
    if not required and key not in entry:
        return []
    values = require(entry, key, list, file, where)
    place = f"{where}.{key}" if where else key
    if not values:
        raise ConfigError(file, place, "the list is empty; add entries or remove the key")
    return _valid_patterns(values, file, place)


def _labels(data: dict[str, Any], file: Path) -> tuple[dict[str, str], dict[str, str], str]:
    labels = require(data, "persona_labels", dict, file)
    unknown = require(labels, "unknown", str, file, "persona_labels")
    out = []
    for key, vocabulary in (("functions", FUNCTIONS), ("seniorities", SENIORITIES)):
        given = require(labels, key, dict, file, "persona_labels")
        for name in given:
            require_one_of(name, vocabulary, file, f"persona_labels.{key}.{name}")
        for name in vocabulary:
            label = require(given, name, str, file, f"persona_labels.{key}")
            if not label.strip():
                raise ConfigError(file, f"persona_labels.{key}.{name}", "the label is empty")
        out.append({name: given[name].strip() for name in vocabulary})
    return out[0], out[1], unknown


def _normalise(data: dict[str, Any], file: Path) -> tuple[dict[str, str], tuple[tuple[str, str], ...]]:
    section = require(data, "normalise", dict, file)
    characters = require(section, "characters", dict, file, "normalise")
    for key, value in characters.items():
        if not isinstance(key, str) or not key or not isinstance(value, str):
            raise ConfigError(file, f"normalise.characters.{key}", "map a character (text) to its replacement (text)")
    rewrites = []
    for i, entry in enumerate(require(section, "rewrite", list, file, "normalise")):
        where = f"normalise.rewrite[{i}]"
        pattern = _text_pattern(require(entry, "pattern", str, file, where), file, f"{where}.pattern")
        reason = _compiles([pattern])
        if reason is not None:
            raise ConfigError(file, f"{where}.pattern", f"{pattern!r} is not a valid regular expression: {reason}")
        replace = require(entry, "replace", str, file, where)
        if not re.fullmatch(r"[a-z0-9 ]+", replace):
            raise ConfigError(file, f"{where}.replace", f"{replace!r}: use lowercase letters, digits and spaces")
        rewrites.append((f"(?P<pre>^| )(?:{pattern})(?P<post> |$)", f"${{pre}}{replace}${{post}}"))
    return {k.lower(): v.lower() for k, v in characters.items()}, tuple(rewrites)


def _seniority(data: dict[str, Any], file: Path, executive: list[str]) -> tuple[tuple[str, str, str | None], ...]:
    rules, seen = [], set()
    for i, entry in enumerate(require(data, "seniority", list, file)):
        where = f"seniority[{i}]"
        level = require_one_of(require(entry, "level", str, file, where), RULE_LEVELS, file, f"{where}.level")
        if level in seen:
            raise ConfigError(file, f"{where}.level", f"{level!r} is listed twice; merge its patterns")
        seen.add(level)
        patterns = _patterns(entry, "patterns", file, where)
        if level == "cxo":
            patterns = patterns + executive     # every executive title is a chief, by definition
        unless = _patterns(entry, "unless", file, where, required=False)
        rules.append((level, whole_words(patterns), whole_words(unless) if unless else None))
    missing = [lv for lv in RULE_LEVELS if lv not in seen]
    if missing:
        raise ConfigError(file, "seniority", f"no rule for {', '.join(missing)}; add one (titles matching no "
                          f"rule are {DEFAULT_SENIORITY!r})")
    return tuple(rules)


def _functions(data: dict[str, Any], file: Path) -> tuple[tuple, tuple]:
    section = require(data, "functions", dict, file)
    for name in section:
        require_one_of(name, RULE_FUNCTIONS, file, f"functions.{name}")
    strong, weak = [], []
    for name in RULE_FUNCTIONS:
        entry = require(section, name, dict, file, "functions")
        where = f"functions.{name}"
        for key in entry:
            require_one_of(key, STRONG_LISTS + WEAK_LISTS, file, f"{where}.{key}")
        lists = {key: _patterns(entry, key, file, where, required=False) for key in STRONG_LISTS + WEAK_LISTS}
        if not any(lists.values()):
            raise ConfigError(file, where, "has no patterns; add phrases or keywords")
        found_strong = lists["phrases"] + lists["abbreviations"]
        found_weak = lists["keywords"] + lists["translations"]
        strong.append((name, whole_words(found_strong) if found_strong else None))
        weak.append((name, whole_words(found_weak) if found_weak else None))
    return tuple(strong), tuple(weak)


def load_persona_rules(config_dir: Path | None = None) -> PersonaRules:
    """Read and validate `config/personas.yaml`; a ConfigError names the file and key of any mistake."""
    file, data = load_yaml(PERSONAS_FILE, config_dir)
    function_labels, seniority_labels, unknown_label = _labels(data, file)
    characters, rewrites = _normalise(data, file)
    missing = require(data, "missing_titles", list, file)
    for i, value in enumerate(missing):
        if not isinstance(value, str) or not re.fullmatch(r"[\w ]+", value) or value != value.lower():
            raise ConfigError(file, f"missing_titles[{i}]", f"{value!r}: write it normalised (lowercase, "
                              "punctuation as spaces, e.g. 'n a' for N/A)")
    executive, all_executive = [], []
    for i, entry in enumerate(require(data, "executive_titles", list, file)):
        where = f"executive_titles[{i}]"
        function = require_one_of(require(entry, "function", str, file, where), RULE_FUNCTIONS, file,
                                  f"{where}.function")
        patterns = _patterns(entry, "patterns", file, where)
        executive.append((function, whole_words(patterns)))
        all_executive += patterns
    if not executive:
        raise ConfigError(file, "executive_titles", "the list is empty; list at least the chief executive")
    strong, weak = _functions(data, file)
    return PersonaRules(
        file=file, characters=characters, rewrites=rewrites,
        missing_titles=tuple(" ".join(m.split()) for m in missing),
        executive=tuple(executive), seniority=_seniority(data, file, all_executive),
        strong=strong, weak=weak, function_labels=function_labels, seniority_labels=seniority_labels,
        unknown_label=unknown_label,
    )
