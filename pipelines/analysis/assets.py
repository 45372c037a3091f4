"""The analysis layer's Dagster assets: trend tables from the marts, then the fairness
tables and analysis.findings from the intermediate models, each with its checks.

(No `from __future__ import annotations` here: Dagster reads the `context` annotation.)
"""

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext
from dagster_duckdb import DuckDBResource

from pipelines.analysis import differencing, outlook, protection, ranking, trends
from pipelines.analysis.tables import (
    KEYS,
    SMALL_PUBLISHED,
    TABLES,
    build_tables,
    findings_metadata,
    read_inputs,
)
from pipelines.analysis.trend_schemas import trend_series_schema, trend_tests_schema
from pipelines.settings import Settings
from pipelines.transform import marts
from pipelines.warehouse import read_frame, replace_tables

UNIT_QUARTER = dg.AssetKey(["intermediate", "int_survey_unit_quarter"])
EMPLOYEE_PERIOD = dg.AssetKey(["intermediate", "int_employee_period"])
EMPLOYEE_INDICATOR_YEAR = dg.AssetKey(["intermediate", "int_employee_indicator_year"])
TREND_SERIES = dg.AssetKey(["analysis", "trend_series"])
TREND_TESTS = dg.AssetKey(["analysis", "trend_tests"])
AGENCY_RANKING = dg.AssetKey(["analysis", "agency_ranking"])
YEAR_END_OUTLOOK = dg.AssetKey(["analysis", "year_end_outlook"])
TRAINING_EMPLOYEE_YEAR = dg.AssetKey(["intermediate", "int_training_employee_year"])
EMPLOYEE_AGENCY_YEAR = dg.AssetKey(["intermediate", "int_employee_agency_year"])
# Findings also judge the distribution curve and the trend tests.
FINDINGS_ALSO_READ = [marts.DISTRIBUTION_CURVE, marts.AGENCY_YEAR, TREND_SERIES, TREND_TESTS]


# ---------------------------------------------------------------- trends


@dg.asset(
    key=TREND_SERIES,
    deps=[marts.AGENCY_QUARTER, marts.AGENCY_YEAR, UNIT_QUARTER],
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
    additional_deps=[marts.AGENCY_QUARTER],
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


# ---------------------------------------------------------------- planners


@dg.asset(
    key=AGENCY_RANKING,
    deps=[marts.AGENCY_QUARTER],
    group_name="analysis",
    kinds={"duckdb", "polars"},
    description=(
        'Agencies ranked within their pemda per quarter on mean capaian and on IKM ("1224"'
        " ranks, ties at the printed precision); groups under min_group_size not ranked."
    ),
)
def agency_ranking(
    context: AssetExecutionContext,
    duckdb: DuckDBResource,
    settings: dg.ResourceParam[Settings],
) -> dg.MaterializeResult:
    with duckdb.get_connection() as conn:
        table = ranking.rank_agencies(
            read_frame(conn, "select * from marts.mart_agency_quarter"), settings.min_group_size
        )
        replace_tables(conn, {"analysis.agency_ranking": table})
    count = table.group_by("status").len()
    per_status = dict(zip(count["status"], count["len"], strict=True))
    context.log.info(f"analysis.agency_ranking: {table.height} rows, {per_status}")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": table.height,
            **{f"rows_{s}": per_status.get(s, 0) for s in ranking.STATUSES},
        }
    )


@dg.asset(
    key=YEAR_END_OUTLOOK,
    deps=[
        marts.AGENCY_INDICATOR_QUARTER,
        marts.AGENCY_QUARTER,
        TRAINING_EMPLOYEE_YEAR,
        EMPLOYEE_AGENCY_YEAR,
    ],
    group_name="analysis",
    kinds={"duckdb", "polars"},
    description=(
        "kinerja's projection (no regulation asks for it): each agency's indicators and 20-JP"
        " coverage at year end if the current pace holds, with 95% intervals and the pace"
        " still needed; groups under min_group_size suppressed."
    ),
)
def year_end_outlook(
    context: AssetExecutionContext,
    duckdb: DuckDBResource,
    settings: dg.ResourceParam[Settings],
) -> dg.MaterializeResult:
    with duckdb.get_connection() as conn:
        table = outlook.build_outlook(
            read_frame(conn, "select * from marts.mart_agency_indicator_quarter"),
            read_frame(conn, "select * from marts.mart_agency_quarter"),
            read_frame(conn, "select * from intermediate.int_employee_agency_year"),
            read_frame(conn, "select * from intermediate.int_training_employee_year"),
            settings.min_group_size,
        )
        replace_tables(conn, {"analysis.year_end_outlook": table})
    count = table.group_by("status").len()
    per_status = dict(zip(count["status"], count["len"], strict=True))
    context.log.info(f"analysis.year_end_outlook: {table.height} rows, {per_status}")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": table.height,
            "label": outlook.LABEL,
            **{
                f"rows_{s}": per_status.get(s, 0)
                for s in (outlook.PROJECTED, outlook.NOT_ASSESSABLE, outlook.SUPPRESSED)
            },
        }
    )


