"""Every findings family from one set of inputs, judged together: the analysis.findings
table, and the function calibration re-runs on permuted inputs.

Pure on polars frames (no warehouse): the asset reads the inputs once, ``kinerja
calibrate`` passes shuffled copies of the same frames.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import polars as pl

from pipelines.analysis import (
    conditional,
    curve,
    difficulty,
    disparity,
    fairness,
    findings,
    indicator_fairness,
    raters,
    sources,
    trends,
)

# What the families read of intermediate.int_employee_period.
EMPLOYEE_PERIOD_COLUMNS = [
    "employee_key", "tahun", "periode", "period_kind", "period_end_date", "kode_opd",
    "golongan", "jenis_jabatan", "gender", "age_band", "predikat", "rating_hasil_kerja",
    "rating_perilaku", "mean_achievement", "penilai_key", "mean_self_supervisor_gap",
    "n_indicators",  # 0 on ratings-only SIASN records: sources.with_indicators
]  # fmt: skip


# Families that test indicator rows, and the outcome each tests: ratings-only agency-years
# (SIASN records alone) are not assessable for them.
RATINGS_ONLY_FAMILIES = {"indicator": "achievement", difficulty.FAMILY: "share_meeting_target"}


@dataclass(frozen=True)
class FindingInputs:
    employee_period: pl.DataFrame  # EMPLOYEE_PERIOD_COLUMNS of int_employee_period
    indicator_year: pl.DataFrame  # int_employee_indicator_year
    predikat_organisasi: pl.DataFrame  # kode_opd, tahun, predikat_organisasi[, curve_compliant]
    curve: pl.DataFrame | None = None  # marts.mart_distribution_curve
    trend_series: pl.DataFrame | None = None  # analysis.trend_series
    trend_tests: pl.DataFrame | None = None  # analysis.trend_tests of those series, if built

    def with_(self, **changes: object) -> FindingInputs:
        return replace(self, **changes)


def indicator_year_with_jabatan(
    inputs: FindingInputs, years: pl.DataFrame | None = None
) -> pl.DataFrame:
    """int_employee_indicator_year with each employee-year's position type (from
    ``years``, the year outcomes, when the caller already has them)."""
    if years is None:
        years = fairness.year_outcomes(inputs.employee_period)
    jabatan = years.select("employee_key", "tahun", "jenis_jabatan")
    return inputs.indicator_year.join(
        jabatan.with_columns(pl.col("tahun").cast(inputs.indicator_year["tahun"].dtype)),
        on=["employee_key", "tahun"],
        how="inner",
    )


def candidates(
    inputs: FindingInputs,
    min_group_size: int,
    rater_effects: pl.DataFrame | None = None,
    indicator_table: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Unjudged rows of every family. Tables the fairness asset already built are reused."""
    period = inputs.employee_period
    if rater_effects is None:
        rater_effects = raters.rater_effects(period, min_group_size)
    if indicator_table is None:
        indicator_table = indicator_fairness.indicator_fairness(
            inputs.indicator_year, period, min_group_size
        )
    years = fairness.year_outcomes(period)
    parts = [
        disparity.group_disparity(years, inputs.predikat_organisasi, min_group_size),
        disparity.not_assessable_years(period, set(years["tahun"].cast(pl.Int32).to_list())),
        raters.rater_candidates(rater_effects, min_group_size),
        indicator_fairness.indicator_candidates(indicator_table, min_group_size),
        difficulty.indicator_difficulty(indicator_year_with_jabatan(inputs, years), min_group_size),
        sources.ratings_only_candidates(period, RATINGS_ONLY_FAMILIES),
        conditional.conditional_rating(years, min_group_size),
    ]
    if inputs.curve is not None:
        parts.append(curve.curve_candidates(inputs.curve))
    if inputs.trend_series is not None:
        trend_tests = inputs.trend_tests
        if trend_tests is None:
            trend_tests = trends.build_trend_tests(inputs.trend_series)
        parts.append(trends.trend_candidates(inputs.trend_series, trend_tests))
    return pl.concat([p.cast(findings.FINDINGS_SCHEMA) for p in parts])


def build_findings(
    inputs: FindingInputs, min_group_size: int, **tables: pl.DataFrame
) -> pl.DataFrame:
    """analysis.findings: every family's candidates, judged (BH per family and year)."""
    return judged(candidates(inputs, min_group_size, **tables))


def judged(candidate_rows: pl.DataFrame) -> pl.DataFrame:
    """Candidate rows judged (BH per family and year), in the table's order."""
    return findings.judge(candidate_rows).sort(
        "family", "tahun", "kode_opd", "dimension", "subject", "outcome", nulls_last=True
    )
