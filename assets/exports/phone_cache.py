"""Phone numbers parsed once, ever: E.164 results kept in the warehouse (build_state.phone_numbers).

Parsing with `phonenumbers` is Python per distinct number (~30 µs each): at a million contacts the
audience step and every export would spend most of their time there, every night, on numbers that have
not changed. The nightly job passes `cached_parser(con)` wherever `phone_e164` runs: it looks the
night's distinct (phone, country) pairs up in the cache, parses only the unknown ones and adds them.
A result is tied to the parser's version (new metadata can change validity), so an upgrade re-parses.
"""
from __future__ import annotations

from typing import Callable

import duckdb
import polars as pl

from assets.exports.normalize import PHONE_PARSER, parse_phone_pairs
from assets.sql_files import run_sql
from assets.warehouse_tables import registered

PAIRS_VIEW, PARSED_VIEW = "phone_pairs", "phone_parsed"


def cached_parser(con: duckdb.DuckDBPyConnection) -> Callable[[pl.DataFrame], pl.DataFrame]:
    """A `parse_pairs` for `phone_e164` that reads and fills build_state.phone_numbers through `con`."""

    def parse(pairs: pl.DataFrame) -> pl.DataFrame:
        run_sql(con, "exports/phone_cache_create")
        with registered(con, PAIRS_VIEW, pairs.select(pl.col("_phone", "_cc").cast(pl.String))):
            looked_up = run_sql(con, "exports/phone_cache_lookup", {"parser": PHONE_PARSER}).pl()
        unknown = looked_up.filter(~pl.col("_known")).select("_phone", "_cc")
        parsed = parse_phone_pairs(unknown)
        if parsed.height:
            with registered(con, PARSED_VIEW, parsed):
                run_sql(con, "exports/phone_cache_add", {"parser": PHONE_PARSER})
        known = looked_up.filter(pl.col("_known")).select("_phone", "_cc", "_e164")
        return pl.concat([known, parsed.select("_phone", "_cc", "_e164")])

    return parse
