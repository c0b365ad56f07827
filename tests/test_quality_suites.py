"""Suite files, config/quality.yaml and the value-set providers: the shipped files load and build real
GX expectations; every malformed input stops with an error naming the file and the place."""
from __future__ import annotations

import copy
import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
import yaml

from assets.config_files import ConfigError
from data_quality import vocabularies as vocab
from data_quality.checks import CHECKED_TABLES, PENDING_TABLES
from data_quality.gx_validate import _gx_expectation, _plan
from data_quality.quality_config import load_quality_config
from data_quality.suites import SUITE_DIR, SuiteError, load_suite, load_suite_for
from data_quality.value_sets import PROVIDERS, RunValues, resolve

REPO_CONFIG = Path(__file__).resolve().parent.parent / "config"
AS_OF = dt.date(2026, 3, 1)


def repo_run() -> RunValues:
    return RunValues(AS_OF, load_quality_config(REPO_CONFIG), REPO_CONFIG)


def test_every_suite_file_is_wired_or_pending_and_builds_real_gx_expectations():
    files = {p.stem for p in SUITE_DIR.glob("*.yaml")}
    assert files == set(CHECKED_TABLES) | set(PENDING_TABLES)
    run = repo_run()
    for table in files:
        suite = load_suite_for(table)
        for entry in suite.entries:
            expectation = _gx_expectation(_plan(entry, run, suite), suite)
            assert expectation.meta["entry"] == entry.position


# What pandas hands to Python's `re` (one value at a time) instead of pyarrow: data_quality/suites.py.
PYTHON_ONLY_REGEX = re.compile(r"\\[sSwWdDbBuUN]|\(\?[=!<]|\\[1-9]")


def test_the_contacts_suites_email_regexes_run_in_pyarrow_and_differ_from_backslash_s_only_off_ascii():
    """The two suites over a million contacts spell whitespace out: pandas runs their regexes in
    pyarrow's RE2. They match what the \\s version matches, except around Unicode spaces (a no-break
    space is not whitespace to them), which the suite comments and suites.py own up to."""
    regexes = [entry.kwargs["regex"] for table in ("raw.contacts", "staging.contacts")
               for entry in load_suite_for(table).entries if "regex" in entry.kwargs]
    assert len(regexes) == 2 and not [r for r in regexes if PYTHON_ONLY_REGEX.search(r)]
    spelt_out = next(r for r in regexes if r.startswith("^[^@ "))
    with_backslash_s = spelt_out.replace(" \\t\\n\\r\\f\\v", "\\s")
    emails = ["a@b.co", "a b@c.de", "a@b", "a\t@b.co", " a@b.co", "a@@b.co", "ü@b.co", "a@b.co\n", "a\vb@c.de"]
    assert [bool(re.search(spelt_out, e)) for e in emails] == [bool(re.search(with_backslash_s, e)) for e in emails]
    assert re.search(spelt_out, "a\xa0b@c.de") and not re.search(with_backslash_s, "a\xa0b@c.de")


def test_value_sets_come_from_the_repo_config_files():
    run = repo_run()
    assert resolve("channels", run).value[-1] == "Unassigned"
    assert {"Offline", "Partner", "Purchased List", "Paid Search"} <= set(resolve("channels", run).value)
    assert set(resolve("company_size_bands", run).value) == set(vocab.COMPANY_SIZE_BANDS)
    assert set(resolve("persona_functions", run).value) == set(vocab.PERSONA_FUNCTIONS)
    assert set(resolve("persona_seniorities", run).value) == set(vocab.PERSONA_SENIORITIES)
    assert "general" in resolve("nurture_tracks", run).value
    assert resolve("latest_allowed_timestamp", run).value == dt.datetime(2026, 3, 3)
    with pytest.raises(KeyError, match="unknown value source 'planets'"):
        resolve("planets", run)


