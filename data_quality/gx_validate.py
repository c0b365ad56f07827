"""Run a suite against a warehouse table as a real Great Expectations validation.

Route: DuckDB selects only the columns the suite needs (and only the data date's rows, or the rows
rebuilt since the suite last passed, when the suite says so: data_quality/rebuilt_rows.py), computes
the orphan values of `references` checks and the duplicated values of unique checks with left joins;
the result goes to pandas through Arrow (label-like text as categoricals), and GX validates it through
its pandas datasource (GX's SQL datasource does not work on DuckDB as shipped, see STACK_NOTES).
Structure expectations (column sets) run on a zero-row frame of the whole table.

One ephemeral GX context serves the whole process: creating it and importing GX cost seconds.
"""
from __future__ import annotations

import datetime as dt
import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from duckdb import CaseExpression, ColumnExpression, ConstantExpression, FunctionExpression

from assets.metadata import SENSITIVE_COLUMN, mask_email, mask_phone
from assets.warehouse_tables import table_exists
from data_quality.rebuilt_rows import QUEUED_KEY, Unchecked, queued_keys, unchecked
from data_quality.suites import (
    REFERENCE_CHECK, SHARE_CHECK, STRUCTURE_EXPECTATIONS, Entry, Suite, SuiteError, gx_class,
)
from data_quality.value_sets import RunValues, resolve

EXAMPLE_COUNT = 5
LABEL_SAMPLE = 20_000  # rows sampled to tell label-like text from mostly-distinct text
UNIQUE_CHECK = "expect_column_values_to_be_unique"
_GX_LOCK = threading.Lock()
_GX_STATE: dict[str, Any] = {}


@dataclass
class ExpectationResult:
    """The outcome of one suite entry, ready for the UI and the HTML report (examples masked)."""

    check: str              # the name in the suite (an expect_... name or a shorthand)
    gx_type: str            # the GX expectation that ran
    column: str | None
    success: bool
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    examples: list[str] = field(default_factory=list)
    detail: str = ""        # what was expected, where thresholds and value sets came from, errors


@dataclass
class ValidationResult:
    """A suite's run over one table for one data date."""

    table: str
    data_date: dt.date
    suite_file: str
    rows_checked: int
    table_rows: int
    seconds: float
    expectations: list[ExpectationResult]
    report_path: Path | None = None
    scope: str = "every row"     # which rows were checked (the data date's, the rebuilt ones)

    @property
    def success(self) -> bool:
        return all(e.success for e in self.expectations)

    @property
    def failed(self) -> list[ExpectationResult]:
        return [e for e in self.expectations if not e.success]


# --- GX context ---------------------------------------------------------------------------------

def gx_context() -> Any:
    """The process's ephemeral GX context (created once; progress bars off)."""
    with _GX_LOCK:
        if "context" not in _GX_STATE:
            import great_expectations as gx
            from great_expectations.data_context.types.base import ProgressBarsConfig
            from great_expectations.execution_engine import pandas_execution_engine

            # GX fingerprints every pandas batch under 1 GB by hashing all of it (a batch marker that
            # nothing here reads): half of a suite's time on a million-row table. Never hash.
            pandas_execution_engine.HASH_THRESHOLD = 0
            context = gx.get_context(mode="ephemeral")
            context.variables.progress_bars = ProgressBarsConfig(globally=False)
            _GX_STATE["context"] = context
            _GX_STATE["source"] = context.data_sources.add_pandas("warehouse")
        return _GX_STATE["context"]


def _run_gx(name: str, expectations: list[Any], frame: Any) -> list[Any]:
    """Validate `frame` against `expectations` with GX; the per-expectation results, in order.

    SUMMARY results carry the frame's row labels of a few failing rows; the runner looks their keys
    up itself. (GX's `unexpected_index_column_names` would build the key list of EVERY failing row,
    ~20 s per check at 1M rows when a share ceiling legitimately matches 25% of them.)"""
    import great_expectations as gx

    context = gx_context()
    with _GX_LOCK:
        source = _GX_STATE["source"]
        if name not in {a.name for a in source.assets}:
            source.add_dataframe_asset(name).add_batch_definition_whole_dataframe("whole")
        batch = source.get_asset(name).get_batch_definition("whole")
        suite = context.suites.add_or_update(gx.ExpectationSuite(name=name, expectations=expectations))
        definition = context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=name, data=batch, suite=suite))
        result_format = {"result_format": "SUMMARY", "partial_unexpected_count": EXAMPLE_COUNT}
        outcome = definition.run(batch_parameters={"dataframe": frame}, result_format=result_format)
    by_entry = {r.expectation_config.meta["entry"]: r for r in outcome.results}
    return [by_entry[e.meta["entry"]] for e in expectations]


