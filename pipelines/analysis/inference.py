"""The statistics the fairness families share: intervals, two-group tests, the
Benjamini-Hochberg adjustment and the columns a comparison table ends with.

In one place so that a group-rate row, an indicator row and a rater row mean the same
thing by "difference", its interval, "p_adjusted" and "significant", and so that a fix to
a test reaches every table that uses it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import special, stats
from statsmodels.stats.contingency_tables import StratifiedTable
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

ALPHA = 0.05
# The test a comparison row carries, in this order, after the figures it compares.
DIFFERENCE_TEST_SCHEMA: dict[str, pl.DataType] = {
    "difference": pl.Float64(),
    "difference_ci_low": pl.Float64(),
    "difference_ci_high": pl.Float64(),
    "p_value": pl.Float64(),
    "p_adjusted": pl.Float64(),
    "significant": pl.Boolean(),
}


def wilson_interval(count: int, nobs: int, alpha: float = ALPHA) -> tuple[float, float]:
    """Wilson score interval of a proportion (good coverage for small n and rates near 0/1)."""
    low, high = proportion_confint(count, nobs, alpha=alpha, method="wilson")
    return float(low), float(high)


def risk_ratio(
    a: int, n1: int, c: int, n0: int, alpha: float = ALPHA
) -> tuple[float | None, float | None, float | None]:
    """(a/n1) / (c/n0) with the log-normal (Katz) interval; interval NULL when a or c is 0."""
    if n1 == 0 or n0 == 0 or c == 0:
        return None, None, None
    ratio = (a / n1) / (c / n0)
    if a == 0:
        return ratio, None, None
    se = math.sqrt(1 / a - 1 / n1 + 1 / c - 1 / n0)
    z = stats.norm.ppf(1 - alpha / 2)
    return ratio, ratio * math.exp(-z * se), ratio * math.exp(z * se)


def newcombe_difference(
    a: int, n1: int, c: int, n0: int, alpha: float = ALPHA
) -> tuple[float, float, float]:
    """p1 - p0 with Newcombe's hybrid score interval (method 10), built from Wilson limits."""
    p1, p0 = a / n1, c / n0
    l1, u1 = wilson_interval(a, n1, alpha)
    l0, u0 = wilson_interval(c, n0, alpha)
    diff = p1 - p0
    low = diff - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
    high = diff + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    return diff, low, high


def two_by_two_p(a: int, n1: int, c: int, n0: int) -> float:
    """Two-sided p of group vs reference on a 2x2 table: Fisher's exact test when any
    expected count is below 5 (the chi-square approximation is poor there), else Pearson
    chi-square without continuity correction."""
    table = np.array([[a, n1 - a], [c, n0 - c]])
    total = table.sum()
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / total
    if (expected < 5).any():
        return float(stats.fisher_exact(table).pvalue)
    return float(stats.chi2_contingency(table, correction=False).pvalue)


def cmh_odds_ratio(tables: Sequence[np.ndarray]) -> tuple[float | None, float | None]:
    """Mantel-Haenszel pooled odds ratio and CMH test p over 2x2 strata tables
    [[group yes, group no], [reference yes, reference no]].

    Strata lacking the group or the reference carry no within-stratum information and are
    dropped; (None, None) when nothing informative is left or the estimate is undefined.
    """
    kept = [t for t in tables if t[0].sum() > 0 and t[1].sum() > 0]
    if not kept:
        return None, None
    stratified = StratifiedTable(np.dstack(kept).astype(float))
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = float(stratified.oddsratio_pooled)
        p = float(stratified.test_null_odds(correction=False).pvalue)
    return (odds if math.isfinite(odds) else None), (p if math.isfinite(p) else None)


def benjamini_hochberg(p_values: Sequence[float | None]) -> list[float | None]:
    """BH-adjusted p-values; None stays None and is not counted as a test."""
    present = [i for i, p in enumerate(p_values) if p is not None]
    adjusted: list[float | None] = [None] * len(p_values)
    if present:
        _, corrected, _, _ = multipletests([p_values[i] for i in present], method="fdr_bh")
        for i, value in zip(present, corrected, strict=True):
            adjusted[i] = float(value)
    return adjusted


def welch(
    sample: np.ndarray, reference: np.ndarray, alpha: float = ALPHA
) -> tuple[float | None, float | None, float | None]:
    """Welch's t-test of mean(sample) - mean(reference): (p, ci_low, ci_high); None where
    undefined (fewer than two values in a sample, or no variance in either)."""
    if len(sample) < 2 or len(reference) < 2:
        return None, None, None
    with warnings.catch_warnings():  # identical values in a sample: handled below
        warnings.simplefilter("ignore", RuntimeWarning)
        result = stats.ttest_ind(sample, reference, equal_var=False)
    if not math.isfinite(result.pvalue):
        return None, None, None
    interval = result.confidence_interval(confidence_level=1 - alpha)
    return float(result.pvalue), float(interval.low), float(interval.high)


