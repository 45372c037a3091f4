"""The same five rows written in every export variant must read and normalise identically."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from pipelines.ingest.formats import NUMBER_CELLS, ExportReadError, read_export
from pipelines.rules.headers import canonical_header
from pipelines.rules.parsing import normalise_period, parse_date, parse_decimal

# nip, nama, tanggal, target, periode — hand-written; expected typed values below.
ROWS = [
    ("198503122010011001", "Budi Santoso", dt.date(2024, 3, 1), 87.5, "Triwulan I"),
    ("199001012022212001", "Sékar Ayu", dt.date(2024, 1, 31), 100.0, "tw 2"),
    ("197112312000031002", "André Wijaya", dt.date(2023, 12, 31), 1234.25, "TW IV-AKHIR"),
    ("198807152015052003", "Siti Nur", dt.date(2024, 2, 29), 0.5, "tahunan"),
    ("196605051990011004", "Óscar Putra", dt.date(2000, 1, 1), 12.0, "TW III"),
]
EXPECTED = pl.DataFrame(
    {
        "nip": [r[0] for r in ROWS],
        "nama": [r[1] for r in ROWS],
        "tanggal": [r[2] for r in ROWS],
        "target": [r[3] for r in ROWS],
        "periode": ["TW I", "TW II", "TW IV", "TAHUNAN", "TW III"],
        "source_row": pl.Series([2, 3, 4, 5, 6], dtype=pl.Int32),
    }
)
EXCEL_EPOCH = dt.date(1899, 12, 30)


def _serial(day: dt.date) -> int:
    return (day - EXCEL_EPOCH).days


def _text_rows(date_format, number_format) -> list[list[str]]:
    return [[n, name, date_format(d), number_format(t), p] for n, name, d, t, p in ROWS]


def _write_csv(path: Path, header, rows, sep: str, encoding: str, tail: str = "") -> Path:
    lines = [sep.join(header)] + [sep.join(r) for r in rows]
    path.write_bytes(("\r\n".join(lines) + "\r\n" + tail).encode(encoding))
    return path


def _normalise(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        "nip",
        "nama",
        parse_date(pl.col("tanggal"), "tanggal").value.alias("tanggal"),
        parse_decimal(pl.col("target"), "target").value.alias("target"),
        normalise_period(pl.col("periode")).alias("periode"),
        "source_row",
    )


HEADER = ["nip", "nama", "tanggal", "target", "periode"]


def variant_files(folder: Path) -> dict[str, Path]:
    """Every variant of the same five rows."""
    dmy = lambda d: d.strftime("%d/%m/%Y")  # noqa: E731
    iso = lambda d: d.isoformat()  # noqa: E731
    dot = lambda t: f"{t:g}"  # noqa: E731
    comma = lambda t: f"{t:g}".replace(".", ",")  # noqa: E731
    files = {
        "comma_utf8": _write_csv(folder / "comma.csv", HEADER, _text_rows(dmy, dot), ",", "utf-8"),
        "semicolon_cp1252_decimal_comma": _write_csv(
            folder / "semi.csv", HEADER, _text_rows(iso, comma), ";", "cp1252"
        ),
        "bom_serial_dates": _write_csv(
            folder / "bom.csv", HEADER, _text_rows(lambda d: str(_serial(d)), dot), ",", "utf-8-sig"
        ),
        "messy_headers_trailing_empties": _write_csv(
            folder / "messy.csv",
            [" NIP ", "Nama", "  TANGGAL", "Target  ", "Periode", "", ""],
            [r + ["", ""] for r in _text_rows(dmy, comma)],
            ";",
            "utf-8",
            tail=";;;;;;\r\n;;;;;;\r\n\r\n",
        ),
    }
    xlsx = folder / "cells.xlsx"
    book = xlsxwriter.Workbook(xlsx)
    sheet = book.add_worksheet()
    date_cell = book.add_format({"num_format": "dd/mm/yyyy"})
    sheet.write_row(0, 0, ["NIP", "Nama ", "Tanggal", "Target", "Periode", ""])
    for i, (nip, name, day, target, period) in enumerate(ROWS, start=1):
        sheet.write_string(i, 0, nip)
        sheet.write_string(i, 1, name)
        if i % 2:  # alternate real date cells and serial numbers in number cells
            sheet.write_datetime(i, 2, dt.datetime.combine(day, dt.time()), date_cell)
        else:
            sheet.write_number(i, 2, _serial(day))
        sheet.write_number(i, 3, target)
        sheet.write_string(i, 4, period)
    sheet.write_string(8, 5, "")  # an empty cell far below: trailing empty rows/columns
    book.close()
    files["xlsx_date_and_serial_cells"] = xlsx
    return files


def test_every_variant_reads_to_identical_rows(tmp_path: Path) -> None:
    for variant, path in variant_files(tmp_path).items():
        frame = read_export(path, HEADER)
        # xlsx: which cells are Excel numbers with a fraction (87.5, 1234.25, 0.5 in 'target')
        marks = [NUMBER_CELLS] if path.suffix == ".xlsx" else []
        assert frame.columns == [*HEADER, "source_row", *marks], variant
        if marks:
            assert frame[NUMBER_CELLS].to_list() == [["target"], [], ["target"], ["target"], []]
        assert set(frame.select(HEADER).dtypes) == {pl.String}, variant
        assert _normalise(frame).equals(EXPECTED), variant


def test_canonical_header() -> None:
    assert canonical_header("  Kode   OPD ") == "kode_opd"
    assert canonical_header("\ufeffNIP") == "nip"
    assert canonical_header(None) == ""


def test_rows_are_numbered_as_in_an_editor(tmp_path: Path) -> None:
    path = tmp_path / "lines.csv"
    # line 1 header, 2 data, 3 blank, 4-5 a quoted value with a line break, 6 data
    path.write_bytes(b'nip,nama\n1,a\n\n2,"b\nb"\n3,c\n\n')
    frame = read_export(path, ["nip"])
    assert frame["source_row"].to_list() == [2, 3, 4, 6]
    assert frame["nip"].to_list() == ["1", None, "2", "3"]
    assert frame["nama"].to_list() == ["a", None, "b\nb", "c"]


def test_numeric_nip_cell_comes_out_visibly_mangled(tmp_path: Path) -> None:
    path = tmp_path / "numeric_nip.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["nip", "usia"])
    sheet.write_number(1, 0, 198503122010011001)
    sheet.write_number(1, 1, 37)
    book.close()
    frame = read_export(path, ["nip"])
    assert frame["nip"].to_list() == ["1.98503122010011e+17"]
    assert frame["usia"].to_list() == ["37"]


def test_garbage_file_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "garbage.csv"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ExportReadError, match="garbage.csv"):
        read_export(path, HEADER)


def test_truncated_xlsx_is_an_error_naming_the_file(tmp_path: Path) -> None:
    whole = variant_files(tmp_path)["xlsx_date_and_serial_cells"]
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(whole.read_bytes()[:400])
    with pytest.raises(ExportReadError, match="broken.xlsx"):
        read_export(broken, HEADER)


def test_missing_columns_are_named(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "short.csv", ["nip", "nama"], [["1", "a"]], ",", "utf-8")
    with pytest.raises(ExportReadError) as error:
        read_export(path, ["nip", "tahun", "periode"], display_name="raw/x/short.csv")
    message = str(error.value)
    assert "raw/x/short.csv" in message
    assert "missing required column(s): tahun, periode" in message
