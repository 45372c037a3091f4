"""Reading what the reports need from the warehouse, tolerating analysis tables not built yet.

Each report reads all its tables once, into one frozen bundle (`TrendTables`,
`FairnessTables`), before drawing anything: the section builders then take the bundle and
never touch the connection. An analysis table that is not built is None, and the report
says so instead of failing.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from pipelines.warehouse import read_frame


def has_table(conn: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, _, name = qualified.partition(".")
    found = conn.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, name],
    ).fetchone()
    return bool(found and found[0])


def optional_table(conn: duckdb.DuckDBPyConnection, qualified: str) -> pl.DataFrame | None:
    """The whole table, or None when its asset has not been materialized in this warehouse."""
    return read_frame(conn, f"select * from {qualified}") if has_table(conn, qualified) else None


def table(conn: duckdb.DuckDBPyConnection, qualified: str) -> pl.DataFrame:
    return read_frame(conn, f"select * from {qualified}")


@dataclass(frozen=True)
class TrendTables:
    """The planners' report's inputs."""

    quarter: pl.DataFrame  # marts.mart_agency_quarter, by agency and quarter
    year: pl.DataFrame  # marts.mart_agency_year
    units: pl.DataFrame  # intermediate.int_survey_unit_quarter: NRR per service unit
    series: pl.DataFrame | None  # analysis.trend_series
    tests: pl.DataFrame | None  # analysis.trend_tests
    findings: pl.DataFrame | None  # analysis.findings

    @property
    def names(self) -> dict[str, str]:
        """kode_opd -> nama_opd."""
        return dict(self.quarter.select("kode_opd", "nama_opd").unique().iter_rows())

    @property
    def periods(self) -> list[tuple[int, int]]:
        """(tahun, triwulan) of the marts, oldest first."""
        return self.quarter.select("tahun", "triwulan").unique().sort("tahun", "triwulan").rows()


def read_trend_tables(conn: duckdb.DuckDBPyConnection) -> TrendTables:
    return TrendTables(
        quarter=table(conn, "marts.mart_agency_quarter").sort("kode_opd", "tahun", "triwulan"),
        year=table(conn, "marts.mart_agency_year"),
        units=table(conn, "intermediate.int_survey_unit_quarter"),
        series=optional_table(conn, "analysis.trend_series"),
        tests=optional_table(conn, "analysis.trend_tests"),
        findings=optional_table(conn, "analysis.findings"),
    )


@dataclass(frozen=True)
class FairnessTables:
    """The evaluators' report's inputs."""

    year: pl.DataFrame  # marts.mart_agency_year, by agency and year
    curve: pl.DataFrame  # marts.mart_distribution_curve: one row per agency-year and rule
    rates: pl.DataFrame | None  # analysis.fairness_group_rates
    distribution: pl.DataFrame | None  # analysis.fairness_distribution
    distribution_tests: pl.DataFrame | None  # analysis.fairness_distribution_tests
    raters: pl.DataFrame | None  # analysis.rater_effects
    indicators: pl.DataFrame | None  # analysis.indicator_fairness
    gaps: pl.DataFrame | None  # analysis.self_gap_by_group
    findings: pl.DataFrame | None  # analysis.findings

    @property
    def names(self) -> dict[str, str]:
        """kode_opd -> nama_opd."""
        return dict(self.year.select("kode_opd", "nama_opd").unique().iter_rows())

    @property
    def years(self) -> list[int]:
        return sorted(self.year["tahun"].unique().to_list())

    @property
    def broken_rules(self) -> pl.DataFrame:
        """The curve rules an agency-year broke, by agency, year and rule."""
        return self.curve.filter(~pl.col("passed")).sort("kode_opd", "tahun", "rule_id")


def read_fairness_tables(conn: duckdb.DuckDBPyConnection) -> FairnessTables:
    return FairnessTables(
        year=table(conn, "marts.mart_agency_year").sort("kode_opd", "tahun"),
        curve=table(conn, "marts.mart_distribution_curve"),
        rates=optional_table(conn, "analysis.fairness_group_rates"),
        distribution=optional_table(conn, "analysis.fairness_distribution"),
        distribution_tests=optional_table(conn, "analysis.fairness_distribution_tests"),
        raters=optional_table(conn, "analysis.rater_effects"),
        indicators=optional_table(conn, "analysis.indicator_fairness"),
        gaps=optional_table(conn, "analysis.self_gap_by_group"),
        findings=optional_table(conn, "analysis.findings"),
    )
