"""Persona classifier numbers for the README: `python -m assets.segments.persona_report [--bench] [--errors]`.

Prints accuracy per field on the labelled sets in `tests/data/`, coverage on O*NET's alternate titles
for business occupations, and (with --bench) the time to classify 1M titles with 50k distinct values.
The O*NET folder is `$ONET_DIR`, else `../shared/reference/onet` next to the repository; when it is
missing, coverage is skipped with a message.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import polars as pl

from assets.segments.persona import classify_titles
from assets.segments.persona_rules import OTHER, PersonaRules, load_persona_rules
from workflows.settings import REPO_ROOT

EVAL_SETS = {
    "main (tuned against)": REPO_ROOT / "tests" / "data" / "persona_titles.csv",
    "holdout": REPO_ROOT / "tests" / "data" / "persona_titles_holdout.csv",
}
DEFAULT_ONET_DIR = REPO_ROOT.parent / "shared" / "reference" / "onet"
# Business occupations: SOC major groups 11 (management), 13 (business and financial operations),
# 15 (computer and mathematical), 27-1 (art and design), 41 (sales), 43 (office and administrative support).
BUSINESS_SOC_GROUPS = {
    "11": "Management", "13": "Business and financial operations", "15": "Computer and mathematical",
    "27-1": "Art and design", "41": "Sales and related", "43": "Office and administrative support",
}
# A coarse check that coverage is also right: occupations whose department is unambiguous. O*NET files
# some titles differently from a B2B org chart (Product Manager and Account Executive are alternate
# titles of Marketing Managers, Front End Developer of Web Designers), so 100% is not expected.
ONET_OCCUPATION_FUNCTIONS = {
    "11-2011": "marketing", "11-2021": "marketing", "11-2022": "sales", "11-2032": "marketing", "11-3021": "it",
    "11-3031": "finance", "11-3061": "operations", "11-3071": "operations", "11-3111": "hr", "11-3121": "hr",
    "11-3131": "hr", "11-9199.02": "legal", "13-1023": "operations", "13-1071": "hr", "13-1075": "hr",
    "13-1081": "operations", "13-1141": "hr", "13-1151": "hr", "13-1161": "marketing", "13-2011": "finance",
    "13-2031": "finance", "13-2041": "finance", "13-2051": "finance", "15-1212": "it", "15-1231": "it",
    "15-1232": "it", "15-1244": "it", "15-1252": "engineering", "15-1253": "engineering", "15-1254": "engineering",
    "15-1255": "design", "15-2041": "data", "15-2051": "data", "27-1024": "design", "41-3091": "sales",
    "41-4011": "sales", "41-4012": "sales", "41-9031": "sales", "43-3031": "finance", "43-3051": "finance",
    "43-4051": "customer_success", "43-6011": "operations",
}


def read_labelled_titles(path: Path) -> pl.DataFrame:
    """A labelled set: columns title, function, seniority, all text (an empty title stays a title)."""
    frame = pl.read_csv(path, infer_schema=False)
    missing = {"title", "function", "seniority"} - set(frame.columns)
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(sorted(missing))}; the header must be "
                         "title,function,seniority")
    return frame


def evaluate(labelled: pl.DataFrame, rules: PersonaRules | None = None) -> pl.DataFrame:
    """`labelled` with the predicted persona columns and `function_ok`, `seniority_ok` flags."""
    predicted = classify_titles(labelled.get_column("title"), rules).drop("job_title")
    return pl.concat([labelled, predicted], how="horizontal").with_columns(
        function_ok=pl.col("function") == pl.col("persona_function"),
        seniority_ok=pl.col("seniority") == pl.col("persona_seniority"),
    )


def accuracy(scored: pl.DataFrame) -> dict[str, float]:
    """Share of titles with the right function, seniority, and both."""
    return scored.select(
        titles=pl.len(),
        function=pl.col("function_ok").mean(),
        seniority=pl.col("seniority_ok").mean(),
        both=(pl.col("function_ok") & pl.col("seniority_ok")).mean(),
    ).row(0, named=True)


def onet_dir_from_env() -> Path:
    """`$ONET_DIR` if set, else `../shared/reference/onet` relative to the repository."""
    value = os.environ.get("ONET_DIR", "").strip()
    return Path(value).expanduser() if value else DEFAULT_ONET_DIR


def read_onet_titles(onet_dir: Path) -> pl.DataFrame:
    """O*NET alternate titles (columns soc_code, title); raises FileNotFoundError when absent."""
    path = onet_dir / "Alternate_Titles.txt"
    if not path.is_file():
        raise FileNotFoundError(path)
    frame = pl.read_csv(path, separator="\t", quote_char=None, infer_schema=False)
    return frame.select(soc_code=pl.col("O*NET-SOC Code"), title=pl.col("Alternate Title"))


def onet_coverage(titles: pl.DataFrame, rules: PersonaRules | None = None) -> pl.DataFrame:
    """Per business SOC group: titles, and the share classified to a function other than `other`."""
    group = pl.lit(None, dtype=pl.String)
    for prefix in sorted(BUSINESS_SOC_GROUPS, key=len):   # longer prefixes ("27-1") override
        group = pl.when(pl.col("soc_code").str.starts_with(prefix)).then(pl.lit(prefix)).otherwise(group)
    business = titles.with_columns(soc_group=group).filter(pl.col("soc_group").is_not_null())
    scored = business.with_columns(
        classify_titles(business.get_column("title"), rules).get_column("persona_function"))
    per_group = scored.group_by("soc_group").agg(
        titles=pl.len(), covered=(pl.col("persona_function") != OTHER).mean()).sort("soc_group")
    total = scored.select(soc_group=pl.lit("all"), titles=pl.len(),
                          covered=(pl.col("persona_function") != OTHER).mean())
    return pl.concat([per_group, total]).with_columns(
        group_name=pl.col("soc_group").replace_strict(BUSINESS_SOC_GROUPS, default="all business groups"))


def onet_agreement(titles: pl.DataFrame, rules: PersonaRules | None = None) -> dict[str, float]:
    """On occupations with an unambiguous department: coverage, and agreement among covered titles."""
    expected = pl.DataFrame({"prefix": list(ONET_OCCUPATION_FUNCTIONS),
                             "expected": list(ONET_OCCUPATION_FUNCTIONS.values())})
    matched = (titles.join(expected, how="cross")
               .filter(pl.col("soc_code").str.starts_with(pl.col("prefix"))))
    scored = matched.with_columns(
        classify_titles(matched.get_column("title"), rules).get_column("persona_function"))
    covered = scored.filter(pl.col("persona_function") != OTHER)
    return {"occupations": len(ONET_OCCUPATION_FUNCTIONS), "titles": scored.height,
            "covered": covered.height / max(scored.height, 1),
            "agreement": (covered.get_column("persona_function") == covered.get_column("expected")).mean()}


def benchmark(rows: int = 1_000_000, distinct: int = 50_000, onet_dir: Path | None = None,
              rules: PersonaRules | None = None) -> dict[str, float]:
    """Seconds to classify `rows` titles drawn from `distinct` distinct ones (O*NET titles when present)."""
    rules = rules or load_persona_rules()
    pool = pl.concat([read_labelled_titles(p).get_column("title") for p in EVAL_SETS.values()])
    try:
        pool = pl.concat([pool, read_onet_titles(onet_dir or onet_dir_from_env()).get_column("title")])
    except FileNotFoundError:
        pass
    pool = pool.drop_nulls().unique(maintain_order=True)
    if pool.len() < distinct:   # pad with realistic variants: the same titles with a region suffix
        suffixes = pl.Series(["", " EMEA", " - North America", " (DACH)", ", APAC", " II", " | Remote"])
        pool = (pool.to_frame("t").join(suffixes.to_frame("s"), how="cross")
                .select(pl.col("t") + pl.col("s")).to_series().unique(maintain_order=True))
    pool = pool.head(distinct)
    titles = pool.sample(rows, with_replacement=True, seed=7)
    start = time.perf_counter()
    classify_titles(titles, rules)
    return {"rows": rows, "distinct": pool.len(), "seconds": time.perf_counter() - start}


def main(argv: list[str] | None = None) -> int:
    """Print accuracy, O*NET coverage and (optionally) the 1M-title benchmark."""
    parser = argparse.ArgumentParser(prog="python -m assets.segments.persona_report", description=__doc__)
    parser.add_argument("--errors", action="store_true", help="list the misclassified titles")
    parser.add_argument("--bench", action="store_true", help="time 1M titles with 50k distinct values")
    args = parser.parse_args(argv)
    rules = load_persona_rules()
    print(f"Persona classifier ({rules.file})\n\nAccuracy on the labelled sets")
    for name, path in EVAL_SETS.items():
        scored = evaluate(read_labelled_titles(path), rules)
        acc = accuracy(scored)
        print(f"  {name:<22} {acc['titles']:>4} titles  function {acc['function']:.1%}  "
              f"seniority {acc['seniority']:.1%}  both {acc['both']:.1%}   ({path.relative_to(REPO_ROOT)})")
        if args.errors:
            for row in scored.filter(~pl.col("function_ok") | ~pl.col("seniority_ok")).iter_rows(named=True):
                print(f"      {row['title']!r}: expected {row['function']}/{row['seniority']}, "
                      f"got {row['persona_function']}/{row['persona_seniority']}")
    onet_dir = onet_dir_from_env()
    try:
        onet_titles = read_onet_titles(onet_dir)
    except FileNotFoundError:
        print(f"\nO*NET coverage skipped: no Alternate_Titles.txt in {onet_dir} (set ONET_DIR)")
    else:
        print(f"\nO*NET coverage: alternate titles classified to a function other than 'other' ({onet_dir})")
        for row in onet_coverage(onet_titles, rules).iter_rows(named=True):
            print(f"  SOC {row['soc_group']:<5} {row['group_name']:<36} {row['titles']:>6} titles  "
                  f"{row['covered']:.1%}")
        agree = onet_agreement(onet_titles, rules)
        print(f"  Occupations with an unambiguous department ({agree['occupations']} occupations, "
              f"{agree['titles']} titles): covered {agree['covered']:.1%}, same function as the occupation "
              f"{agree['agreement']:.1%} of covered")
    if args.bench:
        result = benchmark(onet_dir=onet_dir, rules=rules)
        print(f"\nBenchmark: {result['rows']:,} titles ({result['distinct']:,} distinct) classified in "
              f"{result['seconds']:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