def welch_from_moments(
    n1: np.ndarray,
    mean1: np.ndarray,
    var1: np.ndarray,
    n2: np.ndarray,
    mean2: np.ndarray,
    var2: np.ndarray,
    alpha: float = ALPHA,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``welch`` for many pairs at once from counts, means and sample variances (ddof 1):
    (p, ci_low, ci_high) arrays, NaN where ``welch`` gives None."""
    with np.errstate(divide="ignore", invalid="ignore"):
        a, b = var1 / n1, var2 / n2
        se = np.sqrt(a + b)
        df = (a + b) ** 2 / (a**2 / (n1 - 1) + b**2 / (n2 - 1))
        difference = mean1 - mean2
        t = difference / se
        defined = (n1 >= 2) & (n2 >= 2) & (se > 0) & np.isfinite(t) & np.isfinite(df)
        p = np.where(defined, 2 * stats.t.sf(np.abs(t), df), np.nan)
        half = stats.t.ppf(1 - alpha / 2, df) * se
    low = np.where(defined, difference - half, np.nan)
    high = np.where(defined, difference + half, np.nan)
    return p, low, high


def with_bh(frame: pl.DataFrame, alpha: float) -> pl.DataFrame:
    """Fill p_adjusted (BH over every p_value of the frame) and significant."""
    adjusted = benjamini_hochberg(frame["p_value"].to_list())
    return frame.with_columns(pl.Series("p_adjusted", adjusted, dtype=pl.Float64)).with_columns(
        significant=(pl.col("p_adjusted") < alpha).fill_null(False)
    )


@dataclass(frozen=True)
class Sums:
    """One side of many two-sample tests: count and sums of x, x^2, x^3 per test (arrays
    of equal length), x centred near the group's mean. Sums, not values, because a test
    per rater must cost a few vector operations at a million employees."""

    n: np.ndarray
    s: np.ndarray
    q: np.ndarray
    c: np.ndarray


def permutation_test_from_sums(
    group: Sums, other: Sums, alpha: float = ALPHA
) -> dict[str, np.ndarray]:
    """Many two-sample tests of mean1 - mean2 at once, from counts and sums of x, x^2, x^3
    (x centred near the group's mean, for precision), approximating the permutation test
    (random assignment of the union's values to the two groups).

    z = difference / sqrt(S^2 (1/n1 + 1/n2)), S^2 the ddof-1 variance of the union: the
    exact permutation standard deviation. Its permutation distribution is skewed when the
    union is (scores piled at the ceiling, a few low ones): the third moment of a sample
    mean drawn without replacement is mu3 (N - n)(N - 2n) / (n^2 (N - 1)(N - 2)), so
    p = 2 min(F(z), 1 - F(z)) with F the Pearson type III law of mean 0, sd 1 and that
    skewness (twice the smaller tail, as scipy's permutation_test), floored at 2 / C(N, n1),
    the smallest permutation p. With integer scores it tracks the permutation mid-p (the
    observed value counted half); scipy's p, counting it whole, is more conservative. The
    interval inverts the same law: [d - q_hi se, d - q_lo se], so it excludes 0 exactly
    when p < alpha (bar the floor).

    Keys z, skew, se, p, difference, low, high; NaN where undefined (an empty side, fewer
    than three values, or no variance: rounding below 1e-12 of the squares is 0)."""
    n1, s1, q1, c1 = group.n.astype(float), group.s, group.q, group.c
    n2, s2, q2, c2 = other.n.astype(float), other.s, other.q, other.c
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        n, s, q, c = n1 + n2, s1 + s2, q1 + q2, c1 + c2
        mean = s / n
        m2 = q - s * mean  # sum of squared deviations from the union's mean
        m2 = np.where(m2 > 1e-12 * np.maximum(q, 1.0), m2, 0.0)
        m3 = c - 3 * mean * q + 2 * n * mean**3
        difference = s1 / n1 - s2 / n2
        se = np.sqrt(m2 / (n - 1) * (1 / n1 + 1 / n2))
        z = difference / se
        defined = (n1 >= 1) & (n2 >= 1) & (n >= 3) & (se > 0) & np.isfinite(z)
        var_mean = (m2 / n) * (n - n1) / (n1 * (n - 1))
        third = (m3 / n) * (n - n1) * (n - 2 * n1) / (n1**2 * (n - 1) * (n - 2))
        skew = np.where(defined & (var_mean > 0), third / var_mean**1.5, 0.0)
        z0 = np.where(defined, z, 0.0)
        tail = np.minimum(stats.pearson3.cdf(z0, skew), stats.pearson3.sf(z0, skew))
        log_arrangements = (
            special.gammaln(n + 1) - special.gammaln(n1 + 1) - special.gammaln(n2 + 1)
        )
        p = np.clip(np.maximum(2 * tail, 2 * np.exp(-log_arrangements)), 0.0, 1.0)
        q_low = stats.pearson3.ppf(alpha / 2, skew)
        q_high = stats.pearson3.ppf(1 - alpha / 2, skew)
    nan = np.full(n.shape, np.nan)
    return {
        "z": np.where(defined, z, nan),
        "skew": np.where(defined, skew, nan),
        "se": np.where(defined, se, nan),
        "p": np.where(defined, p, nan),
        "difference": np.where(n1 * n2 > 0, difference, nan),
        "low": np.where(defined, difference - q_high * se, nan),
        "high": np.where(defined, difference - q_low * se, nan),
    }
