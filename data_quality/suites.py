r"""Expectation suites as readable YAML files (`data_quality/suites/<schema>.<table>.yaml`).

A suite file:

    table: staging.contacts            # the warehouse table
    key: [contact_id]                  # shown as example keys for failing rows
    limit_to_data_date: event_date     # optional: check only the rows of the run's data date
    limit_to_rebuilt: visitor_key      # optional: check only the rows rebuilt since the suite last passed
    drift_dimensions: [persona_function]   # optional: segment sizes the drift check follows
    expectations:
      - expect_column_values_to_not_be_null: {column: contact_id}
      - expect_column_values_to_be_in_set: {column: persona_function, value_set: {from: persona_functions}}
      - share_of_value_at_most: {column: persona_function, value: other,
                                 max_percent: {config: max_other_persona_percent}}
      - references: {column: account_id, table: staging.accounts, key: account_id}

`limit_to_rebuilt` is for big tables built incrementally: their build queues the values of that column
whose rows it rebuilt (build_state.unchecked_rows; a full build queues the whole table), the suite
checks only those rows (a unique check compares their values with the whole table) and the check
empties the queue when it passes, so a failed night is checked again the next night.

Each entry is one Great Expectations expectation by its snake_case name and keyword arguments, or one
of two shorthands that become a real GX expectation:
- `share_of_value_at_most {column, value | values, max_percent}`: the share of those values among the
  non-null values stays at or under the ceiling (GX `expect_column_values_to_not_be_in_set` with
  `mostly = 1 - max_percent / 100`).
- `references {column, table, key, max_percent?}`: every non-null `column` exists as `table.key` (a
  DuckDB left join computes the orphan values; GX expects them to be null, at most `max_percent` of the
  rows may fail), and the examples show the orphan values with their row keys.
Regexes (`expect_column_values_to_match_regex` and the like) run in pyarrow's RE2 engine unless they
use what pandas hands to Python's `re` instead, one value at a time (3x slower on a million emails):
`\s \S`, lookarounds, backreferences, `\u \U \N{}` escapes, `\w \W \d \D \b \B` on non-ASCII text
(and `$` once a value holds a newline). The contacts suites spell whitespace out as `[ \t\n\r\f\v]`
for that: ASCII whitespace only, where `\s` also matches Unicode spaces such as the no-break space.
Keep `\s` where those matter and the table is small (the accounts suite's domain check).
Anywhere in the arguments, `{from: name}` is a value from `value_sets.py` (a vocabulary from config,
the latest acceptable timestamp), `{config: name}` is a threshold from `config/quality.yaml`, and
`mostly_percent: 90` is GX's `mostly: 0.9`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from assets.config_files import parse_yaml

SUITE_DIR = Path(__file__).resolve().parent / "suites"

SHARE_CHECK = "share_of_value_at_most"
REFERENCE_CHECK = "references"
SHORTHANDS = (SHARE_CHECK, REFERENCE_CHECK)
# Structure expectations look at the table's full column list, not at the selected columns.
STRUCTURE_EXPECTATIONS = frozenset({
    "expect_table_columns_to_match_set", "expect_column_to_exist",
    "expect_table_columns_to_match_ordered_list", "expect_table_column_count_to_equal",
    "expect_table_column_count_to_be_between",
})
# Keyword arguments that name a column of the table (used to select only the columns a suite needs).
COLUMN_ARGS = ("column", "column_A", "column_B")
COLUMN_LIST_ARGS = ("column_list",)
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
TABLE_NAME = re.compile(r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")


class SuiteError(ValueError):
    """A suite file is malformed; the message names the file and the entry."""

    def __init__(self, file: Path | str, where: str, problem: str):
        self.file, self.where, self.problem = str(file), where, problem
        super().__init__(f"{file}: {where}: {problem}" if where else f"{file}: {problem}")


@dataclass(frozen=True)
class Entry:
    """One line of a suite: the check's name as written and its (unresolved) arguments."""

    name: str
    kwargs: dict[str, Any]
    position: int  # 1-based, for error messages and the report

    @property
    def column(self) -> str | None:
        return self.kwargs.get("column")

    @property
    def where(self) -> str:
        return f"expectations[{self.position}] {self.name}"


