"""A file's number format decides what '1.500' means (issue 11 §2): 1500 in a decimal-comma
file, 1.5 in a decimal-point file, quarantined with a reason in a file that does not say.
Hand-built exports go through the real ingestion path (load_source) into DuckDB."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from pipelines.ingest import assessments, formats
from pipelines.ingest.formats import NUMBER_CELLS
from pipelines.ingest.validation import merge_number_formats, number_formats
from pipelines.rules import parsing
from tests.ingest_support import load_folder
from tests.test_hostile_inputs import BASE

# The hostile-input tests' valid row, without its decimal comma (no evidence of a format).
ROW = BASE | {"realisasi": "80"}
FOLDER = "raw/assessments"


def write_csv(data_dir: Path, name: str, rows: list[dict[str, str]]) -> None:
    """Semicolon CSV: a decimal comma needs no quoting."""
    folder = data_dir / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    lines = [";".join(assessments.COLUMNS)]
    lines += [";".join({**ROW, **row}[c] for c in assessments.COLUMNS) for row in rows]
    (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


def load(data_dir: Path, warehouse: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(raw.assessments, quarantine.assessments) after load_source over the folder."""
    loaded = load_folder(
        assessments.definition, data_dir, {"OPD01"}, b"key", data_dir / FOLDER, warehouse=warehouse
    )
    return loaded.raw, loaded.quarantine


def loaded(raw: pl.DataFrame, name: str, *columns: str) -> list[tuple]:
    rows = raw.filter(pl.col("source_file") == f"{FOLDER}/{name}")
    return rows.sort("source_row").select("source_row", *columns).rows()


def rejected(quarantine: pl.DataFrame, name: str) -> list[tuple]:
    rows = quarantine.filter(pl.col("source_file") == f"{FOLDER}/{name}")
    return rows.sort("source_row").select("source_row", "column_name", "reason").rows()


# ---------------------------------------------------------------- through ingestion


def test_each_file_reads_its_numbers_in_its_own_format(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    write_csv(
        data_dir,
        "koma.csv",  # decimal comma: '1.234,5' decides, so '1.500' is 1500 and '2.024' 2024
        [
            {"tahun": "2.024", "target": "1.500", "realisasi": "1.234,5", "nilai_mandiri": "87,5"},
            {"target": "2.000", "realisasi": "1.500"},
            {"target": "1,234,567"},
            {"target": "1,5", "realisasi": "1.234.567"},
        ],
    )
    write_csv(
        data_dir,
        "titik.csv",  # decimal point: '1.5' decides, so '1,500' is 1500 and '1.500' is 1.5
        [
            {"tahun": "2,024", "target": "1,500", "realisasi": "1.5", "nilai_mandiri": "87.5"},
            {"target": "1.500", "realisasi": "1,234.5"},
            {"realisasi": "1.234.567"},
        ],
    )
    write_csv(
        data_dir,
        "tanpa_bukti.csv",  # no number with a decimal separator: '1.500' cannot be read
        [
            {"target": "1.500"},
            {"target": "1500", "realisasi": "12"},
            {"tahun": "2.024"},
            {"target": "1.234.567"},
        ],
    )
    write_csv(
        data_dir,
        "campur.csv",  # both separators: no decision, but '87,5' and '87.5' are still clear
        [{"realisasi": "87,5"}, {"realisasi": "87.5"}, {"target": "1.000"}],
    )
    raw, quarantine = load(data_dir, tmp_path / "w.duckdb")

    numbers = ("tahun", "target", "realisasi", "nilai_mandiri")
    assert loaded(raw, "koma.csv", *numbers) == [
        (2, 2024, 1500.0, 1234.5, 87.5),
        (3, 2024, 2000.0, 1500.0, 90.0),
        (5, 2024, 1.5, 1234567.0, 90.0),
    ]
    assert rejected(quarantine, "koma.csv") == [
        (
            4,
            "target",
            "target '1,234,567' does not fit the file's number format: its other numbers use "
            "a decimal comma (e.g. '1.234,5'); write it as 1234567",
        )
    ]
    assert loaded(raw, "titik.csv", *numbers) == [
        (2, 2024, 1500.0, 1.5, 87.5),
        (3, 2024, 1.5, 1234.5, 90.0),
    ]
    assert rejected(quarantine, "titik.csv") == [
        (
            4,
            "realisasi",
            "realisasi '1.234.567' does not fit the file's number format: its other numbers "
            "use a decimal point (e.g. '1.5'); write it as 1234567",
        )
    ]
    assert loaded(raw, "tanpa_bukti.csv", *numbers) == [
        (3, 2024, 1500.0, 12.0, 90.0),
        (5, 2024, 1234567.0, 80.0, 90.0),
    ]
    assert rejected(quarantine, "tanpa_bukti.csv") == [
        (
            2,
            "target",
            "target '1.500' could be 1.5 or 1500: the file gives no other number with a "
            "decimal separator; write it as 1500 or 1,5",
        ),
        (
            4,
            "tahun",
            "tahun '2.024' could be 2.024 or 2024: the file gives no other number with a "
            "decimal separator; write it as 2024",
        ),
    ]
    # '2.024' is placed in 2024 (the quarantined row counts in 2024-Q1's share)
    row_4 = quarantine.filter(pl.col("source_file").str.ends_with("tanpa_bukti.csv"))
    assert row_4.filter(pl.col("source_row") == 4)["quarter"].to_list() == [date(2024, 1, 1)]
    assert loaded(raw, "campur.csv", "realisasi") == [(2, 87.5), (3, 87.5)]
    assert rejected(quarantine, "campur.csv") == [
        (
            4,
            "target",
            "target '1.000' could be 1 or 1000: the file's numbers use both a decimal comma "
            "(e.g. '87,5') and a decimal point (e.g. '87.5'); write it as 1000 or 1",
        )
    ]


def test_excel_number_cells_are_numbers_and_text_cells_follow_the_file(tmp_path: Path) -> None:
    """Number cells render as '1.234' (Excel's decimal point): they neither decide the file's
    format nor follow it. The only text number with a separator, '87,5', decides: the text
    cell '1.500' is 1500, while the number cells 1.234 and 12.345 stay what they are."""
    data_dir = tmp_path / "data"
    folder = data_dir / FOLDER
    folder.mkdir(parents=True)
    book = xlsxwriter.Workbook(folder / "sel.xlsx")
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, assessments.COLUMNS)
    cells = [
        {"target": 1.234, "realisasi": "87,5"},
        {"target": "1.500", "realisasi": 12.345},
        {"nilai_mandiri": 87.5},
    ]
    for r, row in enumerate(cells, start=1):
        for c, column in enumerate(assessments.COLUMNS):
            value = {**ROW, **row}[column]
            if isinstance(value, float):
                sheet.write_number(r, c, value)
            elif value:
                sheet.write_string(r, c, value)
    book.close()
    raw, quarantine = load(data_dir, tmp_path / "w.duckdb")
    assert quarantine.height == 0
    assert loaded(raw, "sel.xlsx", "target", "realisasi", "nilai_mandiri") == [
        (2, 1.234, 87.5, 90.0),
        (3, 1500.0, 12.345, 90.0),
        (4, 100.0, 80.0, 87.5),
    ]


