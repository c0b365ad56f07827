"""replace_table: a full replace, or (with a key) only the changed rows written; either way the table
ends up holding exactly the frame's rows."""
from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl
import pytest

from assets.warehouse_tables import replace_table

TABLE = "segments.people"


def people(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, orient="row",
        schema={"contact_id": pl.String, "persona": pl.String, "interests": pl.List(pl.String),
                "seen_at": pl.Datetime("us"), "is_customer": pl.Boolean},
    )


BEFORE = people([
    ("c1", "IT", ["cloud"], dt.datetime(2026, 1, 1), True),
    ("c2", "Finance", [], dt.datetime(2026, 1, 2), False),
    ("c3", None, None, None, None),
    ("c4", "HR", ["hiring", "payroll"], dt.datetime(2026, 1, 4), False),
])
AFTER = people([
    ("c1", "IT", ["cloud"], dt.datetime(2026, 1, 1), True),             # unchanged
    ("c2", "Finance", ["budgets"], dt.datetime(2026, 1, 2), False),     # a list changed
    ("c3", None, None, None, True),                                      # NULL -> value
    ("c5", "Sales", ["crm"], dt.datetime(2026, 1, 5), None),             # new; c4 is gone
])


@pytest.fixture()
def con(tmp_path):
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    yield connection
    connection.close()


def table_rows(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return con.table(TABLE).pl().sort("contact_id")


def rowids(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return dict(con.execute("select contact_id, rowid from " + TABLE).fetchall())


def test_with_a_key_only_changed_rows_are_rewritten_and_the_table_equals_the_frame(con):
    replace_table(con, TABLE, BEFORE, key=["contact_id"])
    before = rowids(con)
    assert replace_table(con, TABLE, AFTER, key=["contact_id"]) == 4
    assert table_rows(con).equals(AFTER.sort("contact_id"))
    after = rowids(con)
    assert after["c1"] == before["c1"]  # the unchanged row was not written again
    assert {after["c2"], after["c3"], after["c5"]}.isdisjoint(before.values())
    # the same frame again: nothing to write
    replace_table(con, TABLE, AFTER, key=["contact_id"])
    assert rowids(con) == after


@pytest.mark.parametrize("after", [
    AFTER.with_columns(pl.lit(1).alias("score")),                        # a new column
    AFTER.with_columns(pl.col("is_customer").cast(pl.String)),          # a column's type changed
    pl.concat([AFTER, AFTER.head(1)]),                                  # a key twice in the frame
], ids=["new-column", "new-type", "duplicate-key"])
def test_a_table_that_cannot_take_the_changes_is_replaced_whole(con, after):
    replace_table(con, TABLE, BEFORE, key=["contact_id"])
    replace_table(con, TABLE, after, key=["contact_id"])
    assert table_rows(con).equals(after.sort("contact_id"))


def test_duplicates_left_by_an_earlier_full_replace_are_cleared(con):
    replace_table(con, TABLE, pl.concat([BEFORE, BEFORE.head(1)]), key=["contact_id"])  # c1 twice
    replace_table(con, TABLE, AFTER, key=["contact_id"])
    assert table_rows(con).equals(AFTER.sort("contact_id"))


def test_a_name_that_is_not_a_plain_table_changes_nothing(con):
    replace_table(con, TABLE, BEFORE, key=["contact_id"])
    with pytest.raises(ValueError, match="not a plain schema.table"):
        replace_table(con, "segments.people; drop table x", AFTER, key=["contact_id"])
    assert table_rows(con).equals(BEFORE.sort("contact_id"))


def test_null_keys_and_compound_keys_are_written_like_any_other(con):
    """A key column may be NULL (a NULL key is one key) and a key may have several columns; the
    helper's scratch table is gone afterwards."""
    key = ["contact_id", "persona"]
    replace_table(con, TABLE, BEFORE, key=key)                  # c3 has a NULL persona
    kept = rowids(con)["c1"]
    # c5 gets a NULL persona too; c1 (unchanged) comes last: replaced whole, it would move
    after = AFTER.with_columns(pl.when(pl.col("contact_id") == "c5").then(None).otherwise(pl.col("persona")).alias("persona"))
    after = pl.concat([after.filter(pl.col("contact_id") != "c1"), after.filter(pl.col("contact_id") == "c1")])
    replace_table(con, TABLE, after, key=key)
    assert table_rows(con).equals(after.sort("contact_id"))
    assert rowids(con)["c1"] == kept  # only the changes were written
    unchanged = rowids(con)["c5"]
    replace_table(con, TABLE, after.filter(pl.col("contact_id") != "c3"), key=key)   # a NULL-keyed row goes
    assert table_rows(con).equals(after.filter(pl.col("contact_id") != "c3").sort("contact_id"))
    assert rowids(con)["c5"] == unchanged  # an unchanged NULL-keyed row stays where it is
    assert con.execute("select count(*) from duckdb_tables() where temporary").fetchone()[0] == 0


def test_a_write_that_fails_reports_its_own_error_and_changes_nothing(con):
    from assets.warehouse_tables import write_table

    con.execute("create schema segments; create table segments.scores (contact_id varchar, score integer check (score >= 0))")
    con.execute("insert into segments.scores values ('c1', 1), ('c2', 2)")
    con.execute("create temp table tonight as select * from (values ('c1', 1), ('c2', -2)) t(contact_id, score)")
    with pytest.raises(duckdb.ConstraintException, match="CHECK"):
        write_table(con, "segments.scores", "tonight", ["contact_id"])
    assert con.execute("select * from segments.scores order by 1").fetchall() == [("c1", 1), ("c2", 2)]
    assert con.execute("select count(*) from duckdb_tables() where temporary and table_name <> 'tonight'").fetchone()[0] == 0