@dataclass(frozen=True)
class Suite:
    """A parsed suite file."""

    table: str
    key: tuple[str, ...]
    entries: tuple[Entry, ...]
    path: Path
    limit_to_data_date: str | None = None
    limit_to_rebuilt: str | None = None
    drift_dimensions: tuple[str, ...] = field(default_factory=tuple)

    @property
    def schema(self) -> str:
        return self.table.split(".")[0]

    @property
    def name(self) -> str:
        return self.table.split(".")[1]

    def columns_needed(self, table_columns: list[str]) -> list[str]:
        """The table's columns this suite reads (in table order): keys, every column argument of a
        data expectation, the columns a row condition mentions, the data-date filter column."""
        wanted: set[str] = set(self.key)
        if self.limit_to_data_date:
            wanted.add(self.limit_to_data_date)
        for entry in self.entries:
            if entry.name in STRUCTURE_EXPECTATIONS:
                continue
            wanted.update(entry.kwargs[a] for a in COLUMN_ARGS if isinstance(entry.kwargs.get(a), str))
            for a in COLUMN_LIST_ARGS:
                wanted.update(c for c in entry.kwargs.get(a) or [] if isinstance(c, str))
            condition = entry.kwargs.get("row_condition")
            if isinstance(condition, str):
                tokens = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", condition))
                wanted.update(c for c in table_columns if c in tokens)
        return [c for c in table_columns if c in wanted]

    def missing_columns(self, table_columns: list[str]) -> list[str]:
        """Columns the suite's data expectations name that the table does not have."""
        named: set[str] = set(self.key)
        for entry in self.entries:
            if entry.name not in STRUCTURE_EXPECTATIONS:
                named.update(entry.kwargs[a] for a in COLUMN_ARGS if isinstance(entry.kwargs.get(a), str))
        return sorted(named - set(table_columns))


def _known_gx_expectation(name: str) -> bool:
    import great_expectations.expectations as gxe  # deferred: GX import costs seconds

    return hasattr(gxe, _class_name(name))


def _class_name(snake: str) -> str:
    return "".join(part.capitalize() for part in snake.split("_"))


def gx_class(name: str) -> type:
    """The GX expectation class for a snake_case expectation name."""
    import great_expectations.expectations as gxe

    return getattr(gxe, _class_name(name))


def _parse_entry(item: Any, position: int, path: Path, check_gx: bool) -> Entry:
    where = f"expectations[{position}]"
    if not isinstance(item, dict) or len(item) != 1:
        raise SuiteError(path, where, "each entry is one mapping `expectation_name: {arguments}`")
    (name, kwargs), = item.items()
    kwargs = {} if kwargs is None else kwargs
    if not isinstance(name, str) or not isinstance(kwargs, dict):
        raise SuiteError(path, where, f"{name!r}: the arguments must be a mapping")
    where = f"{where} {name}"
    if name == SHARE_CHECK:
        missing = {"column", "max_percent"} - kwargs.keys()
        if missing or not ({"value", "values"} & kwargs.keys()):
            raise SuiteError(path, where, "needs column, value (or values) and max_percent")
    elif name == REFERENCE_CHECK:
        missing = {"column", "table", "key"} - kwargs.keys()
        if missing:
            raise SuiteError(path, where, f"needs {', '.join(sorted(missing))}")
        if not isinstance(kwargs["table"], str) or not TABLE_NAME.match(kwargs["table"]):
            raise SuiteError(path, f"{where}.table", "write the table as schema.table (lowercase)")
        for arg in ("column", "key"):
            if not isinstance(kwargs[arg], str) or not IDENTIFIER.match(kwargs[arg]):
                raise SuiteError(path, f"{where}.{arg}", "must be a lowercase column name")
    elif not name.startswith("expect_"):
        raise SuiteError(path, where, f"unknown check; use a GX expectation (expect_...) or one of {', '.join(SHORTHANDS)}")
    elif check_gx and not _known_gx_expectation(name):
        raise SuiteError(path, where, "Great Expectations has no such expectation (check the spelling)")
    if "mostly_percent" in kwargs and "mostly" in kwargs:
        raise SuiteError(path, where, "give mostly or mostly_percent, not both")
    for arg in COLUMN_ARGS:
        if arg in kwargs and (not isinstance(kwargs[arg], str) or not IDENTIFIER.match(kwargs[arg])):
            raise SuiteError(path, f"{where}.{arg}", f"must be a lowercase column name, got {kwargs[arg]!r}")
    return Entry(name=name, kwargs=kwargs, position=position)