CONFLICT = (
    "target '1.500' could be 1.5 or 1500: the file's numbers use both a decimal comma (e.g. "
    "'2,5') and a decimal point (e.g. '87.5'); write it as 1500 or 1,5"
)


@pytest.mark.parametrize(
    ("first", "last", "targets", "reasons"),
    [
        # Evidence only in the last block: the first block alone would quarantine '1.500'.
        ({"target": "1.500"}, {"realisasi": "87,5"}, [1500.0] + [100.0] * 4, []),
        # The last block contradicts the first block's '2,5': alone, the first block would
        # read '1.500' as 1500.
        (
            {"target": "1.500", "realisasi": "2,5"},
            {"realisasi": "87.5"},
            [100.0] * 4,
            [(2, "target", CONFLICT)],
        ),
    ],
)
def test_a_later_block_changes_what_the_first_block_means(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    first: dict[str, str],
    last: dict[str, str],
    targets: list[float],
    reasons: list[tuple],
) -> None:
    """Read in ~one-row blocks, the first block alone decides otherwise than the whole file:
    the file is staged again with the whole file's format, as if it were read whole."""
    data_dir = tmp_path / "data"
    write_csv(data_dir, "besar.csv", [first, {}, {}, {}, last])
    whole = load(data_dir, tmp_path / "whole.duckdb")
    monkeypatch.setattr(formats, "BLOCK_BYTES", 300)
    blocks = list(formats.iter_export(data_dir / FOLDER / "besar.csv"))
    assert blocks[0]["source_row"].max() < 6  # the last row is not in the first block
    raw, quarantine = load(data_dir, tmp_path / "blocks.duckdb")
    assert [t for _, t in loaded(raw, "besar.csv", "target")] == targets
    assert rejected(quarantine, "besar.csv") == reasons
    assert raw.equals(whole[0]) and quarantine.equals(whole[1])


# ---------------------------------------------------------------- the decision


