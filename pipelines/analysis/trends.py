"""Trends per agency and per service unit: the series, their period-on-period changes and a
Mann-Kendall test with Sen's slope, so planners see which measures move and which way.

Pure functions, polars in and polars out; the Dagster assets read and write the warehouse.

- Series are long: one row per (scope, kode_opd, unit_layanan, measure, grain, period) with
  an observed value. Quarter index = tahun * 4 + triwulan - 1, so "previous consecutive
  quarter" and "same quarter last year" are index - 1 and index - 4.
- The test runs on the series laid out on its full period range (gaps as NaN), so Sen's
  slope is per period even across a missing quarter; a series with fewer than
  MIN_POINTS observed values is not tested (too short for Mann-Kendall to say anything).
- p-values are adjusted with Benjamini-Hochberg over every test of the table (one family).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import polars as pl
import pymannkendall as mk
from statsmodels.stats.multitest import multipletests

from pipelines.analysis import findings
from pipelines.rules import skm

AGENCY = "agency"
SERVICE_UNIT = "service_unit"
QUARTER = "quarter"
YEAR = "year"
SCOPES = (AGENCY, SERVICE_UNIT)
GRAINS = (QUARTER, YEAR)
MK_TRENDS = ("increasing", "decreasing", "no trend")
ASSESSMENTS = ("improving", "declining", "stable", "not rated")

MIN_POINTS = 4
ALPHA = 0.05
ELEMENTS = [f"u{i}" for i in range(1, 10)]
NRR = [f"nrr_{u}" for u in ELEMENTS]
BOTTOM_BAND_SHARES = ["share_butuh_perbaikan", "share_kurang_misconduct", "share_sangat_kurang"]

# Which way is good, per measure: +1 higher is better, -1 lower is better, None = not rated
# (a self-vs-supervisor gap can be unhealthy in either direction).
GOOD_DIRECTION: dict[str, int | None] = {
    "mean_achievement": 1,
    "share_sangat_baik": 1,
    "share_bottom_band": -1,
    "ikm": 1,
    **dict.fromkeys(NRR, 1),
    "share_20jp": 1,
    "jp_per_employee": 1,
    "mean_self_supervisor_gap": None,
}
AGENCY_MEASURES = list(GOOD_DIRECTION)
UNIT_MEASURES = ["ikm", *NRR]
# Year-to-date figures rise every quarter and restart in Q1: a quarterly trend test on them
# measures the calendar, not the agency. They are tested at year grain only.
YEAR_TO_DATE = {"share_20jp"}

SERIES_KEYS = ["scope", "kode_opd", "unit_layanan", "measure", "grain"]
SERIES_COLUMNS = [*SERIES_KEYS, "tahun", "triwulan", "value", "qoq_change", "yoy_change"]
TEST_COLUMNS = [
    *SERIES_KEYS,
    "n_periods",
    "first_period",
    "last_period",
    "mk_trend",
    "mk_p_value",
    "mk_tau",
    "sen_slope",
    "p_adjusted",
    "significant",
    "assessment",
]


# ---------------------------------------------------------------- series


def _long(frame: pl.DataFrame, scope: str, grain: str, measures: list[str]) -> pl.DataFrame:
    """Wide measure columns -> one row per observed value."""
    unit = pl.col("unit_layanan") if scope == SERVICE_UNIT else pl.lit(None, pl.String)
    quarter = pl.col("triwulan") if grain == QUARTER else pl.lit(None, pl.Int32)
    return (
        frame.select(
            pl.lit(scope).alias("scope"),
            pl.col("kode_opd").cast(pl.String),
            unit.cast(pl.String).alias("unit_layanan"),
            pl.lit(grain).alias("grain"),
            pl.col("tahun").cast(pl.Int32),
            quarter.cast(pl.Int32).alias("triwulan"),
            *[pl.col(m).cast(pl.Float64).fill_nan(None) for m in measures],
        )
        .unpivot(
            index=["scope", "kode_opd", "unit_layanan", "grain", "tahun", "triwulan"],
            on=measures,
            variable_name="measure",
            value_name="value",
        )
        .drop_nulls("value")
    )


def with_bottom_band(mart: pl.DataFrame) -> pl.DataFrame:
    """share_bottom_band = Butuh Perbaikan + Kurang/Misconduct + Sangat Kurang shares."""
    return mart.with_columns(
        pl.sum_horizontal(BOTTOM_BAND_SHARES, ignore_nulls=False).alias("share_bottom_band")
    )


def agency_series(mart_quarter: pl.DataFrame, mart_year: pl.DataFrame) -> pl.DataFrame:
    """Agency measures from the quarter and year marts, long, without changes."""
    return pl.concat(
        [
            _long(with_bottom_band(mart_quarter), AGENCY, QUARTER, AGENCY_MEASURES),
            _long(with_bottom_band(mart_year), AGENCY, YEAR, AGENCY_MEASURES),
        ]
    )


def unit_index(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """SKM per group of `keys` from answer sums: NRR_i = score_sum_i / n_answered_i over
    everyone who answered element i; IKM = mean of the 9 NRR x 25 (skm.skm_index; see
    docs/domain.md, 'SKM index').

    Summing before dividing makes the year figure respondent-weighted, like the marts.
    An element nobody answered has no NRR, and then the unit has no IKM for that period."""
    sums = frame.group_by(keys).agg(
        *[pl.col(f"score_sum_{u}").sum().cast(pl.Float64) for u in ELEMENTS],
        *[pl.col(f"n_answered_{u}").sum().cast(pl.Float64) for u in ELEMENTS],
    )
    nrr = [
        pl.when(pl.col(f"n_answered_{u}") > 0)
        .then(pl.col(f"score_sum_{u}") / pl.col(f"n_answered_{u}"))
        .alias(f"nrr_{u}")
        for u in ELEMENTS
    ]
    return (
        sums.with_columns(nrr)
        .with_columns(skm.skm_index().alias("ikm"))
        .select(*keys, "ikm", *NRR)
        .sort(keys)
    )


def unit_series(unit_quarter: pl.DataFrame) -> pl.DataFrame:
    """Service-unit IKM and NRR per quarter and per year from int_survey_unit_quarter."""
    unit = ["kode_opd", "unit_layanan", "tahun"]
    return pl.concat(
        [
            _long(
                unit_index(unit_quarter, [*unit, "triwulan"]), SERVICE_UNIT, QUARTER, UNIT_MEASURES
            ),
            _long(unit_index(unit_quarter, unit), SERVICE_UNIT, YEAR, UNIT_MEASURES),
        ]
    )


def _period_index() -> pl.Expr:
    return (
        pl.when(pl.col("grain") == QUARTER)
        .then(pl.col("tahun") * 4 + pl.col("triwulan") - 1)
        .otherwise(pl.col("tahun"))
        .cast(pl.Int64)
    )


def with_changes(series: pl.DataFrame) -> pl.DataFrame:
    """qoq_change: vs the immediately preceding quarter (quarter grain only, NULL if absent);
    yoy_change: vs the same quarter of the previous year, or the previous year."""
    indexed = series.with_columns(_period_index().alias("_period"))
    previous = indexed.select(*SERIES_KEYS, "_period", pl.col("value").alias("_previous"))

    def change(lag: pl.Expr, name: str) -> pl.DataFrame:
        lagged = indexed.with_columns(lag.alias("_lag"))
        joined = lagged.join(
            previous,
            left_on=[*SERIES_KEYS, "_lag"],
            right_on=[*SERIES_KEYS, "_period"],
            how="left",
            nulls_equal=True,
        )
        return joined.with_columns((pl.col("value") - pl.col("_previous")).alias(name)).drop(
            "_lag", "_previous"
        )

    is_quarter = pl.col("grain") == QUARTER
    qoq = change(pl.when(is_quarter).then(pl.col("_period") - 1), "qoq_change")
    yoy_lag = pl.when(is_quarter).then(pl.col("_period") - 4).otherwise(pl.col("_period") - 1)
    return (
        change(yoy_lag, "yoy_change")
        .join(
            qoq.select(*SERIES_KEYS, "_period", "qoq_change"),
            on=[*SERIES_KEYS, "_period"],
            how="left",
            nulls_equal=True,
        )
        .sort([*SERIES_KEYS, "_period"], nulls_last=False)
        .select(SERIES_COLUMNS)
    )


def build_trend_series(
    mart_quarter: pl.DataFrame, mart_year: pl.DataFrame, unit_quarter: pl.DataFrame
) -> pl.DataFrame:
    """analysis.trend_series: every agency and service-unit series with its changes."""
    return with_changes(
        pl.concat([agency_series(mart_quarter, mart_year), unit_series(unit_quarter)])
    )


# ---------------------------------------------------------------- tests


@dataclass(frozen=True)
class MannKendall:
    trend: str
    p_value: float
    tau: float
    sen_slope: float


def mann_kendall(values: np.ndarray) -> MannKendall | None:
    """Mann-Kendall (Hamed-Rao modified for autocorrelation) + Sen's slope on a series laid
    out per period, NaN for a missing period. None when fewer than MIN_POINTS values were observed.

    A constant series has S = 0 and Var(S) = 0: reported as no trend, p = 1, slope 0, rather
    than leaning on the library's handling of a zero variance."""
    observed = values[~np.isnan(values)]
    if observed.size < MIN_POINTS:
        return None
    if np.all(observed == observed[0]):
        return MannKendall("no trend", 1.0, 0.0, 0.0)
    # Hamed-Rao: Var(S) scaled by the significant autocorrelation of the detrended ranks, so
    # a persistent agency (this quarter like the last) is not read as a trend. Only a larger
    # variance is accepted: on 5-12 points a "significant" negative lag is noise, and
    # crediting it shrank one series' p from 0.26 to 0.002.
    result = mk.original_test(values, alpha=ALPHA)
    with warnings.catch_warnings():  # a negative corrected Var(S) gives NaN: not accepted
        warnings.simplefilter("ignore", RuntimeWarning)
        modified = mk.hamed_rao_modification_test(values, alpha=ALPHA)
    if modified.var_s > result.var_s:
        result = modified
    return MannKendall(str(result.trend), float(result.p), float(result.Tau), float(result.slope))


