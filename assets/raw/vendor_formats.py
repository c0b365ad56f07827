"""Which vendor wrote a CRM export, and where its columns go: `config/vendor_formats.yaml` as data.

The file name says the entity; the header says the vendor. `detect_format(header, entity)` compares the
header (case- and whitespace-insensitively) with the canonical column names and with every vendor's
accepted header names, and returns where each canonical column sits in the file. Pure Python: no
DuckDB, no Dagster.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assets.config_files import ConfigError, load_yaml, require
from assets.raw.landing import CRM_ENTITIES, LandingFileError

CONFIG_NAME = "vendor_formats.yaml"
CANONICAL = "canonical"

# The contract's columns per CRM entity (docs/tables.md "raw"), in table order. Types live in
# sql/raw/create_tables.sql; everything arrives here as text.
CANONICAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "accounts": ("account_id", "name", "domain", "industry", "employee_count", "annual_revenue",
                 "country", "city", "state", "zip", "created_at"),
    "contacts": ("contact_id", "account_id", "email", "first_name", "last_name", "job_title", "phone",
                 "city", "state", "zip", "country", "lead_source", "lifecycle_stage", "email_opt_out",
                 "created_at", "updated_at"),
    "opportunities": ("opportunity_id", "account_id", "contact_id", "type", "stage", "amount",
                      "created_at", "closed_at", "is_won"),
    "subscriptions": ("subscription_id", "account_id", "plan", "seats_purchased", "seats_active", "mrr",
                      "started_at", "ends_at", "status"),
    "suppressions": ("email", "reason", "added_at"),
}
DERIVE_KINDS = ("hash_of", "true_when")


def normalize_header_name(name: str) -> str:
    """`" Job  Title\\ufeff"` -> `"job title"`: how header names are compared."""
    return " ".join(name.replace("\ufeff", "").split()).lower()


@dataclass(frozen=True)
class EntityRules:
    """Per entity: must the file exist with data, its key column, the columns its header must have."""

    required_file: bool
    key: str
    required_columns: tuple[str, ...]


@dataclass(frozen=True)
class VendorMapping:
    """One vendor's export of one entity (see the comments in config/vendor_formats.yaml)."""

    vendor: str
    entity: str
    columns: dict[str, tuple[str, ...]]
    signature: tuple[str, ...] = ()
    first_of_list: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    derive: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class VendorFormats:
    """The validated contents of config/vendor_formats.yaml."""

    path: Path
    true_values: tuple[str, ...]
    false_values: tuple[str, ...]
    entities: dict[str, EntityRules]
    mappings: dict[str, list[VendorMapping]]  # entity -> canonical first, then vendors in file order


@dataclass(frozen=True)
class DetectedFormat:
    """Where a file's canonical columns are: `columns` maps canonical name -> 0-based header position;
    `extra` holds the positions of the other headers (kept as `_extra` JSON)."""

    entity: str
    vendor: str
    header: tuple[str, ...]
    columns: dict[str, int]
    extra: tuple[int, ...]
    first_of_list: dict[str, str]
    values: dict[str, dict[str, str]]
    derive: dict[str, dict[str, Any]]


