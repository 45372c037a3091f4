"""Quarter partitions end to end: a new quarter's exports load without touching history, and
the incremental result equals a rebuild of everything."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipelines.partitions import range_tags
from pipelines.settings import SOURCES
from tests.checksums import table_checksums
from tests.conftest import PipelineRun, materialized

pytestmark = pytest.mark.xdist_group("quarters")


def hold_back(data_dir: Path, year: int, holding: Path) -> list[Path]:
    """Move the exports of `year` out of data/raw (they 'arrive' later)."""
    moved = []
    for source in SOURCES:
        for path in sorted((data_dir / "raw" / source).glob(f"*_{year}*")):
            target = holding / source / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(path, target)
            moved.append(target)
    return moved


def history(run: PipelineRun, before: str) -> dict[str, list[tuple]]:
    """Every raw, quarantine and raw.files row of quarters before `before`."""
    tables = [f"{schema}.{s}" for schema in ("raw", "quarantine") for s in SOURCES]
    return {
        table: run.query(f"select * from {table} where quarter < '{before}' order by all").rows()
        for table in [*tables, "raw.files"]
    }


def ingest_metadata(run: PipelineRun, source: str) -> dict[str, object]:
    result = run.results[-1]
    metadata = result.asset_materializations_for_node(f"ingest_{source}")[0].metadata
    return {k: v.value for k, v in metadata.items()}


def test_new_quarter_loads_alone_and_equals_a_full_rebuild(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with materialized(data_dir, run=False, employees=100, seed=5) as run:
        moved = hold_back(data_dir, 2025, tmp_path / "later")
        assert len(moved) == 6  # one export per source and local government
        run.materialize()
        assert run.query("select count(*) from raw.assessments where tahun = 2025").item() == 0
        old_history = history(run, "2025-01-01")

        for path in moved:  # the 2025 exports arrive
            shutil.move(path, data_dir / "raw" / path.parent.name / path.name)
        run.materialize(range_tags("2025-01", "2025-10"))

        # History is untouched; files holding only earlier quarters were not even read.
        assert history(run, "2025-01-01") == old_history
        for source in SOURCES:
            metadata = ingest_metadata(run, source)
            assert metadata["quarters"] == "2025-Q1..2025-Q4"
            # Not read: the 2023 and 2024 files (their rows are in quarters before 2025, or
            # in none, like a row whose date cannot be read: same file, same result).
            skippable = run.query(
                f"select count(distinct source_file) from raw.files where source = '{source}' "
                "and source_file not in (select source_file from raw.files where "
                "quarter >= '2025-01-01')"
            ).item()
            assert metadata["files_unchanged_not_read"] == skippable >= 2, source
        quarters_2025 = run.query(
            "select count(*) from marts.mart_agency_quarter where tahun = 2025 and n_assessed > 0"
        ).item()
        assert (
            quarters_2025
            == run.query(
                "select count(distinct (kode_opd, tahun, periode)) from staging.stg_assessments "
                "where tahun = 2025 and periode like 'TW %'"
            ).item()
        )
        assert quarters_2025 > 0
        incremental = table_checksums(run.settings.warehouse)

        run.materialize()  # every quarter: dbt --full-refresh, every file read again
        assert table_checksums(run.settings.warehouse) == incremental


@pytest.mark.parametrize("quarters", ["2019-01", "2025-10..2025-01", "2025-02"])
def test_run_names_the_quarters_it_accepts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, quarters: str
) -> None:
    from click.testing import CliRunner

    from pipelines.cli import main
    from pipelines.partitions import QUARTERS

    (tmp_path / "raw" / "assessments").mkdir(parents=True)
    (tmp_path / "raw" / "assessments" / "a.csv").write_text("nip\n")
    monkeypatch.setenv("KINERJA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "no_such_home"))
    result = CliRunner().invoke(main, ["run", "--quarters", quarters])
    keys = QUARTERS.get_partition_keys()
    assert result.exit_code == 2  # a usage error (README: exit status)
    assert f"quarters are {keys[0]} .. {keys[-1]} (first month of each)" in result.output


def test_run_makes_a_missing_dagster_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """CI runs `make test` in a fresh clone where `make ui` never made DAGSTER_HOME."""
    from pipelines.cli.runlog import dagster_instance as _instance

    home = tmp_path / "fresh" / "dagster_home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    instance = _instance()
    assert home.is_dir()
    assert instance is not None and Path(instance.root_directory) == home
    monkeypatch.delenv("DAGSTER_HOME")
    assert _instance() is None
