"""Load the CRM snapshots (`crm/<entity>.csv`) into raw tables: all files checked first, then one
transaction, every row either typed into its raw table or in `raw.quarantine`.

1. `check_crm_files`: every required file exists and has a data row, every header is a recognised
   format with its required columns. All problems -> one LandingFileError, before any table changes.
2. Per entity, into temp tables (`sql/raw/crm_pending.sql`): DuckDB reads the file as text
   (`sql/raw/read_crm_file.sql`: fields named c1..cN by position, rejected rows kept with line and
   text), `mapped_relation` renames and maps the vendor's columns to the canonical ones (DuckDB
   expression API, so no header text is ever formatted into SQL), `sql/raw/load_<entity>.sql` types
   the rows, and the rejected ones are set aside for quarantine (`sql/raw/quarantine_crm_rows.sql`: a
   rejected row's text is rebuilt for those rows alone). Nothing a reader sees changes here, and no
   transaction is open: DuckDB scans a table filled inside an open transaction on one thread.
3. One transaction replaces the five raw tables, their quarantine and load_log rows
   (`sql/raw/replace_crm_tables.sql`).

Line numbers: `_line` is 1-based with the header on line 1. A quoted value that spans several lines
counts as one line (DuckDB's own numbering for rejected rows), so after such a value `_line` is
smaller than the editor's line number. Blank lines are not data rows: they are skipped, not
quarantined.
"""
from __future__ import annotations

import datetime as dt
import mmap
import re
from pathlib import Path

import duckdb
from duckdb import CaseExpression, CoalesceOperator, ColumnExpression, ConstantExpression, FunctionExpression

from assets.raw.landing import CRM_ENTITIES, LandingFileError, LoadCounts, create_raw_tables
from assets.raw.vendor_formats import (
    CANONICAL_COLUMNS,
    DetectedFormat,
    VendorFormats,
    detect_format,
    load_vendor_formats,
    read_csv_header,
)
from assets.segments.company_size import EMPLOYEE_COUNT
from assets.sql_files import run_sql

BLANK_LINE = re.compile(rb"\n(?=\r?\n)")


def crm_file(landing_dir: Path, entity: str) -> Path:
    """Where the snapshot of `entity` lands: `<landing>/crm/<entity>.csv`."""
    return Path(landing_dir) / "crm" / f"{entity}.csv"


def has_data_row(path: Path) -> bool:
    """True if anything but blank lines follows the header (reads only until the first such line)."""
    with path.open("rb") as handle:
        handle.readline()
        return any(line.strip() for line in handle)


def blank_lines(path: Path) -> list[int]:
    """1-based numbers of the empty lines of a file (DuckDB skips them but counts them in its line
    numbers). Scans the bytes with one regex; the Python loop runs once per blank line, not per row."""
    if path.stat().st_size == 0:
        return []
    found, newlines, last = [], 0, 0
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        for match in BLANK_LINE.finditer(data):
            newlines += data[last : match.end()].count(b"\n")
            last = match.end()
            found.append(newlines + 1)
    return found


def check_crm_files(landing_dir: Path, formats: VendorFormats) -> dict[str, DetectedFormat | None]:
    """Detect the format of every CRM file; raise one LandingFileError listing every structural
    problem (missing or empty required file, unrecognised header, missing required column)."""
    detected: dict[str, DetectedFormat | None] = {}
    problems: list[tuple[Path, str]] = []
    for entity in CRM_ENTITIES:
        path = crm_file(landing_dir, entity)
        required = formats.entities[entity].required_file
        if not path.is_file():
            detected[entity] = None
            if required:
                problems.append((path, f"required file is missing; export the CRM's {entity} to this path"))
            continue
        try:
            header = read_csv_header(path)
            detected[entity] = detect_format(header, entity, formats, file=path)
        except LandingFileError as exc:
            problems.extend(exc.problems)
            continue
        if required and not has_data_row(path):
            problems.append((path, f"the file has a header but no data rows; a full {entity} snapshot is required"))
    if problems:
        raise LandingFileError(problems)
    return detected


def _cell(position: int) -> duckdb.Expression:
    # trimmed (trim_fast: sql/shared/trim_fast.sql), and an empty string is NULL (docs/tables.md)
    return FunctionExpression("nullif", FunctionExpression("trim_fast", ColumnExpression(f"c{position + 1}")), ConstantExpression(""))


