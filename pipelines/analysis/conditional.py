"""Equal rating for equal results: at the SAME achievement, golongan and agency, does a group
(women, by default) get the same ratings as its reference group (men)?

A crude gap in Sangat Baik shares can be earned: if women's achievement (realisasi /
target) is lower, their lower ratings follow the rules. This family asks what is left
once achievement is held equal. Per tahun (pooled over agencies, so ``kode_opd`` is NULL on
every row) and per outcome:

- ``predikat`` (5 levels, Sangat Kurang < ... < Sangat Baik);
- ``rating_hasil_kerja`` (results, 3 levels DI BAWAH < SESUAI < DI ATAS EKSPEKTASI);
- ``rating_perilaku`` (behaviour, 3 levels): the subjective rating, where bias would hide.

Model: ordered logit (statsmodels ``OrderedModel``, proportional odds) of the outcome on
mean_achievement (clipped to [0, 2]: a mistyped target of 0,01 must not become a lever
of 10 000), one indicator per group of the dimension (reference left out), golongan as
its rank 1..17 (I/a..IV/e: one parameter instead of 16 dummies; grades are ordered) and
agency fixed effects (kode_opd dummies). The outcome is coded from worst to best, so
exp(beta) > 1 means the group gets BETTER ratings than the reference at equal
achievement, golongan and agency, and < 1 worse. Reported: that odds ratio
(effect_measure "odds_ratio") with its Wald 95% interval exp(beta +- 1.96 se) and Wald
p-value; ``findings.judge`` decides the verdict.

Identification, so the fit means what it says:

- rows with indicator rows only (``sources.with_indicators``: ratings-only SIASN records
  have no achievement to hold equal; a tahun with SIASN records only is not assessable,
  ``sources.RATINGS_ONLY_REASON``), then complete cases (outcome, group, achievement
  and golongan present);
- agencies with fewer than ``MIN_AGENCY_ROWS`` rows share one pooled dummy (a fixed
  effect estimated from a handful of people biases a logit's other coefficients);
- an agency whose every row sits at the lowest or the highest observed level is dropped:
  its fixed effect runs to infinity and, in the limit, its rows carry no information on
  the other coefficients, so dropping them gives the same estimate and a fit that
  converges;
- columns go in as adjustments first (achievement, golongan rank, agency dummies with the
  largest agency as reference), group indicators last; a column that is constant or a
  linear combination of those before it (and of the thresholds, which play the
  intercept) is dropped; if that hits a group indicator, the group is confounded with
  agency/golongan and its row is not assessable;
- a group coefficient beyond +-``MAX_ABS_COEF`` is separation (e.g. every woman in the
  top level), not an estimate: not assessable.

Speed: the fit is ``ordered_logit.fit_ordered_logit`` (the stock model with analytic
derivatives, about 0.5 s for three outcomes on a 20 000-row year; see there why). A year
with more than ``MAX_FIT_ROWS`` (50 000) usable rows is fitted on a seeded random sample
of 50 000 rows (seed ``SAMPLE_SEED``); n and n_reference then count the sampled rows.

Input columns: employee_key, tahun, kode_opd, golongan, mean_achievement, predikat,
rating_hasil_kerja, rating_perilaku and each dimension's column (gender "L"/"P");
n_indicators (or source) when the frame may hold SIASN records.

Not assessed (verdict set here, reason in Bahasa Indonesia, no p-value): only ratings-only
(SIASN) records for the year, achievement or the outcome missing for the year, only one
outcome level observed, the group confounded with agency/golongan, or a fit that fails
or does not converge (statsmodels' convergence and Hessian warnings are silenced and read
from the result instead). A group, or the reference, with fewer than ``min_group_size``
usable rows is ``suppressed`` (every figure NULL).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import sparse, stats

from pipelines.analysis import findings
from pipelines.analysis.fairness import choose_reference
from pipelines.analysis.ordered_logit import fit_ordered_logit
from pipelines.analysis.sources import RATINGS_ONLY_REASON, with_indicators
from pipelines.rules import golongan, predikat

FAMILY = "conditional_rating"
RATING_SCORE = predikat.RATING_SCORE  # 1 DI BAWAH .. 3 DI ATAS EKSPEKTASI
# outcome column -> level -> rank (higher is better)
OUTCOMES: dict[str, Mapping[str, int]] = {
    "predikat": predikat.SCORE,
    "rating_hasil_kerja": RATING_SCORE,
    "rating_perilaku": RATING_SCORE,
}
GOLONGAN_ORDER = list(golongan.ORDER)  # I/a .. IV/e, from the seed
GOLONGAN_RANK = golongan.RANK
# dimension -> its reference group when present and publishable (else the largest group).
REFERENCE_GROUPS: dict[str, str] = {"gender": "L"}
# dimension -> groups that always get a row (a year without women still says so).
KNOWN_GROUPS: dict[str, tuple[str, ...]] = {"gender": ("L", "P")}
ACHIEVEMENT_CLIP = (0.0, 2.0)
MIN_AGENCY_ROWS = 20
MAX_FIT_ROWS = 50_000
SAMPLE_SEED = 20_240_101
MAX_ABS_COEF = 15.0  # |beta| beyond this is separation, not an estimate
Z_95 = float(stats.norm.ppf(0.975))
REQUIRED_COLUMNS = ("employee_key", "tahun", "kode_opd", "golongan", "mean_achievement")
POOLED_AGENCY = "__instansi_kecil__"


# ---------------------------------------------------------------- design


@dataclass(frozen=True)
class Design:
    """The matrices of one fit: outcome codes (0 = worst observed level), exog columns
    (adjustments, then the group indicators) and the rows' group labels."""

    y: np.ndarray
    x: np.ndarray
    columns: list[str]
    group: np.ndarray