def _planners_check(key: dg.AssetKey, table: str, count_small) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=key,
        name="no_small_group_published",
        description=f"No row of analysis.{table} publishes a group under min_group_size.",
    )
    def _check(duckdb: DuckDBResource, settings: dg.ResourceParam[Settings]) -> dg.AssetCheckResult:
        with duckdb.get_connection() as conn:
            frame = read_frame(conn, f"select * from analysis.{table}")
        offending = count_small(frame, settings.min_group_size)
        return dg.AssetCheckResult(
            passed=offending == 0,
            metadata={"min_group_size": settings.min_group_size, "small_rows_published": offending},
        )

    return _check


planners_checks = [
    _planners_check(AGENCY_RANKING, "agency_ranking", ranking.small_groups_published),
    _planners_check(YEAR_END_OUTLOOK, "year_end_outlook", outlook.small_groups_published),
]


# ---------------------------------------------------------------- fairness


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key,
            deps=[EMPLOYEE_PERIOD, EMPLOYEE_INDICATOR_YEAR]
            + (
                [marts.DISTRIBUTION_CURVE, marts.AGENCY_YEAR, TREND_SERIES, TREND_TESTS]
                if name == "findings"
                else []
            ),
            group_name="analysis",
            kinds={"duckdb", "polars"},
            description=TABLES[name],
        )
        for name, key in KEYS.items()
    ],
)
def fairness_tables(
    context: AssetExecutionContext,
    duckdb: DuckDBResource,
    settings: dg.ResourceParam[Settings],
):
    with duckdb.get_connection() as conn:
        tables = build_tables(read_inputs(conn), settings.min_group_size)
        replace_tables(conn, tables)
    for qualified, frame in tables.items():
        name = qualified.removeprefix("analysis.")
        metadata = findings_metadata(name, frame)
        context.log.info(f"{qualified}: {metadata}")
        yield dg.MaterializeResult(asset_key=KEYS[name], metadata=metadata)


# ---------------------------------------------------------------- checks


def _small_groups_check(name: str):
    @dg.asset_check(
        asset=KEYS[name],
        name="no_small_group_published",
        description=f"No unsuppressed row of analysis.{name} has fewer than min_group_size.",
    )
    def _check(duckdb: DuckDBResource, settings: dg.ResourceParam[Settings]) -> dg.AssetCheckResult:
        minimum = settings.min_group_size
        with duckdb.get_connection() as conn:
            offending = conn.execute(
                f"select count(*) from ({SMALL_PUBLISHED[name]})", [minimum]
            ).fetchone()[0]
        return dg.AssetCheckResult(
            passed=offending == 0,
            metadata={"min_group_size": minimum, "small_rows_published": offending},
            description=f"{offending} published row(s) of analysis.{name} count fewer than "
            f"{minimum} people",
        )

    return _check


@dg.asset_check(
    asset=KEYS["findings"],
    name="nothing_recoverable_by_subtraction",
    description=(
        "The differencing attacker (margin minus published children, total minus the other "
        "groups, agency minus its other raters, chained) recovers no group under "
        "min_group_size, nor a group whose complement in a known total is under it, from the "
        "fairness tables and findings."
    ),
)
def nothing_recoverable(
    duckdb: DuckDBResource, settings: dg.ResourceParam[Settings]
) -> dg.AssetCheckResult:
    with duckdb.get_connection() as conn:
        inputs = read_inputs(conn)
        seen = differencing.read_published(conn)
    populations = protection.populations(inputs.employee_period, inputs.indicator_year)
    recovered = differencing.attack(seen, differencing.truth_sizes(populations))
    disclosed = differencing.disclosures(seen, recovered, settings.min_group_size)

    def named(cells: dict) -> list[str]:
        return [f"{c.population} {c.tahun} {dict(c.attrs)} = {n}" for c, n in cells.items()]

    return dg.AssetCheckResult(
        passed=not disclosed,
        description=(
            f"{len(disclosed)} small group(s) recoverable by subtraction, e.g. "
            + "; ".join(named(disclosed)[:2])
        )
        if disclosed
        else None,
        metadata={
            "hidden_groups": len(seen.hidden),
            "recovered_groups": len(recovered),
            "small_groups_disclosed": len(disclosed),
            "disclosed": dg.MetadataValue.json(named(disclosed)[:20]),
            # hidden to break another subtraction; none of them is, or leaves, a small group
            "recovered_not_small": dg.MetadataValue.json(
                named({c: n for c, n in recovered.items() if c not in disclosed})[:20]
            ),
        },
    )


small_group_checks = [_small_groups_check(name) for name in SMALL_PUBLISHED]
