"""Third-party reference lists the segment rules look values up in (files under `config/reference/`)."""
from __future__ import annotations

from pathlib import Path

import polars as pl

from assets.config_files import ConfigError, config_path

GA4_SOURCE_CATEGORIES_FILE = "reference/ga4_source_categories.csv"


def ga4_source_categories(config_dir: Path | None = None) -> dict[str, list[str]]:
    """GA4's source lists: `{"SOURCE_CATEGORY_SEARCH": ["google", ...], ...}`, sources lowercased.

    Read from `config/reference/ga4_source_categories.csv` (columns `source`, `source_category`).
    Lowercased because GA4 matches channel rules case-insensitively.
    """
    path = config_path(GA4_SOURCE_CATEGORIES_FILE, config_dir)
    if not path.is_file():
        raise ConfigError(path, "", "file not found (restore it from the repository)")
    try:
        frame = pl.read_csv(path, infer_schema=False)
    except pl.exceptions.PolarsError as exc:
        raise ConfigError(path, "", f"not a readable CSV: {exc}") from exc
    missing = {"source", "source_category"} - set(frame.columns)
    if missing:
        raise ConfigError(path, "header", f"missing column(s) {', '.join(sorted(missing))}; "
                          "the header must be `source,source_category`")
    frame = frame.select(
        pl.col("source").str.strip_chars().str.to_lowercase(),
        pl.col("source_category").str.strip_chars().str.to_uppercase(),
    ).drop_nulls()
    if frame.is_empty():
        raise ConfigError(path, "", "no rows; the GA4 source list is required for channel grouping")
    grouped = frame.unique().sort("source").group_by("source_category", maintain_order=True).agg("source")
    return {row["source_category"]: row["source"] for row in grouped.iter_rows(named=True)}
