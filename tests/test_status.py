"""`kinerja status` (issue 17): what the published warehouse holds, read without writing;
on an empty folder, what to do."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from pipelines.cli import main
from pipelines.cli.status import _ranges
from tests.conftest import PipelineRun

pytestmark = pytest.mark.xdist_group("pipeline")


def test_quarters_are_written_as_ranges() -> None:
    quarters = [date(2023, 1, 1), date(2023, 4, 1), date(2023, 7, 1), date(2024, 1, 1)]
    assert _ranges(quarters) == "2023-Q1..2023-Q3, 2024-Q1 (4)"
    # across a year end, and in any order
    assert _ranges([date(2024, 1, 1), date(2023, 10, 1)]) == "2023-Q4..2024-Q1 (2)"
    assert _ranges([date(2025, 7, 1)]) == "2025-Q3 (1)"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _status(monkeypatch: pytest.MonkeyPatch, data_dir: Path, warehouse: Path):
    monkeypatch.setenv("KINERJA_DATA_DIR", str(data_dir))
    monkeypatch.setenv("KINERJA_WAREHOUSE", str(warehouse))
    return CliRunner().invoke(main, ["status"])


def test_status_of_a_built_warehouse_reads_without_writing(
    pipeline_run: PipelineRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse = pipeline_run.settings.warehouse
    before = (_digest(warehouse), warehouse.stat().st_mtime_ns)
    result = _status(monkeypatch, pipeline_run.settings.data_dir, warehouse)
    assert result.exit_code == 0, result.output
    assert (_digest(warehouse), warehouse.stat().st_mtime_ns) == before
    with duckdb.connect(str(warehouse), read_only=True) as con:
        first, last, n = con.execute(
            "select min(quarter), max(quarter), count(distinct quarter) from raw.assessments"
        ).fetchone()
        read = con.execute(
            "select (select count(*) from raw.assessments) + (select count(*) from "
            "(select distinct source_file, source_row from quarantine.assessments))"
        ).fetchone()[0]
    lines = result.output.splitlines()
    assert lines[0].startswith(f"warehouse: {warehouse}, published ")
    quarters = next(line for line in lines if line.strip().startswith("assessments "))
    first_label = f"{first.year}-Q{(first.month - 1) // 3 + 1}"
    last_label = f"{last.year}-Q{(last.month - 1) // 3 + 1}"
    assert quarters.split()[1] == f"{first_label}..{last_label}"  # contiguous in the sample
    assert quarters.endswith(f"({n})")
    counts = [line for line in lines if line.startswith("assessments ") and line != quarters]
    assert int(counts[0].split()[3]) == read
    assert "marts.mart_agency_quarter" in result.output


def test_status_of_an_empty_folder_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "raw" / "assessments").mkdir(parents=True)
    (tmp_path / "raw" / "assessments" / "skp_2024.csv").write_text("nip\n")
    result = _status(monkeypatch, tmp_path, tmp_path / "warehouse.duckdb")
    assert result.exit_code == 0
    assert result.output.strip() == (
        f"no warehouse yet at {tmp_path / 'warehouse.duckdb'}: `make run` builds one from the "
        f"1 export file(s) under {tmp_path / 'raw'}"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raw"]  # nothing written
