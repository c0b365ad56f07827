"""The Warehouse resource: one database per run (opened on first use, closed at the run's end, failed
runs too), a connection of its own per `connect()`, memory handed back between steps; outside a run
every `connect()` opens and closes the file."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from dagster import asset, materialize

from workflows.resources import Warehouse, duckdb_config, release_memory

MB = 1024 * 1024


def held_bytes(con: duckdb.DuckDBPyConnection) -> int:
    """Memory DuckDB's buffer manager holds (cached blocks, temp data), all tags."""
    return int(con.execute("select coalesce(sum(memory_usage_bytes), 0) from duckdb_memory()").fetchone()[0])


def cache_a_table(con: duckdb.DuckDBPyConnection, rows: int = 4_000_000) -> None:
    """A table whose scan leaves well over RELEASE_LIMIT of blocks in DuckDB's cache."""
    con.execute("create or replace table big as select range as id, md5(range::varchar) as a, "
                "md5((range + 1)::varchar) as b from range($rows)", {"rows": rows})
    con.execute("select count(distinct a), max(b) from big").fetchall()


def limit_text(limit: str) -> str:
    """How DuckDB shows a memory limit once set (`2.5GB` -> `2.3 GiB`)."""
    with duckdb.connect(":memory:", config={"memory_limit": limit}) as con:
        return con.execute("select current_setting('memory_limit')").fetchone()[0]


def opens_elsewhere(path: Path) -> bool:
    """True when the file opens with another configuration: no database of this process holds it."""
    try:
        duckdb.connect(str(path), read_only=True).close()
    except duckdb.Error:
        return False
    return True


def test_a_run_shares_one_database_and_closes_it_at_the_end(tmp_path):
    seen: dict = {}

    @asset
    def first(warehouse: Warehouse):
        with warehouse.connect() as con:
            con.execute("create table kept as select range as x from range(5)")
            con.execute("create temp table scratch as select 1 as y")
            seen["first"] = warehouse._database
        seen["open_during_run"] = opens_elsewhere(warehouse.resolved_path)

    @asset(deps=[first])
    def second(warehouse: Warehouse):
        with warehouse.connect() as con, warehouse.connect() as other:
            seen["rows"] = con.execute("select count(*) from kept").fetchone()[0]
            seen["scratch"] = con.execute("select count(*) from duckdb_tables() where table_name = 'scratch'").fetchone()[0]
            other.execute("create temp table mine as select 1")
            seen["mine_seen_by_con"] = con.execute("select count(*) from duckdb_tables() where table_name = 'mine'").fetchone()[0]
            seen["second"] = warehouse._database

    path = tmp_path / "w.duckdb"
    warehouse = Warehouse(path=str(path))
    assert materialize([first, second], resources={"warehouse": warehouse}).success
    assert seen["first"] is seen["second"] and seen["first"] is not None  # one database for the run
    assert seen["open_during_run"] is False  # held between steps, not reopened per step
    assert seen["rows"] == 5  # a later step sees what an earlier one committed
    assert seen["scratch"] == 0 and seen["mine_seen_by_con"] == 0  # temp tables stay with their connection
    assert warehouse._database is None and opens_elsewhere(path)  # closed when the run ended
    assert not Path(f"{path}.wal").exists()  # and checkpointed: the file alone holds everything
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("select count(*) from kept").fetchone()[0] == 5


def test_a_failed_run_closes_the_database_and_keeps_what_was_committed(tmp_path):
    @asset
    def breaks(warehouse: Warehouse):
        with warehouse.connect() as con:
            con.execute("create table before_failure as select 42 as answer")
        raise RuntimeError("the step fails after its commit")

    path = tmp_path / "w.duckdb"
    warehouse = Warehouse(path=str(path))
    result = materialize([breaks], resources={"warehouse": warehouse}, raise_on_error=False)
    assert not result.success
    assert warehouse._database is None and opens_elsewhere(path)
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("select answer from before_failure").fetchone()[0] == 42
    # the resource is usable again for the next run
    assert materialize([breaks], resources={"warehouse": warehouse}, raise_on_error=False).success is False


def test_memory_held_by_one_step_is_released_before_the_next(tmp_path):
    seen: dict = {}

    @asset
    def heavy(warehouse: Warehouse):
        with warehouse.connect() as con:
            cache_a_table(con)
            seen["held_in_step"] = held_bytes(con)

    @asset(deps=[heavy])
    def light(warehouse: Warehouse):
        with warehouse.connect() as con:
            seen["held_at_start"] = held_bytes(con)
            seen["limit"] = con.execute("select current_setting('memory_limit')").fetchone()[0]

    path = tmp_path / "w.duckdb"
    assert materialize([heavy, light], resources={"warehouse": Warehouse(path=str(path))}).success
    assert seen["held_in_step"] > 100 * MB
    assert seen["held_at_start"] <= 64 * MB
    assert seen["limit"] == limit_text(duckdb_config(str(path))["memory_limit"])  # the ceiling is back where the warehouse config puts it


def test_release_memory_evicts_and_restores_the_limit(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb"), config={"memory_limit": "1GB"}) as con:
        cache_a_table(con)
        before = held_bytes(con)
        release_memory(con, "1GB")
        assert before > 100 * MB and held_bytes(con) <= 64 * MB
        assert con.execute("select current_setting('memory_limit')").fetchone()[0] == limit_text("1GB")
        assert con.execute("select count(*) from big").fetchone()[0] == 4_000_000  # evicted, not lost


def test_outside_a_run_each_connect_opens_and_closes_the_file(tmp_path):
    path = tmp_path / "w.duckdb"
    warehouse = Warehouse(path=str(path))
    with warehouse.connect() as con:
        con.execute("create table t as select 1 as x")
        assert not opens_elsewhere(path)
    assert opens_elsewhere(path)
    with warehouse.connect(read_only=True) as con:
        assert con.execute("select x from t").fetchone()[0] == 1
        with pytest.raises(duckdb.Error):
            con.execute("insert into t values (2)")
