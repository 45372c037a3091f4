"""Indicator declarations at ingestion (issue 14): the optional aspek / arah / jenis_agregasi
columns of assessment exports and reference/indikator.csv load as canonical values; an
unknown spelling quarantines the row (exports) or fails the file (reference)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest
from dagster_duckdb import DuckDBResource

from pipelines.exports import ASSESSMENT_COLUMNS, ASSESSMENT_INDICATOR_COLUMNS
from pipelines.ingest import assessments
from pipelines.ingest.assets import reference_assets
from pipelines.ingest.reference import REFERENCES, ReferenceFileError, read_indikator
from pipelines.rules import indicator
from pipelines.settings import Settings
from tests.ingest_support import ASSESSMENT_ROW as BASE
from tests.ingest_support import load_folder

KEY = b"test-key"
# The three columns last, headed in odd case and spacing.
HEADER = [*ASSESSMENT_COLUMNS, " Aspek ", "ARAH", "Jenis  Agregasi"]
# (kode_indikator, aspek, arah, jenis_agregasi) as written in with_columns.csv, row 2 on.
DECLARED = [
    ("IKI-1", "Kuantitas", "naik", "Jumlah"),
    ("IKI-2", "WAKTU", "lebih rendah lebih baik", "nilai terakhir"),
    ("IKI-3", "biaya", "Lower-is-better", "kumulatif"),
    ("IKI-4", "", "", ""),
    ("IKI-5", "kualitas", "keatas", "terakhir"),  # row 6: unknown arah
    ("IKI-6", "mutu", "Positif", "rata-rata"),  # row 7: unknown aspek and jenis_agregasi
]


def _line(values: list[str]) -> str:
    return ";".join(values)


def _write_exports(data_dir: Path) -> None:
    folder = data_dir / "raw" / "assessments"
    folder.mkdir(parents=True)
    rows = [_line([{**BASE, "kode_indikator": d[0]}[c] for c in ASSESSMENT_COLUMNS] + list(d[1:]))
            for d in DECLARED]  # fmt: skip
    (folder / "with_columns.csv").write_text("\n".join([_line(HEADER), *rows]) + "\n")
    plain = [_line([{**BASE, "kode_indikator": k}[c] for c in ASSESSMENT_COLUMNS])
             for k in ("IKI-7", "IKI-8")]  # fmt: skip
    (folder / "without.csv").write_text("\n".join([_line(ASSESSMENT_COLUMNS), *plain]) + "\n")


def test_export_columns_load_canonical_values_or_quarantine(tmp_path: Path) -> None:
    _write_exports(tmp_path)
    warehouse = tmp_path / "w.duckdb"
    loaded = load_folder(assessments.definition, tmp_path, {"OPD01"}, KEY, warehouse=warehouse)
    got = {
        row[0]: row[1:]
        for row in loaded.raw.select("kode_indikator", *ASSESSMENT_INDICATOR_COLUMNS).iter_rows()
    }
    assert got == {
        "IKI-1": ("kuantitas", "naik", "jumlah"),
        "IKI-2": ("waktu", "turun", "terakhir"),
        "IKI-3": ("biaya", "turun", "jumlah"),
        "IKI-4": (None, None, None),  # blank cells
        "IKI-7": (None, None, None),  # a file without the columns
        "IKI-8": (None, None, None),
    }
    reasons = sorted(
        loaded.quarantine.select("source_file", "source_row", "column_name", "reason").rows()
    )
    file = "raw/assessments/with_columns.csv"
    assert reasons == [
        (file, 6, "arah", "arah 'keatas' is not a known value (naik, turun)"),
        (file, 7, "aspek", "aspek 'mutu' is not a known value (kuantitas, kualitas, waktu, biaya)"),
        (file, 7, "jenis_agregasi", "jenis_agregasi 'rata-rata' is not a known value "
         "(jumlah, terakhir)"),
    ]  # fmt: skip
    # Every row read is loaded or quarantined, once.
    files = {r["source_file"]: r for r in loaded.files.iter_rows(named=True)}
    assert files[file]["n_rows_read"] == 6 and files["raw/assessments/without.csv"]["n_rows_read"]
    read = sum(r["n_rows_read"] for r in files.values())
    quarantined_rows = loaded.quarantine.select("source_file", "source_row").unique().height
    assert (read, loaded.raw.height, quarantined_rows) == (8, 6, 2)
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        types = dict(
            conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'raw' AND table_name = 'assessments'"
            ).fetchall()
        )
    assert [types[c] for c in ("aspek", "arah", "jenis_agregasi")] == ["VARCHAR"] * 3


def test_the_columns_are_there_even_when_no_file_has_them(tmp_path: Path) -> None:
    folder = tmp_path / "raw" / "assessments"
    folder.mkdir(parents=True)
    (folder / "a.csv").write_text(_line(ASSESSMENT_COLUMNS) + "\n" + _line(list(BASE.values())))
    loaded = load_folder(assessments.definition, tmp_path, {"OPD01"}, KEY)
    assert loaded.raw.height == 1 and loaded.quarantine.height == 0
    assert loaded.raw.select(ASSESSMENT_INDICATOR_COLUMNS).row(0) == (None, None, None)
    assert list(ASSESSMENT_INDICATOR_COLUMNS) == list(indicator.ATTRIBUTES)


# ---------------------------------------------------------------- reference/indikator.csv
def _reference(data_dir: Path, text: str) -> Path:
    path = data_dir / "reference" / "indikator.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_reference_file_loads_canonical_values(tmp_path: Path) -> None:
    _reference(
        tmp_path,
        "Kode Indikator,ASPEK,Arah,jenis_agregasi\n"
        "IKI-3,,Turun,\n"
        "IKI-1,Waktu,,\n"
        "IKI-2,kuantitas,Positif,Kumulatif\n",
    )
    frame = read_indikator(tmp_path)
    assert frame.schema == dict.fromkeys(
        ["kode_indikator", "aspek", "arah", "jenis_agregasi"], pl.String
    )
    assert frame.rows() == [
        ("IKI-1", "waktu", None, None),
        ("IKI-2", "kuantitas", "naik", "jumlah"),
        ("IKI-3", None, "turun", None),
    ]


def test_reference_file_with_only_some_columns(tmp_path: Path) -> None:
    _reference(tmp_path, "kode_indikator;arah\nIKI-1;negatif\n")
    assert read_indikator(tmp_path).rows() == [("IKI-1", None, "turun", None)]


@pytest.mark.parametrize("text", [None, "kode_indikator,aspek,arah,jenis_agregasi\n", ""])
def test_missing_or_header_only_reference_is_empty(tmp_path: Path, text: str | None) -> None:
    if text is not None:
        _reference(tmp_path, text)
    frame = read_indikator(tmp_path)
    assert frame.height == 0
    assert frame.schema == dict.fromkeys(
        ["kode_indikator", "aspek", "arah", "jenis_agregasi"], pl.String
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "kode_indikator,aspek,arah\nIKI-1,waktu,turun\nIKI-2,kualitas,keatas\n",
            "reference/indikator.csv: row 3: arah 'keatas' is not a known value (naik, turun); "
            "fix these rows",
        ),
        (
            "kode_indikator,jenis_agregasi\nIKI-1,rata-rata\n",
            "reference/indikator.csv: row 2: jenis_agregasi 'rata-rata' is not a known value "
            "(jumlah, terakhir); fix these rows",
        ),
        (
            "kode_indikator,arah\nIKI-1,naik\nIKI-2,turun\nIKI-1,naik\n",
            "reference/indikator.csv: row 4: kode_indikator 'IKI-1' is listed twice "
            "(first in row 2); fix these rows",
        ),
        (
            "kode_indikator,arah\nIKI-1,naik\n,turun\n",
            "reference/indikator.csv: row 3: kode_indikator is required but empty; fix these rows",
        ),
    ],
)
def test_bad_reference_names_file_row_and_column(tmp_path: Path, text: str, message: str) -> None:
    _reference(tmp_path, text)
    with pytest.raises(ReferenceFileError) as error:
        read_indikator(tmp_path)
    assert str(error.value) == message


def test_reference_without_kode_indikator_column_fails(tmp_path: Path) -> None:
    _reference(tmp_path, "kode,arah\nIKI-1,naik\n")
    with pytest.raises(ReferenceFileError, match=r"^reference/indikator\.csv: missing required"):
        read_indikator(tmp_path)


def test_raw_indikator_asset_exists_without_a_file(tmp_path: Path) -> None:
    assert "indikator" in [t.name for t in REFERENCES]
    asset = next(a for a in reference_assets if dg.AssetKey(["raw", "indikator"]) in a.keys)
    warehouse = tmp_path / "w.duckdb"
    settings = Settings(data_dir=tmp_path, warehouse=warehouse, reports_dir=tmp_path / "r")
    result = dg.materialize(
        [asset], resources={"duckdb": DuckDBResource(database=str(warehouse)), "settings": settings}
    )
    assert result.success
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        columns = conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'raw' AND table_name = 'indikator' ORDER BY ordinal_position"
        ).fetchall()
        rows = conn.execute("SELECT count(*) FROM raw.indikator").fetchone()[0]
    assert columns == [
        ("kode_indikator", "VARCHAR"),
        ("aspek", "VARCHAR"),
        ("arah", "VARCHAR"),
        ("jenis_agregasi", "VARCHAR"),
    ]
    assert rows == 0
