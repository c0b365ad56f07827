"""Proportion statistics against known values and scipy."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binomtest, chi2_contingency

from assets.readouts.stats import compare_proportions, two_proportion_p_value, wilson_interval, z_value


@pytest.mark.parametrize("x, n, low, high", [
    (0, 10, 0.0, 0.27753),      # published values (Wilson 1927; e.g. Newcombe 1998 table I)
    (5, 10, 0.23659, 0.76341),
    (10, 10, 0.72247, 1.0),
])
def test_wilson_interval_known_values(x, n, low, high):
    got = wilson_interval(x, n, 0.95)
    assert got[0] == pytest.approx(low, abs=1e-5)
    assert got[1] == pytest.approx(high, abs=1e-5)


@pytest.mark.parametrize("x, n", [(0, 1), (3, 17), (40, 200), (199, 200)])
def test_wilson_interval_matches_scipy(x, n):
    ci = binomtest(x, n).proportion_ci(confidence_level=0.9, method="wilson")
    assert wilson_interval(x, n, 0.9) == pytest.approx((ci.low, ci.high), abs=1e-9)


def test_wilson_interval_of_an_empty_group_is_undefined():
    assert wilson_interval(0, 0) == (None, None)


@pytest.mark.parametrize("args", [(3, 2), (-1, 5), (1, -1)])
def test_impossible_counts_are_rejected(args):
    with pytest.raises(ValueError, match="successes"):
        wilson_interval(*args)
    with pytest.raises(ValueError, match="group 1"):
        compare_proportions(*args, 1, 10)


@pytest.mark.parametrize("confidence", [0, 1, 1.5])
def test_confidence_outside_0_1_is_rejected(confidence):
    with pytest.raises(ValueError, match="confidence"):
        z_value(confidence)


@pytest.mark.parametrize("x1, n1, x2, n2", [(30, 100, 18, 100), (5, 40, 9, 60), (120, 1000, 100, 1100), (1, 50, 0, 50)])
def test_p_value_equals_the_chi_square_test_without_correction(x1, n1, x2, n2):
    table = np.array([[x1, n1 - x1], [x2, n2 - x2]])
    expected = chi2_contingency(table, correction=False).pvalue
    assert two_proportion_p_value(x1, n1, x2, n2) == pytest.approx(expected, rel=1e-9)
    assert compare_proportions(x1, n1, x2, n2).p_value == pytest.approx(expected, rel=1e-9)


def test_no_variance_means_no_evidence():
    assert two_proportion_p_value(0, 50, 0, 80) == 1.0
    assert two_proportion_p_value(50, 50, 80, 80) == 1.0
    assert two_proportion_p_value(0, 0, 0, 5) is None


def test_compare_proportions_known_case():
    c = compare_proportions(30, 100, 15, 100)
    assert c.rate_1 == 0.3 and c.rate_2 == 0.15
    assert c.difference == pytest.approx(0.15)
    assert c.ratio == pytest.approx(2.0)
    # Katz: exp(log 2 +- 1.96 * sqrt(1/30 - 1/100 + 1/15 - 1/100))
    se = math.sqrt(1 / 30 - 1 / 100 + 1 / 15 - 1 / 100)
    assert c.ratio_ci == pytest.approx((2 * math.exp(-1.959964 * se), 2 * math.exp(1.959964 * se)), rel=1e-5)
    assert c.difference_ci[0] < 0.15 < c.difference_ci[1]
    assert c.difference_ci[0] > 0


def test_newcombe_interval_published_example():
    # Newcombe (1998), Statistics in Medicine 17:873, example (a): 56/70 vs 48/80 -> 0.0524 to 0.3339.
    low, high = compare_proportions(56, 70, 48, 80).difference_ci
    assert (round(low, 4), round(high, 4)) == (0.0524, 0.3339)


def test_zero_successes_still_give_a_finite_ratio_interval():
    c = compare_proportions(0, 100, 10, 100)
    assert c.ratio == 0.0
    assert 0 < c.ratio_ci[0] < c.ratio_ci[1] < 1
    c = compare_proportions(5, 100, 0, 100)
    assert c.ratio is None  # baseline rate 0: the ratio is undefined
    assert 0 < c.ratio_ci[0] < 1 < c.ratio_ci[1] < math.inf  # 5 vs 0 of 100: not conclusive


def test_empty_group_gives_no_comparison():
    c = compare_proportions(3, 10, 0, 0)
    assert c.rate_1 == 0.3 and c.rate_2 is None
    assert c.difference is None and c.p_value is None and c.ratio_ci == (None, None)
