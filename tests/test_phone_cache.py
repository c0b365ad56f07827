"""The warehouse cache of parsed phone numbers: same results as parsing, read back, version-keyed."""
from __future__ import annotations

import duckdb
import polars as pl
import pytest

from assets.exports.normalize import PHONE_PARSER, phone_e164
from assets.exports.phone_cache import cached_parser

PHONES = pl.DataFrame({
    "phone": ["(415) 555-0132", "+44 20 7946 0958", "020 7946 0958", "12", None, "(415) 555-0132", "+1 415 555 0132"],
    "_cc": ["US", None, "GB", "US", "US", "US", "DE"],
})


@pytest.fixture
def con(tmp_path):
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as connection:
        yield connection


def cache_rows(con) -> list[tuple]:
    return con.execute("select phone, country, e164, parser from build_state.phone_numbers order by all").fetchall()


def test_cached_results_equal_parsing_and_fill_the_cache_once(con):
    expected = phone_e164(PHONES, "phone", "_cc").to_list()
    assert expected[0] == "+14155550132" and expected[3] is None and expected[4] is None  # a real parse
    assert phone_e164(PHONES, "phone", "_cc", cached_parser(con)).to_list() == expected
    first = cache_rows(con)
    assert len(first) == 5  # distinct (cleaned phone, country) pairs with a phone; invalid ones cached as NULL
    assert ("12", "US", None, PHONE_PARSER) in first
    assert phone_e164(PHONES, "phone", "_cc", cached_parser(con)).to_list() == expected
    assert cache_rows(con) == first  # nothing parsed or added the second time


def test_a_cached_result_is_used_as_is_and_other_parser_versions_are_ignored(con):
    phone_e164(PHONES.head(1), "phone", "_cc", cached_parser(con))
    con.execute("update build_state.phone_numbers set e164 = '+19999999999'")  # what the cache says wins
    con.execute("insert into build_state.phone_numbers values ('+442079460958', null, '+10000000000', 'phonenumbers 0.0')")
    got = phone_e164(PHONES.head(2), "phone", "_cc", cached_parser(con)).to_list()
    assert got == ["+19999999999", "+442079460958"]  # the old parser's row was not trusted


def test_a_pair_cached_twice_still_gives_one_value_per_row(con):
    phone_e164(PHONES, "phone", "_cc", cached_parser(con))
    con.execute("insert into build_state.phone_numbers select * from build_state.phone_numbers")
    got = phone_e164(PHONES, "phone", "_cc", cached_parser(con))
    assert got.len() == PHONES.height and got.to_list() == phone_e164(PHONES, "phone", "_cc").to_list()
