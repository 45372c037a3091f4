"""pandera (polars) schemas of the fairness tables: a frame that breaks them is never
written. Besides types, ranges and enumerations they enforce the two promises the tables
make to an evaluator: a suppressed row carries no figure, and `significant` is exactly
p_adjusted < 0.05 with p_adjusted >= p_value (BH never lowers a p-value)."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from pipelines.analysis.fairness import DIMENSIONS, OUTCOMES, PREDIKAT_ORDER
from pipelines.analysis.raters import BAND, LABELS

DIMENSION_NAMES = list(DIMENSIONS)
STRATA = sorted({"kode_opd", "golongan"})
UNIT = pa.Check.in_range(0.0, 1.0)


def _suppressed_carry_nothing(figures: list[str]):
    """A check: on suppressed rows every listed figure is NULL."""

    def check(data: PolarsData) -> pl.LazyFrame:
        empty = pl.all_horizontal(pl.col(c).is_null() for c in figures)
        return data.lazyframe.select(~pl.col("suppressed") | empty)

    return pa.Check(check, error=f"suppressed row carries a figure ({', '.join(figures)})")


def _published_at_least(size_columns: list[str]):
    """A check: a published row has its sizes and figures (the asset checks compare the
    sizes with settings.min_group_size, which a schema does not know)."""

    def check(data: PolarsData) -> pl.LazyFrame:
        present = pl.all_horizontal(pl.col(c).is_not_null() for c in size_columns)
        return data.lazyframe.select(pl.col("suppressed") | present)

    return pa.Check(check, error=f"published row without {', '.join(size_columns)}")


def _significance_follows_p(data: PolarsData) -> pl.LazyFrame:
    adjusted = pl.col("p_adjusted")
    follows = pl.col("significant") == (adjusted < 0.05).fill_null(False)
    not_lower = adjusted.is_null() | (adjusted >= pl.col("p_value") - 1e-12)
    return data.lazyframe.select(follows & not_lower)


SIGNIFICANCE = pa.Check(_significance_follows_p, error="significant disagrees with p_adjusted")

_P = {
    "p_value": pa.Column(pl.Float64, UNIT, nullable=True),
    "p_adjusted": pa.Column(pl.Float64, UNIT, nullable=True),
    "significant": pa.Column(pl.Boolean),
}
_TAHUN = pa.Column(pl.Int32, pa.Check.in_range(2000, 2100))
_DIMENSION = pa.Column(pl.String, pa.Check.isin(DIMENSION_NAMES))
_COUNT = pa.Column(pl.Int64, pa.Check.ge(0), nullable=True)
_REAL = pa.Column(pl.Float64, nullable=True)
_POSITIVE = pa.Column(pl.Float64, pa.Check.ge(0.0), nullable=True)
_SHARE = pa.Column(pl.Float64, UNIT, nullable=True)

fairness_group_rates_schema = pa.DataFrameSchema(
    name="analysis.fairness_group_rates",
    columns={
        "tahun": _TAHUN,
        "dimension": _DIMENSION,
        "group_value": pa.Column(pl.String),
        "outcome": pa.Column(pl.String, pa.Check.isin(list(OUTCOMES))),
        "n": _COUNT,
        "n_outcome": _COUNT,
        "rate": _SHARE,
        "rate_ci_low": _SHARE,
        "rate_ci_high": _SHARE,
        "reference_group": pa.Column(pl.String, nullable=True),
        "reference_rate": _SHARE,
        "ratio": _POSITIVE,
        "ratio_ci_low": _POSITIVE,
        "ratio_ci_high": _POSITIVE,
        "difference": pa.Column(pl.Float64, pa.Check.in_range(-1.0, 1.0), nullable=True),
        "difference_ci_low": pa.Column(pl.Float64, pa.Check.in_range(-1.0, 1.0), nullable=True),
        "difference_ci_high": pa.Column(pl.Float64, pa.Check.in_range(-1.0, 1.0), nullable=True),
        **_P,
        "cmh_stratum": pa.Column(pl.String, pa.Check.isin(STRATA), nullable=True),
        "cmh_odds_ratio": _POSITIVE,
        "cmh_p_value": _SHARE,
        "suppressed": pa.Column(pl.Boolean),
    },
    checks=[
        _suppressed_carry_nothing(
            ["n", "n_outcome", "rate", "reference_group", "ratio", "difference", "p_value"]
        ),
        _published_at_least(["n", "n_outcome", "rate"]),
        SIGNIFICANCE,
    ],
    unique=["tahun", "dimension", "group_value", "outcome"],
    strict=True,
    ordered=True,
)

fairness_distribution_schema = pa.DataFrameSchema(
    name="analysis.fairness_distribution",
    columns={
        "tahun": _TAHUN,
        "dimension": _DIMENSION,
        "group_value": pa.Column(pl.String),
        "predikat": pa.Column(pl.String, pa.Check.isin(PREDIKAT_ORDER)),
        "n": _COUNT,
        "share": _SHARE,
        "suppressed": pa.Column(pl.Boolean),
    },
    checks=[_suppressed_carry_nothing(["n", "share"]), _published_at_least(["n", "share"])],
    unique=["tahun", "dimension", "group_value", "predikat"],
    strict=True,
    ordered=True,
)

fairness_distribution_tests_schema = pa.DataFrameSchema(
    name="analysis.fairness_distribution_tests",
    columns={
        "tahun": _TAHUN,
        "dimension": _DIMENSION,
        "n_groups": pa.Column(pl.Int64, pa.Check.ge(0)),
        "chi2": _POSITIVE,
        "dof": pa.Column(pl.Int64, pa.Check.ge(1), nullable=True),
        **_P,
    },
    checks=[SIGNIFICANCE],
    unique=["tahun", "dimension"],
    strict=True,
    ordered=True,
)

indicator_fairness_schema = pa.DataFrameSchema(
    name="analysis.indicator_fairness",
    columns={
        "tahun": _TAHUN,
        "kode_opd": pa.Column(pl.String),
        "kode_indikator": pa.Column(pl.String),
        "dimension": pa.Column(pl.String, pa.Check.isin(["gender"])),
        "group_value": pa.Column(pl.String, pa.Check.isin(["P"])),
        "reference_group": pa.Column(pl.String, pa.Check.isin(["L"])),
        "n": _COUNT,
        "n_reference": _COUNT,
        "mean_achievement": _POSITIVE,
        "reference_mean": _POSITIVE,
        "difference": _REAL,
        "difference_ci_low": _REAL,
        "difference_ci_high": _REAL,
        **_P,
        "suppressed": pa.Column(pl.Boolean),
    },
    checks=[
        _suppressed_carry_nothing(
            ["n", "n_reference", "mean_achievement", "reference_mean", "difference", "p_value"]
        ),
        _published_at_least(["n", "n_reference", "mean_achievement", "reference_mean"]),
        SIGNIFICANCE,
    ],
    unique=["tahun", "kode_opd", "kode_indikator", "dimension", "group_value"],
    strict=True,
    ordered=True,
)


def _rater_label_is_a_finding(data: PolarsData) -> pl.LazyFrame:
    """lenient / severe exactly when significant and the difference is beyond the practical
    band, in its direction (the findings rule); typical otherwise."""
    difference = pl.col("difference")
    finding = pl.col("significant") & ((difference < BAND.low) | (difference > BAND.high))
    expected = (
        pl.when(finding & (difference > 0))
        .then(pl.lit("lenient"))
        .when(finding & (difference < 0))
        .then(pl.lit("severe"))
        .otherwise(pl.lit("typical"))
    )
    return data.lazyframe.select(pl.col("label").is_null() | (pl.col("label") == expected))


def _excluded_are_published(data: PolarsData) -> pl.LazyFrame:
    """A suppressed rater is never tested, so it never leaves the other raters' reference."""
    return data.lazyframe.select(~(pl.col("excluded_from_reference") & pl.col("suppressed")))