def test_value_sets_fall_back_to_the_fixed_vocabularies_when_a_file_is_missing_or_odd(tmp_path):
    (tmp_path / "quality.yaml").write_text(yaml.safe_dump(BASE_QUALITY))
    (tmp_path / "channels.yaml").write_text("channels: 42\n")
    (tmp_path / "company_size.yaml").write_text("unknown: n/a\nbands:\n  - {band: small}\n  - {band: large}\n")
    run = RunValues(AS_OF, load_quality_config(tmp_path), tmp_path)
    channels = resolve("channels", run)
    assert "built-in" in channels.origin and "Purchased List" in channels.value
    assert resolve("company_size_bands", run).value == ("small", "large", "n/a")
    functions = resolve("persona_functions", run)
    assert functions.value == vocab.PERSONA_FUNCTIONS and "not readable" in functions.origin
    assert resolve("nurture_tracks", run).value == ()   # no silent "anything goes"
    assert set(PROVIDERS) >= {"company_tiers", "content_topics", "web_event_types", "raw_formats"}


BASE_QUALITY = {
    "shares": {"max_other_persona_percent": 30, "max_unassigned_channel_percent": 40,
               "min_valid_raw_email_percent": 80, "max_orphan_account_percent": 1,
               "max_orphan_deal_percent": 5},
    "drift": {"max_change_percent": 25, "min_segment_size": 50},
    "event_volume": {"tolerance_percent": 50, "baseline_days": 14, "min_baseline_days": 7},
    "freshness": {"max_age_days": 2, "crm_max_age_days": 3},
    "future_timestamps": {"tolerance_hours": 24},
    "suppressions": {"min_share_of_previous_percent": 50},
}


def test_the_shipped_quality_config_loads():
    config = load_quality_config(REPO_CONFIG)
    assert 0 < config.max_other_persona_percent <= 100
    assert config.value("max_other_persona_percent") == config.max_other_persona_percent
    with pytest.raises(KeyError, match="known:"):
        config.value("nope")