def _period_label(tahun: int, triwulan: int | None) -> str:
    return f"{tahun}" if triwulan is None else f"{tahun}-Q{triwulan}"


def benjamini_hochberg(p_values: list[float] | np.ndarray) -> np.ndarray:
    """BH-adjusted p-values (false discovery rate) over one family of tests."""
    p = np.asarray(p_values, dtype=float)
    if p.size == 0:
        return p
    return multipletests(p, method="fdr_bh")[1]


def assess(measure: str, mk_trend: str, significant: bool) -> str:
    """'improving' / 'declining' by the measure's good direction; 'stable' when not
    significant; 'not rated' for a measure with no good direction."""
    direction = GOOD_DIRECTION.get(measure)
    if direction is None:
        return "not rated"
    if not significant or mk_trend == "no trend":
        return "stable"
    rising = mk_trend == "increasing"
    return "improving" if rising == (direction > 0) else "declining"


def _testable(series: pl.DataFrame) -> pl.DataFrame:
    return series.filter(~((pl.col("grain") == QUARTER) & pl.col("measure").is_in(YEAR_TO_DATE)))


def build_trend_tests(series: pl.DataFrame) -> pl.DataFrame:
    """analysis.trend_tests: one Mann-Kendall test per series with >= MIN_POINTS values."""
    indexed = _testable(series).with_columns(_period_index().alias("_period"))
    rows: list[dict[str, object]] = []
    for key, unsorted in indexed.group_by(SERIES_KEYS, maintain_order=True):
        group = unsorted.sort("_period")
        period = group["_period"].to_numpy()
        laid_out = np.full(int(period.max() - period.min()) + 1, np.nan)
        laid_out[period - period.min()] = group["value"].to_numpy()
        result = mann_kendall(laid_out)
        if result is None:
            continue
        first, last = group.row(0, named=True), group.row(-1, named=True)
        rows.append(
            {
                **dict(zip(SERIES_KEYS, key, strict=True)),
                "n_periods": group.height,
                "first_period": _period_label(first["tahun"], first["triwulan"]),
                "last_period": _period_label(last["tahun"], last["triwulan"]),
                "mk_trend": result.trend,
                "mk_p_value": result.p_value,
                "mk_tau": result.tau,
                "sen_slope": result.sen_slope,
            }
        )
    tests = pl.DataFrame(rows, schema=_TEST_SCHEMA_BEFORE_ADJUSTMENT)
    adjusted = benjamini_hochberg(tests["mk_p_value"].to_numpy())
    tests = tests.with_columns(
        pl.Series("p_adjusted", adjusted, dtype=pl.Float64),
    ).with_columns((pl.col("p_adjusted") < ALPHA).alias("significant"))
    assessment = [
        assess(m, t, s)
        for m, t, s in zip(tests["measure"], tests["mk_trend"], tests["significant"], strict=True)
    ]
    return tests.with_columns(pl.Series("assessment", assessment, dtype=pl.String)).select(
        TEST_COLUMNS
    )


