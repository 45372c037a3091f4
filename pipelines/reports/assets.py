"""Dagster assets reports/trends_html and reports/fairness_html: render the two offline HTML
reports (and PNGs of their key charts) from the warehouse into settings.reports_dir.

(No `from __future__ import annotations` here: Dagster reads the `context` annotation.)
"""

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster import AssetExecutionContext

from pipelines.publish.extracts import publish_extract
from pipelines.reports.fairness import build_fairness_report
from pipelines.reports.html import ReportInfo
from pipelines.reports.trends import build_trends_report
from pipelines.settings import Settings
from pipelines.transform import marts

TRENDS_HTML = dg.AssetKey(["reports", "trends_html"])
FAIRNESS_HTML = dg.AssetKey(["reports", "fairness_html"])
UNIT_QUARTER = dg.AssetKey(["intermediate", "int_survey_unit_quarter"])
TREND_TABLES = [dg.AssetKey(["analysis", t]) for t in ("trend_series", "trend_tests")]
# The quarterly evaluation section (Form E.81): the indicator mart, ranking and outlook.
EVALUATION_TABLES = [
    marts.AGENCY_INDICATOR_QUARTER,
    *(dg.AssetKey(["analysis", t]) for t in ("agency_ranking", "year_end_outlook")),
]
FINDINGS = dg.AssetKey(["analysis", "findings"])
FAIRNESS_TABLES = [
    dg.AssetKey(["analysis", t])
    for t in (
        "fairness_group_rates",
        "fairness_distribution",
        "rater_effects",
        "indicator_fairness",
        "self_gap_by_group",
        "findings",
    )
]
EXTERNAL_URL = re.compile(
    r"""<(?:script|link|img|iframe)\b[^>]*(?:src|href)\s*=\s*["']?https?://"""
)


def _result(
    context: AssetExecutionContext, info: ReportInfo, png_wanted: bool
) -> dg.MaterializeResult:
    if png_wanted and not info.png_paths:
        context.log.warning(
            "No PNG copies written (no usable Chrome for kaleido); HTML is complete"
        )
    context.log.info(f"{info.path}: {info.n_charts} charts, {len(info.png_paths)} PNGs")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(info.path)),
            "charts": info.n_charts,
            "png_files": len(info.png_paths),
            "size_bytes": info.path.stat().st_size,
            "summary": dg.MetadataValue.md("\n".join(f"- {line}" for line in info.summary)),
        }
    )


# What the reports read (not the evaluators' per-employee tables: copying them twice a run
# would cost more than the reports themselves at scale).
REPORT_TABLES = ("marts", "analysis", "intermediate.int_survey_unit_quarter")


@contextmanager
def published_view(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """The reports read what the extracts publish (marts and trends under the disclosure
    rule, analysis, the blocked-quarter notice): a temporary extract of what they read."""
    with tempfile.TemporaryDirectory(dir=settings.build_warehouse.parent) as tmp:
        view = Path(tmp) / "report_view.duckdb"
        publish_extract(
            settings.build_warehouse, view, REPORT_TABLES, min_group_size=settings.min_group_size
        )
        with duckdb.connect(str(view), read_only=True) as conn:
            yield conn


@dg.asset(
    key=TRENDS_HTML,
    deps=[
        marts.AGENCY_QUARTER,
        marts.AGENCY_YEAR,
        UNIT_QUARTER,
        *TREND_TABLES,
        FINDINGS,
        *EVALUATION_TABLES,
    ],
    group_name="reports",
    kinds={"html", "plotly"},
    description="Planners' report: per-agency quarterly measures, IKM per unit, trend tests, "
    "the quarterly evaluation (Form E.81) with ranking and year-end outlook.",
)
def trends_html(
    context: AssetExecutionContext, settings: dg.ResourceParam[Settings]
) -> dg.MaterializeResult:
    with published_view(settings) as conn:
        info = build_trends_report(conn, settings.reports_dir / "trends.html", settings.png_dir)
    return _result(context, info, settings.png_export)


@dg.asset(
    key=FAIRNESS_HTML,
    deps=[marts.AGENCY_YEAR, marts.DISTRIBUTION_CURVE, *FAIRNESS_TABLES],
    group_name="reports",
    kinds={"html", "plotly"},
    description="Evaluators' report: curve compliance, group rates, raters, indicators, self gap.",
)
def fairness_html(
    context: AssetExecutionContext, settings: dg.ResourceParam[Settings]
) -> dg.MaterializeResult:
    with published_view(settings) as conn:
        info = build_fairness_report(
            conn,
            settings.reports_dir / "fairness.html",
            settings.png_dir,
            min_group_size=settings.min_group_size,
        )
    return _result(context, info, settings.png_export)


def offline_problems(path: Path) -> list[str]:
    """Why a report would not open offline: external script/link sources, or no plotly.js."""
    text = path.read_text(encoding="utf-8")
    problems = [m.group(0) for m in EXTERNAL_URL.finditer(text)]
    if "Plotly.newPlot" not in text or text.count("<script>") < 1:
        problems.append("plotly.js or the chart renderer is missing")
    return problems


def _offline_check(path: Path) -> dg.AssetCheckResult:
    if not path.exists():
        return dg.AssetCheckResult(passed=False, metadata={"missing": str(path)})
    problems = offline_problems(path)
    return dg.AssetCheckResult(
        passed=not problems,
        metadata={"problems": len(problems), "first": problems[0] if problems else "none"},
    )


@dg.asset_check(asset=TRENDS_HTML, description="trends.html opens offline: no external URLs.")
def trends_html_is_offline(settings: dg.ResourceParam[Settings]) -> dg.AssetCheckResult:
    return _offline_check(settings.reports_dir / "trends.html")


@dg.asset_check(asset=FAIRNESS_HTML, description="fairness.html opens offline: no external URLs.")
def fairness_html_is_offline(settings: dg.ResourceParam[Settings]) -> dg.AssetCheckResult:
    return _offline_check(settings.reports_dir / "fairness.html")