def design(
    rows: pl.DataFrame, outcome: str, dimension: str, reference: str, subjects: Sequence[str]
) -> Design:
    """The model's matrices for complete-case rows of one year (``prepare``d, holding only
    the reference and the tested groups), agencies pooled/dropped as the module doc says."""
    rows = _drop_extreme_agencies(_pool_small_agencies(rows), outcome)
    y = rows[outcome].replace_strict(dict(OUTCOMES[outcome]), return_dtype=pl.Int64).to_numpy()
    group = rows[dimension].to_numpy()
    blocks = {}
    blocks["mean_achievement"] = (
        rows["mean_achievement"].clip(*ACHIEVEMENT_CLIP).cast(pl.Float64).to_numpy()
    )
    blocks["golongan_rank"] = rows["golongan_rank"].cast(pl.Float64).to_numpy()
    agencies = rows["kode_opd"].value_counts(sort=True, name="_n")["kode_opd"].to_list()
    opd = rows["kode_opd"].to_numpy()
    for agency in sorted(agencies[1:]):  # the largest agency is the reference level
        blocks[f"kode_opd={agency}"] = (opd == agency).astype(float)
    for subject in subjects:  # last: dropped, not an adjustment, if confounded with those
        blocks[f"{dimension}={subject}"] = (group == subject).astype(float)
    names = list(blocks)
    matrix = np.column_stack([blocks[c] for c in names]) if names else np.empty((len(y), 0))
    keep = independent_columns(matrix)
    _, codes = np.unique(y, return_inverse=True)
    return Design(codes, matrix[:, keep], [names[i] for i in keep], group)


def independent_columns(matrix: np.ndarray, tol: float = 1e-8) -> list[int]:
    """Indices of columns kept, in order, dropping each column that is constant or a linear
    combination of the kept ones plus a constant (the thresholds act as the intercept)."""
    as_sparse = sparse.csr_array(matrix)
    raw = (as_sparse.T @ as_sparse).toarray()
    mean = matrix.mean(axis=0)
    gram = raw - len(matrix) * np.outer(mean, mean)  # cross-products of centred columns
    kept: list[int] = []
    for j in range(matrix.shape[1]):
        if gram[j, j] <= 1e-12 * max(raw[j, j], 1e-300):
            continue  # constant
        if kept:
            sub = gram[np.ix_(kept, kept)]
            cross = gram[kept, j]
            residual = gram[j, j] - cross @ np.linalg.solve(sub, cross)
        else:
            residual = gram[j, j]
        if residual > tol * gram[j, j]:
            kept.append(j)
    return kept