def _null(type_name: str = "VARCHAR") -> duckdb.Expression:
    return ConstantExpression(None).cast(duckdb.sqltype(type_name))


def _row_text(fmt: DetectedFormat) -> duckdb.Expression:
    """A row's text as read (its fields written back as CSV), from c1..cN."""
    return FunctionExpression(
        "concat_ws", ConstantExpression(","), *(FunctionExpression("raw_csv_field", ColumnExpression(f"c{i + 1}"))
                                                for i in range(len(fmt.header)))
    )


def rejected_rows_text(con: duckdb.DuckDBPyConnection, fmt: DetectedFormat | None) -> duckdb.DuckDBPyRelation:
    """(_row, raw_text) of the rows of the file that typing rejected (`crm_typed` rows with problems),
    from `crm_numbered` by `_row`: the rows are picked first, so only their text is rebuilt."""
    if fmt is None:
        return con.table("crm_file").select(ColumnExpression("_row"), _null().alias("raw_text"))
    rejected = con.table("crm_typed").filter(ColumnExpression("_problems") != ConstantExpression("")).select("_row")
    picked = con.table("crm_numbered").join(rejected, "_row", how="semi")
    return picked.select(ColumnExpression("_row"), _row_text(fmt).alias("raw_text"))


def mapped_relation(con: duckdb.DuckDBPyConnection, entity: str, fmt: DetectedFormat | None) -> duckdb.DuckDBPyRelation:
    """The temp view `crm_file` (c1..cN, _row, _line) as _row, _line, canonical columns, `_extra` JSON.

    Vendor rules applied here: first item of a multi-value cell, value maps (case-insensitive),
    derived columns (hash_of, true_when) for columns the header lacks. `fmt=None`: no file; every
    column NULL (the relation is empty anyway)."""
    base = con.table("crm_file")
    if fmt is None:
        return base.select(ColumnExpression("_row"), ColumnExpression("_line"), *(_null().alias(c) for c in CANONICAL_COLUMNS[entity]),
                           _null("JSON").alias("_extra"))
    raw_text = _row_text(fmt)
    values: dict[str, duckdb.Expression] = {}
    for column in CANONICAL_COLUMNS[fmt.entity]:
        if column not in fmt.columns:
            continue
        expr = _cell(fmt.columns[column])
        if column in fmt.first_of_list:
            first = FunctionExpression("split_part", expr, ConstantExpression(fmt.first_of_list[column]), ConstantExpression(1))
            expr = FunctionExpression("nullif", FunctionExpression("trim", first), ConstantExpression(""))
        if column in fmt.values:
            lowered = FunctionExpression("lower", expr)
            case = None
            for vendor_value, canonical in fmt.values[column].items():
                when = lowered == ConstantExpression(vendor_value)
                case = CaseExpression(when, ConstantExpression(canonical)) if case is None else case.when(when, ConstantExpression(canonical))
            expr = case.otherwise(expr)
        values[column] = expr
    for column, rule in fmt.derive.items():
        if "hash_of" in rule:
            source = values.get(rule["hash_of"], _null())
            hashed = FunctionExpression("md5", CoalesceOperator(FunctionExpression("lower", source), raw_text))
            values[column] = FunctionExpression("concat", ConstantExpression(rule["prefix"]), hashed)
        else:
            source = values.get(rule["true_when"], _null())
            values[column] = FunctionExpression(
                "list_contains", ConstantExpression(list(rule["in"])), FunctionExpression("lower", source)
            ).cast(duckdb.sqltype("VARCHAR"))
    extra = _null("JSON")
    if fmt.extra:
        keys: list[str] = []
        pairs = []
        for i in fmt.extra:
            key = fmt.header[i] or f"column {i + 1}"
            while key in keys:  # duplicate header names keep every value
                key = f"{key} (column {i + 1})"
            keys.append(key)
            pairs += [ConstantExpression(key), ColumnExpression(f"c{i + 1}")]
        extra = FunctionExpression("json_object", *pairs)
    return base.select(
        ColumnExpression("_row"),
        ColumnExpression("_line"),
        *(values.get(c, _null()).alias(c) for c in CANONICAL_COLUMNS[fmt.entity]),
        extra.alias("_extra"),
    )


def _utc_naive(value: dt.datetime) -> dt.datetime:
    """Timestamps are stored as UTC without zone (docs/tables.md)."""
    return value.astimezone(dt.timezone.utc).replace(tzinfo=None) if value.tzinfo else value