_TEST_SCHEMA_BEFORE_ADJUSTMENT = {
    "scope": pl.String,
    "kode_opd": pl.String,
    "unit_layanan": pl.String,
    "measure": pl.String,
    "grain": pl.String,
    "n_periods": pl.Int32,
    "first_period": pl.String,
    "last_period": pl.String,
    "mk_trend": pl.String,
    "mk_p_value": pl.Float64,
    "mk_tau": pl.Float64,
    "sen_slope": pl.Float64,
}


def significant_changes(tests: pl.DataFrame, assessment: str) -> pl.DataFrame:
    """Significant tests with the given assessment, strongest evidence first."""
    return tests.filter(pl.col("significant") & (pl.col("assessment") == assessment)).sort(
        "p_adjusted", "kode_opd", "unit_layanan", "measure", "grain"
    )


def declines_markdown(tests: pl.DataFrame) -> str:
    """A bullet list of the significant declines for the asset's metadata."""
    declines = significant_changes(tests, "declining")
    if declines.is_empty():
        return "No significant declines."
    lines = []
    for row in declines.iter_rows(named=True):
        where = row["kode_opd"] + (f" / {row['unit_layanan']}" if row["unit_layanan"] else "")
        lines.append(
            f"- **{where}** — {row['measure']} ({row['grain']}, {row['first_period']}.."
            f"{row['last_period']}): Sen slope {row['sen_slope']:+.4g} per {row['grain']}, "
            f"p adj. {row['p_adjusted']:.3g}"
        )
    return "\n".join(lines)