def test_which_cells_prove_a_decimal_separator() -> None:
    cells = {
        "87,5": ",",
        "1.234,5": ",",
        "0,500": ",",  # a leading 0 is not a thousands group
        "1234,567": ",",  # nor are four digits
        "87.5": ".",
        "1,234.5": ".",
        "0.25": ".",
        "1.500": None,  # 1.5 or 1500
        "2,024": None,
        "1.234.567": None,  # grouping only
        "1,234,567": None,
        "1500": None,
        "abc": None,
        "": None,
    }
    frame = pl.DataFrame({"c": list(cells)})
    found = frame.select(parsing.number_evidence(pl.col("c"))).to_series().to_list()
    assert dict(zip(cells, found, strict=True)) == cells


def formats_of(rows: list[tuple[str, int, str | None, str | None, list[str] | None]]) -> dict:
    frame = pl.DataFrame(
        rows,
        schema={
            "source_file": pl.String,
            "source_row": pl.Int32,
            "target": pl.String,
            "realisasi": pl.String,
            NUMBER_CELLS: pl.List(pl.String),
        },
        orient="row",
    )
    found = number_formats(frame, ["target", "realisasi"])
    return {row[0]: row[1:] for row in found.rows()}


def test_the_file_decides_from_its_first_proof_of_each_separator() -> None:
    assert formats_of(
        [
            ("comma", 2, "1.500", "87,5", None),
            ("comma", 3, "1,5", "2,5", None),
            ("point", 2, "1,500", None, None),
            ("point", 3, "4", "0.25", None),
            ("none", 2, "1.500", "1.234.567", None),
            # both: the first proof by row, then column order (target before realisasi)
            ("both", 3, "2,5", "3,5", None),
            ("both", 2, "1.500", "87.5", None),
            ("both", 4, "9.5", "1,5", None),
            # an Excel number cell is Excel's rendering, not the file's: no evidence
            ("xlsx", 2, "87.5", "80", ["target"]),
        ]
    ) == {
        "comma": (",", "87,5", None),
        "point": (".", None, "0.25"),
        "none": (None, None, None),
        "both": (None, "2,5", "87.5"),
        "xlsx": (None, None, None),
    }


def test_merging_blocks_keeps_the_first_proof_and_recomputes_the_decision() -> None:
    first = pl.DataFrame(
        {"source_file": ["f"], "_decimal": [","], "_comma_example": ["87,5"]},
        schema_overrides={"_point_example": pl.String},
    ).with_columns(pl.lit(None, pl.String).alias("_point_example"))
    later = pl.DataFrame(
        {
            "source_file": ["f"],
            "_decimal": ["."],
            "_comma_example": [None],
            "_point_example": ["1.5"],
        },
        schema_overrides={"_comma_example": pl.String},
    )
    assert merge_number_formats(first, later).rows() == [("f", None, "87,5", "1.5")]
    assert merge_number_formats(first, first).rows() == [("f", ",", "87,5", None)]


@pytest.mark.parametrize(
    ("decimal", "cell", "value"),
    [
        (",", "1.500", 1500.0),
        (",", "1,500", 1.5),
        (",", "1.234.567,25", 1234567.25),
        (",", "-1.500", -1500.0),
        (".", "1,500", 1500.0),
        (".", "1.500", 1.5),
        (".", "1,234,567.25", 1234567.25),
        (None, "87,5", 87.5),
        (None, "87.5", 87.5),
        (None, "1 234", 1234.0),
    ],
)
def test_decimal_in_a_decided_or_undecided_file(decimal: str | None, cell: str, value) -> None:
    fmt = parsing.NumberFormat(
        pl.lit(decimal, pl.String), pl.lit("87,5", pl.String), pl.lit("87.5", pl.String)
    )
    parsed = parsing.parse_decimal(pl.col("c"), "c", fmt)
    out = pl.DataFrame({"c": [cell]}).select(parsed.value, parsed.reason.alias("r"))
    assert out.row(0) == (value, None)


def test_integer_in_a_decimal_comma_file() -> None:
    """parse_integer's '2.024' (thousands) in the file that makes it one."""
    fmt = parsing.NumberFormat(pl.lit(","), pl.lit("87,5"), pl.lit(None, pl.String))
    parsed = parsing.parse_integer(pl.col("c"), "tahun", fmt)
    out = pl.DataFrame({"c": ["2.024", "2024", "2024,0", "2024,5"]}).select(
        parsed.value, parsed.reason.alias("r")
    )
    assert out.rows() == [
        (2024, None),
        (2024, None),
        (2024, None),
        (None, "tahun '2024,5' is not a whole number"),
    ]
