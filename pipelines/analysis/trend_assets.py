"""Dagster assets analysis/trend_series and analysis/trend_tests: read the marts and the
service-unit survey sums, build and validate the trend tables, replace them whole.

(No `from __future__ import annotations` here: Dagster reads the `context` annotation.)
"""

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext
from dagster_duckdb import DuckDBResource

from pipelines.analysis import trends
from pipelines.analysis.trend_schemas import trend_series_schema, trend_tests_schema
from pipelines.warehouse import read_frame, replace_tables

MART_QUARTER = dg.AssetKey(["marts", "mart_agency_quarter"])
MART_YEAR = dg.AssetKey(["marts", "mart_agency_year"])
UNIT_QUARTER = dg.AssetKey(["intermediate", "int_survey_unit_quarter"])
TREND_SERIES = dg.AssetKey(["analysis", "trend_series"])
TREND_TESTS = dg.AssetKey(["analysis", "trend_tests"])


@dg.asset(
    key=TREND_SERIES,
    deps=[MART_QUARTER, MART_YEAR, UNIT_QUARTER],
    group_name="analysis",
    kinds={"duckdb", "polars"},
    description=(
        "Per agency and per service unit, every trend measure per quarter and per year, with "
        "the change vs the previous quarter (qoq) and vs the same period a year earlier (yoy)."
    ),
)
def trend_series(context: AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
    with duckdb.get_connection() as conn:
        series = trends.build_trend_series(
            read_frame(conn, "select * from marts.mart_agency_quarter"),
            read_frame(conn, "select * from marts.mart_agency_year"),
            read_frame(conn, "select * from intermediate.int_survey_unit_quarter"),
        )
        series = trend_series_schema.validate(series)
        replace_tables(conn, {"analysis.trend_series": series})
    context.log.info(f"analysis.trend_series: {series.height} rows")
    count = series.group_by("scope").len()
    per_scope = dict(zip(count["scope"], count["len"], strict=True))
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": series.height,
            "rows": series.height,
            "agency_rows": per_scope.get(trends.AGENCY, 0),
            "service_unit_rows": per_scope.get(trends.SERVICE_UNIT, 0),
        }
    )


@dg.asset(
    key=TREND_TESTS,
    deps=[TREND_SERIES],
    group_name="analysis",
    kinds={"duckdb", "polars"},
    description=(
        "Mann-Kendall trend test with Sen's slope per series of >= 4 periods, BH-adjusted over "
        "all tests, assessed as improving/declining/stable by each measure's good direction."
    ),
)
def trend_tests(context: AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
    with duckdb.get_connection() as conn:
        series = read_frame(conn, "select * from analysis.trend_series")
        tests = trend_tests_schema.validate(trends.build_trend_tests(series))
        replace_tables(conn, {"analysis.trend_tests": tests})
    declines = trends.significant_changes(tests, "declining").height
    improvements = trends.significant_changes(tests, "improving").height
    context.log.info(
        f"analysis.trend_tests: {tests.height} tests, {declines} significant declines, "
        f"{improvements} significant improvements"
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": tests.height,
            "rows": tests.height,
            "significant_declines": declines,
            "significant_improvements": improvements,
            "declines": dg.MetadataValue.md(trends.declines_markdown(tests)),
        }
    )


def agencies_without_tests(mart_quarter: pl.DataFrame, tests: pl.DataFrame) -> list[str]:
    """Agencies with at least MIN_POINTS quarters in the mart but no agency-scope test."""
    eligible = (
        mart_quarter.group_by("kode_opd")
        .len()
        .filter(pl.col("len") >= trends.MIN_POINTS)["kode_opd"]
        .to_list()
    )
    tested = set(tests.filter(pl.col("scope") == trends.AGENCY)["kode_opd"].to_list())
    return sorted(set(eligible) - tested)


@dg.asset_check(
    asset=TREND_TESTS,
    additional_deps=[MART_QUARTER],
    description="Every agency with >= 4 quarters in marts.mart_agency_quarter has trend tests.",
)
def every_agency_has_trend_tests(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    with duckdb.get_connection() as conn:
        missing = agencies_without_tests(
            read_frame(conn, "select kode_opd from marts.mart_agency_quarter"),
            read_frame(conn, "select scope, kode_opd from analysis.trend_tests"),
        )
    return dg.AssetCheckResult(
        passed=not missing,
        metadata={"agencies_without_tests": len(missing), "missing": ", ".join(missing) or "none"},
    )


assets: list = [trend_series, trend_tests]
asset_checks: list = [every_agency_has_trend_tests]