def trend_candidates(series: pl.DataFrame, tests: pl.DataFrame) -> pl.DataFrame:
    """Family ``trend`` of analysis.findings: one row per series (tahun NULL, multi-year).

    Effect: Kendall's tau (how consistently the series moves one way); Sen's slope is in the
    reason. A series too short to test is ``not_assessable``, not "stable"."""
    tested = tests.select(SERIES_KEYS).unique()
    short = (
        _testable(series)
        .group_by(SERIES_KEYS)
        .agg(n=pl.col("value").drop_nulls().len())
        .join(tested, on=SERIES_KEYS, how="anti", nulls_equal=True)
        .sort(SERIES_KEYS, nulls_last=True)
    )
    records = [
        {
            "family": "trend",
            "kode_opd": r["kode_opd"],
            "subject": r["measure"],
            "outcome": r["grain"],
            "unit_layanan": r["unit_layanan"],
            "n": r["n"],
            "verdict": findings.NOT_ASSESSABLE,
            "reason": f"Hanya {r['n']} titik data; uji tren butuh minimal {MIN_POINTS}.",
        }
        for r in short.iter_rows(named=True)
    ]
    for r in tests.iter_rows(named=True):
        direction = {"improving": "membaik", "declining": "memburuk"}.get(r["assessment"], "")
        records.append(
            {
                "family": "trend",
                "kode_opd": r["kode_opd"],
                "subject": r["measure"],
                "outcome": r["grain"],
                "unit_layanan": r["unit_layanan"],
                "n": r["n_periods"],
                "effect": r["mk_tau"],
                "effect_measure": "kendall_tau",
                "p_value": r["mk_p_value"],
                "basis": f"{r['first_period']}..{r['last_period']}, Sen {r['sen_slope']:+.4g}"
                f" per {r['grain']}" + (f" ({direction})" if direction else ""),
            }
        )
    return findings.candidates(records)
