"""Scales of the sample data: how many accounts, contacts and days, and how busy the web site is."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ScaleProfile:
    """Sizes for one scale. `web_activity` multiplies every visitor's daily visit probability."""

    name: str
    accounts: int
    contacts: int
    days: int
    web_activity: float
    max_seats: int
    bot_sessions_per_day: float
    product_extra_activity: float = 0.03  # daily chance of app use beyond the every-14-days habit


TINY = ScaleProfile("tiny", accounts=60, contacts=400, days=30, web_activity=1.0, max_seats=8,
                    bot_sessions_per_day=2)
SMALL = ScaleProfile("small", accounts=800, contacts=8_000, days=180, web_activity=1.0, max_seats=30,
                     bot_sessions_per_day=5)
BENCH = ScaleProfile("bench", accounts=100_000, contacts=1_000_000, days=365, web_activity=0.25, max_seats=30,
                     bot_sessions_per_day=250, product_extra_activity=0.0)
NAMED = {p.name: p for p in (TINY, SMALL, BENCH)}


def parse_scale(value: str | float | ScaleProfile) -> ScaleProfile:
    """`tiny` | `small` | `bench` | a positive multiplier of bench (`0.1` = 10k accounts, 100k contacts)."""
    if isinstance(value, ScaleProfile):
        return value
    text = str(value).strip().lower()
    if text in NAMED:
        return NAMED[text]
    try:
        factor = float(text)
    except ValueError:
        raise ValueError(f"--scale: {value!r} is not tiny, small, bench or a number (a multiple of bench)") from None
    if not 0 < factor <= 100:
        raise ValueError(f"--scale: {value!r} must be a multiple of bench between 0 and 100, e.g. 0.1 or 10")
    if factor == 1:
        return BENCH
    return ScaleProfile(f"bench*{factor:g}", accounts=max(20, round(BENCH.accounts * factor)),
                        contacts=max(100, round(BENCH.contacts * factor)), days=BENCH.days,
                        web_activity=BENCH.web_activity, max_seats=BENCH.max_seats,
                        bot_sessions_per_day=BENCH.bot_sessions_per_day * factor,
                        product_extra_activity=BENCH.product_extra_activity)
