"""Rater leniency and severity: does a rater (penilai_key) give higher or lower predikat
than their agency as a whole, per year?

Score: predikat 5 (Sangat Baik) .. 1 (Sangat Kurang). A rater's ratees are rated in up to
five periods a year; those scores are not independent, so the unit is the RATEE: each
ratee's mean score over the periods this rater rated them that year. Then per (tahun,
kode_opd, penilai_key):

- mean_score = mean of the rater's ratee means; agency_mean = mean over every ratee of the
  agency-year; raw_effect = mean_score - agency_mean.
- sigma^2 = pooled within-rater variance of ratee means in that agency-year. Since the
  agency mean contains the rater's own ratees, Var(raw_effect) = sigma^2 (1/n - 1/N)
  (n ratees of the rater, N of the agency); z = raw_effect / SE, two-sided normal p,
  Benjamini-Hochberg over every published rater in the table.
- Shrinkage: empirical Bayes, not MixedLM (closed form, fast, and transparent to an
  evaluator). Between-rater variance tau^2 by the method of moments per year, pooled over
  agencies, with inverse-variance weights w = 1/Var (DerSimonian-Laird with the mean known
  to be 0, as effects are centred on their agency): E[sum w d^2] = k + tau^2 sum w, so
  tau^2 = max(0, (sum w d^2 - k) / sum w). Shrink factor
  B = tau^2 / (tau^2 + Var(raw_effect)); shrunk_effect = B * raw_effect. A rater with few
  ratees has a large Var and is pulled hard toward 0 (typical); a rater with many keeps
  most of the raw effect.
- ci_low/ci_high: 95% Wald interval of the RAW effect, raw +- z sqrt(Var), so that it
  agrees with the z-test (excludes 0 exactly when p < 0.05 before adjustment). The shrunk
  effect is a ranking aid: with one deviant rater among many typical ones tau^2 is small
  and the normal prior pulls even a clearly lenient rater far toward 0.
- label: 'lenient' / 'severe' when significant (p_adjusted < 0.05) with positive /
  negative raw effect, else 'typical'.

Raters with fewer than min_group_size ratees are suppressed (every figure NULL, including
n_ratees) and take no part in BH; they still inform sigma^2 and tau^2.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
from scipy import stats

from pipelines.analysis.fairness import ALPHA, PREDIKAT_SCORE, benjamini_hochberg

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
    z = stats.norm.ppf(1 - alpha / 2)
    frame = (
        frame.join(tau2, on="tahun", how="left")
        .with_columns(pl.col("tau2").fill_null(0.0))
        .with_columns(
            shrink=pl.when(pl.col("variance") > 0)
            .then(pl.col("tau2") / (pl.col("tau2") + pl.col("variance")))
            .otherwise(1.0)
        )
        .with_columns(shrunk_effect=pl.col("shrink") * pl.col("raw_effect"))
        .with_columns(
            half_width=z * pl.col("variance").sqrt(),
            p_value=pl.struct("raw_effect", "variance").map_elements(
                lambda r: _z_test(r["raw_effect"], r["variance"]), return_dtype=pl.Float64
            ),
        )
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
        "ci_low": pl.col("raw_effect") - pl.col("half_width"),
        "ci_high": pl.col("raw_effect") + pl.col("half_width"),
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


def _z_test(effect: float | None, variance: float | None) -> float | None:
    """Two-sided normal p of effect / sqrt(variance); None when undefined."""
    if effect is None or variance is None or not variance > 0 or not math.isfinite(variance):
        return None
    return float(2 * stats.norm.sf(abs(effect) / math.sqrt(variance)))


def lenient_and_severe(effects: pl.DataFrame) -> dict[str, int]:
    """Counts of published raters per label (for asset metadata)."""
    labels = effects.filter(~pl.col("suppressed"))["label"].to_list()
    return {label: int(np.sum([x == label for x in labels])) for label in LABELS}
