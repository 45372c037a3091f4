"""Fairness inside the work itself: do women and men of the same agency reach the same
achievement (realisasi / target) on the same indicator, and do groups differ in how far
their self-assessment exceeds the supervisor's?

Indicators: per tahun x kode_opd x kode_indikator, women ('P', gender from the NIP) against
men ('L', the reference). The unit is the employee-year: an employee's mean achievement on
that indicator over the periods of the year (quarters and the annual period are repeated
measures of one person, not independent observations). Welch's t-test (unequal variances)
with the Welch-Satterthwaite interval of the difference; Benjamini-Hochberg over every
published comparison. Suppressed (figures NULL) when either sex has < min_group_size
employees on that indicator.

Self-vs-supervisor gap (nilai_mandiri - nilai_atasan): per tahun and fairness dimension,
each group's mean of employee-year mean gaps with a t interval, compared with the largest
publishable group by Welch's t-test; BH over the table; groups < min_group_size suppressed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl
from scipy import stats

from pipelines.analysis import findings
from pipelines.analysis.fairness import (
    DIMENSIONS,
    choose_reference,
    group_column,
    year_outcomes,
)
from pipelines.analysis.inference import ALPHA, DIFFERENCE_TEST_SCHEMA, welch, with_bh
from pipelines.analysis.sources import with_indicators

WOMEN, MEN = "P", "L"

INDICATOR_SCHEMA: dict[str, pl.DataType] = {
    "tahun": pl.Int32(),
    "kode_opd": pl.String(),
    "kode_indikator": pl.String(),
    "dimension": pl.String(),
    "group_value": pl.String(),
    "reference_group": pl.String(),
    "n": pl.Int64(),
    "n_reference": pl.Int64(),
    "mean_achievement": pl.Float64(),
    "reference_mean": pl.Float64(),
    **DIFFERENCE_TEST_SCHEMA,
    "suppressed": pl.Boolean(),
}
SELF_GAP_SCHEMA: dict[str, pl.DataType] = {
    "tahun": pl.Int32(),
    "dimension": pl.String(),
    "group_value": pl.String(),
    "n": pl.Int64(),
    "mean_gap": pl.Float64(),
    "ci_low": pl.Float64(),
    "ci_high": pl.Float64(),
    "reference_group": pl.String(),
    "difference": pl.Float64(),
    "p_value": pl.Float64(),
    "p_adjusted": pl.Float64(),
    "significant": pl.Boolean(),
    "suppressed": pl.Boolean(),
}


# ---------------------------------------------------------------- indicators


def employee_indicator_means(
    indicator_achievement: pl.DataFrame, employee_period: pl.DataFrame
) -> pl.DataFrame:
    """(tahun, kode_opd, kode_indikator, employee_key, gender, achievement): the mean
    achievement of one employee on one indicator over the periods of a year."""
    gender = (
        employee_period.drop_nulls("gender")
        .unique(["employee_key", "tahun"], keep="first", maintain_order=True)
        .select(
            "employee_key", pl.col("tahun").cast(indicator_achievement["tahun"].dtype), "gender"
        )
    )
    return (
        indicator_achievement.drop_nulls("achievement")
        .join(gender, on=["employee_key", "tahun"], how="inner")
        .group_by("tahun", "kode_opd", "kode_indikator", "employee_key", "gender")
        .agg(achievement=pl.col("achievement").mean())
    )


def indicator_fairness(
    indicator_achievement: pl.DataFrame,
    employee_period: pl.DataFrame,
    min_group_size: int = 5,
    alpha: float = ALPHA,
) -> pl.DataFrame:
    """analysis.indicator_fairness: women vs men per tahun x kode_opd x kode_indikator."""
    means = employee_indicator_means(indicator_achievement, employee_period)
    records = []
    cells = means.partition_by("tahun", "kode_opd", "kode_indikator", as_dict=True)
    for (tahun, kode_opd, kode_indikator), cell in sorted(cells.items()):
        women = cell.filter(pl.col("gender") == WOMEN)["achievement"].to_numpy()
        men = cell.filter(pl.col("gender") == MEN)["achievement"].to_numpy()
        row: dict[str, object] = {
            "tahun": tahun,
            "kode_opd": kode_opd,
            "kode_indikator": kode_indikator,
            "dimension": "gender",
            "group_value": WOMEN,
            "reference_group": MEN,
            "suppressed": len(women) < min_group_size or len(men) < min_group_size,
        }
        if not row["suppressed"]:
            p, low, high = welch(women, men, alpha)
            row |= {
                "n": len(women),
                "n_reference": len(men),
                "mean_achievement": float(women.mean()),
                "reference_mean": float(men.mean()),
                "difference": float(women.mean() - men.mean()),
                "difference_ci_low": low,
                "difference_ci_high": high,
                "p_value": p,
            }
        records.append(row)
    return with_bh(pl.DataFrame(records, schema=INDICATOR_SCHEMA), alpha)


# ---------------------------------------------------------------- self vs supervisor


def employee_year_gaps(employee_period: pl.DataFrame) -> pl.DataFrame:
    """Attributes of each employee-year (``year_outcomes``) with the mean self-minus-supervisor
    gap over its periods with indicator rows (``with_indicators``: ratings-only SIASN
    records have no gap to compare, they are not assessable, so an employee-year or a
    tahun with SIASN records only has no row here); NULL gaps of such periods ignored."""
    gaps = (
        with_indicators(employee_period)
        .drop_nulls("mean_self_supervisor_gap")
        .group_by("employee_key", "tahun")
        .agg(gap=pl.col("mean_self_supervisor_gap").mean())
    )
    return year_outcomes(employee_period).join(gaps, on=["employee_key", "tahun"], how="inner")


def self_gap_by_group(
    employee_period: pl.DataFrame,
    min_group_size: int = 5,
    reference_groups: Mapping[str, str] | None = None,
    dimensions: Sequence[str] = tuple(DIMENSIONS),
    alpha: float = ALPHA,
) -> pl.DataFrame:
    """analysis.self_gap_by_group from intermediate.int_employee_period rows."""
    years = employee_year_gaps(employee_period)
    preferred = dict(reference_groups or {})
    records = []
    for dimension in dimensions:
        long = years.select(
            pl.col("tahun").cast(pl.Int32), group_column(dimension).alias("group_value"), "gap"
        ).drop_nulls("group_value")
        for (tahun,), rows in sorted(long.partition_by("tahun", as_dict=True).items()):
            samples = {
                g: part["gap"].to_numpy()
                for (g,), part in rows.partition_by("group_value", as_dict=True).items()
            }
            sizes = {g: len(v) for g, v in samples.items()}
            reference = choose_reference(sizes, min_group_size, preferred.get(dimension))
            for group in sorted(samples):
                records.append(
                    _gap_row(tahun, dimension, group, samples, reference, min_group_size, alpha)
                )
    frame = pl.DataFrame(records, schema=SELF_GAP_SCHEMA)
    return with_bh(frame, alpha).sort("tahun", "dimension", "group_value")


def _gap_row(
    tahun: int,
    dimension: str,
    group: str,
    samples: Mapping[str, np.ndarray],
    reference: str | None,
    min_group_size: int,
    alpha: float,
) -> dict[str, object]:
    values = samples[group]
    row: dict[str, object] = {"tahun": tahun, "dimension": dimension, "group_value": group}
    if len(values) < min_group_size:
        return row | {"suppressed": True}
    mean = float(values.mean())
    sem = float(stats.sem(values)) if len(values) > 1 else float("nan")
    half = float(stats.t.ppf(1 - alpha / 2, len(values) - 1) * sem) if sem > 0 else 0.0
    row |= {
        "n": len(values),
        "mean_gap": mean,
        "ci_low": mean - half,
        "ci_high": mean + half,
        "reference_group": reference,
        "suppressed": False,
    }
    if reference is None:
        return row
    row["difference"] = mean - float(samples[reference].mean())
    if group != reference:
        row["p_value"] = welch(values, samples[reference], alpha)[0]
    return row


def indicator_candidates(table: pl.DataFrame, min_group_size: int) -> pl.DataFrame:
    """Family ``indicator`` of analysis.findings from analysis.indicator_fairness: women vs
    men achievement per agency, indicator and year (effect in achievement points)."""
    records = []
    for r in table.iter_rows(named=True):
        row = {
            "family": "indicator",
            "tahun": r["tahun"],
            "kode_opd": r["kode_opd"],
            "dimension": r["dimension"],
            "subject": r["kode_indikator"],
            "reference": f"{r['group_value']} vs {r['reference_group']}",
            "outcome": "achievement",
        }
        if r["suppressed"]:
            row |= {
                "verdict": findings.SUPPRESSED,
                "reason": f"Perempuan atau laki-laki pada indikator ini kurang dari"
                f" {min_group_size} pegawai: tidak dipublikasikan.",
            }
        else:
            row |= {
                "n": r["n"],
                "n_reference": r["n_reference"],
                "effect": r["difference"],
                "effect_ci_low": r["difference_ci_low"],
                "effect_ci_high": r["difference_ci_high"],
                "effect_measure": "achievement_points",
                "p_value": r["p_value"],
            }
            if r["p_value"] is None:
                row |= {
                    "verdict": findings.NOT_ASSESSABLE,
                    "reason": "Capaian tidak bervariasi: uji Welch tidak dapat dihitung.",
                }
        records.append(row)
    return findings.candidates(records)
