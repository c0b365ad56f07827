"""Deterministic sample data: a realistic, messy B2B company's CRM exports and web events.

`python -m sample.generate --out var/landing` (or `generate(Path, scale=..., seed=..., end_date=...,
days=...)`) writes the canonical landing folder of docs/tables.md. The world is built from (seed,
scale) only; each day of events is drawn from generators keyed by its date, so any window can be
generated and the files of a day never change when the window moves. The true effects that the
readouts must recover are documented and exported in `sample.effects`; what audience members do after
a publish (a known audience lift) is written by `sample.outcomes.write_audience_outcomes`.
"""
from sample.effects import (HIGH_UTILIZATION, HIGH_UTILIZATION_HAZARD_RATIO, PRICING_HAZARD_RATIO,
                            PRICING_VISITS_MIN, PRICING_WINDOW_DAYS, UPSELL_BASE_MONTHLY_HAZARD)

__all__ = ["HIGH_UTILIZATION", "HIGH_UTILIZATION_HAZARD_RATIO", "PRICING_HAZARD_RATIO", "PRICING_VISITS_MIN",
           "PRICING_WINDOW_DAYS", "UPSELL_BASE_MONTHLY_HAZARD"]