@pytest.mark.parametrize("section, key, value, problem", [
    ("shares", "max_other_persona_percent", 140, "percentage"),
    ("shares", "max_orphan_account_percent", "one", "expected int or float"),
    ("freshness", "max_age_days", 2.5, "expected int"),
    ("event_volume", "min_baseline_days", 30, "more than baseline_days"),
    ("drift", "max_change_percent", -5, "at least 0"),
    ("future_timestamps", "tolerance_hours", True, "expected a number"),
    ("drift", "min_segment_size", None, "required key is missing"),
    ("suppressions", "min_share_of_previous_percent", 150, "percentage"),
])
def test_quality_config_errors_name_the_file_and_key(tmp_path, section, key, value, problem):
    data = copy.deepcopy(BASE_QUALITY)
    if value is None:
        del data[section][key]
    else:
        data[section][key] = value
    (tmp_path / "quality.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as error:
        load_quality_config(tmp_path)
    assert error.value.where == f"{section}.{key}" and problem in error.value.problem
    assert "quality.yaml" in str(error.value)


def test_quality_config_missing_section(tmp_path):
    (tmp_path / "quality.yaml").write_text("shares: {}\n")
    with pytest.raises(ConfigError, match="drift: required key is missing"):
        load_quality_config(tmp_path)


@pytest.mark.parametrize("body, where, message", [
    ("key: [id]\nexpectations: [{expect_column_values_to_not_be_null: {column: id}}]\n", "table", "schema.table"),
    ("table: Raw.Things\nkey: [id]\nexpectations: []\n", "table", "schema.table"),
    ("table: raw.things\nexpectations: [{expect_column_values_to_not_be_null: {column: id}}]\n", "key", "identify"),
    ("table: raw.things\nkey: [id]\nexpectations: []\n", "expectations", "non-empty"),
    ("table: raw.things\nkey: [id]\nexpectations: [{expect_column_values_to_be_purple: {column: id}}]\n",
     "expectations[1] expect_column_values_to_be_purple", "no such expectation"),
    ("table: raw.things\nkey: [id]\nexpectations: [{check_stuff: {column: id}}]\n",
     "expectations[1] check_stuff", "unknown check"),
    ("table: raw.things\nkey: [id]\nexpectations: [{expect_column_values_to_not_be_null: {column: 'id; drop'}}]\n",
     "expectations[1] expect_column_values_to_not_be_null.column", "column name"),
    ("table: raw.things\nkey: [id]\nexpectations: [{share_of_value_at_most: {column: id}}]\n",
     "expectations[1] share_of_value_at_most", "max_percent"),
    ("table: raw.things\nkey: [id]\nexpectations: [{references: {column: id, table: accounts, key: id}}]\n",
     "expectations[1] references.table", "schema.table"),
    ("table: raw.things\nkey: [id]\nexpectations: [{expect_column_values_to_not_be_null: {column: id}, x: 1}]\n",
     "expectations[1]", "one mapping"),
    ("table: raw.things\nkey: [id]\nwhatever: 1\nexpectations: [{expect_column_values_to_not_be_null: {column: id}}]\n",
     "whatever", "unknown top-level"),
    ("table: raw.things\nkey: [id]\nexpectations: [{expect_column_values_to_not_be_null: {column: id, mostly: 0.5, mostly_percent: 50}}]\n",
     "expectations[1] expect_column_values_to_not_be_null", "not both"),
    ("table: [unclosed\n", "", "not valid YAML"),
])
def test_malformed_suites_name_the_file_and_the_entry(tmp_path, body, where, message):
    path = tmp_path / "raw.things.yaml"
    path.write_text(body)
    with pytest.raises(SuiteError) as error:
        load_suite(path)
    assert error.value.where == where and message in error.value.problem and str(path) in str(error.value)


def test_suite_errors_found_when_resolving_name_the_entry(tmp_path):
    path = tmp_path / "raw.things.yaml"
    path.write_text("table: raw.things\nkey: [id]\nexpectations:\n"
                    "  - expect_column_values_to_be_in_set: {column: id, value_set: {from: planets}}\n"
                    "  - expect_column_values_to_be_between: {column: id, min_value: {config: nope}}\n"
                    "  - expect_column_values_to_be_in_set: {column: id, value_set: 7}\n")
    suite = load_suite(path)
    run = repo_run()
    with pytest.raises(SuiteError, match=r"expectations\[1\].*planets"):
        _plan(suite.entries[0], run, suite)
    with pytest.raises(SuiteError, match=r"expectations\[2\].*nope"):
        _plan(suite.entries[1], run, suite)
    with pytest.raises(SuiteError, match=r"expectations\[3\].*rejected by Great Expectations"):
        _gx_expectation(_plan(suite.entries[2], run, suite), suite)
    with pytest.raises(SuiteError, match="file is named for 'raw.other'"):
        shutil.copy(path, tmp_path / "raw.other.yaml")
        load_suite_for("raw.other", tmp_path)


def test_rule_and_suite_files_parse_as_yaml_safe_load_parses_them():
    """parse_yaml (libyaml's safe loader when PyYAML has it) gives exactly what yaml.safe_load gives
    for every shipped rule file and suite, and refuses what it refuses (tags that build objects too)."""
    import yaml

    from assets.config_files import YAML_LOADER, parse_yaml
    from workflows.settings import REPO_ROOT

    files = sorted((REPO_ROOT / "config").glob("*.yaml")) + sorted((REPO_ROOT / "data_quality" / "suites").glob("*.yaml"))
    assert len(files) > 20
    if YAML_LOADER is not getattr(yaml, "CSafeLoader", None):  # the pinned wheels ship libyaml
        pytest.skip("this PyYAML has no libyaml: parse_yaml is yaml.safe_load")
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert parse_yaml(text) == yaml.safe_load(text), path
    for bad in ("table: [unclosed\n", "a: !!python/object:os.system ls\n", "key: value\n  bad indent: x\n"):
        with pytest.raises(yaml.YAMLError):
            yaml.safe_load(bad)
        with pytest.raises(yaml.YAMLError):
            parse_yaml(bad)