# --- resolving a suite's arguments ----------------------------------------------------------------

def _resolve_value(value: Any, run: RunValues, notes: list[str]) -> Any:
    if isinstance(value, dict) and set(value) == {"from"}:
        resolved = resolve(value["from"], run)
        shown = resolved.value
        if isinstance(shown, (tuple, list)):
            listed = f" ({', '.join(map(str, shown))})" if len(shown) <= 25 else ""
            notes.append(f"{value['from']}: {len(shown)} values from {resolved.origin}{listed}")
            return list(shown)
        notes.append(f"{value['from']} = {shown} ({resolved.origin})")
        return shown
    if isinstance(value, dict) and set(value) == {"config"}:
        number = run.quality.value(value["config"])
        notes.append(f"{value['config']} = {number:g} (config/quality.yaml)")
        return number
    if isinstance(value, dict):
        return {k: _resolve_value(v, run, notes) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_value(v, run, notes) for v in value]
    return value


@dataclass
class _Planned:
    entry: Entry
    gx_type: str
    kwargs: dict[str, Any]
    notes: list[str]
    structural: bool
    derived: str | None = None   # the computed column a `references` or unique entry adds


def _plan(entry: Entry, run: RunValues, suite: Suite) -> _Planned:
    notes: list[str] = []
    try:
        kwargs = _resolve_value(dict(entry.kwargs), run, notes)
    except KeyError as exc:
        raise SuiteError(suite.path, entry.where, str(exc.args[0])) from exc
    if "mostly_percent" in kwargs:
        kwargs["mostly"] = kwargs.pop("mostly_percent") / 100
    if entry.name == SHARE_CHECK:
        values = kwargs.get("values") or [kwargs.get("value")]
        ceiling = kwargs["max_percent"]
        notes.insert(0, f"share of {', '.join(map(str, values))} among non-null values at most {ceiling:g}%")
        gx_kwargs = {"column": kwargs["column"], "value_set": values, "mostly": max(0.0, 1 - ceiling / 100)}
        return _Planned(entry, "expect_column_values_to_not_be_in_set", gx_kwargs, notes, False)
    if entry.name == REFERENCE_CHECK:
        derived = f"orphan_{entry.position}_{kwargs['column']}"
        gx_kwargs = {"column": derived}
        target = f"{kwargs['table']}.{kwargs['key']}"
        if kwargs.get("max_percent") is not None:
            gx_kwargs["mostly"] = max(0.0, 1 - kwargs["max_percent"] / 100)
            notes.insert(0, f"at most {kwargs['max_percent']:g}% of rows have a {kwargs['column']} missing from {target}")
        else:
            notes.insert(0, f"every non-null {kwargs['column']} exists in {target}")
        return _Planned(entry, "expect_column_values_to_be_null", gx_kwargs, notes, False, derived)
    if entry.name == UNIQUE_CHECK and not kwargs.get("row_condition") and "mostly" not in kwargs:
        # GX would hash every value in pandas (~4 s per 10M keys); DuckDB finds the duplicated values
        # and GX checks the column that flags them (the rows it fails are the rows GX's own would)
        derived = f"duplicate_{entry.position}_{kwargs['column']}"
        notes.insert(0, f"every non-null {kwargs['column']} appears once (duplicated values found by DuckDB)")
        return _Planned(entry, "expect_column_values_to_be_null", {"column": derived}, notes, False, derived)
    if kwargs.get("row_condition") and not kwargs.get("condition_parser"):
        kwargs["condition_parser"] = "pandas"
    if kwargs.get("row_condition"):
        notes.insert(0, f"only rows where {kwargs['row_condition']}")
    return _Planned(entry, entry.name, kwargs, notes, entry.name in STRUCTURE_EXPECTATIONS)


def _gx_expectation(planned: _Planned, suite: Suite) -> Any:
    try:
        return gx_class(planned.gx_type)(**planned.kwargs, meta={"entry": planned.entry.position})
    except Exception as exc:  # pydantic's ValidationError and GX's own: report them as suite errors
        raise SuiteError(suite.path, planned.entry.where, f"arguments rejected by Great Expectations: {exc}") from exc


# --- reading the table ----------------------------------------------------------------------------

def _table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return table_exists(con, *table.split("."))


def _table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return con.table(table).columns