def file_mtime(path: Path) -> dt.datetime:
    """A file's modification time as a naive UTC timestamp (microseconds, as DuckDB stores it)."""
    return dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=path.stat().st_mtime_ns // 1000)


def load_crm(
    con: duckdb.DuckDBPyConnection, landing_dir: Path, loaded_at: dt.datetime, config_dir: Path | None = None
) -> dict[str, LoadCounts]:
    """Replace raw.accounts/contacts/opportunities/subscriptions/suppressions from `crm/*.csv`.

    All files are checked before anything changes (LandingFileError); all five are read and typed into
    temp tables; then one transaction replaces the five tables (all or nothing). Returns per entity:
    rows loaded, rows quarantined, files read, format.
    """
    formats = load_vendor_formats(config_dir)
    detected = check_crm_files(Path(landing_dir), formats)
    loaded_at = _utc_naive(loaded_at)
    counts: dict[str, LoadCounts] = {}
    order_kept = con.execute("select current_setting('preserve_insertion_order')").fetchone()[0]
    try:
        if not order_kept:  # rows are numbered by rowid: DuckDB must keep each file's order
            con.execute("set preserve_insertion_order = true")
        run_sql(con, "raw/macros")
        run_sql(con, "shared/trim_fast")
        run_sql(con, "raw/crm_pending")
        for entity in CRM_ENTITIES:
            counts[entity] = _read_and_type(con, Path(landing_dir), entity, detected[entity], formats, loaded_at)
        con.begin()
        try:
            create_raw_tables(con)
            run_sql(con, "raw/replace_crm_tables", {"sources": list(CRM_ENTITIES)})
            con.commit()
        except BaseException:
            con.rollback()
            raise
    finally:
        run_sql(con, "raw/crm_drop_temp")
        if not order_kept:
            con.execute("set preserve_insertion_order = false")
    return counts


def _read_and_type(
    con: duckdb.DuckDBPyConnection, landing_dir: Path, entity: str, fmt: DetectedFormat | None,
    formats: VendorFormats, loaded_at: dt.datetime,
) -> LoadCounts:
    """Read one CRM file into crm_rows_<entity> and its rejected rows into the pending quarantine and
    load_log rows (sql/raw/crm_pending.sql); no raw table changes. A file DuckDB cannot read at all
    raises LandingFileError."""
    path = crm_file(landing_dir, entity)
    source_file = str(path) if fmt else None
    params = {"source_file": source_file, "format": fmt.vendor if fmt else None, "loaded_at": loaded_at,
              "employee_count_pattern": EMPLOYEE_COUNT, "true_values": list(formats.true_values),
              "false_values": list(formats.false_values)}
    try:
        if fmt is None:
            run_sql(con, "raw/empty_crm_file")
        else:
            columns = {f"c{i + 1}": "VARCHAR" for i in range(len(fmt.header))}
            run_sql(con, "raw/read_crm_file", {"path": str(path), "columns": columns, "blank_lines": blank_lines(path)})
        mapped_relation(con, entity, fmt).create_view("crm_mapped", replace=True)
        run_sql(con, f"raw/load_{entity}", params)  # entity is one of CRM_ENTITIES: a fixed file name
        rejected_rows_text(con, fmt).create_view("crm_row_text", replace=True)
        quarantine = {"source": entity, "source_file": source_file, "loaded_at": loaded_at}
        run_sql(con, "raw/quarantine_crm_rows", quarantine)
        run_sql(con, "raw/quarantine_csv_rejects", quarantine)
    except duckdb.Error as exc:
        raise LandingFileError([(path, f"could not be read as CSV, no table was changed: {exc}")]) from exc
    loaded = con.execute("select count(*) from crm_typed where _problems = ''").fetchone()[0]
    quarantined = con.execute("select count(*) from crm_quarantine_pending where source = ?", [entity]).fetchone()[0]
    if fmt is not None:
        run_sql(con, "raw/log_crm_load", {
            "source": entity, "source_file": source_file, "file_size": path.stat().st_size,
            "file_mtime": file_mtime(path), "rows_loaded": loaded, "rows_quarantined": quarantined,
            "loaded_at": loaded_at,
        })
    return LoadCounts(loaded, quarantined, 1 if fmt else 0, 0, (fmt.vendor,) if fmt else ())