def _string_list(value: Any, file: Path, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(file, where, "expected a non-empty list of texts")
    return tuple(value)


def _known_column(column: Any, entity: str, file: Path, where: str) -> str:
    if column not in CANONICAL_COLUMNS[entity]:
        raise ConfigError(file, where, f"{column!r} is not a {entity} column; use one of: "
                          + ", ".join(CANONICAL_COLUMNS[entity]))
    return column


def _vendor_mapping(vendor: str, entity: str, spec: Any, file: Path) -> VendorMapping:
    where = f"vendors.{vendor}.{entity}"
    if not isinstance(spec, dict):
        raise ConfigError(file, where, "expected a mapping with signature and columns")
    unknown = set(spec) - {"signature", "columns", "first_of_list", "values", "derive"}
    if unknown:
        raise ConfigError(file, where, f"unknown key(s) {sorted(unknown)}")
    signature = _string_list(require(spec, "signature", list, file, where), file, f"{where}.signature")
    columns = {}
    for column, names in require(spec, "columns", dict, file, where).items():
        _known_column(column, entity, file, f"{where}.columns.{column}")
        columns[column] = _string_list(names, file, f"{where}.columns.{column}")
    first_of_list = {}
    for column, sep in (spec.get("first_of_list") or {}).items():
        _known_column(column, entity, file, f"{where}.first_of_list.{column}")
        if not isinstance(sep, str) or not sep:
            raise ConfigError(file, f"{where}.first_of_list.{column}", "expected a separator text such as ';'")
        first_of_list[column] = sep
    values = {}
    for column, mapping in (spec.get("values") or {}).items():
        _known_column(column, entity, file, f"{where}.values.{column}")
        if not isinstance(mapping, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
        ):
            raise ConfigError(file, f"{where}.values.{column}", "expected a mapping of vendor text -> canonical text")
        values[column] = {k.strip().lower(): v for k, v in mapping.items()}
    derive = {}
    for column, rule in (spec.get("derive") or {}).items():
        place = f"{where}.derive.{column}"
        _known_column(column, entity, file, place)
        if not isinstance(rule, dict) or len(set(rule) & set(DERIVE_KINDS)) != 1:
            raise ConfigError(file, place, "expected exactly one of: " + ", ".join(DERIVE_KINDS))
        if "hash_of" in rule:
            _known_column(rule["hash_of"], entity, file, f"{place}.hash_of")
            require(rule, "prefix", str, file, place)
        else:
            _known_column(rule["true_when"], entity, file, f"{place}.true_when")
            rule = {**rule, "in": [v.lower() for v in _string_list(rule.get("in"), file, f"{place}.in")]}
        derive[column] = rule
    return VendorMapping(vendor, entity, columns, tuple(signature), first_of_list, values, derive)


def load_vendor_formats(config_dir: Path | None = None) -> VendorFormats:
    """Read and validate config/vendor_formats.yaml (ConfigError naming file and key if wrong)."""
    path, data = load_yaml(CONFIG_NAME, config_dir)
    booleans = require(data, "booleans", dict, path)
    true_values = tuple(v.lower() for v in _string_list(booleans.get("true_values"), path, "booleans.true_values"))
    false_values = tuple(v.lower() for v in _string_list(booleans.get("false_values"), path, "booleans.false_values"))
    if set(true_values) & set(false_values):
        raise ConfigError(path, "booleans", f"{sorted(set(true_values) & set(false_values))} listed as both true and false")

    entities_data = require(data, "entities", dict, path)
    entities = {}
    for entity in CRM_ENTITIES:
        spec = require(entities_data, entity, dict, path, "entities")
        where = f"entities.{entity}"
        required = tuple(
            _known_column(c, entity, path, f"{where}.required_columns")
            for c in _string_list(require(spec, "required_columns", list, path, where), path, f"{where}.required_columns")
        )
        key = _known_column(require(spec, "key", str, path, where), entity, path, f"{where}.key")
        entities[entity] = EntityRules(require(spec, "required_file", bool, path, where), key, required)
    extra_entities = set(entities_data) - set(CRM_ENTITIES)
    if extra_entities:
        raise ConfigError(path, "entities", f"unknown entity {sorted(extra_entities)}; use: {', '.join(CRM_ENTITIES)}")

    mappings: dict[str, list[VendorMapping]] = {
        e: [VendorMapping(CANONICAL, e, {c: (c,) for c in CANONICAL_COLUMNS[e]})] for e in CRM_ENTITIES
    }
    for vendor, by_entity in require(data, "vendors", dict, path).items():
        if vendor in (CANONICAL, "segment") or not isinstance(by_entity, dict):
            raise ConfigError(path, f"vendors.{vendor}", "a vendor name other than canonical/segment, holding entities")
        for entity, spec in by_entity.items():
            if entity not in CRM_ENTITIES:
                raise ConfigError(path, f"vendors.{vendor}.{entity}", f"unknown entity; use: {', '.join(CRM_ENTITIES)}")
            mappings[entity].append(_vendor_mapping(vendor, entity, spec, path))
    return VendorFormats(path, true_values, false_values, entities, mappings)


def read_csv_header(path: Path) -> list[str]:
    """The header row of a CSV file (UTF-8, with or without BOM); LandingFileError if unreadable."""
    # Decode only the first line: a bad byte further down is a row problem (quarantine), not a header one.
    with path.open("rb") as handle:
        first = handle.readline()
    try:
        header = next(csv.reader([first.decode("utf-8-sig")]), None)
    except UnicodeDecodeError as exc:
        raise LandingFileError([(path, f"the header is not UTF-8 text ({exc.reason}); save the file as UTF-8")]) from exc
    if not header or not any(h.strip() for h in header):
        raise LandingFileError([(path, "the file is empty (no header row); export it again with a header")])
    return header


def _match(mapping: VendorMapping, positions: dict[str, int]) -> dict[str, int]:
    matched = {}
    for column, names in mapping.columns.items():
        for name in names:
            position = positions.get(normalize_header_name(name))
            if position is not None:
                matched[column] = position
                break
    return matched


def _accepted_names(formats: VendorFormats, entity: str, column: str) -> str:
    names = [f"{m.vendor} {' / '.join(repr(n) for n in m.columns[column])}"
             for m in formats.mappings[entity] if column in m.columns]
    return "; ".join(names)


def detect_format(
    header: list[str] | tuple[str, ...], entity: str, formats: VendorFormats | None = None, file: Path | str = "<header>"
) -> DetectedFormat:
    """Recognise the vendor of an `entity` export from its header and map its columns.

    A vendor qualifies when at least one of its signature headers is present (canonical: always) and
    every required column is present or derivable. Several qualify: the one matching most columns;
    a tie is ambiguous. None qualifies: LandingFileError naming the file and the missing columns of
    the closest format, with the header names each vendor accepts for them.
    """
    if entity not in CRM_ENTITIES:
        raise ValueError(f"unknown CRM entity {entity!r}; use one of {CRM_ENTITIES}")
    formats = formats or load_vendor_formats()
    positions: dict[str, int] = {}
    for i, name in enumerate(header):
        positions.setdefault(normalize_header_name(name), i)
    required = formats.entities[entity].required_columns

    scored = []  # (qualifies, matched count, mapping, matched, missing, signed)
    for mapping in formats.mappings[entity]:
        matched = _match(mapping, positions)
        signed = mapping.vendor == CANONICAL or any(normalize_header_name(s) in positions for s in mapping.signature)
        missing = [c for c in required if c not in matched and c not in mapping.derive]
        scored.append((signed and not missing, len(matched), mapping, matched, missing, signed))

    qualifying = sorted((s for s in scored if s[0]), key=lambda s: -s[1])
    if len(qualifying) > 1 and qualifying[0][1] == qualifying[1][1]:
        tied = [s[2].vendor for s in qualifying if s[1] == qualifying[0][1]]
        raise LandingFileError([(file, f"ambiguous header: it matches the {entity} format of {' and '.join(tied)} "
                                       "equally; remove the other vendor's columns or rename them")])
    if not qualifying:
        # Closest: among formats whose signature is present, the fewest missing then most matched.
        _, _, closest, _, missing, _ = max((s for s in scored if s[5]), key=lambda s: (-len(s[4]), s[1]))
        # Every signed format that does not qualify misses a required column (canonical is always signed).
        detail = "; ".join(f"{c} (accepted: {_accepted_names(formats, entity, c)})" for c in missing)
        problem = (f"not a recognised {entity} export: missing required column(s) {', '.join(missing)} "
                   f"(closest format: {closest.vendor}). Add or rename the column(s): {detail}")
        raise LandingFileError([(file, problem)])
    _, _, mapping, matched, _, _ = qualifying[0]
    used = set(matched.values())
    return DetectedFormat(
        entity=entity,
        vendor=mapping.vendor,
        header=tuple(h.replace("\ufeff", "").strip() for h in header),
        columns=matched,
        extra=tuple(i for i in range(len(header)) if i not in used),
        first_of_list={c: s for c, s in mapping.first_of_list.items() if c in matched},
        values={c: v for c, v in mapping.values.items() if c in matched},
        derive={c: r for c, r in mapping.derive.items() if c not in matched},
    )
