"""Validation of hand-built text frames: each rejection kind, row accounting, pseudonyms."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import stat
from pathlib import Path

import polars as pl

from pipelines.ingest import assessments, surveys, training
from pipelines.ingest.reading import LINEAGE
from pipelines.rules.pseudonym import load_key, pseudonym, pseudonymise
from pipelines.settings import Settings

KEY = b"test-key"
AGENCIES = {"OPD01", "OPD02"}
FILE = "raw/x/export.csv"

ASSESSMENT = {
    "nip": "198503122010011001",
    "nama": "Budi",
    "kode_opd": "OPD01",
    "nama_opd": "Dinas Kesehatan",
    "unit_kerja": "Sekretariat",
    "jabatan": "Analis",
    "jenis_jabatan": "pelaksana",
    "golongan": "III a",
    "tahun": "2024",
    "periode": "Triwulan I",
    "kode_indikator": "IKI-1",
    "indikator": "Laporan",
    "target": "100",
    "realisasi": "87,5",
    "satuan": "%",
    "nilai_mandiri": "90",
    "nilai_atasan": "",
    "rating_hasil_kerja": "sesuai  ekspektasi",
    "rating_perilaku": "DI ATAS EKSPEKTASI",
    "predikat": "baik",
    "nip_penilai": "199001012022212001",
}


def text_frame(rows: list[dict], columns: list[str]) -> pl.DataFrame:
    """Rows as a reader would return them, with lineage (first data row is row 2) and the
    quarter ingestion gives each row."""
    source = next(m for m in (assessments, surveys, training) if columns == m.COLUMNS)
    frame = pl.DataFrame(
        [{c: row.get(c) for c in columns} for row in rows],
        schema={c: pl.String for c in columns},
    )
    return frame.with_columns(
        source_file=pl.lit(FILE),
        source_row=pl.int_range(2, len(rows) + 2, dtype=pl.Int32),
        file_sha256=pl.lit("0" * 64),
        quarter=source.definition.quarter(frame),
    )


def rejections(quarantine: pl.DataFrame) -> list[tuple[int, str, str]]:
    return sorted(quarantine.select("source_row", "column_name", "reason").iter_rows())


def test_valid_assessment_is_typed_and_normalised() -> None:
    valid, quarantine = assessments.validate_assessments(
        text_frame([ASSESSMENT], assessments.COLUMNS), AGENCIES, KEY
    )
    assert quarantine.height == 0
    row = valid.row(0, named=True)
    assert row["jenis_jabatan"] == "Pelaksana"
    assert row["golongan"] == "III/a"
    assert row["periode"] == "TW I"
    assert row["tahun"] == 2024
    assert row["realisasi"] == 87.5
    assert row["nilai_atasan"] is None
    assert row["rating_hasil_kerja"] == "SESUAI EKSPEKTASI"
    assert row["predikat"] == "Baik"
    assert row["is_pppk"] is False
    assert row["employee_key"] == pseudonym("198503122010011001", KEY)
    assert row["penilai_key"] == pseudonym("199001012022212001", KEY)
    assert (row["source_file"], row["source_row"]) == (FILE, 2)
    assert valid.columns == [*assessments.OUTPUT, *LINEAGE]
    assert row["quarter"] == dt.date(2024, 1, 1)


def test_each_assessment_rejection_kind() -> None:
    rows = [
        ASSESSMENT,  # row 2 valid
        {**ASSESSMENT, "nip": "1.98503E+17"},  # 3
        {**ASSESSMENT, "kode_opd": "OPD99"},  # 4
        {**ASSESSMENT, "periode": "semester 1", "tahun": "1999"},  # 5: two columns
        {**ASSESSMENT, "target": "0", "realisasi": "-1"},  # 6
        {**ASSESSMENT, "nilai_atasan": "12x", "nilai_mandiri": "121"},  # 7
        {**ASSESSMENT, "rating_perilaku": ""},  # 8
        {**ASSESSMENT, "predikat": "Istimewa", "golongan": "V/a"},  # 9
        {},  # 10: empty row
        {**ASSESSMENT, "nip": "199001012022212001"},  # 11 valid PPPK
    ]
    valid, quarantine = assessments.validate_assessments(
        text_frame(rows, assessments.COLUMNS), AGENCIES, KEY
    )
    assert valid["source_row"].to_list() == [2, 11]
    assert valid["is_pppk"].to_list() == [False, True]
    assert rejections(quarantine) == [
        (
            3,
            "nip",
            "NIP '1.98503E+17' is in scientific notation: Excel rounded it and the digits "
            "cannot be recovered",
        ),
        (4, "kode_opd", "kode_opd 'OPD99' is not a known agency (raw.agencies)"),
        (
            5,
            "periode",
            "periode 'semester 1' is not one of: TW I, TW II, TW III, TW IV, TAHUNAN, "
            + ", ".join(f"BULAN {m}" for m in range(1, 13)),
        ),
        (5, "tahun", "tahun '1999' is not a year in 2000..2100"),
        (6, "realisasi", "realisasi '-1.0' must not be negative"),
        (6, "target", "target '0.0' must be greater than 0"),
        (7, "nilai_atasan", "nilai_atasan '12x' is not a number"),
        (7, "nilai_mandiri", "nilai_mandiri '121.0' is outside 0..120"),
        (8, "rating_perilaku", "rating_perilaku is required but empty"),
        (
            9,
            "golongan",
            "golongan 'V/a' is not one of: I/a, I/b, I/c, I/d, II/a, II/b, II/c, II/d, "
            "III/a, III/b, III/c, III/d, IV/a, IV/b, IV/c, IV/d, IV/e",
        ),
        (
            9,
            "predikat",
            "predikat 'Istimewa' is not one of: Sangat Baik, Baik, Butuh Perbaikan, "
            "Kurang/Misconduct, Sangat Kurang",
        ),
        (10, "*", "row is empty"),
    ]
    # raw_record keeps the row's original text
    record = json.loads(quarantine.filter(pl.col("source_row") == 3)["raw_record"].item())
    assert record["nip"] == "1.98503E+17" and record["realisasi"] == "87,5"
    # accounting: read = loaded + distinct rejected rows
    rejected = quarantine.select("source_file", "source_row").unique().height
    assert (valid.height, rejected) == (2, 8)
    assert valid.height + rejected == len(rows)


SURVEY = {
    "id_responden": "R1",
    "tanggal": "15/03/2024",
    "kode_opd": "OPD02",
    "unit_layanan": "Loket A",
    "jenis_layanan": "Perizinan",
    "jenis_kelamin": "Perempuan",
    "usia": "34",
    "pendidikan": "S1",
    "pekerjaan": "Swasta",
    **{f"u{i}": "3" for i in range(1, 10)},
    "saran": "",
}


def test_survey_out_of_scale_answer_becomes_null_and_is_counted() -> None:
    rows = [{**SURVEY, "u2": "5", "u7": "x", "u9": ""}]
    valid, quarantine = surveys.validate_surveys(text_frame(rows, surveys.COLUMNS), AGENCIES, KEY)
    assert quarantine.height == 0
    row = valid.row(0, named=True)
    assert (row["u1"], row["u2"], row["u7"], row["u9"]) == (3, None, None, None)
    assert row["n_invalid_answers"] == 2  # 5 and 'x'; an unanswered u9 is not invalid
    assert row["tanggal"] == dt.date(2024, 3, 15)
    assert row["jenis_kelamin"] == "P"
    assert row["usia"] == 34


def test_survey_rejections() -> None:
    rows = [
        {**SURVEY, "tanggal": "31/02/2024"},
        {**SURVEY, "usia": "7"},
        {**SURVEY, "usia": "tiga puluh"},
        {**SURVEY, "kode_opd": "OPD03", "unit_layanan": " "},
    ]
    valid, quarantine = surveys.validate_surveys(text_frame(rows, surveys.COLUMNS), AGENCIES, KEY)
    assert valid.height == 0
    assert rejections(quarantine) == [
        (2, "tanggal", "tanggal '31/02/2024' is not a real calendar date"),
        (3, "usia", "usia '7' is outside 10..100"),
        (4, "usia", "usia 'tiga puluh' is not a whole number"),
        (5, "kode_opd", "kode_opd 'OPD03' is not a known agency (raw.agencies)"),
        (5, "unit_layanan", "unit_layanan is required but empty"),
    ]


TRAINING = {
    "nip": "198503122010011001",
    "nama_pelatihan": "Pelatihan Dasar",
    "jenis": "Non Klasikal",
    "penyelenggara": "BKPSDM",
    "tanggal_mulai": "2024-03-01",
    "tanggal_selesai": "45355",
    "jp": "24,5",
    "sertifikat": "Ya",
}


def test_training_valid_and_rejected() -> None:
    rows = [
        TRAINING,
        {**TRAINING, "tanggal_selesai": "29/02/2024"},
        {**TRAINING, "jp": "1200", "sertifikat": "mungkin"},
        {**TRAINING, "nip": "198503122010011000", "jenis": "daring"},
    ]
    valid, quarantine = training.validate_training(
        text_frame(rows, training.COLUMNS), AGENCIES, KEY
    )
    row = valid.row(0, named=True)
    assert valid.height == 1
    assert row["jenis"] == "nonklasikal"
    assert row["tanggal_selesai"] == dt.date(2024, 3, 4)  # Excel serial 45355
    assert (row["jp"], row["sertifikat"]) == (24.5, True)
    assert row["employee_key"] == pseudonym("198503122010011001", KEY)
    assert rejections(quarantine) == [
        (3, "tanggal_selesai", "tanggal_selesai 2024-02-29 is before tanggal_mulai 2024-03-01"),
        (4, "jp", "jp '1200.0' is more than 1000 JP"),
        (4, "sertifikat", "sertifikat 'mungkin' is not Y or N"),
        (5, "jenis", "jenis 'daring' is not klasikal or nonklasikal"),
        (
            5,
            "nip",
            "NIP '198503122010011000' ends in '000' (sequence 000 is never issued): Excel kept "
            "only 15 significant digits and the last digits cannot be recovered",
        ),
    ]


def test_pseudonym_is_stable_keyed_and_matches_hmac() -> None:
    nip = "198503122010011001"
    expected = hmac.new(KEY, nip.encode(), hashlib.sha256).hexdigest()[:16]
    values = pl.Series([nip, None, "199001012022212001", nip])
    keys = pseudonymise(values, KEY)
    assert keys[0] == keys[3] == expected
    assert keys[1] is None
    assert pseudonymise(values, b"another-key")[0] != expected


def test_key_file_created_once_with_mode_0600(tmp_path: Path) -> None:
    first = load_key(tmp_path)
    assert stat.S_IMODE(os.stat(tmp_path / ".pseudonym_key").st_mode) == 0o600
    assert load_key(tmp_path) == first and len(first) == 64
    given = Settings.from_env({"KINERJA_PSEUDONYM_KEY": " from-env "}).pseudonym_key
    assert load_key(tmp_path, given) == b"from-env"