_SCORE = pa.Column(pl.Float64, pa.Check.in_range(1.0, 5.0), nullable=True)
_SCORE_GAP = pa.Column(pl.Float64, pa.Check.in_range(-4.0, 4.0), nullable=True)
RATER_FIGURES = [
    "n_ratees", "mean_score", "raw_effect", "shrunk_effect", "n_reference", "reference_mean",
    "difference", "p_value", "label",
]  # fmt: skip

rater_effects_schema = pa.DataFrameSchema(
    name="analysis.rater_effects",
    columns={
        "tahun": _TAHUN,
        "kode_opd": pa.Column(pl.String),
        "penilai_key": pa.Column(pl.String, pa.Check.str_matches(r"^[0-9a-f]{16}$")),
        "n_ratees": _COUNT,
        "mean_score": _SCORE,
        "agency_mean": _SCORE,
        "raw_effect": _SCORE_GAP,
        "shrunk_effect": _SCORE_GAP,
        "ci_low": _REAL,
        "ci_high": _REAL,
        "n_reference": _COUNT,
        "reference_mean": _SCORE,
        "difference": _SCORE_GAP,
        "difference_ci_low": _REAL,
        "difference_ci_high": _REAL,
        "p_value": _P["p_value"],
        "p_adjusted": _P["p_adjusted"],
        "significant": _P["significant"],
        "label": pa.Column(pl.String, pa.Check.isin(LABELS), nullable=True),
        "excluded_from_reference": pa.Column(pl.Boolean),
        "suppressed": pa.Column(pl.Boolean),
    },
    checks=[
        _suppressed_carry_nothing(RATER_FIGURES),
        _published_at_least(
            ["n_ratees", "mean_score", "agency_mean", "raw_effect", "n_reference", "label"]
        ),
        SIGNIFICANCE,
        pa.Check(_rater_label_is_a_finding, error="label disagrees with the findings rule"),
        pa.Check(_excluded_are_published, error="a suppressed rater left the reference"),
    ],
    unique=["tahun", "kode_opd", "penilai_key"],
    strict=True,
    ordered=True,
)

self_gap_by_group_schema = pa.DataFrameSchema(
    name="analysis.self_gap_by_group",
    columns={
        "tahun": _TAHUN,
        "dimension": _DIMENSION,
        "group_value": pa.Column(pl.String),
        "n": _COUNT,
        "mean_gap": _REAL,
        "ci_low": _REAL,
        "ci_high": _REAL,
        "reference_group": pa.Column(pl.String, nullable=True),
        "difference": _REAL,
        **_P,
        "suppressed": pa.Column(pl.Boolean),
    },
    checks=[
        _suppressed_carry_nothing(["n", "mean_gap", "ci_low", "difference", "p_value"]),
        _published_at_least(["n", "mean_gap"]),
        SIGNIFICANCE,
    ],
    unique=["tahun", "dimension", "group_value"],
    strict=True,
    ordered=True,
)
