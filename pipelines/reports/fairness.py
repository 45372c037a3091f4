"""The evaluators' report (fairness.html): are ratings distributed fairly across groups,
indicators and raters, and does each agency's predikat distribution obey the curve rules?

Reads marts.mart_agency_year / marts.mart_distribution_curve and, when built, the analysis
fairness tables. Suppressed groups (n < minimum) appear only as "disembunyikan", never with
figures; raters appear only by a shortened pseudonymous key.

This module only orchestrates: read the tables (data), write the summary (fairness_text,
findings_text), build the sections (fairness_sections), publish the page and its PNGs (html).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.reports import fairness_sections as sections
from pipelines.reports import findings_text
from pipelines.reports.banner import blocked_banner
from pipelines.reports.data import FairnessTables, read_fairness_tables
from pipelines.reports.fairness_text import (
    curve_summary,
    gap_summary,
    indicator_summary,
    rater_summary,
    rule_sentence,
    significant_rates,
)
from pipelines.reports.html import Page, Picker, ReportInfo, Section, publish_page

# Former name of fairness_text.curve_summary, still imported by tests/test_findings.py.
_curve_summary = curve_summary


def _summary(tables: FairnessTables) -> list[str]:
    """Curve compliance and each broken rule first; then the findings, or, when
    analysis.findings is not built, each analysis table's own significant rows."""
    summary = [curve_summary(tables.year)]
    summary += [
        f"Pelanggaran — {rule_sentence(r)}" for r in tables.broken_rules.iter_rows(named=True)
    ]
    found = tables.findings
    if found is not None:
        return summary + findings_text.summary_lines(found)
    if tables.rates is not None:
        summary += significant_rates(tables.rates)
    else:
        summary.append("Tabel analisis keadilan (analysis.fairness_group_rates) belum dibangun.")
    if tables.raters is not None:
        summary += rater_summary(tables.raters)
    if tables.indicators is not None:
        summary += indicator_summary(tables.indicators)
    if tables.gaps is not None:
        summary += gap_summary(tables.gaps)
    return summary


def _sections(tables: FairnessTables, reports_dir: Path, min_group_size: int) -> list[Section]:
    """The sections in page order; the findings ones only when analysis.findings is built."""
    built = [sections.curve_section(tables)]
    if tables.findings is not None:
        built += sections.findings_sections(tables.findings, reports_dir)
    built += sections.rater_sections(tables)
    built += [sections.year_section(tables, t, min_group_size) for t in tables.years]
    names = tables.names
    built += [sections.agency_section(tables, k, min_group_size) for k in sorted(names)]
    return built


def build_fairness_report(
    conn: duckdb.DuckDBPyConnection,
    out_path: Path,
    png_dir: Path | None = None,
    min_group_size: int = 5,
) -> ReportInfo:
    """Render fairness.html from the warehouse; PNGs of the key charts when png_dir is given.
    The calibration table is read from out_path's folder (findings_text.CALIBRATION_FILE)."""
    tables = read_fairness_tables(conn)
    names = tables.names
    page = Page(
        title="Laporan Keadilan Penilaian Kinerja",
        subtitle=(
            "Untuk evaluator: predikat menurut kelompok pegawai, indikator dan penilai, serta"
            " kepatuhan kurva distribusi"
        ),
        summary=_summary(tables),
        pickers=[
            Picker("tahun", "Tahun", [(str(t), str(t)) for t in reversed(tables.years)]),
            Picker("opd", "Instansi (OPD)", [(k, f"{k} — {names[k]}") for k in sorted(names)]),
        ],
        sections=_sections(tables, out_path.parent, min_group_size),
        banner=blocked_banner(conn),
    )
    return publish_page(page, out_path, png_dir, png_prefix="keadilan")
