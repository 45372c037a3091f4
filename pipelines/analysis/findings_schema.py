"""pandera (polars) schema of analysis.findings: besides types and enumerations it holds
the table to its promises - a finding has p_adjusted < 0.05 (or is a broken rule) and a
practical effect; a suppressed row carries no figure; every verdict but no_finding says
why; BH never lowers a p-value."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from pipelines.analysis import findings

UNIT = pa.Check.in_range(0.0, 1.0)
FIGURES = ["n", "n_reference", "effect", "effect_ci_low", "effect_ci_high", "p_value"]


def _finding_is_earned(data: PolarsData) -> pl.LazyFrame:
    verdict = pl.col("verdict")
    tested = (pl.col("p_adjusted") < findings.ALPHA).fill_null(False)
    rule = pl.col("p_value").is_null() & (pl.col("effect_measure") == "share_beyond_bound")
    return data.lazyframe.select(
        (verdict != findings.FINDING) | ((tested | rule) & pl.col("practical").fill_null(False))
    )


def _suppressed_carry_nothing(data: PolarsData) -> pl.LazyFrame:
    empty = pl.all_horizontal(pl.col(c).is_null() for c in FIGURES)
    return data.lazyframe.select((pl.col("verdict") != findings.SUPPRESSED) | empty)


def _reason_given(data: PolarsData) -> pl.LazyFrame:
    return data.lazyframe.select(
        (pl.col("verdict") == findings.NO_FINDING) | pl.col("reason").is_not_null()
    )


def _bh_not_lower(data: PolarsData) -> pl.LazyFrame:
    adjusted = pl.col("p_adjusted")
    return data.lazyframe.select(adjusted.is_null() | (adjusted >= pl.col("p_value") - 1e-12))


findings_schema = pa.DataFrameSchema(
    name="analysis.findings",
    columns={
        "family": pa.Column(pl.String, pa.Check.isin(list(findings.FAMILIES))),
        "tahun": pa.Column(pl.Int32, pa.Check.in_range(2000, 2100), nullable=True),
        "kode_opd": pa.Column(pl.String, nullable=True),
        "dimension": pa.Column(pl.String, nullable=True),
        "subject": pa.Column(pl.String, nullable=True),
        "reference": pa.Column(pl.String, nullable=True),
        "outcome": pa.Column(pl.String, nullable=True),
        "n": pa.Column(pl.Int64, pa.Check.ge(0), nullable=True),
        "n_reference": pa.Column(pl.Int64, pa.Check.ge(0), nullable=True),
        "effect": pa.Column(pl.Float64, nullable=True),
        "effect_ci_low": pa.Column(pl.Float64, nullable=True),
        "effect_ci_high": pa.Column(pl.Float64, nullable=True),
        "effect_measure": pa.Column(
            pl.String, pa.Check.isin(list(findings.PRACTICAL)), nullable=True
        ),
        "p_value": pa.Column(pl.Float64, UNIT, nullable=True),
        "p_adjusted": pa.Column(pl.Float64, UNIT, nullable=True),
        "practical": pa.Column(pl.Boolean, nullable=True),
        "verdict": pa.Column(pl.String, pa.Check.isin(list(findings.VERDICTS))),
        "reason": pa.Column(pl.String, nullable=True),
        "basis": pa.Column(pl.String, nullable=True),
        "unit_layanan": pa.Column(pl.String, nullable=True),
    },
    checks=[
        pa.Check(
            _finding_is_earned, error="a finding without p_adjusted < 0.05 and a practical effect"
        ),
        pa.Check(_suppressed_carry_nothing, error="suppressed row carries a figure"),
        pa.Check(_reason_given, error="verdict without a reason"),
        pa.Check(_bh_not_lower, error="p_adjusted below p_value"),
    ],
    strict=True,
)
