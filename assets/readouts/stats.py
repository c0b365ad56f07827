"""Small-sample statistics for proportions: closed forms, standard library only (no Dagster, no data).

- `wilson_interval(x, n, confidence)`: the Wilson score interval for one proportion (good at 0 and n,
  unlike the Wald interval, which collapses to a point there).
- `compare_proportions(x1, n1, x2, n2, confidence)`: group 1 (flagged / treatment) against group 2
  (unflagged / holdout): rates, difference with Newcombe's hybrid score interval (method 10), ratio with
  the Katz log interval (0.5 added to every cell when a count is zero), and the two-sided p-value of the
  pooled two-proportion z-test (equal to the chi-square test without continuity correction).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist


def z_value(confidence: float) -> float:
    """The two-sided normal quantile for `confidence` (0.95 -> 1.95996...)."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (e.g. 0.95), got {confidence!r}")
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def _check_counts(x: int, n: int, what: str) -> None:
    if n < 0 or x < 0 or x > n:
        raise ValueError(f"{what}: need 0 <= successes <= n, got {x} of {n}")


def wilson_interval(x: int, n: int, confidence: float = 0.95) -> tuple[float | None, float | None]:
    """Wilson score interval for x successes in n trials; (None, None) when n is 0."""
    _check_counts(x, n, "wilson_interval")
    if n == 0:
        return None, None
    z = z_value(confidence)
    p = x / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    # Clamp rounding noise: the exact interval for 0/n starts at 0 and for n/n ends at 1.
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Comparison:
    """Group 1 against group 2. Fields are None when they are undefined (an empty group, a zero rate)."""

    rate_1: float | None
    rate_2: float | None
    rate_1_ci: tuple[float | None, float | None]
    rate_2_ci: tuple[float | None, float | None]
    difference: float | None          # rate_1 - rate_2
    difference_ci: tuple[float | None, float | None]
    ratio: float | None               # rate_1 / rate_2 (None when rate_2 is 0)
    ratio_ci: tuple[float | None, float | None]
    z: float | None
    p_value: float | None


def two_proportion_p_value(x1: int, n1: int, x2: int, n2: int) -> float | None:
    """Two-sided p-value of the pooled z-test of p1 == p2; None if a group is empty, 1.0 if no variance."""
    _check_counts(x1, n1, "group 1")
    _check_counts(x2, n2, "group 2")
    if n1 == 0 or n2 == 0:
        return None
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0  # all successes or none in both groups: no evidence of a difference
    z = (x1 / n1 - x2 / n2) / se
    return math.erfc(abs(z) / math.sqrt(2))


def compare_proportions(x1: int, n1: int, x2: int, n2: int, confidence: float = 0.95) -> Comparison:
    """Compare x1/n1 with x2/n2 (see the module docstring for the methods)."""
    _check_counts(x1, n1, "group 1")
    _check_counts(x2, n2, "group 2")
    ci_1, ci_2 = wilson_interval(x1, n1, confidence), wilson_interval(x2, n2, confidence)
    if n1 == 0 or n2 == 0:
        p1 = x1 / n1 if n1 else None
        p2 = x2 / n2 if n2 else None
        return Comparison(p1, p2, ci_1, ci_2, None, (None, None), None, (None, None), None, None)
    p1, p2 = x1 / n1, x2 / n2
    diff = p1 - p2
    # Newcombe (1998) method 10: combines the two Wilson intervals; keeps its coverage near 0 and 1.
    diff_ci = (
        diff - math.sqrt((p1 - ci_1[0]) ** 2 + (ci_2[1] - p2) ** 2),
        diff + math.sqrt((ci_1[1] - p1) ** 2 + (p2 - ci_2[0]) ** 2),
    )
    z = z_value(confidence)
    a, b, c, d = x1, n1 - x1, x2, n2 - x2
    if min(a, c) == 0:
        a, b, c, d = a + 0.5, b + 0.5, c + 0.5, d + 0.5
    log_rr = math.log((a / (a + b)) / (c / (c + d)))
    se_log = math.sqrt(1 / a - 1 / (a + b) + 1 / c - 1 / (c + d))
    ratio_ci = (math.exp(log_rr - z * se_log), math.exp(log_rr + z * se_log))
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z_stat = diff / se if se else 0.0
    return Comparison(
        rate_1=p1, rate_2=p2, rate_1_ci=ci_1, rate_2_ci=ci_2,
        difference=diff, difference_ci=diff_ci,
        ratio=p1 / p2 if p2 > 0 else None, ratio_ci=ratio_ci,
        z=z_stat, p_value=two_proportion_p_value(x1, n1, x2, n2),
    )
