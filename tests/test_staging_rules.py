"""config/web.yaml: the shipped file loads, and each kind of mistake names the file and the key."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from assets.config_files import ConfigError
from assets.staging.web_rules import load_search_sources, load_web_rules
from workflows.settings import REPO_ROOT


def test_shipped_rules_load():
    rules = load_web_rules()
    assert rules.session_timeout_minutes == 30
    assert "google" in rules.search_sources and "bing" in rules.search_sources and "facebook" not in rules.search_sources
    assert "gmail.com" in rules.personal_domains
    params = rules.sql_params()
    assert set(params) == {"session_timeout_minutes", "bot_patterns", "own_domains", "form_events", "email_regex",
                           "personal_domains", "search_sources"}


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A copy of the repository's config folder that a test may break."""
    folder = tmp_path / "config"
    (folder / "reference").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "config" / "web.yaml", folder / "web.yaml")
    shutil.copy(REPO_ROOT / "config" / "reference" / "ga4_source_categories.csv", folder / "reference")
    return folder


def edit(config_dir: Path, change) -> None:
    path = config_dir / "web.yaml"
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data))


@pytest.mark.parametrize(
    ("change", "where", "problem"),
    [
        (lambda d: d.pop("sessions"), "sessions", "missing"),
        (lambda d: d["sessions"].update(timeout_minutes="30"), "sessions.timeout_minutes", "expected int"),
        (lambda d: d["sessions"].update(timeout_minutes=0), "sessions.timeout_minutes", "out of range"),
        (lambda d: d["sessions"].update(timeout_minutes=True), "sessions.timeout_minutes", "expected a number"),
        (lambda d: d["bots"].update(user_agent_patterns=["bot", "(unclosed"]), "bots.user_agent_patterns[1]",
         "not a valid regular expression"),
        (lambda d: d["bots"].update(user_agent_patterns="bot"), "bots.user_agent_patterns", "expected list"),
        (lambda d: d["bots"].update(user_agent_patterns=["bot", ""]), "bots.user_agent_patterns[1]", "non-empty text"),
        (lambda d: d["own_site"].update(domains=["https://example.com/"]), "own_site.domains[0]", "bare domain"),
        (lambda d: d["emails"].update(valid_pattern="[a-z"), "emails.valid_pattern", "not a valid regular expression"),
        (lambda d: d["emails"].pop("personal_domains"), "emails.personal_domains", "missing"),
        (lambda d: d["forms"].update(email_events=[3]), "forms.email_events[0]", "non-empty text"),
    ],
)
def test_mistakes_name_file_and_key(config_dir, change, where, problem):
    edit(config_dir, change)
    with pytest.raises(ConfigError) as raised:
        load_web_rules(config_dir)
    assert raised.value.file.endswith("web.yaml")
    assert raised.value.where == where
    assert problem in raised.value.problem


def test_domains_are_lowercased_without_www(config_dir):
    edit(config_dir, lambda d: d["own_site"].update(domains=["WWW.Example.COM"]))
    assert load_web_rules(config_dir).own_domains == ["example.com"]


def test_missing_files_are_reported(config_dir):
    (config_dir / "reference" / "ga4_source_categories.csv").unlink()
    with pytest.raises(ConfigError, match="ga4_source_categories.csv"):
        load_search_sources(config_dir)
    (config_dir / "web.yaml").unlink()
    with pytest.raises(ConfigError, match="web.yaml: file not found"):
        load_web_rules(config_dir)


def test_source_categories_with_a_wrong_header_are_reported(config_dir):
    (config_dir / "reference" / "ga4_source_categories.csv").write_text("name,category\ngoogle,SEARCH\n")
    with pytest.raises(ConfigError) as raised:
        load_search_sources(config_dir)
    assert raised.value.where == "header"