def _data_relation(con: duckdb.DuckDBPyConnection, suite: Suite, run: RunValues, columns: list[str],
                   derived: list[_Planned], rebuilt: Unchecked | None
                   ) -> tuple[duckdb.DuckDBPyRelation, dict[int, ExpectationResult]]:
    """The rows and columns to validate, with one orphan column per reference check and one duplicate
    column per unique check (with `rebuilt` rows only, their values are counted over the whole table:
    a rebuilt row may repeat a value of a row checked before). Identifiers come from the validated
    suite and are checked against the tables' real columns (never formatted into SQL)."""
    dated = con.table(suite.table)
    if suite.limit_to_data_date:
        dated = dated.filter(ColumnExpression(suite.limit_to_data_date) == ConstantExpression(run.as_of))
    base = dated
    if rebuilt is not None and not rebuilt.whole_table:
        base = base.join(queued_keys(con, suite.table),
                         ColumnExpression(suite.limit_to_rebuilt) == ColumnExpression(QUEUED_KEY), how="semi")
    base = base.select(*[ColumnExpression(c) for c in columns])
    rel = base
    outputs = [ColumnExpression(c) for c in columns]
    problems: dict[int, ExpectationResult] = {}
    for planned in [p for p in derived if p.entry.name == UNIQUE_CHECK]:
        column = planned.entry.kwargs["column"]
        if column not in columns:
            problems[planned.entry.position] = ExpectationResult(
                UNIQUE_CHECK, planned.gx_type, column, False, detail=f"column {column} is not in {suite.table}")
            continue
        dup_key = f"__dup_key_{planned.entry.position}"
        counted = base
        if rebuilt is not None and not rebuilt.whole_table:
            checked_values = base.select(ColumnExpression(column).alias(dup_key)).distinct()
            counted = dated.select(ColumnExpression(column)).join(
                checked_values, ColumnExpression(column) == ColumnExpression(dup_key), how="semi")
        duplicated = (counted.filter(ColumnExpression(column).isnotnull())
                      .aggregate([ColumnExpression(column).alias(dup_key),  # grouped by the plain column
                                  FunctionExpression("count").alias("__copies")])
                      .filter(ColumnExpression("__copies") > ConstantExpression(1))
                      .select(ColumnExpression(dup_key))
                      .set_alias(f"duplicates_{planned.entry.position}"))
        rel = rel.join(duplicated, ColumnExpression(column) == ColumnExpression(dup_key), how="left")
        outputs.append(CaseExpression(ColumnExpression(dup_key).isnotnull(), ColumnExpression(column))
                       .otherwise(ConstantExpression(None)).alias(planned.derived))
    for planned in [p for p in derived if p.entry.name == REFERENCE_CHECK]:
        kw = planned.entry.kwargs
        problem = None
        if kw["column"] not in columns:
            problem = f"column {kw['column']} is not in {suite.table}"
        elif not _table_exists(con, kw["table"]):
            problem = f"referenced table {kw['table']} does not exist (build it first)"
        elif kw["key"] not in _table_columns(con, kw["table"]):
            problem = f"referenced table {kw['table']} has no column {kw['key']}"
        if problem:
            problems[planned.entry.position] = ExpectationResult(
                REFERENCE_CHECK, planned.gx_type, kw["column"], False, detail=problem)
            continue
        ref_key = f"__ref_key_{planned.entry.position}"
        parent = con.table(kw["table"]).select(ColumnExpression(kw["key"]).alias(ref_key)).distinct()
        rel = rel.join(parent, ColumnExpression(kw["column"]) == ColumnExpression(ref_key), how="left")
        orphan = ColumnExpression(ref_key).isnull() & ColumnExpression(kw["column"]).isnotnull()
        outputs.append(CaseExpression(orphan, ColumnExpression(kw["column"]))
                       .otherwise(ConstantExpression(None)).alias(planned.derived))
    return rel.select(*outputs), problems