def _pool_small_agencies(rows: pl.DataFrame) -> pl.DataFrame:
    size = pl.len().over("kode_opd")
    return rows.with_columns(
        kode_opd=pl.when(size < MIN_AGENCY_ROWS).then(pl.lit(POOLED_AGENCY)).otherwise("kode_opd")
    )


def _drop_extreme_agencies(rows: pl.DataFrame, outcome: str) -> pl.DataFrame:
    score = pl.col(outcome).replace_strict(dict(OUTCOMES[outcome]), return_dtype=pl.Int64)
    lowest, highest = rows.select(score.min()).item(), rows.select(score.max()).item()
    per_agency = rows.group_by("kode_opd").agg(lo=score.min(), hi=score.max())
    extreme = per_agency.filter(
        (pl.col("lo") == pl.col("hi")) & pl.col("lo").is_in([lowest, highest])
    )["kode_opd"]
    return rows.filter(~pl.col("kode_opd").is_in(extreme.implode()))


# ---------------------------------------------------------------- the family


def conditional_rating(
    employee_year: pl.DataFrame,
    min_group_size: int = 5,
    dimensions: Sequence[str] = ("gender",),
) -> pl.DataFrame:
    """Candidate ``conditional_rating`` rows (FINDINGS_SCHEMA, verdicts open unless not
    assessable or suppressed): per tahun, outcome and group of each dimension, the odds
    ratio of a better rating than the reference group at equal achievement, golongan and
    agency (> 1: the group is rated better). See the module docstring."""
    missing = [
        c for c in (*REQUIRED_COLUMNS, *OUTCOMES, *dimensions) if c not in employee_year.columns
    ]
    if missing:
        raise ValueError(f"employee_year lacks columns {missing}")
    base = prepare(employee_year)
    records: list[dict[str, object]] = []
    for (tahun,), year in base.sort("tahun").group_by("tahun", maintain_order=True):
        for dimension in dimensions:
            for outcome in OUTCOMES:
                records += _assess(year, int(tahun), outcome, dimension, min_group_size)
    return findings.candidates(records) if records else findings.empty()


def prepare(employee_year: pl.DataFrame) -> pl.DataFrame:
    """Typed copy with ``golongan_rank`` (1 = I/a .. 17 = IV/e, NULL when unknown) and NaN
    achievement read as missing."""
    return employee_year.with_columns(
        pl.col("tahun").cast(pl.Int32),
        pl.col("kode_opd").cast(pl.String),
        pl.col("mean_achievement").cast(pl.Float64).fill_nan(None),
        golongan_rank=pl.col("golongan")
        .cast(pl.String)
        .str.strip_chars()
        .replace_strict(GOLONGAN_RANK, default=None, return_dtype=pl.Int64),
    )


