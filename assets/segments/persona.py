"""Persona: job title -> function x seniority, as Polars expressions over whole frames.

How a persona is decided is data in `config/personas.yaml` (its header explains the order of the
rules); this module only turns it into expressions. Titles repeat a lot (1M contacts have maybe 50k
distinct titles), so every title is classified once and joined back.

A blank or missing title (None, "", "n/a", "-") is function `other`, seniority `unknown`, persona
"Unknown". Any other title gets one of the eight seniorities; `entry` when no rule matched.
"""
from __future__ import annotations

import polars as pl

from assets.segments.persona_rules import (
    DEFAULT_SENIORITY, HEADS_OF_FIRM, OTHER, UNKNOWN, PersonaRules, load_persona_rules,
)

PERSONA_COLUMNS = ("persona_function", "persona_seniority", "persona")

# Separators between parts of a title ("VP, Marketing", "Founder | CEO", "Marketing - VP") become " , "
# so a pattern can tell "Sales Lead, EMEA" (lead ends a part) from "Lead Engineer"; other punctuation
# is a word break ("Dir. of Eng." -> "dir of eng").
_DOTTED_ACRONYM = r"\b(\p{L})\.(\p{L})\.(?:(\p{L})\.)?(?:(\p{L})\.)?"   # "C.E.O." -> "ceo", "V.P." -> "vp"
_SPACED_DASH = r"(?:^|\s)[-–—]+(?:\s|$)"
_SEPARATORS = r"[,;|/\\()\[\]{}:·•]+"
_OTHER_PUNCTUATION = r"[^\p{L}\p{N},]+"


def normalise_titles(titles: pl.Expr, rules: PersonaRules) -> pl.Expr:
    """Lowercase, fold accents, turn punctuation into spaces / ' , ' separators, apply the rewrites."""
    text = titles.cast(pl.String).str.to_lowercase()
    if rules.characters:
        text = text.str.replace_many(list(rules.characters), list(rules.characters.values()))
    text = (
        text.str.normalize("NFKD").str.replace_all(r"\p{M}+", "")
        .str.replace_all(_DOTTED_ACRONYM, "${1}${2}${3}${4}")
        .str.replace_all(_SPACED_DASH, " , ")
        .str.replace_all(_SEPARATORS, " , ")
        .str.replace_all(_OTHER_PUNCTUATION, " ")
        .str.replace_all(r"\s*(?:,\s*)+", " , ")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars(" ,")
    )
    for pattern, replacement in rules.rewrites:
        text = text.str.replace_all(pattern, replacement)
    return text


def _is_missing(norm: pl.Expr, rules: PersonaRules) -> pl.Expr:
    plain = norm.str.replace_all(r"[ ,]+", " ")
    return norm.is_null() | (norm == "") | plain.is_in(list(rules.missing_titles))


def _seniority(norm: pl.Expr, missing: pl.Expr, rules: PersonaRules) -> pl.Expr:
    """First rule in config order whose pattern matches and whose `unless` does not."""
    chain = pl.when(missing).then(pl.lit(UNKNOWN))
    for level, pattern, unless in rules.seniority:
        hit = norm.str.contains(pattern)
        if unless is not None:
            hit = hit & ~norm.str.contains(unless)
        chain = chain.when(hit).then(pl.lit(level))
    return chain.otherwise(pl.lit(DEFAULT_SENIORITY))


def _earliest(norm: pl.Expr, entries: tuple[tuple[str, str | None], ...]) -> pl.Expr:
    """The function whose pattern starts earliest in the title (ties: config order), else null."""
    named = [(name, pattern) for name, pattern in entries if pattern is not None]
    positions = pl.concat_list([norm.str.find(pattern).cast(pl.Int64) for _, pattern in named])
    index = positions.list.arg_min()
    return index.replace_strict({i: name for i, (name, _) in enumerate(named)}, default=None,
                                return_dtype=pl.String)


def _function(norm: pl.Expr, seniority: pl.Expr, missing: pl.Expr, rules: PersonaRules) -> pl.Expr:
    """Executive title (heads of firm only), else strong entries, else weak entries, else default."""
    executive = pl.when(pl.lit(False)).then(pl.lit(None, dtype=pl.String))
    for name, pattern in rules.executive:
        executive = executive.when(norm.str.contains(pattern)).then(pl.lit(name))
    executive = executive.otherwise(pl.lit(None, dtype=pl.String))
    head_of_firm = seniority.is_in(list(HEADS_OF_FIRM))
    return (
        pl.when(missing).then(pl.lit(OTHER))
        .when(head_of_firm & executive.is_not_null()).then(executive)
        .otherwise(pl.coalesce(
            _earliest(norm, rules.strong),
            _earliest(norm, rules.weak),
            pl.when(head_of_firm).then(pl.lit("general_management")).otherwise(pl.lit(OTHER)),
        ))
    )


def _classify_distinct(titles: pl.DataFrame, rules: PersonaRules) -> pl.DataFrame:
    """Classify a frame with one `job_title` column (distinct values); adds the persona columns."""
    function_labels = pl.col("persona_function").replace_strict(rules.function_labels, return_dtype=pl.String)
    seniority_labels = pl.col("persona_seniority").replace_strict(
        {**rules.seniority_labels, UNKNOWN: ""}, return_dtype=pl.String)
    return (
        titles.lazy()
        .with_columns(_norm=normalise_titles(pl.col("job_title"), rules))
        .with_columns(_missing=_is_missing(pl.col("_norm"), rules))
        .with_columns(persona_seniority=_seniority(pl.col("_norm"), pl.col("_missing"), rules))
        .with_columns(persona_function=_function(pl.col("_norm"), pl.col("persona_seniority"),
                                                 pl.col("_missing"), rules))
        .with_columns(persona=pl.when(pl.col("_missing")).then(pl.lit(rules.unknown_label))
                      .otherwise(pl.concat_str([function_labels, seniority_labels], separator=" ")))
        .select("job_title", *PERSONA_COLUMNS)
        .collect()
    )


def classify_titles(titles: pl.Series, rules: PersonaRules | None = None) -> pl.DataFrame:
    """One row per input title, same order: job_title, persona_function, persona_seniority, persona.

    Each distinct title is classified once and joined back. `rules` defaults to `config/personas.yaml`.
    """
    rules = rules or load_persona_rules()
    frame = titles.cast(pl.String).rename("job_title").to_frame()
    personas = _classify_distinct(frame.unique(), rules)
    return frame.join(personas, on="job_title", how="left", nulls_equal=True, maintain_order="left")


def classify_contacts(df: pl.DataFrame, title_col: str = "job_title",
                      rules: PersonaRules | None = None) -> pl.DataFrame:
    """`df` with persona_function, persona_seniority and persona added (replaced if present), row order kept.

    The title column is read as text (a column that is all null is fine).
    """
    if title_col not in df.columns:
        raise ValueError(f"classify_contacts: the contacts frame has no column {title_col!r} (columns: "
                         f"{', '.join(df.columns)}); pass title_col= the column that holds the job title")
    titles = df.select(job_title=pl.col(title_col).cast(pl.String)).unique()
    personas = _classify_distinct(titles, rules or load_persona_rules()).rename({"job_title": "_title"})
    return (
        df.drop([c for c in PERSONA_COLUMNS if c in df.columns])
        .with_columns(_title=pl.col(title_col).cast(pl.String))
        .join(personas, on="_title", how="left", nulls_equal=True, maintain_order="left")
        .drop("_title")
    )