def _label_like(column: Any) -> bool:
    """Whether a text column has few distinct values (at most one in ten), judged on an evenly spaced
    sample of LABEL_SAMPLE rows: counting the distinct values of every text column of 1M rows cost
    more than the encoding saves. A wrong guess only costs time: GX gives the same results either way."""
    import pyarrow as pa
    import pyarrow.compute as pc

    rows = len(column)
    if rows > LABEL_SAMPLE:
        column = column.take(pa.array(range(0, rows, rows // LABEL_SAMPLE)))
    return pc.count_distinct(column).as_py() <= max(1, len(column) // 10)


def _to_pandas(table: Any, keep_plain: set[str]) -> Any:
    """Arrow -> pandas with label-like text columns as categoricals: GX hashes the whole frame and
    filters it once per expectation, and both are several times faster on dictionary codes than on
    1M strings. Keys and mostly-distinct text (emails) stay plain: encoding them costs more than it saves."""
    import pyarrow as pa

    columns = []
    for name, column in zip(table.column_names, table.columns):
        is_text = pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
        if is_text and name not in keep_plain and _label_like(column):
            column = column.dictionary_encode()
        columns.append(column)
    return pa.table(columns, names=table.column_names).to_pandas()


# --- turning GX results into ours -----------------------------------------------------------------

def mask_value(column: str, value: Any) -> str:
    """A value safe to show: phones keep two digits, emails their first letter and domain; anything
    else has embedded emails masked. Values of email columns that are not emails keep one character."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "null"
    text = str(value)
    if SENSITIVE_COLUMN.search(column) and "phone" in column.lower():
        return mask_phone(text)
    masked = mask_email(text)
    if masked == text and SENSITIVE_COLUMN.search(column) and "email" in column.lower() and len(text) > 1:
        return text[0] + "***"
    return masked


def _examples(planned: _Planned, result: dict[str, Any], frame: Any, key_columns: list[str]) -> list[str]:
    shown_column = planned.entry.kwargs.get("column") or planned.kwargs.get("column")
    labels = result.get("partial_unexpected_index_list")
    if labels and not isinstance(labels[0], dict):
        # Row labels of failing rows: show the checked value(s) and the row's key, masked.
        columns = [c for c in (planned.kwargs.get("column"), planned.kwargs.get("column_A"),
                               planned.kwargs.get("column_B"), *planned.kwargs.get("column_list", []))
                   if c and c in frame.columns]
        columns += [k for k in key_columns if k not in columns]
        out = []
        for label in labels[:EXAMPLE_COUNT]:
            row = frame.loc[label, columns]
            pairs: dict[str, str] = {}
            for c in columns:
                name = shown_column if c == planned.derived else c   # an orphan flag shows as its column
                pairs.setdefault(name, f"{name}={mask_value(name, row[c])}")
            out.append(", ".join(pairs.values()))
        return list(dict.fromkeys(out))  # a duplicated key shows once
    if result.get("partial_unexpected_list"):
        return [mask_value(shown_column or "", v) for v in result["partial_unexpected_list"][:EXAMPLE_COUNT]]
    mismatched = (result.get("details") or {}).get("mismatched")
    if isinstance(mismatched, dict):
        return [f"{k}: {', '.join(map(str, v))}" for k, v in mismatched.items() if v]
    if isinstance(mismatched, list):
        return [str(m) for m in mismatched[:EXAMPLE_COUNT]]
    if "observed_value" in result and result["observed_value"] is not None:
        observed = result["observed_value"]
        if isinstance(observed, list):
            observed = ", ".join(map(str, observed))
        return [f"observed: {mask_value(shown_column or '', observed)}"]
    return []


def _exception_message(gx_result: Any) -> str | None:
    info = gx_result.exception_info or {}
    if info.get("raised_exception"):
        return info.get("exception_message")
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return value.get("exception_message")
    return None


def _describe(planned: _Planned) -> str:
    kw = planned.kwargs
    parts = list(planned.notes)
    written = planned.entry.kwargs
    for arg in ("min_value", "max_value", "regex", "mostly"):
        # Arguments written as {from: ...} / {config: ...} are already explained by a note.
        if arg in kw and planned.entry.name != SHARE_CHECK and not isinstance(written.get(arg), dict):
            parts.append(f"{arg} = {kw[arg]}")
    if "value_set" in kw and not isinstance(written.get("value_set"), dict) and planned.entry.name != SHARE_CHECK:
        parts.append(f"value_set = {', '.join(map(str, kw['value_set']))}")
    return "; ".join(parts)


def _to_result(planned: _Planned, gx_result: Any, frame: Any, key_columns: list[str]) -> ExpectationResult:
    result = gx_result.result or {}
    error = _exception_message(gx_result)
    percent = result.get("unexpected_percent")
    shown_column = planned.entry.kwargs.get("column") or planned.kwargs.get("column")
    if planned.entry.name == UNIQUE_CHECK and planned.derived and result.get("unexpected_count") is not None:
        # as GX's own unique check says it: a share of the non-null values, not of all rows
        values = int(frame[shown_column].notna().sum())
        percent = 100 * result["unexpected_count"] / values if values else 0.0
    detail = _describe(planned)
    if error:
        detail = f"{detail}; error: {error}" if detail else f"error: {error}"
    return ExpectationResult(
        check=planned.entry.name,
        gx_type=planned.gx_type,
        column=shown_column,
        success=bool(gx_result.success),
        unexpected_count=result.get("unexpected_count"),
        unexpected_percent=None if percent is None else round(float(percent), 3),
        # Examples also for a pass within tolerance (e.g. a few orphans under the ceiling), except for
        # share ceilings, where the "unexpected" rows are simply members of the capped segment.
        examples=(_examples(planned, result, frame, key_columns)
                  if not gx_result.success or (result.get("unexpected_count") and planned.entry.name != SHARE_CHECK)
                  else []),
        detail=detail,
    )


# --- the entry point ----------------------------------------------------------------------------

def _missing_scope_column(suite: Suite, table_columns: list[str]) -> ExpectationResult | None:
    """A failed result when the column a suite selects its rows by is not in the table."""
    for option, column, rows in (("limit_to_data_date", suite.limit_to_data_date, "the data date's rows"),
                                 ("limit_to_rebuilt", suite.limit_to_rebuilt, "the rebuilt rows")):
        if column and column not in table_columns:
            return ExpectationResult(option, "-", column, False,
                                     detail=f"{suite.table} has no column {column} to select {rows} by")
    return None


def validate_table(con: duckdb.DuckDBPyConnection, suite: Suite, run: RunValues,
                   report_dir: Path | None = None) -> ValidationResult:
    """Validate `suite.table` for `run.as_of`; write the HTML report under
    `<report_dir>/validation/<schema.table>/<data_date>.html` when `report_dir` is given."""
    started = time.perf_counter()
    suite_file = suite.path.name
    if not _table_exists(con, suite.table):
        missing = ExpectationResult("table exists", "-", None, False, detail=f"table {suite.table} does not exist")
        return _finish(ValidationResult(suite.table, run.as_of, suite_file, 0, 0,
                                        time.perf_counter() - started, [missing]), report_dir)
    planned = [_plan(entry, run, suite) for entry in suite.entries]
    table_columns = _table_columns(con, suite.table)
    missing = _missing_scope_column(suite, table_columns)
    if missing:
        return _finish(ValidationResult(suite.table, run.as_of, suite_file, 0, 0,
                                        time.perf_counter() - started, [missing]), report_dir)
    rebuilt = unchecked(con, suite.table) if suite.limit_to_rebuilt else None
    columns = suite.columns_needed(table_columns)
    rel, problems = _data_relation(con, suite, run, columns, [p for p in planned if p.derived], rebuilt)
    frame = _to_pandas(rel.to_arrow_table(), keep_plain=set(suite.key))
    table_rows = con.table(suite.table).aggregate("count(*)").fetchone()[0]
    key_columns = [k for k in suite.key if k in columns]

    data = [p for p in planned if not p.structural and p.entry.position not in problems]
    structure = [p for p in planned if p.structural]
    results: dict[int, ExpectationResult] = {}
    if data and rebuilt is not None and not rebuilt.whole_table and not len(frame):
        # nothing rebuilt since the suite last passed (a max of no rows would fail as "NaT")
        results.update({p.entry.position: ExpectationResult(
            p.entry.name, p.gx_type, p.entry.kwargs.get("column") or p.kwargs.get("column"), True,
            unexpected_count=0, detail="no row rebuilt since the suite last passed: nothing to check") for p in data})
    elif data:
        gx_results = _run_gx(suite.table, [_gx_expectation(p, suite) for p in data], frame)
        results.update({p.entry.position: _to_result(p, r, frame, key_columns) for p, r in zip(data, gx_results)})
    if structure:
        empty = con.table(suite.table).limit(0).to_arrow_table().to_pandas()
        gx_results = _run_gx(f"{suite.table} columns", [_gx_expectation(p, suite) for p in structure], empty)
        results.update({p.entry.position: _to_result(p, r, empty, []) for p, r in zip(structure, gx_results)})
    results.update(problems)
    ordered = [results[p.entry.position] for p in planned]
    scope = "the data date's rows" if suite.limit_to_data_date else "every row"
    if rebuilt is not None:
        scope = rebuilt.describe(suite.limit_to_rebuilt)
    outcome = ValidationResult(suite.table, run.as_of, suite_file, len(frame), int(table_rows),
                               time.perf_counter() - started, ordered, scope=scope)
    return _finish(outcome, report_dir)


def _finish(outcome: ValidationResult, report_dir: Path | None) -> ValidationResult:
    if report_dir is not None:
        from data_quality.validation_report import write_html_report

        outcome.report_path = write_html_report(outcome, report_dir)
    return outcome
