"""The staging layer's business rules: `config/web.yaml` plus GA4's search-engine list, validated on load.

The SQL models receive these as bound parameters (`WebRules.sql_params()`); nothing is formatted into SQL.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from assets.config_files import ConfigError, config_path, load_yaml, require

WEB_RULES_FILE = "web.yaml"
SOURCE_CATEGORIES_FILE = "reference/ga4_source_categories.csv"
SEARCH_CATEGORY = "SOURCE_CATEGORY_SEARCH"
BARE_DOMAIN = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")


@dataclass(frozen=True)
class WebRules:
    """Validated staging rules. Domains and search sources are lowercase; bot patterns match any case."""

    session_timeout_minutes: int
    bot_patterns: list[str]
    own_domains: list[str]
    form_events: list[str]
    email_regex: str
    personal_domains: list[str]
    search_sources: list[str]

    def sql_params(self) -> dict[str, object]:
        """Every rule under the parameter name the `sql/staging/*.sql` files bind."""
        return {
            "session_timeout_minutes": self.session_timeout_minutes,
            "bot_patterns": self.bot_patterns,
            "own_domains": self.own_domains,
            "form_events": self.form_events,
            "email_regex": self.email_regex,
            "personal_domains": self.personal_domains,
            "search_sources": self.search_sources,
        }


def _text_list(data: dict, key: str, file: Path, where: str, allow_empty: bool = False) -> list[str]:
    values = require(data, key, list, file, where)
    place = f"{where}.{key}"
    if not values and not allow_empty:
        raise ConfigError(file, place, "list at least one value")
    out = []
    for i, value in enumerate(values):
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(file, f"{place}[{i}]", f"expected a non-empty text, got {value!r}")
        out.append(value.strip())
    return out


def _check_regex(pattern: str, file: Path, where: str) -> None:
    # Compile with DuckDB itself (RE2), the engine that will run it: Python's `re` accepts other syntax.
    try:
        duckdb.execute("select regexp_matches('', $p)", {"p": pattern}).fetchone()
    except duckdb.Error as exc:
        raise ConfigError(file, where, f"{pattern!r} is not a valid regular expression: {exc}") from exc


def _domain_list(data: dict, key: str, file: Path, where: str, allow_empty: bool) -> list[str]:
    domains = []
    for i, value in enumerate(_text_list(data, key, file, where, allow_empty)):
        domain = value.lower()
        domain = domain[4:] if domain.startswith("www.") else domain
        if not BARE_DOMAIN.match(domain):
            raise ConfigError(
                file, f"{where}.{key}[{i}]", f"{value!r} is not a bare domain; write it like example.com (no https://, no path)"
            )
        domains.append(domain)
    return domains


def load_search_sources(config_dir: Path | None = None) -> list[str]:
    """Lowercase GA4 sources in SOURCE_CATEGORY_SEARCH (`config/reference/ga4_source_categories.csv`)."""
    path = config_path(SOURCE_CATEGORIES_FILE, config_dir)
    if not path.is_file():
        raise ConfigError(path, "", "file not found (restore it from the repository)")
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or not {"source", "source_category"} <= set(reader.fieldnames):
            raise ConfigError(path, "header", "expected the columns source,source_category")
        sources = sorted({row["source"].strip().lower() for row in reader if row["source_category"] == SEARCH_CATEGORY})
    if not sources:
        raise ConfigError(path, "source_category", f"no row has {SEARCH_CATEGORY}")
    return sources


def load_web_rules(config_dir: Path | None = None) -> WebRules:
    """Read and validate `config/web.yaml` (and the search-engine list); ConfigError names file and key."""
    path, data = load_yaml(WEB_RULES_FILE, config_dir)

    sessions = require(data, "sessions", dict, path)
    timeout = require(sessions, "timeout_minutes", int, path, "sessions")
    if not 1 <= timeout <= 24 * 60:
        raise ConfigError(path, "sessions.timeout_minutes", f"{timeout} is out of range; use minutes between 1 and 1440")

    bots = require(data, "bots", dict, path)
    bot_patterns = _text_list(bots, "user_agent_patterns", path, "bots", allow_empty=True)
    for i, pattern in enumerate(bot_patterns):
        _check_regex(pattern, path, f"bots.user_agent_patterns[{i}]")

    own_site = require(data, "own_site", dict, path)
    own_domains = _domain_list(own_site, "domains", path, "own_site", allow_empty=True)

    forms = require(data, "forms", dict, path)
    form_events = _text_list(forms, "email_events", path, "forms", allow_empty=True)

    emails = require(data, "emails", dict, path)
    email_regex = require(emails, "valid_pattern", str, path, "emails")
    _check_regex(email_regex, path, "emails.valid_pattern")
    personal_domains = _domain_list(emails, "personal_domains", path, "emails", allow_empty=True)

    return WebRules(
        session_timeout_minutes=timeout,
        bot_patterns=bot_patterns,
        own_domains=own_domains,
        form_events=form_events,
        email_regex=email_regex,
        personal_domains=personal_domains,
        search_sources=load_search_sources(config_dir),
    )