def load_suite(path: Path, check_gx: bool = True) -> Suite:
    """Parse and validate one suite file (GX names are checked unless `check_gx=False`)."""
    try:
        data = parse_yaml(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SuiteError(path, "", "suite file not found") from exc
    except yaml.YAMLError as exc:
        raise SuiteError(path, "", f"not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise SuiteError(path, "", "the top level must be a mapping with table, key and expectations")
    table = data.get("table")
    if not isinstance(table, str) or not TABLE_NAME.match(table):
        raise SuiteError(path, "table", "required: the table as schema.table (lowercase)")
    key = data.get("key")
    key = [key] if isinstance(key, str) else key
    if not isinstance(key, list) or not key or not all(isinstance(k, str) and IDENTIFIER.match(k) for k in key):
        raise SuiteError(path, "key", "required: the column(s) that identify a row, e.g. [contact_id]")
    items = data.get("expectations")
    if not isinstance(items, list) or not items:
        raise SuiteError(path, "expectations", "required: a non-empty list of expectations")
    limit = data.get("limit_to_data_date")
    if limit is not None and (not isinstance(limit, str) or not IDENTIFIER.match(limit)):
        raise SuiteError(path, "limit_to_data_date", "must be the name of a DATE column")
    rebuilt = data.get("limit_to_rebuilt")
    if rebuilt is not None and (not isinstance(rebuilt, str) or not IDENTIFIER.match(rebuilt)):
        raise SuiteError(path, "limit_to_rebuilt", "must be the name of the column the table's build queues")
    dims = data.get("drift_dimensions") or []
    if not isinstance(dims, list) or not all(isinstance(d, str) and IDENTIFIER.match(d) for d in dims):
        raise SuiteError(path, "drift_dimensions", "must be a list of column names")
    unknown = set(data) - {"table", "key", "expectations", "limit_to_data_date", "limit_to_rebuilt", "drift_dimensions",
                          "description"}
    if unknown:
        raise SuiteError(path, ", ".join(sorted(unknown)), "unknown top-level key(s)")
    entries = tuple(_parse_entry(item, i, path, check_gx) for i, item in enumerate(items, start=1))
    return Suite(table=table, key=tuple(key), entries=entries, path=path,
                 limit_to_data_date=limit, limit_to_rebuilt=rebuilt, drift_dimensions=tuple(dims))


def suite_path(table: str, suite_dir: Path | None = None) -> Path:
    """Where the suite of `schema.table` lives."""
    return (suite_dir or SUITE_DIR) / f"{table}.yaml"


def load_suite_for(table: str, suite_dir: Path | None = None) -> Suite:
    """The suite of `schema.table`, checked to be about that table."""
    path = suite_path(table, suite_dir)
    suite = load_suite(path)
    if suite.table != table:
        raise SuiteError(path, "table", f"says {suite.table!r} but the file is named for {table!r}")
    return suite
