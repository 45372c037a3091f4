"""Materialize the reference and assessment assets into a temporary DuckDB, twice."""

from __future__ import annotations

import hashlib
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster_duckdb import DuckDBResource

from pipelines.sources import assessments, reference

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


def test_materialize_twice_gives_identical_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "data"
    write_fixture(data_dir)
    warehouse = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("KINERJA_DATA_DIR", str(data_dir))
    monkeypatch.setenv("KINERJA_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("KINERJA_PSEUDONYM_KEY", "fixture-key")
    selection = [*reference.assets, *assessments.assets]
    resources = {"duckdb": DuckDBResource(database=str(warehouse))}

    first = dg.materialize(selection, resources=resources)
    assert first.success
    before = tables(warehouse)
    second = dg.materialize(selection, resources=resources)
    assert second.success
    assert tables(warehouse) == before

    assert [r[-3:] for r in before["raw.assessments"]] == [
        ("raw/assessments/a.csv", 2, _sha(data_dir / "raw/assessments/a.csv")),
        ("raw/assessments/b.csv", 2, _sha(data_dir / "raw/assessments/b.csv")),
    ]
    rejected = [(r[0], r[1], r[3]) for r in before["quarantine.assessments"]]
    assert rejected == [
        ("raw/assessments/a.csv", 3, "nip"),
        ("raw/assessments/a.csv", 4, "kode_opd"),
        ("raw/assessments/a.csv", 5, "*"),
        ("raw/assessments/a.csv", 6, "realisasi"),
    ]
    files = [(r[0], r[1], r[3], r[4], r[5]) for r in before["raw.files"]]
    assert files == [
        ("assessments", "raw/assessments/a.csv", 5, 1, 4),
        ("assessments", "raw/assessments/b.csv", 1, 1, 0),
        ("assessments", "raw/assessments/garbage.xlsx", 0, 0, 0),
    ]

    checks = {e.check_name: e.passed for e in second.get_asset_check_evaluations()}
    # 4 of 6 rows quarantined (67%) and one unreadable file: those two checks fail
    assert checks == {
        "rows_accounted_for": True,
        "quarantine_share_at_most_20pct": False,
        "all_files_readable": False,
    }
    metadata = second.asset_materializations_for_node("ingest_assessments")[0].metadata
    assert metadata["rows_read"].value == 6


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