def _assess(
    year: pl.DataFrame, tahun: int, outcome: str, dimension: str, min_group_size: int
) -> list[dict[str, object]]:
    levels = list(OUTCOMES[outcome])
    year = year.with_columns(pl.col(dimension).cast(pl.String), pl.col(outcome).cast(pl.String))
    year = year.filter(pl.col(dimension).is_not_null())
    rows = year.filter(pl.col(outcome).is_in(levels))
    preferred = REFERENCE_GROUPS.get(dimension)
    all_groups = sorted({*year[dimension].unique().to_list(), *KNOWN_GROUPS.get(dimension, ())})
    base = {"family": FAMILY, "tahun": tahun, "dimension": dimension, "outcome": outcome}

    def rows_for(
        reference: str | None, reason: str, verdict: str = findings.NOT_ASSESSABLE
    ) -> list[dict[str, object]]:
        """Every subject row of this (tahun, outcome, dimension), untested."""
        subjects = [g for g in all_groups if g != reference]
        return [
            base | {"subject": s, "reference": reference, "verdict": verdict, "reason": reason}
            for s in subjects
        ]

    if rows.is_empty():
        return rows_for(preferred, f"Data {_label(outcome)} tidak tersedia")
    rows = with_indicators(rows)
    if rows.is_empty():
        return rows_for(preferred, RATINGS_ONLY_REASON)
    if rows["mean_achievement"].is_null().all():
        return rows_for(preferred, "Capaian tidak tersedia")
    usable = rows.drop_nulls(["mean_achievement", "golongan_rank", "kode_opd"])
    if usable.is_empty():
        return rows_for(preferred, "Golongan atau instansi tidak tersedia")
    sizes = dict(usable[dimension].value_counts().iter_rows())
    reference = choose_reference(sizes, min_group_size, preferred)
    if reference is None or (preferred is not None and reference != preferred):
        return rows_for(
            preferred or reference,
            f"Kurang dari {min_group_size} pegawai per kelompok",
            findings.SUPPRESSED,
        )
    subjects = [g for g in all_groups if g != reference]
    small = [s for s in subjects if sizes.get(s, 0) < min_group_size]
    tested = [s for s in subjects if s not in small]
    out = [
        base
        | {
            "subject": s,
            "reference": reference,
            "verdict": findings.SUPPRESSED,
            "reason": f"Kurang dari {min_group_size} pegawai per kelompok",
        }
        for s in small
    ]
    if not tested:
        return out
    usable = usable.filter(pl.col(dimension).is_in([reference, *tested]))
    if len(usable) > MAX_FIT_ROWS:
        usable = usable.sample(n=MAX_FIT_ROWS, seed=SAMPLE_SEED)
    return out + _fit_rows(usable, base, outcome, dimension, reference, tested, min_group_size)


def _fit_rows(
    usable: pl.DataFrame,
    base: Mapping[str, object],
    outcome: str,
    dimension: str,
    reference: str,
    tested: Sequence[str],
    min_group_size: int,
) -> list[dict[str, object]]:
    def fail(reason: str) -> list[dict[str, object]]:
        return [
            dict(base)
            | {
                "subject": s,
                "reference": reference,
                "verdict": findings.NOT_ASSESSABLE,
                "reason": reason,
            }
            for s in tested
        ]

    if usable[outcome].n_unique() < 2:
        return fail(f"Hanya satu tingkat {_label(outcome)} yang teramati")
    d = design(usable, outcome, dimension, reference, tested)
    if len(np.unique(d.y)) < 2:
        return fail(f"Hanya satu tingkat {_label(outcome)} yang teramati")
    n_reference = int((d.group == reference).sum())
    fit = fit_ordered_logit(d.y, d.x) if d.x.shape[1] else None
    out = []
    for subject in tested:
        row = dict(base) | {"subject": subject, "reference": reference}
        n = int((d.group == subject).sum())
        column = f"{dimension}={subject}"
        if n < min_group_size or n_reference < min_group_size:
            reason = f"Kurang dari {min_group_size} pegawai per kelompok di instansi pembanding"
            out.append(row | {"verdict": findings.NOT_ASSESSABLE, "reason": reason})
            continue
        if column not in d.columns:
            reason = "Kelompok tidak dapat dipisahkan dari instansi dan golongan"
            out.append(row | {"verdict": findings.NOT_ASSESSABLE, "reason": reason})
            continue
        i = d.columns.index(column)
        beta = float(fit.params[i]) if fit else math.nan
        se = float(fit.bse[i]) if fit else math.nan
        if not (
            fit and fit.converged and math.isfinite(se) and se > 0 and abs(beta) < MAX_ABS_COEF
        ):
            out.append(
                row | {"verdict": findings.NOT_ASSESSABLE, "reason": "Model tidak konvergen"}
            )
            continue
        out.append(
            row
            | {
                "n": n,
                "n_reference": n_reference,
                "effect": math.exp(beta),
                "effect_ci_low": math.exp(beta - Z_95 * se),
                "effect_ci_high": math.exp(beta + Z_95 * se),
                "effect_measure": "odds_ratio",
                "p_value": float(2 * stats.norm.sf(abs(beta / se))),
            }
        )
    return out


def _label(outcome: str) -> str:
    return {
        "predikat": "predikat",
        "rating_hasil_kerja": "rating hasil kerja",
        "rating_perilaku": "rating perilaku kerja",
    }[outcome]
