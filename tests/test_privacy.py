"""Names and NIPs never leave staging: every published table (the planners' and evaluators'
extracts), both reports and the executed notebooks are scanned for NIP-shaped strings and
for the names and NIPs of the input."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from tests.conftest import PipelineRun

pytestmark = pytest.mark.xdist_group("pipeline")

NIP_SHAPED = re.compile(r"(?<![\d.])\d{18}(?!\d)")


def _personal_values(run: PipelineRun) -> tuple[set[str], set[str]]:
    frame = run.query(
        "select distinct nip, nama, nip_penilai from raw.assessments "
        "union all select distinct nip, null, null from raw.training"
    )
    nips = {v for c in ("nip", "nip_penilai") for v in frame[c].drop_nulls().to_list()}
    names = {v for v in frame["nama"].drop_nulls().to_list() if len(v) >= 6}
    return nips, names


def _text_cells(extract: Path) -> list[str]:
    """Every text value of every table, as published."""
    cells: list[str] = []
    with duckdb.connect(str(extract), read_only=True) as con:
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where data_type = 'VARCHAR'"
        ).fetchall()
        for schema, table, column in columns:
            rows = con.execute(
                f'select distinct "{column}" from "{schema}"."{table}" where "{column}" is not null'
            ).fetchall()
            cells.extend(value for (value,) in rows)
    return cells


def test_extracts_hold_no_nip_or_name(pipeline_run: PipelineRun) -> None:
    nips, names = _personal_values(pipeline_run)
    assert len(nips) > 100 and len(names) > 100
    extracts = sorted(pipeline_run.settings.published_dir.glob("*.duckdb"))
    assert [p.name for p in extracts] == ["evaluators.duckdb", "planners.duckdb"]
    for extract in extracts:
        cells = _text_cells(extract)
        assert len(cells) > 100, extract
        assert not [c for c in cells if NIP_SHAPED.search(c)], extract
        assert not [c for c in cells if c in nips or c in names], extract
        with duckdb.connect(str(extract), read_only=True) as con:
            schemas = {
                s
                for (s,) in con.execute(
                    "select schema_name from information_schema.schemata"
                ).fetchall()
            }
        assert not schemas & {"raw", "staging", "quarantine"}, extract


def test_planners_get_aggregates_only(pipeline_run: PipelineRun) -> None:
    path = pipeline_run.settings.published_dir / "planners.duckdb"
    with duckdb.connect(str(path), read_only=True) as con:
        tables = {
            f"{s}.{t}"
            for s, t in con.execute(
                "select table_schema, table_name from information_schema.tables"
            ).fetchall()
        }
        columns = {
            c
            for (c,) in con.execute("select column_name from information_schema.columns").fetchall()
        }
    assert "marts.mart_agency_quarter" in tables and "analysis.trend_tests" in tables
    assert not [t for t in tables if t.startswith(("intermediate.", "audit."))]
    assert not columns & {"employee_key", "penilai_key"}


def test_reports_and_notebooks_hold_no_nip_or_name(pipeline_run: PipelineRun) -> None:
    nips, names = _personal_values(pipeline_run)
    pages = sorted(pipeline_run.settings.reports_dir.glob("*.html"))
    assert [p.name for p in pages] == ["fairness.html", "trends.html"]
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert not [n for n in nips if n in text], page
        assert not [n for n in names if n in text], page
