"""The fairness audit's tables: what each publishes, how they are built from the warehouse's
intermediate models (protected by complementary suppression, validated by pandera), and the
query that finds a published row below the publishable minimum."""

import dagster as dg
import polars as pl
from duckdb import DuckDBPyConnection

from pipelines.analysis import (
    audit,
    fairness,
    indicator_fairness,
    protection,
    raters,
)
from pipelines.analysis.fairness_schemas import (
    fairness_distribution_schema,
    fairness_distribution_tests_schema,
    fairness_group_rates_schema,
    indicator_fairness_schema,
    rater_effects_schema,
    self_gap_by_group_schema,
)
from pipelines.analysis.findings_schema import findings_schema
from pipelines.warehouse import read_frame

TABLES = {
    "fairness_group_rates": (
        "Top-band and bottom-band rates per group and year with Wilson CI, risk ratio and "
        "difference to the reference group, 2x2 test, BH, and a CMH odds ratio within strata."
    ),
    "fairness_distribution": "Count and share of every predikat per group and year.",
    "fairness_distribution_tests": (
        "Chi-square test of group vs predikat per year and dimension, BH-adjusted."
    ),
    "indicator_fairness": (
        "Women vs men achievement per agency, indicator and year: Welch t-test, CI, BH."
    ),
    "rater_effects": (
        "Rater leniency/severity: each rater's ratees vs the other raters' ratees of the "
        "agency-year (pooled-variance test, skew-corrected), deviant raters out of the "
        "reference, BH per year, empirical-Bayes shrinkage, label lenient/severe/typical."
    ),
    "self_gap_by_group": (
        "Self-assessment minus supervisor score per group and year vs the reference group."
    ),
    "findings": (
        "One row per tested hypothesis of every fairness and trend family: effect, CI, "
        "p-value, BH per family and year, practical threshold and verdict (finding, "
        "no_finding, not_assessable, suppressed) with its reason. Reports read verdicts here."
    ),
}
KEYS = {name: dg.AssetKey(["analysis", name]) for name in TABLES}
SCHEMAS = {
    "fairness_group_rates": fairness_group_rates_schema,
    "fairness_distribution": fairness_distribution_schema,
    "fairness_distribution_tests": fairness_distribution_tests_schema,
    "indicator_fairness": indicator_fairness_schema,
    "rater_effects": rater_effects_schema,
    "self_gap_by_group": self_gap_by_group_schema,
    "findings": findings_schema,
}


def build_tables(inputs: audit.FindingInputs, min_group_size: int) -> dict[str, pl.DataFrame]:
    """Every fairness table and analysis.findings, protected by complementary suppression
    (``protection``) and validated, keyed 'analysis.x'."""
    period = inputs.employee_period
    built = {
        "fairness_group_rates": fairness.group_rates(period, min_group_size),
        "fairness_distribution": fairness.rating_distribution(period, min_group_size),
        "indicator_fairness": indicator_fairness.indicator_fairness(
            inputs.indicator_year, period, min_group_size
        ),
        "rater_effects": raters.rater_effects(period, min_group_size),
        "self_gap_by_group": indicator_fairness.self_gap_by_group(period, min_group_size),
    }
    candidates = audit.candidates(
        inputs,
        min_group_size,
        rater_effects=built["rater_effects"],
        indicator_table=built["indicator_fairness"],
    )
    tables, candidates, _ = protection.protect(
        protection.populations(period, inputs.indicator_year), built, candidates, min_group_size
    )
    tables["fairness_distribution_tests"] = fairness.distribution_tests(
        tables["fairness_distribution"]
    )
    tables["findings"] = audit.judged(candidates)
    validated = {name: SCHEMAS[name].validate(frame) for name, frame in tables.items()}
    return {f"analysis.{name}": validated[name] for name in TABLES}


def read_inputs(conn: DuckDBPyConnection) -> audit.FindingInputs:
    """The fairness tables' inputs from the warehouse, only the columns they use."""
    return audit.FindingInputs(
        employee_period=read_frame(
            conn,
            f"select {', '.join(audit.EMPLOYEE_PERIOD_COLUMNS)} "
            "from intermediate.int_employee_period",
        ),
        indicator_year=read_frame(
            conn,
            "select tahun, kode_opd, kode_indikator, employee_key, achievement "
            "from intermediate.int_employee_indicator_year",
        ),
        curve=read_frame(conn, "select * from marts.mart_distribution_curve"),
        predikat_organisasi=read_frame(
            conn,
            "select kode_opd, tahun, predikat_organisasi, curve_compliant "
            "from marts.mart_agency_year "
            "where predikat_organisasi is not null",
        ),
        trend_series=read_frame(conn, "select * from analysis.trend_series"),
        trend_tests=read_frame(conn, "select * from analysis.trend_tests"),
    )


def findings_metadata(name: str, frame: pl.DataFrame) -> dict[str, object]:
    """Row count, significant findings and suppressed rows of one table."""
    metadata: dict[str, object] = {"dagster/row_count": frame.height, "rows": frame.height}
    if name == "findings":
        counts = frame.group_by("verdict").len()
        metadata |= dict(zip(counts["verdict"], counts["len"], strict=True))
    if "significant" in frame.columns:
        metadata["significant_findings"] = int(frame["significant"].sum())
    if "suppressed" in frame.columns:
        metadata["suppressed_rows"] = int(frame["suppressed"].sum())
    if name == "rater_effects":
        metadata |= raters.lenient_and_severe(frame)
    return metadata


# table -> SQL returning the published rows whose size is below the minimum ($1).
SMALL_PUBLISHED = {
    "fairness_group_rates": "select * from analysis.fairness_group_rates "
    "where not suppressed and (n is null or n < $1)",
    "fairness_distribution": "select tahun, dimension, group_value from "
    "analysis.fairness_distribution where not suppressed "
    "group by all having sum(n) is null or sum(n) < $1",
    "indicator_fairness": "select * from analysis.indicator_fairness where not suppressed "
    "and (n is null or n < $1 or n_reference is null or n_reference < $1)",
    "rater_effects": "select * from analysis.rater_effects "
    "where not suppressed and (n_ratees is null or n_ratees < $1)",
    "self_gap_by_group": "select * from analysis.self_gap_by_group "
    "where not suppressed and (n is null or n < $1)",
    # trend rows count periods and curve rows an agency's whole staff: not groups of people.
    # A reference of 0 is nobody (an agency's only rater, no "lainnya" left): the test is not
    # assessable and names no one, as the protection's own rule says (1..min-1 is small).
    "findings": "select * from analysis.findings where verdict <> 'suppressed' "
    "and family in ('group_disparity', 'rater', 'indicator', 'conditional_rating') "
    "and (n < $1 or (n_reference > 0 and n_reference < $1))",
}
