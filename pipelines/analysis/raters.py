"""Rater leniency and severity: does a rater (penilai_key) give higher or lower predikat
than their agency as a whole, per year?

Score: predikat 5 (Sangat Baik) .. 1 (Sangat Kurang). A rater's ratees are rated in up to
five periods a year; those scores are not independent, so the unit is the RATEE: each
ratee's mean score over the periods this rater rated them that year. Then per (tahun,
kode_opd, penilai_key):

- mean_score = mean of the rater's ratee means; agency_mean = mean over every ratee of the
  agency-year; raw_effect = mean_score - agency_mean.
- Test: since the agency mean contains the rater's own ratees, raw_effect =
  (1 - n/N) (rater mean - mean of the agency's other ratees) (n ratees of the rater, N of
  the agency). The statistic is that difference over its unpooled standard error (the
  rater's own spread, not a pooled one: low-scoring groups are more spread out, and a
  pooled SE made a null rater with 10 weak ratees look "severe" at p < 1e-5), referred to
  the t distribution with Welch-Satterthwaite df (Welch's test; a z-test in large samples,
  honest about small n). Benjamini-Hochberg over every published rater in the table.
- ci_low/ci_high: the Welch 95% interval of the difference, times (1 - n/N): an interval
  of the RAW effect that agrees with the test (excludes 0 exactly when p < 0.05 before
  adjustment). The shrunk effect is a ranking aid: with one deviant rater among many
  typical ones tau^2 is small and the normal prior pulls even a clearly lenient rater far
  toward 0.
- sigma^2 (for shrinkage) = pooled within-rater variance of ratee means in that
  agency-year; Var(raw_effect) = sigma^2 (1/n - 1/N).
- Shrinkage: empirical Bayes, not MixedLM (closed form, fast, and transparent to an
  evaluator). Between-rater variance tau^2 by the method of moments per year, pooled over
  agencies, with inverse-variance weights w = 1/Var (DerSimonian-Laird with the mean known
  to be 0, as effects are centred on their agency): E[sum w d^2] = k + tau^2 sum w, so
  tau^2 = max(0, (sum w d^2 - k) / sum w). Shrink factor
  B = tau^2 / (tau^2 + Var(raw_effect)); shrunk_effect = B * raw_effect. A rater with few
  ratees has a large Var and is pulled hard toward 0 (typical); a rater with many keeps
  most of the raw effect.
- label: 'lenient' / 'severe' when significant (p_adjusted < 0.05) with positive /
  negative raw effect, else 'typical'.

Raters with fewer than min_group_size ratees are suppressed (every figure NULL, including
n_ratees) and take no part in BH; they still inform sigma^2 and tau^2.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from pipelines.analysis.fairness import (
    ALPHA,
    PREDIKAT_SCORE,
    benjamini_hochberg,
    welch_from_moments,
)

LENIENT, SEVERE, TYPICAL = "lenient", "severe", "typical"
LABELS = [LENIENT, SEVERE, TYPICAL]

RATER_SCHEMA: dict[str, pl.DataType] = {
    "tahun": pl.Int32(),
    "kode_opd": pl.String(),
    "penilai_key": pl.String(),
    "n_ratees": pl.Int64(),
    "mean_score": pl.Float64(),
    "agency_mean": pl.Float64(),
    "raw_effect": pl.Float64(),
    "shrunk_effect": pl.Float64(),
    "ci_low": pl.Float64(),
    "ci_high": pl.Float64(),
    "p_value": pl.Float64(),
    "p_adjusted": pl.Float64(),
    "significant": pl.Boolean(),
    "label": pl.String(),
    "suppressed": pl.Boolean(),
}


def ratee_scores(employee_period: pl.DataFrame) -> pl.DataFrame:
    """One row per (tahun, kode_opd, penilai_key, employee_key): mean predikat score over
    every period that rater rated that employee in that year."""
    return (
        employee_period.filter(
            pl.col("penilai_key").is_not_null() & pl.col("predikat").is_in(list(PREDIKAT_SCORE))
        )
        .with_columns(pl.col("predikat").replace_strict(PREDIKAT_SCORE).alias("score"))
        .group_by("tahun", "kode_opd", "penilai_key", "employee_key")
        .agg(score=pl.col("score").cast(pl.Float64).mean())
    )


def rater_effects(
    employee_period: pl.DataFrame, min_group_size: int = 5, alpha: float = ALPHA
) -> pl.DataFrame:
    """analysis.rater_effects from intermediate.int_employee_period rows (all periods)."""
    ratees = ratee_scores(employee_period)
    raters = ratees.group_by("tahun", "kode_opd", "penilai_key").agg(
        n_ratees=pl.len(),
        mean_score=pl.col("score").mean(),
        within_ss=((pl.col("score") - pl.col("score").mean()) ** 2).sum(),
    )
    agencies = ratees.group_by("tahun", "kode_opd").agg(
        agency_n=pl.len(), agency_mean=pl.col("score").mean()
    )
    pooled = raters.group_by("tahun", "kode_opd").agg(
        sigma2=pl.col("within_ss").sum() / (pl.col("n_ratees") - 1).sum()
    )
    frame = (
        raters.join(agencies, on=["tahun", "kode_opd"])
        .join(pooled, on=["tahun", "kode_opd"])
        .with_columns(raw_effect=pl.col("mean_score") - pl.col("agency_mean"))
        .with_columns(variance=pl.col("sigma2") * (1 / pl.col("n_ratees") - 1 / pl.col("agency_n")))
    )
    weight = 1 / pl.col("variance")
    tau2 = (
        frame.filter(pl.col("variance") > 0)
        .group_by("tahun")
        .agg(tau2=((weight * pl.col("raw_effect") ** 2).sum() - pl.len()) / weight.sum())
        .with_columns(pl.col("tau2").clip(lower_bound=0.0))
    )
    frame = (
        frame.join(tau2, on="tahun", how="left")
        .with_columns(pl.col("tau2").fill_null(0.0))
        .with_columns(
            shrink=pl.when(pl.col("variance") > 0)
            .then(pl.col("tau2") / (pl.col("tau2") + pl.col("variance")))
            .otherwise(1.0)
        )
        .with_columns(shrunk_effect=pl.col("shrink") * pl.col("raw_effect"))
        .join(_welch_vs_rest(ratees, alpha), on=["tahun", "kode_opd", "penilai_key"], how="left")
    )
    published = pl.col("n_ratees") >= min_group_size
    frame = frame.with_columns(
        pl.when(published).then(pl.col("p_value")).otherwise(None).alias("p_value")
    ).sort("tahun", "kode_opd", "penilai_key")
    adjusted = pl.Series("p_adjusted", benjamini_hochberg(frame["p_value"].to_list()))
    frame = frame.with_columns(adjusted.cast(pl.Float64)).with_columns(
        significant=(pl.col("p_adjusted") < alpha).fill_null(False)
    )
    label = (
        pl.when(pl.col("significant") & (pl.col("raw_effect") > 0))
        .then(pl.lit(LENIENT))
        .when(pl.col("significant") & (pl.col("raw_effect") < 0))
        .then(pl.lit(SEVERE))
        .otherwise(pl.lit(TYPICAL))
    )
    figures = {
        "n_ratees": pl.col("n_ratees"),
        "mean_score": pl.col("mean_score"),
        "agency_mean": pl.col("agency_mean"),
        "raw_effect": pl.col("raw_effect"),
        "shrunk_effect": pl.col("shrunk_effect"),
        "ci_low": pl.col("ci_low"),
        "ci_high": pl.col("ci_high"),
        "p_value": pl.col("p_value"),
        "p_adjusted": pl.col("p_adjusted"),
    }
    return frame.select(
        "tahun",
        "kode_opd",
        "penilai_key",
        *[pl.when(published).then(expr).otherwise(None).alias(k) for k, expr in figures.items()],
        "significant",  # False on suppressed rows: they have no p-value
        pl.when(published).then(label).otherwise(None).alias("label"),
        (~published).alias("suppressed"),
    ).cast(RATER_SCHEMA)


def _welch_vs_rest(ratees: pl.DataFrame, alpha: float) -> pl.DataFrame:
    """Per rater: Welch test of its ratee means against the other ratees of the agency-year,
    with the interval rescaled to raw_effect = (1 - n/N) (rater mean - rest mean).

    The rest of an agency is the agency minus the rater, so each test comes from sums per
    rater and per agency (scores centred on their agency mean, which keeps the variances
    exact) rather than from a pass over the agency per rater: 240 s -> seconds at 1M."""
    agency = ["tahun", "kode_opd"]
    centred = ratees.with_columns(d=pl.col("score") - pl.col("score").mean().over(agency))
    sums = {"n": pl.len(), "s": pl.col("d").sum(), "q": (pl.col("d") ** 2).sum()}
    own = centred.group_by(*agency, "penilai_key").agg(**sums)
    totals = centred.group_by(agency).agg(**{f"{k}_all": v for k, v in sums.items()})
    moments = own.join(totals, on=agency).with_columns(
        n_rest=pl.col("n_all") - pl.col("n"),
        s_rest=pl.col("s_all") - pl.col("s"),
        q_rest=pl.col("q_all") - pl.col("q"),
    )
    n1, s1, q1, n2, s2, q2 = (
        moments[c].cast(pl.Float64).to_numpy()
        for c in ("n", "s", "q", "n_rest", "s_rest", "q_rest")
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        mean1, mean2 = s1 / n1, s2 / n2
        var1, var2 = (_sample_variance(n, s, q) for n, s, q in ((n1, s1, q1), (n2, s2, q2)))
    p, low, high = welch_from_moments(n1, mean1, var1, n2, mean2, var2, alpha)
    scale = 1 - n1 / moments["n_all"].cast(pl.Float64).to_numpy()
    return moments.select(agency + ["penilai_key"]).with_columns(
        pl.Series("p_value", p, nan_to_null=True),
        pl.Series("ci_low", scale * low, nan_to_null=True),
        pl.Series("ci_high", scale * high, nan_to_null=True),
    )


def _sample_variance(n: np.ndarray, total: np.ndarray, squares: np.ndarray) -> np.ndarray:
    """Variance (ddof 1) from n, sum and sum of squares; rounding below 1e-12 of the squares
    is 0, so identical values are seen as such (Welch is then undefined, as in scipy)."""
    variance = (squares - total**2 / n) / (n - 1)
    return np.where(variance > 1e-12 * np.maximum(squares / n, 1.0), variance, 0.0)


def lenient_and_severe(effects: pl.DataFrame) -> dict[str, int]:
    """Counts of published raters per label (for asset metadata)."""
    labels = effects.filter(~pl.col("suppressed"))["label"].to_list()
    return {label: int(np.sum([x == label for x in labels])) for label in LABELS}
