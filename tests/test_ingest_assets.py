"""Materialize the reference and assessment assets into a temporary DuckDB, twice."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.ingest import assessments, formats, reading
from pipelines.ingest.loading import SLICE_ROWS
from pipelines.partitions import QUARTERS, range_tags
from tests.ingest_support import load_folder, materialize_sources, source_asset

VALID = (
    "198503122010011001;Budi;OPD01;Dinas;Sekretariat;Analis;Pelaksana;III/a;2024;TW I;"
    "IKI-1;Laporan;100;87,5;%;90;88;SESUAI EKSPEKTASI;SESUAI EKSPEKTASI;Baik;"
)


def write_fixture(data_dir: Path) -> None:
    reference_dir = data_dir / "reference"
    source_dir = data_dir / "raw" / "assessments"
    reference_dir.mkdir(parents=True)
    source_dir.mkdir(parents=True)
    (reference_dir / "agencies.csv").write_text(
        "kode_opd,nama_opd,pemda\nOPD01,Dinas,Kota A\nOPD02,Badan,Kota A\n"
    )
    (reference_dir / "predikat_organisasi.csv").write_text(
        "kode_opd,tahun,predikat\nOPD01,2024,Baik\nOPD02,2024,Istimewa\n"
    )
    (reference_dir / "service_population.csv").write_text(
        "kode_opd,unit_layanan,tahun,populasi\nOPD01,Loket A,2024,1200\n"
    )
    header = ";".join(assessments.COLUMNS)
    (source_dir / "a.csv").write_text(
        "\n".join(
            [
                header,
                VALID,  # row 2
                VALID.replace("198503122010011001", "1.98503E+17"),  # row 3
                VALID.replace("OPD01", "OPD77"),  # row 4
                "",  # row 5: blank line
                VALID.replace(";87,5;", ";-3;"),  # row 6
            ]
        )
        + "\n"
    )
    (source_dir / "b.csv").write_text(header + "\n" + VALID.replace("IKI-1", "IKI-2") + "\n")
    (source_dir / "garbage.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")


def tables(warehouse: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        names = ["raw.agencies", "raw.predikat_organisasi", "raw.service_population"]
        names += ["raw.assessments", "quarantine.assessments", "raw.files"]
        return {
            name: conn.execute(f"SELECT * FROM {name} ORDER BY ALL").fetchall() for name in names
        }


def ingest(
    data_dir: Path, warehouse: Path, tags: dict[str, str] | None = None, *extra: object
) -> dg.ExecuteInProcessResult:
    """Reference + assessment ingestion (+ extra assets) for every quarter or a tagged range."""
    return materialize_sources(["assessments"], warehouse, tags, *extra, raise_on_error=False)


@pytest.fixture
def data_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    data_dir = tmp_path / "data"
    write_fixture(data_dir)
    warehouse = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("KINERJA_DATA_DIR", str(data_dir))
    monkeypatch.setenv("KINERJA_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("KINERJA_PSEUDONYM_KEY", "fixture-key")
    return data_dir, warehouse


def test_materialize_twice_gives_identical_tables(
    data_env: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir, warehouse = data_env
    monkeypatch.setenv("KINERJA_MAX_QUARANTINE_SHARE", "1")  # this fixture is mostly bad rows

    first = ingest(data_dir, warehouse)
    assert first.success
    before = tables(warehouse)
    second = ingest(data_dir, warehouse)
    assert second.success
    assert tables(warehouse) == before

    q1 = date(2024, 1, 1)
    assert [r[-4:] for r in before["raw.assessments"]] == [
        ("raw/assessments/a.csv", 2, _sha(data_dir / "raw/assessments/a.csv"), q1),
        ("raw/assessments/b.csv", 2, _sha(data_dir / "raw/assessments/b.csv"), q1),
    ]
    rejected = [(r[0], r[1], r[3], r[4]) for r in before["quarantine.assessments"]]
    assert rejected == [
        ("raw/assessments/a.csv", 3, q1, "nip"),
        ("raw/assessments/a.csv", 4, q1, "kode_opd"),
        ("raw/assessments/a.csv", 5, None, "*"),  # blank line: no quarter
        ("raw/assessments/a.csv", 6, q1, "realisasi"),
    ]
    # (source, file, quarter, rows read, loaded, quarantined): per file and quarter
    files = [(r[0], r[1], r[2], r[4], r[5], r[6]) for r in before["raw.files"]]
    assert files == [
        ("assessments", "raw/assessments/a.csv", q1, 4, 1, 3),
        ("assessments", "raw/assessments/a.csv", None, 1, 0, 1),
        ("assessments", "raw/assessments/b.csv", q1, 1, 1, 0),
        ("assessments", "raw/assessments/garbage.xlsx", None, 0, 0, 0),
    ]

    checks = {e.check_name: e.passed for e in second.get_asset_check_evaluations()}
    assert checks == {
        "rows_accounted_for": True,
        "quarantine_share_within_limit": True,  # limit raised to 100% above
        "all_files_readable": False,
    }
    metadata = second.asset_materializations_for_node("ingest_assessments")[0].metadata
    assert metadata["rows_read"].value == 6


def test_broken_quarter_fails_its_check_without_holding_the_run_hostage(
    data_env: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """3 of 5 rows of 2024-Q1 quarantined (60% > 20%; the share rule applies from 1 row here):
    the check fails at ERROR severity naming the quarter, raw.blocked_quarters lists it for
    dbt to leave out, and downstream assets still run."""
    data_dir, warehouse = data_env
    monkeypatch.setenv("KINERJA_QUARANTINE_MIN_ROWS", "1")
    ran: list[str] = []

    @dg.asset(deps=[dg.AssetKey(["raw", "assessments"])], partitions_def=QUARTERS)
    def downstream_mart(context) -> None:  # noqa: ANN001 (dagster reads the annotation)
        ran.append(context.partition_key_range.start)

    result = ingest(data_dir, warehouse, None, downstream_mart)

    assert result.success
    assert ran == [QUARTERS.get_first_partition_key()]
    check = next(
        e
        for e in result.get_asset_check_evaluations()
        if e.check_name == "quarantine_share_within_limit"
    )
    assert not check.passed
    assert check.severity == dg.AssetCheckSeverity.ERROR
    assert check.metadata["blocked_quarters"].value == ["2024-Q1"]
    assert check.description.startswith(
        "BLOCKED: assessments 2024-Q1: 60.0% of 5 rows quarantined (limit 20%). Left out of "
        "the marts (raw.blocked_quarters); the rest of the run is published."
    )
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        blocked = conn.execute("SELECT * FROM raw.blocked_quarters").fetchall()
    assert blocked == [
        ("assessments", date(2024, 1, 1), 5, 3, 0.6, "60.0% of 5 rows quarantined (limit 20%)")
    ]


def test_check_is_not_blocking() -> None:
    check = next(
        spec
        for spec in source_asset("assessments").check_specs
        if spec.name == "quarantine_share_within_limit"
    )
    assert not check.blocking


def test_quarter_runs_touch_only_their_quarter(
    data_env: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new quarter's export loads only that quarter; unchanged files of other quarters are
    not read; running quarter by quarter ends in the same tables as one run over all."""
    data_dir, warehouse = data_env
    monkeypatch.setenv("KINERJA_MAX_QUARANTINE_SHARE", "1")
    q1 = range_tags("2024-01", "2024-01")
    assert ingest(data_dir, warehouse, q1).success
    after_q1 = tables(warehouse)

    header = ";".join(assessments.COLUMNS)
    q2_rows = [VALID.replace("TW I", "TW II"), VALID.replace("TW I", "TW II").replace("88;", "x;")]
    (data_dir / "raw/assessments/c_tw2.csv").write_text("\n".join([header, *q2_rows]) + "\n")
    result = ingest(data_dir, warehouse, range_tags("2024-04", "2024-04"))
    assert result.success
    after_q2 = tables(warehouse)
    metadata = result.asset_materializations_for_node("ingest_assessments")[0].metadata
    # a.csv and b.csv hold only 2024-Q1 rows (and a.csv a blank line, in no quarter) and did
    # not change; garbage.xlsx is as unreadable as before: not read. c_tw2.csv is new.
    assert metadata["files_unchanged_not_read"].value == 3
    assert metadata["rows_read"].value == 2
    q2 = date(2024, 4, 1)
    new_rows = sorted(set(after_q2["raw.assessments"]) - set(after_q1["raw.assessments"]))
    assert [(r[-4], r[-3], r[-1]) for r in new_rows] == [("raw/assessments/c_tw2.csv", 2, q2)]
    assert set(after_q1["raw.assessments"]) <= set(after_q2["raw.assessments"])
    assert after_q2["quarantine.assessments"] == sorted(
        after_q1["quarantine.assessments"]
        + [r for r in after_q2["quarantine.assessments"] if r[0].endswith("c_tw2.csv")]
    )

    fresh = data_dir.parent / "fresh.duckdb"
    assert ingest(data_dir, fresh).success
    assert tables(fresh) == after_q2


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_deleted_file_leaves_with_the_runs_of_its_quarters(
    data_env: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir, warehouse = data_env
    monkeypatch.setenv("KINERJA_MAX_QUARANTINE_SHARE", "1")
    assert ingest(data_dir, warehouse).success
    (data_dir / "raw/assessments/a.csv").unlink()

    def rows_of_a() -> list[tuple]:
        with duckdb.connect(str(warehouse), read_only=True) as conn:
            return conn.execute(
                "SELECT 'raw', quarter FROM raw.assessments WHERE source_file LIKE '%a.csv' "
                "UNION ALL SELECT 'quarantine', quarter FROM quarantine.assessments "
                "WHERE source_file LIKE '%a.csv' UNION ALL SELECT 'files', quarter "
                "FROM raw.files WHERE source_file LIKE '%a.csv' ORDER BY ALL"
            ).fetchall()

    # Another quarter's run drops a.csv's rows in no quarter (the blank line) at once; its
    # 2024-Q1 rows go with the next 2024-Q1 run (the sensor launches it for a deleted file).
    assert ingest(data_dir, warehouse, range_tags("2024-04", "2024-04")).success
    q1 = date(2024, 1, 1)
    assert rows_of_a() == [("files", q1), *[("quarantine", q1)] * 3, ("raw", q1)]
    assert ingest(data_dir, warehouse, range_tags("2024-01", "2024-01")).success
    assert rows_of_a() == []


def _load_tables(path: Path, data_dir: Path, slice_rows: int = SLICE_ROWS) -> tuple:
    """load_source into a new warehouse: raw.files rows, raw and quarantine tables."""
    loaded = load_folder(
        assessments.definition,
        data_dir,
        {"OPD01", "OPD02"},
        b"fixture-key",
        slice_rows=slice_rows,
        warehouse=path,
    )
    return loaded.files.rows(), loaded.raw.rows(), loaded.quarantine.rows()


@pytest.mark.parametrize(("slice_rows", "block_bytes"), [(1, None), (SLICE_ROWS, 300)])
def test_validating_in_slices_and_reading_in_blocks_change_nothing(
    tmp_path: Path,
    data_env: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    slice_rows: int,
    block_bytes: int | None,
) -> None:
    """load_source validates big files in slices and reads them in blocks: one-row slices,
    and blocks of ~one row (300 bytes), give the same tables and per-file counts as one."""
    data_dir, warehouse = data_env
    two_valid = [VALID, VALID.replace("IKI-1", "IKI-2")]
    header = ";".join(assessments.COLUMNS)
    (data_dir / "raw/assessments/c.csv").write_text("\n".join([header, *two_valid]) + "\n")
    whole = _load_tables(tmp_path / "whole.duckdb", data_dir)
    if block_bytes:
        monkeypatch.setattr(formats, "BLOCK_BYTES", block_bytes)
    outcomes = [whole, _load_tables(tmp_path / "parts.duckdb", data_dir, slice_rows)]
    assert outcomes[0] == outcomes[1]
    files = {(r[1], r[2]): r[4:7] for r in outcomes[0][0]}
    assert files[("raw/assessments/a.csv", date(2024, 1, 1))] == (4, 1, 3)
    assert files[("raw/assessments/c.csv", date(2024, 1, 1))] == (2, 2, 0)


def test_a_file_failing_in_a_late_block_is_taken_back_whole(
    tmp_path: Path, data_env: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blocks of a file already went into the warehouse when a later block turns out to be
    broken (a quote never closed on line 6): none of its rows stays, raw.files says why, and
    the other files load as before."""
    data_dir, _ = data_env
    header = ";".join(assessments.COLUMNS)
    rows = [VALID.replace("IKI-1", f"IKI-{i}") for i in range(1, 5)]
    late = "\n".join([header, *rows, VALID.replace("Laporan", '"Laporan')]) + "\n"
    (data_dir / "raw/assessments/late.csv").write_text(late)
    monkeypatch.setattr(formats, "BLOCK_BYTES", 300)
    files, raw_rows, quarantined = _load_tables(tmp_path / "late.duckdb", data_dir)
    late_files = [r for r in files if r[1] == "raw/assessments/late.csv"]
    assert len(late_files) == 1
    assert late_files[0][4:7] == (0, 0, 0)
    assert "late.csv: cannot be parsed as CSV at line 6" in late_files[0][7]
    assert not [r for r in raw_rows + quarantined if "late.csv" in str(r)]
    # a.csv (5 rows, a blank one included) and b.csv (1 row) as in the other tests
    assert sum(r[4] for r in files) == 6
    assert len(raw_rows) == 2


def test_a_load_interrupted_midway_changes_nothing(
    tmp_path: Path, data_env: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows are staged and committed block by block, yet a load stopped after some blocks
    went in (here: interrupted while reading b.csv, after a.csv was staged) leaves raw,
    quarantine and raw.files exactly as they were, and no staging table behind."""
    data_dir, _ = data_env
    warehouse = tmp_path / "interrupted.duckdb"
    before = _load_tables(warehouse, data_dir)
    (data_dir / "raw/assessments/a.csv").write_text(
        (data_dir / "raw/assessments/a.csv").read_text().replace("Budi", "Budi Baru")
    )
    real_read = reading.iter_export

    def interrupted(path: Path, *args, **kwargs):
        if path.name == "b.csv":
            raise KeyboardInterrupt
        yield from real_read(path, *args, **kwargs)

    monkeypatch.setattr(reading, "iter_export", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _load_tables(warehouse, data_dir)
    with duckdb.connect(str(warehouse)) as conn:
        tables = conn.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()
        assert sorted(tables) == [
            ("quarantine", "assessments"),
            ("raw", "assessments"),
            ("raw", "files"),
        ]
        assert (
            load_files_rows(conn),
            conn.execute("SELECT * FROM raw.assessments ORDER BY ALL").fetchall(),
            conn.execute("SELECT * FROM quarantine.assessments ORDER BY ALL").fetchall(),
        ) == (sorted(before[0], key=str), before[1], before[2])


def load_files_rows(conn: duckdb.DuckDBPyConnection) -> list[tuple]:
    rows = conn.execute(
        "SELECT source, source_file, quarter, file_sha256, n_rows_read, n_rows_loaded, "
        "n_rows_quarantined, error FROM raw.files"
    ).fetchall()
    return sorted(rows, key=str)
