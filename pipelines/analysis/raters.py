"""Rater leniency and severity: does a rater (penilai_key) give higher or lower predikat
than the other raters of the same agency, per year?

Score: predikat 5 (Sangat Baik) .. 1 (Sangat Kurang). A rater's ratees are rated in up to
five periods a year; those scores are not independent, so the unit is the RATEE: each
ratee's mean score over the periods this rater rated them that year. Per (tahun, kode_opd,
penilai_key):

- mean_score = mean of the rater's ratee means; agency_mean = mean over every ratee of the
  agency-year; raw_effect = mean_score - agency_mean (descriptive). ci_low/ci_high: its
  95% interval from the round-0 test below (rater vs every other ratee of the agency),
  times (1 - n/N), since raw_effect = (1 - n/N) (rater mean - mean of all other ratees).
- The test, on which the label rests: difference = mean_score - reference_mean, the
  reference being the ratees of the agency's other raters (n_reference of them). The
  question is "could a random team of this size from this agency score like this?", so
  the test approximates the permutation test of random assignment:
  z = difference / sqrt(S^2 (1/n + 1/m)), S^2 the variance of rater ∪ reference (the
  agency's spread: the exact permutation variance), and p from a Pearson type III law
  with the permutation distribution's exact skewness (``permutation_test_from_sums``).
  Why not the rater's own spread (Welch, as before): scores pile up at the ceiling (half
  the ratees at 5.0 is normal), a rater's own variance is then ~0, and shuffling raters
  within agency-years gave a false label in 62% of data sets. Why not Student's t on z:
  at the ceiling the permutation distribution is skewed (a few low scorers in a team of
  six are rarer than a symmetric law says), and t gave p 1e-5 where the permutation p
  was 1e-3: still ~10% of null data sets with a false label, against ~3-4% now.
- Deviant raters leave the reference, iteratively (why: one truly lenient rater pulled
  the reference of its colleagues up and made them look "severe"). Round 0 tests every
  rater against all other ratees. A rater is a finding when p_adjusted < 0.05 (BH per
  tahun over every published rater) AND the difference is outside the practical band
  findings.PRACTICAL["predikat_points"] (more than 0.5 predikat points). Per agency, the
  single most extreme new finding (largest |z|) joins the excluded set E, and every rater
  is retested against the ratees of the raters not in E, itself left out (an excluded
  rater against all non-excluded ones). Stop when no rater joins E (or after
  max_rounds). E only grows, and only while at least two published raters stay in the
  reference pool, so every rater keeps a reference of at least one published team.
  excluded_from_reference marks E; n_reference and reference_mean describe the final
  reference.
- p_value, p_adjusted, difference_ci_*: of the final round. BH per tahun, so a new year of
  data never changes last year's labels (findings.judge groups family "rater" the same
  way). significant = p_adjusted < 0.05; label lenient / severe only for a finding
  (significant and beyond the practical band), else typical.
- shrunk_effect, a ranking aid and not the test: empirical Bayes on raw_effect, not
  MixedLM (closed form, fast, transparent). sigma^2 = pooled within-rater variance of
  ratee means in the agency-year; Var(raw_effect) = sigma^2 (1/n - 1/N). Between-rater
  variance tau^2 by the method of moments per year, pooled over agencies, with weights
  w = 1/Var (DerSimonian-Laird with the mean known to be 0):
  tau^2 = max(0, (sum w d^2 - k) / sum w); shrunk_effect = B raw_effect with
  B = tau^2 / (tau^2 + Var). A rater with few ratees is pulled hard toward 0; with one
  deviant rater among many typical ones tau^2 is small and even a clearly lenient rater
  is pulled far toward 0, which is why it is not the test.

Raters with fewer than min_group_size ratees are suppressed (every figure NULL, including
n_ratees): neither tested nor counted in BH, never excluded; their ratees still belong to
the other raters' references and inform sigma^2 and tau^2.

Every test comes from sums (n and the sums of d, d^2, d^3 of agency-centred scores) per
rater and per agency, so a round is a few vector operations, not a pass over the agency
per rater: it must stay fast at 1M employees (100k raters).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from pipelines.analysis import findings
from pipelines.analysis.inference import (
    ALPHA,
    DIFFERENCE_TEST_SCHEMA,
    Sums,
    permutation_test_from_sums,
)
from pipelines.rules import predikat

LENIENT, SEVERE, TYPICAL = "lenient", "severe", "typical"
LABELS = [LENIENT, SEVERE, TYPICAL]
MEASURE = "predikat_points"
BAND = findings.PRACTICAL[MEASURE]
MAX_ROUNDS = 10
REFERENCE_TEXT = "penilai lain di OPD yang sama"

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
    "n_reference": pl.Int64(),
    "reference_mean": pl.Float64(),
    **DIFFERENCE_TEST_SCHEMA,
    "label": pl.String(),
    "excluded_from_reference": pl.Boolean(),
    "suppressed": pl.Boolean(),
}
# NULL on suppressed rows.
FIGURES = [
    "n_ratees", "mean_score", "agency_mean", "raw_effect", "shrunk_effect", "ci_low",
    "ci_high", "n_reference", "reference_mean", "difference", "difference_ci_low",
    "difference_ci_high", "p_value", "p_adjusted", "label",
]  # fmt: skip
AGENCY = ["tahun", "kode_opd"]
KEY = [*AGENCY, "penilai_key"]


def ratee_scores(employee_period: pl.DataFrame) -> pl.DataFrame:
    """One row per (tahun, kode_opd, penilai_key, employee_key): mean predikat score over
    every period that rater rated that employee in that year."""
    return (
        employee_period.filter(
            pl.col("penilai_key").is_not_null() & pl.col("predikat").is_in(list(predikat.SCORE))
        )
        .with_columns(pl.col("predikat").replace_strict(predikat.SCORE).alias("score"))
        .group_by("tahun", "kode_opd", "penilai_key", "employee_key")
        .agg(score=pl.col("score").cast(pl.Float64).mean())
    )


def rater_sums(ratees: pl.DataFrame) -> pl.DataFrame:
    """Per rater, sorted by (tahun, kode_opd, penilai_key): n, s, q (count, sum and sum of
    squares of scores centred on the agency-year mean; centring keeps the variances exact at
    scale), mean_score, agency_n, agency_mean and within_ss (for shrinkage)."""
    centred = ratees.with_columns(d=pl.col("score") - pl.col("score").mean().over(AGENCY))
    return (
        centred.group_by(KEY)
        .agg(
            n=pl.len(),
            s=pl.col("d").sum(),
            q=(pl.col("d") ** 2).sum(),
            c=(pl.col("d") ** 3).sum(),
            mean_score=pl.col("score").mean(),
            within_ss=((pl.col("score") - pl.col("score").mean()) ** 2).sum(),
        )
        .join(
            ratees.group_by(AGENCY).agg(agency_n=pl.len(), agency_mean=pl.col("score").mean()),
            on=AGENCY,
        )
        .sort(KEY)
    )


def is_finding(p_adjusted: np.ndarray, difference: np.ndarray, alpha: float) -> np.ndarray:
    """The findings rule: BH-significant and outside the practical band (as findings.judge)."""
    with np.errstate(invalid="ignore"):
        beyond = (difference < BAND.low) | (difference > BAND.high)
        return (p_adjusted < alpha) & beyond


def reference_tests(
    sums: pl.DataFrame, published: np.ndarray, alpha: float = ALPHA, max_rounds: int = MAX_ROUNDS
) -> dict[str, np.ndarray]:
    """Test every rater row of ``sums`` (from rater_sums) against the other raters of its
    agency-year, excluding deviant raters from the references round by round (module doc).
    Unpublished rows are neither tested nor excluded but stay in every reference;
    ``sums`` must be sorted by (tahun, kode_opd). Returns the final round's arrays (row
    order of ``sums``): those of permutation_test_from_sums with p NaN on unpublished rows,
    plus p_adjusted, n_reference, reference_s (its centred sum), excluded, finding."""
    g = agency_index(sums)
    tahun = sums["tahun"].to_numpy()
    moments = _moments(sums)
    excluded = np.zeros(g.size, dtype=bool)
    pool = published.astype(bool)
    for round_ in range(max_rounds + 1):
        reference = _reference_sums(g, moments, excluded)
        test = permutation_test_from_sums(moments, reference, alpha=alpha)
        p = np.where(published, test["p"], np.nan)
        p_adjusted = findings.bh_within(p, tahun)
        finding = is_finding(p_adjusted, test["difference"], alpha)
        if round_ == max_rounds:
            break
        # at least two published raters stay: with two, who deviates is undecidable
        new = findings.most_extreme_per_group(
            g, finding & ~excluded, np.abs(test["z"]), pool & ~excluded, min_left=2
        )
        if not new.any():
            break
        excluded |= new
    return test | {
        "p": p,
        "p_adjusted": p_adjusted,
        "n_reference": reference.n,
        "reference_s": reference.s,
        "excluded": excluded,
        "finding": finding,
    }


def agency_index(sums: pl.DataFrame) -> np.ndarray:
    """0-based agency-year index of each row of a frame sorted by (tahun, kode_opd)."""
    first = sums.select(pl.struct(AGENCY).is_first_distinct()).to_series().to_numpy()
    return np.cumsum(first) - 1


def _moments(sums: pl.DataFrame) -> Sums:
    """(n, s, q, c) of rater_sums rows as float arrays."""
    return Sums(*(sums[c].cast(pl.Float64).to_numpy() for c in ("n", "s", "q", "c")))


def _reference_sums(g: np.ndarray, moments: Sums, excluded: np.ndarray) -> Sums:
    """(n, s, q, c) of each row's reference: the agency's raters not in ``excluded``, minus
    the row itself when it is one of them (an excluded rater is not in its own reference)."""
    kept = (~excluded).astype(float)
    groups = int(g.max()) + 1 if g.size else 0
    columns = (moments.n, moments.s, moments.q, moments.c)
    return Sums(*(np.bincount(g, x * kept, groups)[g] - x * kept for x in columns))


def rater_effects(
    employee_period: pl.DataFrame,
    min_group_size: int = 5,
    alpha: float = ALPHA,
    max_rounds: int = MAX_ROUNDS,
) -> pl.DataFrame:
    """analysis.rater_effects from intermediate.int_employee_period rows (all periods).
    max_rounds=0 tests every rater against all other ratees (no exclusion)."""
    sums = rater_sums(ratee_scores(employee_period))
    published = (sums["n"] >= min_group_size).to_numpy()
    final = reference_tests(sums, published, alpha, max_rounds)
    # raw_effect's interval: round 0 (every other ratee of the agency), rescaled.
    moments = _moments(sums)
    everyone = _reference_sums(agency_index(sums), moments, np.zeros(sums.height, dtype=bool))
    round0 = permutation_test_from_sums(moments, everyone, alpha=alpha)
    scale = 1 - moments.n / sums["agency_n"].cast(pl.Float64).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        reference_mean = (
            sums["agency_mean"].to_numpy() + final["reference_s"] / final["n_reference"]
        )
    frame = sums.with_columns(
        raw_effect=pl.col("mean_score") - pl.col("agency_mean"),
        ci_low=pl.Series(scale * round0["low"], nan_to_null=True),
        ci_high=pl.Series(scale * round0["high"], nan_to_null=True),
        n_reference=pl.Series(final["n_reference"].round().astype(np.int64)),
        reference_mean=pl.Series(reference_mean, nan_to_null=True),
        difference=pl.Series(final["difference"], nan_to_null=True),
        difference_ci_low=pl.Series(final["low"], nan_to_null=True),
        difference_ci_high=pl.Series(final["high"], nan_to_null=True),
        p_value=pl.Series(final["p"], nan_to_null=True),
        p_adjusted=pl.Series(final["p_adjusted"], nan_to_null=True),
        finding=pl.Series(final["finding"]),
        excluded_from_reference=pl.Series(final["excluded"]),
    )
    frame = _with_shrinkage(frame)
    label = label_of(pl.col("finding"))
    visible = pl.col("n") >= min_group_size
    figures = {c: pl.col(c) for c in FIGURES} | {"n_ratees": pl.col("n"), "label": label}
    return (
        frame.select(
            "tahun",
            "kode_opd",
            "penilai_key",
            *[pl.when(visible).then(figures[c]).otherwise(None).alias(c) for c in FIGURES],
            significant=(pl.col("p_adjusted") < alpha).fill_null(False) & visible,
            excluded_from_reference=pl.col("excluded_from_reference"),
            suppressed=~visible,
        )
        .select(list(RATER_SCHEMA))
        .cast(RATER_SCHEMA)
    )


def label_of(finding: pl.Expr) -> pl.Expr:
    """lenient / severe for a finding (by the sign of the difference), else typical."""
    return (
        pl.when(finding & (pl.col("difference") > 0))
        .then(pl.lit(LENIENT))
        .when(finding & (pl.col("difference") < 0))
        .then(pl.lit(SEVERE))
        .otherwise(pl.lit(TYPICAL))
    )


def _with_shrinkage(frame: pl.DataFrame) -> pl.DataFrame:
    """shrunk_effect: empirical-Bayes shrinkage of raw_effect (module doc)."""
    pooled = frame.group_by(AGENCY).agg(sigma2=pl.col("within_ss").sum() / (pl.col("n") - 1).sum())
    frame = frame.join(pooled, on=AGENCY, how="left", maintain_order="left").with_columns(
        variance=pl.col("sigma2") * (1 / pl.col("n") - 1 / pl.col("agency_n"))
    )
    weight = 1 / pl.col("variance")
    tau2 = (
        frame.filter(pl.col("variance") > 0)
        .group_by("tahun")
        .agg(tau2=((weight * pl.col("raw_effect") ** 2).sum() - pl.len()) / weight.sum())
        .with_columns(pl.col("tau2").clip(lower_bound=0.0))
    )
    return (
        frame.join(tau2, on="tahun", how="left", maintain_order="left")
        .with_columns(pl.col("tau2").fill_null(0.0))
        .with_columns(
            shrunk_effect=pl.when(pl.col("variance") > 0)
            .then(pl.col("tau2") / (pl.col("tau2") + pl.col("variance")))
            .otherwise(1.0)
            * pl.col("raw_effect")
        )
    )


def lenient_and_severe(effects: pl.DataFrame) -> dict[str, int]:
    """Counts of published raters per label (for asset metadata)."""
    labels = effects.filter(~pl.col("suppressed"))["label"].to_list()
    return {label: int(np.sum([x == label for x in labels])) for label in LABELS}


def rater_candidates(effects: pl.DataFrame, min_group_size: int = 5) -> pl.DataFrame:
    """analysis.rater_effects rows as candidate rows of analysis.findings (family "rater").

    Testable rows leave p_adjusted and verdict NULL for findings.judge, whose BH per
    (family, tahun) over the same published p-values reproduces this table's p_adjusted;
    suppressed raters are marked here, with the reason, and take no part in BH."""
    reason = f"Penilai menilai kurang dari {min_group_size} pegawai: tidak dipublikasikan."
    records = []
    for row in effects.sort(KEY).iter_rows(named=True):
        record = {
            "family": "rater",
            "tahun": row["tahun"],
            "kode_opd": row["kode_opd"],
            "dimension": None,
            "subject": row["penilai_key"],
            "reference": REFERENCE_TEXT,
            "outcome": "predikat_score",
            "effect_measure": MEASURE,
        }
        if row["suppressed"]:
            record |= {"verdict": findings.SUPPRESSED, "reason": reason}
        else:
            record |= {
                "n": row["n_ratees"],
                "n_reference": row["n_reference"],
                "effect": row["difference"],
                "effect_ci_low": row["difference_ci_low"],
                "effect_ci_high": row["difference_ci_high"],
                "p_value": row["p_value"],
            }
        records.append(record)
    return findings.candidates(records) if records else findings.empty()
