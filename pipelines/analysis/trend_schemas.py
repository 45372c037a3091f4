"""pandera (polars) schemas of analysis.trend_series and analysis.trend_tests: a frame that
breaks them is never written, so reports can trust the types, enumerations and ranges."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from pipelines.analysis.trends import (
    ASSESSMENTS,
    GOOD_DIRECTION,
    GRAINS,
    MK_TRENDS,
    NRR,
    QUARTER,
    SCOPES,
    SERVICE_UNIT,
)

MEASURES = sorted(GOOD_DIRECTION)
SHARES = ["share_sangat_baik", "share_bottom_band", "share_20jp"]
_PERIOD = r"^\d{4}(-Q[1-4])?$"


def _value_in(measures: list[str], low: float, high: float) -> pl.Expr:
    """True unless the row's measure is one of `measures` and its value leaves low..high."""
    outside = ~pl.col("value").is_between(low, high)
    return ~(pl.col("measure").is_in(measures) & outside.fill_null(False))


def _values_in_scale(data: PolarsData) -> pl.LazyFrame:
    """IKM 25..100, NRR 1..4, shares 0..1, JP per employee >= 0 (when not null)."""
    return data.lazyframe.select(
        _value_in(["ikm"], 25.0, 100.0)
        & _value_in(NRR, 1.0, 4.0)
        & _value_in(SHARES, 0.0, 1.0)
        & _value_in(["jp_per_employee"], 0.0, float("inf"))
    )


def _unit_only_for_service_units(data: PolarsData) -> pl.LazyFrame:
    """unit_layanan is set exactly for service-unit rows (NULL at agency scope)."""
    return data.lazyframe.select(
        (pl.col("scope") == SERVICE_UNIT) == pl.col("unit_layanan").is_not_null()
    )


def _quarter_only_at_quarter_grain(data: PolarsData) -> pl.LazyFrame:
    """triwulan is set exactly at quarter grain; qoq_change only exists there."""
    quarter = pl.col("grain") == QUARTER
    return data.lazyframe.select(
        (quarter == pl.col("triwulan").is_not_null()) & (quarter | pl.col("qoq_change").is_null())
    )


def _significance_follows_p(data: PolarsData) -> pl.LazyFrame:
    """significant <=> p_adjusted < 0.05, and BH never lowers a p-value."""
    return data.lazyframe.select(
        (pl.col("significant") == (pl.col("p_adjusted") < 0.05))
        & (pl.col("p_adjusted") >= pl.col("mk_p_value") - 1e-12)
    )


def _period_order(data: PolarsData) -> pl.LazyFrame:
    """Labels 'YYYY' / 'YYYY-Qn' sort chronologically as text."""
    return data.lazyframe.select(pl.col("first_period") <= pl.col("last_period"))


_KEY_COLUMNS = {
    "scope": pa.Column(pl.String, pa.Check.isin(SCOPES)),
    "kode_opd": pa.Column(pl.String, pa.Check.str_length(min_value=1)),
    "unit_layanan": pa.Column(pl.String, nullable=True),
    "measure": pa.Column(pl.String, pa.Check.isin(MEASURES)),
    "grain": pa.Column(pl.String, pa.Check.isin(GRAINS)),
}

trend_series_schema = pa.DataFrameSchema(
    name="analysis.trend_series",
    columns={
        **_KEY_COLUMNS,
        "tahun": pa.Column(pl.Int32, pa.Check.in_range(2000, 2100)),
        "triwulan": pa.Column(pl.Int32, pa.Check.in_range(1, 4), nullable=True),
        "value": pa.Column(pl.Float64),
        "qoq_change": pa.Column(pl.Float64, nullable=True),
        "yoy_change": pa.Column(pl.Float64, nullable=True),
    },
    checks=[
        pa.Check(_values_in_scale, error="value outside its measure's scale"),
        pa.Check(_unit_only_for_service_units, error="unit_layanan set at agency scope or missing"),
        pa.Check(_quarter_only_at_quarter_grain, error="triwulan/qoq_change do not match grain"),
    ],
    unique=["scope", "kode_opd", "unit_layanan", "measure", "grain", "tahun", "triwulan"],
    strict=True,
    ordered=True,
)

trend_tests_schema = pa.DataFrameSchema(
    name="analysis.trend_tests",
    columns={
        **_KEY_COLUMNS,
        "n_periods": pa.Column(pl.Int32, pa.Check.ge(4)),
        "first_period": pa.Column(pl.String, pa.Check.str_matches(_PERIOD)),
        "last_period": pa.Column(pl.String, pa.Check.str_matches(_PERIOD)),
        "mk_trend": pa.Column(pl.String, pa.Check.isin(MK_TRENDS)),
        "mk_p_value": pa.Column(pl.Float64, pa.Check.in_range(0.0, 1.0)),
        "mk_tau": pa.Column(pl.Float64, pa.Check.in_range(-1.0, 1.0)),
        "sen_slope": pa.Column(pl.Float64),
        "p_adjusted": pa.Column(pl.Float64, pa.Check.in_range(0.0, 1.0)),
        "significant": pa.Column(pl.Boolean),
        "assessment": pa.Column(pl.String, pa.Check.isin(ASSESSMENTS)),
    },
    checks=[
        pa.Check(_unit_only_for_service_units, error="unit_layanan set at agency scope or missing"),
        pa.Check(_significance_follows_p, error="significant disagrees with p_adjusted"),
        pa.Check(_period_order, error="first_period after last_period"),
    ],
    unique=["scope", "kode_opd", "unit_layanan", "measure", "grain"],
    strict=True,
    ordered=True,
)
