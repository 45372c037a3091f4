"""Rating outcomes by group: who gets the top band (Sangat Baik) and who the bottom band
(Butuh Perbaikan or worse), per year, by gender, age band, golongan, position type, agency
and two intersections.

Unit of analysis: one employee-year, taken from the annual period ('TAHUNAN') or, when the
employee has none that year, from the last periodic rating (``year_outcomes``), so an
employee counts once per year however many quarters were rated.

Each group is compared with a reference group (the largest publishable group of the
dimension unless the caller names one): rate with a Wilson interval, risk ratio with a
log-normal interval, difference with Newcombe's hybrid-score interval, and a 2x2 test
(Fisher's exact when any expected cell < 5, else Pearson chi-square without continuity
correction). p-values are Benjamini-Hochberg adjusted over every test in the table.

A crude gap can come from mix alone (women concentrated in lower grades, or in agencies
whose organisation predikat allows more Sangat Baik). So each row also carries a
Cochran-Mantel-Haenszel pooled odds ratio of group vs reference *within* strata: ONE stratum
per row, chosen per dimension (``DEFAULT_CMH_STRATA``): golongan for gender, age band,
position type and gender x position type (is the gap there inside grades?); kode_opd for
golongan and gender x golongan (is it there inside agencies?); golongan for kode_opd.
A crude ratio far from 1 with a CMH odds ratio near 1 is a mix effect, not a within-stratum
one. Callers may pass another mapping.

Small cells: a group with n < min_group_size is published with every figure NULL and
``suppressed = true``, and never serves as a reference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import stats

from pipelines.analysis.inference import (
    ALPHA,
    DIFFERENCE_TEST_SCHEMA,
    cmh_odds_ratio,
    newcombe_difference,
    risk_ratio,
    two_by_two_p,
    wilson_interval,
    with_bh,
)

# Re-exported from its former home here: callers check the tables' p_adjusted with it.
from pipelines.analysis.inference import benjamini_hochberg as benjamini_hochberg
from pipelines.rules import periods, predikat

ANNUAL_PERIOD = periods.ANNUAL
PREDIKAT_SCORE = predikat.SCORE  # 5 Sangat Baik .. 1 Sangat Kurang
PREDIKAT_ORDER = list(predikat.ORDER)
TOP_BAND = predikat.TOP_BAND
BOTTOM_BAND = predikat.BOTTOM_BAND
OUTCOMES = {"top_band": TOP_BAND, "bottom_band": BOTTOM_BAND}
INTERSECTION_SEPARATOR = " x "

# dimension name -> the int_employee_period columns whose values make the group.
DIMENSIONS: dict[str, tuple[str, ...]] = {
    "gender": ("gender",),
    "age_band": ("age_band",),
    "golongan": ("golongan",),
    "jenis_jabatan": ("jenis_jabatan",),
    "kode_opd": ("kode_opd",),
    "gender x golongan": ("gender", "golongan"),
    "gender x jenis_jabatan": ("gender", "jenis_jabatan"),
}
DEFAULT_CMH_STRATA: dict[str, str] = {
    "gender": "golongan",
    "age_band": "golongan",
    "golongan": "kode_opd",
    "jenis_jabatan": "golongan",
    "kode_opd": "golongan",
    "gender x golongan": "kode_opd",
    "gender x jenis_jabatan": "golongan",
}


# ---------------------------------------------------------------- inputs


def group_column(dimension: str) -> pl.Expr:
    """The group value of a dimension ('P', or 'P x III/a' for an intersection)."""
    columns = DIMENSIONS[dimension]
    return pl.concat_str([pl.col(c).cast(pl.String) for c in columns], separator=" x ")


# The last year_outcomes computed, with its input: the fairness tables, the audit and the
# protection each ask for the same employee-periods' years, a sort of 6M rows at 1M employees
# (5 s each, seven times per run). Frames are immutable, so the same object gives the same
# answer; holding it keeps its id from being reused.
_LAST_YEARS: list[tuple[pl.DataFrame, pl.DataFrame]] = []


def year_outcomes(employee_period: pl.DataFrame) -> pl.DataFrame:
    """One row per employee-year with the predikat that judges the year and band flags.

    The annual period (TAHUNAN) when the employee has one; otherwise the employee's last
    periodic rating of the year (latest period end; a quarter before a month ending the same
    day, as the quarterly form is the official one). Under PermenPANRB 6/2022 the annual
    predikat is built from the periodic evaluations and the last one closes the year, so a
    mid-year export, or an agency that never exports an annual row, is still judged rather
    than silently absent. ``outcome_basis`` names the period used.
    """
    if _LAST_YEARS and _LAST_YEARS[0][0] is employee_period:
        return _LAST_YEARS[0][1]
    years = _year_outcomes(employee_period)
    _LAST_YEARS[:] = [(employee_period, years)]
    return years


def _year_outcomes(employee_period: pl.DataFrame) -> pl.DataFrame:
    rated = employee_period.filter(pl.col("predikat").is_in(PREDIKAT_ORDER))
    order = [(pl.col("periode") == ANNUAL_PERIOD).alias("_annual")]
    if "period_end_date" in rated.columns:
        order.append(pl.col("period_end_date").alias("_end"))
    if "period_kind" in rated.columns:
        order.append((pl.col("period_kind") == "quarterly").alias("_quarterly"))
    keys = [e.meta.output_name() for e in order]
    return (
        rated.with_columns(order)
        .sort(
            ["employee_key", "tahun", *keys],
            descending=[False, False, *[True] * len(keys)],
            nulls_last=True,
            maintain_order=True,
        )  # fmt: skip
        .unique(["employee_key", "tahun"], keep="first", maintain_order=True)
        .drop(keys)
        .with_columns(
            pl.col("periode").alias("outcome_basis"),
            pl.col("predikat").is_in(TOP_BAND).alias("top_band"),
            pl.col("predikat").is_in(BOTTOM_BAND).alias("bottom_band"),
        )
    )


def long_by_dimension(annual: pl.DataFrame, dimensions: Sequence[str]) -> pl.DataFrame:
    """Stack the employee-year rows once per dimension: (tahun, dimension, group_value, ...)."""
    parts = [
        annual.select(
            pl.col("tahun").cast(pl.Int32),
            pl.lit(dimension).alias("dimension"),
            group_column(dimension).alias("group_value"),
            "predikat",
            "top_band",
            "bottom_band",
            pl.col("kode_opd").cast(pl.String),
            pl.col("golongan").cast(pl.String),
        ).drop_nulls("group_value")
        for dimension in dimensions
    ]
    return pl.concat(parts)


def choose_reference(
    sizes: Mapping[str, int], min_group_size: int, preferred: str | None = None
) -> str | None:
    """The preferred group if publishable, else the largest publishable group (ties: the
    alphabetically first). None when no group is publishable."""
    publishable = {g: n for g, n in sizes.items() if n >= min_group_size}
    if preferred is not None and preferred in publishable:
        return preferred
    if not publishable:
        return None
    return min(publishable, key=lambda g: (-publishable[g], g))


# ---------------------------------------------------------------- group rates

RATES_SCHEMA: dict[str, pl.DataType] = {
    "tahun": pl.Int32(),
    "dimension": pl.String(),
    "group_value": pl.String(),
    "outcome": pl.String(),
    "n": pl.Int64(),
    "n_outcome": pl.Int64(),
    "rate": pl.Float64(),
    "rate_ci_low": pl.Float64(),
    "rate_ci_high": pl.Float64(),
    "reference_group": pl.String(),
    "reference_rate": pl.Float64(),
    "ratio": pl.Float64(),
    "ratio_ci_low": pl.Float64(),
    "ratio_ci_high": pl.Float64(),
    **DIFFERENCE_TEST_SCHEMA,
    "cmh_stratum": pl.String(),
    "cmh_odds_ratio": pl.Float64(),
    "cmh_p_value": pl.Float64(),
    "suppressed": pl.Boolean(),
}


def _strata_tables(
    rows: pl.DataFrame, group: str, reference: str, outcome: str, stratum: str
) -> list[np.ndarray]:
    """2x2 table per stratum value: [[group yes, group no], [reference yes, reference no]]."""
    counts = (
        rows.filter(pl.col("group_value").is_in([group, reference]))
        .drop_nulls(stratum)
        .group_by(stratum, "group_value")
        .agg(n=pl.len(), yes=pl.col(outcome).sum())
    )
    tables: dict[str, np.ndarray] = {}
    for value, grp, n, yes in counts.iter_rows():
        table = tables.setdefault(value, np.zeros((2, 2)))
        row = 0 if grp == group else 1
        table[row] = (yes, n - yes)
    return [tables[k] for k in sorted(tables)]


@dataclass(frozen=True)
class _YearDimension:
    """What every row of one (tahun, dimension) shares: the groups' counts, the reference
    group they are compared with, and the rows and stratum of the CMH comparison. One
    object, so a row is built from (this, group, outcome) and cannot mix two cells."""

    tahun: int
    dimension: str
    by_group: Mapping[str, Mapping[str, int]]
    reference: str | None
    rows: pl.DataFrame
    stratum: str | None
    min_group_size: int
    alpha: float


def group_rates(
    employee_period: pl.DataFrame,
    min_group_size: int = 5,
    reference_groups: Mapping[str, str] | None = None,
    cmh_strata: Mapping[str, str] | None = None,
    dimensions: Sequence[str] = tuple(DIMENSIONS),
    alpha: float = ALPHA,
) -> pl.DataFrame:
    """analysis.fairness_group_rates from intermediate.int_employee_period rows.

    ``reference_groups`` maps a dimension to its preferred reference group (used when
    publishable that year); ``cmh_strata`` maps a dimension to the column to stratify the
    CMH comparison by (default ``DEFAULT_CMH_STRATA``).
    """
    strata = {**DEFAULT_CMH_STRATA, **(cmh_strata or {})}
    preferred = dict(reference_groups or {})
    long = long_by_dimension(year_outcomes(employee_period), dimensions)
    records: list[dict[str, object]] = []
    for (tahun, dimension), rows in long.group_by("tahun", "dimension", maintain_order=True):
        counts = rows.group_by("group_value").agg(
            n=pl.len(), top_band=pl.col("top_band").sum(), bottom_band=pl.col("bottom_band").sum()
        )
        sizes = dict(zip(counts["group_value"], counts["n"], strict=True))
        cell = _YearDimension(
            tahun=tahun,
            dimension=dimension,
            by_group={row["group_value"]: row for row in counts.iter_rows(named=True)},
            reference=choose_reference(sizes, min_group_size, preferred.get(dimension)),
            rows=rows,
            stratum=strata.get(dimension),
            min_group_size=min_group_size,
            alpha=alpha,
        )
        for outcome in OUTCOMES:
            for group in sorted(cell.by_group):
                records.append(_rate_row(cell, group, outcome))
    frame = pl.DataFrame(records, schema=RATES_SCHEMA)
    return with_bh(frame, alpha).sort("tahun", "dimension", "outcome", "group_value")


def _rate_row(cell: _YearDimension, group: str, outcome: str) -> dict[str, object]:
    by_group, reference, alpha = cell.by_group, cell.reference, cell.alpha
    n, yes = int(by_group[group]["n"]), int(by_group[group][outcome])
    row: dict[str, object] = dict.fromkeys(RATES_SCHEMA)
    row |= {
        "tahun": cell.tahun,
        "dimension": cell.dimension,
        "group_value": group,
        "outcome": outcome,
    }
    if n < cell.min_group_size:
        return row | {"suppressed": True, "significant": False}
    low, high = wilson_interval(yes, n, alpha)
    row |= {
        "n": n,
        "n_outcome": yes,
        "rate": yes / n,
        "rate_ci_low": low,
        "rate_ci_high": high,
        "reference_group": reference,
        "suppressed": False,
        "significant": False,
    }
    if reference is None:
        return row
    n0, c = int(by_group[reference]["n"]), int(by_group[reference][outcome])
    row["reference_rate"] = c / n0
    if group == reference:
        return row | {"ratio": 1.0 if c else None, "difference": 0.0}
    ratio, ratio_low, ratio_high = risk_ratio(yes, n, c, n0, alpha)
    diff, diff_low, diff_high = newcombe_difference(yes, n, c, n0, alpha)
    row |= {
        "ratio": ratio,
        "ratio_ci_low": ratio_low,
        "ratio_ci_high": ratio_high,
        "difference": diff,
        "difference_ci_low": diff_low,
        "difference_ci_high": diff_high,
        "p_value": two_by_two_p(yes, n, c, n0),
    }
    if cell.stratum is not None:
        tables = _strata_tables(cell.rows, group, reference, outcome, cell.stratum)
        odds, p = cmh_odds_ratio(tables)
        row |= {"cmh_stratum": cell.stratum, "cmh_odds_ratio": odds, "cmh_p_value": p}
    return row


# ---------------------------------------------------------------- whole distribution

DISTRIBUTION_SCHEMA: dict[str, pl.DataType] = {
    "tahun": pl.Int32(),
    "dimension": pl.String(),
    "group_value": pl.String(),
    "predikat": pl.String(),
    "n": pl.Int64(),
    "share": pl.Float64(),
    "suppressed": pl.Boolean(),
}
DISTRIBUTION_TESTS_SCHEMA: dict[str, pl.DataType] = {
    "tahun": pl.Int32(),
    "dimension": pl.String(),
    "n_groups": pl.Int64(),
    "chi2": pl.Float64(),
    "dof": pl.Int64(),
    "p_value": pl.Float64(),
    "p_adjusted": pl.Float64(),
    "significant": pl.Boolean(),
}


def rating_distribution(
    employee_period: pl.DataFrame,
    min_group_size: int = 5,
    dimensions: Sequence[str] = tuple(DIMENSIONS),
) -> pl.DataFrame:
    """analysis.fairness_distribution: count and share of every predikat per group-year
    (all five predikat, zeros included). A group below min_group_size keeps its five rows
    with n and share NULL; suppression is by group size (the publishable unit), so a rare
    predikat inside a publishable group is shown."""
    long = long_by_dimension(year_outcomes(employee_period), dimensions)
    groups = long.group_by("tahun", "dimension", "group_value").agg(group_n=pl.len())
    grid = groups.join(pl.DataFrame({"predikat": PREDIKAT_ORDER}), how="cross")
    counts = long.group_by("tahun", "dimension", "group_value", "predikat").agg(n=pl.len())
    suppressed = pl.col("group_n") < min_group_size
    return (
        grid.join(counts, on=["tahun", "dimension", "group_value", "predikat"], how="left")
        .with_columns(pl.col("n").fill_null(0).cast(pl.Int64))
        .select(
            "tahun",
            "dimension",
            "group_value",
            "predikat",
            pl.when(suppressed).then(None).otherwise(pl.col("n")).alias("n"),
            pl.when(suppressed)
            .then(None)
            .otherwise(pl.col("n") / pl.col("group_n"))
            .alias("share"),
            suppressed.alias("suppressed"),
        )
        .cast(DISTRIBUTION_SCHEMA)
        .with_columns(pl.col("predikat").replace_strict(PREDIKAT_SCORE).alias("_order"))
        .sort("tahun", "dimension", "group_value", "_order", descending=[False, False, False, True])
        .drop("_order")
    )


def distribution_tests(distribution: pl.DataFrame, alpha: float = ALPHA) -> pl.DataFrame:
    """analysis.fairness_distribution_tests: chi-square test of independence of group and
    predikat per (tahun, dimension), over publishable groups and the predikat observed
    there; BH over all rows. NULL statistics when fewer than two groups or predikat remain."""
    records = []
    published = distribution.filter(~pl.col("suppressed"))
    keys = distribution.select("tahun", "dimension").unique().sort("tahun", "dimension")
    for tahun, dimension in keys.iter_rows():
        part = published.filter((pl.col("tahun") == tahun) & (pl.col("dimension") == dimension))
        table = (
            part.pivot(on="predikat", index="group_value", values="n").drop("group_value")
            if part.height
            else pl.DataFrame()
        )
        matrix = table.to_numpy().astype(float) if table.width else np.zeros((0, 0))
        if matrix.size:
            matrix = matrix[:, matrix.sum(axis=0) > 0]
        row = {"tahun": tahun, "dimension": dimension, "n_groups": int(matrix.shape[0])}
        if matrix.shape[0] >= 2 and matrix.shape[1] >= 2:
            result = stats.chi2_contingency(matrix, correction=False)
            row |= {"chi2": float(result.statistic), "dof": int(result.dof)}
            row["p_value"] = float(result.pvalue)
        records.append(row)
    frame = pl.DataFrame(records, schema=DISTRIBUTION_TESTS_SCHEMA)
    return with_bh(frame, alpha)
