"""`kinerja export`: the planners' workbook holds exactly the published planners' extract (same
rows, same values, suppressed cells empty), with the Indonesian labels of the dbt docs."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pytest
import yaml
from click.testing import CliRunner
from openpyxl.utils.cell import range_boundaries

from pipelines.cli.export import export_command
from pipelines.publish.workbook import (
    MANIFEST,
    WorkbookError,
    default_path,
    planners_extract,
    write_workbook,
)
from pipelines.settings import DBT_PROJECT_DIR

pytestmark = pytest.mark.xdist_group("pipeline")

MARTS_YML = DBT_PROJECT_DIR / "models" / "marts" / "_models.yml"
# Written out here, not taken from the module: the test says what the sheets must be.
SHEETS = {
    "mart_agency_quarter": "OPD per triwulan",
    "mart_agency_year": "OPD per tahun",
    "mart_agency_indicator_quarter": "Indikator per triwulan",
    "mart_distribution_curve": "Kurva distribusi",
}
KEYS = {
    "mart_agency_quarter": "kode_opd, tahun, triwulan",
    "mart_agency_year": "kode_opd, tahun",
    "mart_agency_indicator_quarter": "kode_opd, tahun, triwulan, kode_indikator",
    "mart_distribution_curve": "kode_opd, tahun, rule_id",
}
FORMULA_START = "=+-@\t\r\uff1d\uff0b\uff0d\uff20"


def _manifest_columns(table: str) -> dict[str, dict[str, Any]]:
    nodes = json.loads(MANIFEST.read_text(encoding="utf-8"))["nodes"]
    return nodes[f"model.kinerja.{table}"]["columns"]


def _labels(table: str) -> dict[str, str]:
    return {name: c["meta"]["label"] for name, c in _manifest_columns(table).items()}


def _expected(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula is written with a leading quote."""
    if isinstance(value, str) and value[:1] and value[0] in FORMULA_START:
        return "'" + value
    return value


def _rows(ws: Any) -> list[tuple[Any, ...]]:
    return list(ws.iter_rows(min_row=2, values_only=True))


def _assert_same(cells: list[tuple[Any, ...]], rows: list[tuple[Any, ...]], where: str) -> None:
    assert len(cells) == len(rows), where
    for number, (got, want) in enumerate(zip(cells, rows, strict=True), start=2):
        assert len(got) == len(want), f"{where} row {number}"
        for column, (cell, value) in enumerate(zip(got, want, strict=True)):
            at = f"{where} row {number} column {column + 1}"
            if value is None:
                assert cell is None, f"{at}: NULL in the extract, {cell!r} in the workbook"
            elif isinstance(value, float):
                assert cell == pytest.approx(value, rel=1e-12, abs=1e-12), at
            else:
                assert cell == _expected(value) and type(cell) is type(_expected(value)), at


@pytest.fixture(scope="module")
def exported(pipeline_run, tmp_path_factory) -> tuple[Path, openpyxl.Workbook]:
    extract = planners_extract(pipeline_run.settings)
    out = tmp_path_factory.mktemp("workbook") / "kinerja.xlsx"
    assert write_workbook(extract, out, pipeline_run.settings.min_group_size) == out
    return extract, openpyxl.load_workbook(out)


def _extract_rows(extract: Path, table: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    with duckdb.connect(str(extract), read_only=True) as con:
        result = con.execute(f"SELECT * FROM marts.{table} ORDER BY {KEYS[table]}")
        return [d[0] for d in result.description], result.fetchall()


def test_every_mart_column_has_an_indonesian_label() -> None:
    """The yml (what people edit) and the parsed manifest (what the export reads) both give
    every column of the four marts a label, unique within its mart."""
    models = {m["name"]: m for m in yaml.safe_load(MARTS_YML.read_text())["models"]}
    for table in SHEETS:
        columns = models[table]["columns"]
        missing = [c["name"] for c in columns if not (c.get("meta") or {}).get("label")]
        assert not missing, f"{table}: columns without meta.label: {missing}"
        labels = [c["meta"]["label"] for c in columns]
        assert len({label.casefold() for label in labels}) == len(labels), table
        in_manifest = _manifest_columns(table)
        assert {c["name"]: c["meta"]["label"] for c in columns} == {
            name: c["meta"].get("label") for name, c in in_manifest.items()
        }, f"{MANIFEST} is stale: regenerate it (dbt parse)"


def test_one_sheet_per_mart_then_keterangan(exported) -> None:
    extract, book = exported
    with duckdb.connect(str(extract), read_only=True) as con:
        marts = {
            t
            for (t,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        }
    assert marts == set(SHEETS)
    assert book.sheetnames == [*SHEETS.values(), "Keterangan"]
    assert all(len(name) <= 31 for name in book.sheetnames)


@pytest.mark.parametrize("table", SHEETS)
def test_sheet_holds_the_extract_cell_by_cell(exported, table: str) -> None:
    extract, book = exported
    columns, rows = _extract_rows(extract, table)
    assert rows, f"{table} is empty in the fixture: nothing would be compared"
    ws = book[SHEETS[table]]
    labels = _labels(table)
    assert [c.value for c in ws[1]] == [labels[c] for c in columns]
    _assert_same(_rows(ws), rows, table)


def test_suppressed_cells_are_empty(exported) -> None:
    """n_assessed is NOT NULL in dbt's contract: NULL in the extract means suppressed. The
    fixture has such rows, and each of their hidden figures is an empty cell."""
    extract, book = exported
    columns, rows = _extract_rows(extract, "mart_agency_year")
    n_assessed = columns.index("n_assessed")
    suppressed = [i for i, row in enumerate(rows) if row[n_assessed] is None]
    assert suppressed, "the fixture has no suppressed agency-year"
    cells = _rows(book[SHEETS["mart_agency_year"]])
    for i in suppressed:
        hidden = [c for c, value in enumerate(rows[i]) if value is None]
        assert n_assessed in hidden
        assert all(cells[i][c] is None for c in hidden)
        assert cells[i][columns.index("kode_opd")] == rows[i][columns.index("kode_opd")]


@pytest.mark.parametrize(
    ("table", "column", "fmt"),
    [
        ("mart_agency_quarter", "ikm", "0.00"),
        ("mart_agency_quarter", "nrr_u1", "0.00"),
        ("mart_agency_quarter", "share_sangat_baik", "0.0%"),
        ("mart_agency_quarter", "mean_achievement", "0.0%"),
        ("mart_agency_quarter", "n_assessed", "#,##0"),
        ("mart_agency_quarter", "tahun", "0"),
        ("mart_agency_quarter", "jp_per_employee", "0.00"),
        ("mart_agency_year", "ikm", "0.00"),
        ("mart_agency_year", "share_20jp", "0.0%"),
        ("mart_agency_indicator_quarter", "capaian_to_date", "0.0%"),
        ("mart_agency_indicator_quarter", "annual_target", "0.00"),
        ("mart_distribution_curve", "observed_share", "0.0%"),
        ("mart_distribution_curve", "bound", "0.0%"),
    ],
)
def test_number_formats(exported, table: str, column: str, fmt: str) -> None:
    _, book = exported
    ws = book[SHEETS[table]]
    index = [c.value for c in ws[1]].index(_labels(table)[column])
    cells = [row[index] for row in ws.iter_rows(min_row=2)]
    assert cells and {c.number_format for c in cells} == {fmt}


@pytest.mark.parametrize("sheet", SHEETS.values())
def test_header_row_frozen_and_filtered(exported, sheet: str) -> None:
    _, book = exported
    ws = book[sheet]
    assert ws.freeze_panes == "A2"
    (table,) = ws.tables.values()
    assert table.autoFilter is not None
    assert range_boundaries(table.ref) == (1, 1, ws.max_column, ws.max_row)
    for letter, dimension in ws.column_dimensions.items():
        assert 5 < dimension.width <= 60, (sheet, letter, dimension.width)


def test_keterangan_lists_every_column_and_why_cells_are_empty(exported, pipeline_run) -> None:
    extract, book = exported
    ws = book["Keterangan"]
    (table,) = ws.tables.values()
    _, first_row, _, _ = range_boundaries(table.ref)
    rows = list(ws.iter_rows(min_row=first_row, values_only=True))
    assert rows[0] == ("Sheet", "Kolom", "Nama kolom", "Keterangan")
    expected = [
        (sheet, c["meta"]["label"], name, c["description"])
        for mart, sheet in SHEETS.items()
        for name, c in _manifest_columns(mart).items()
    ]
    assert sorted(rows[1:]) == sorted(expected)
    text = " ".join(str(r[0]) for r in ws.iter_rows(max_row=first_row - 1, values_only=True))
    assert f"({pipeline_run.settings.min_group_size} pegawai" in text
    assert "sengaja dikosongkan" in text
    with duckdb.connect(str(extract), read_only=True) as con:
        blocked = con.execute("select count(*) from notices.blocked_quarters").fetchone()[0]
    assert ("Tidak ada triwulan sumber yang diblokir" in text) == (blocked == 0)


def _hand_made_extract(path: Path) -> Path:
    """A planners' extract by hand: rows out of key order, one suppressed row, a text cell
    that is a formula, a blocked quarter, a mart the dbt docs do not know."""
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA marts; CREATE SCHEMA notices")
        con.execute(
            "CREATE TABLE marts.mart_agency_year (kode_opd VARCHAR, nama_opd VARCHAR, "
            "tahun INTEGER, n_assessed INTEGER, share_baik DOUBLE, ikm DOUBLE)"
        )
        con.execute(
            "INSERT INTO marts.mart_agency_year VALUES "
            "('B', '=HYPERLINK(\"http://x\")', 2024, 12, 0.25, 81.5), "
            "('A', 'Dinas Kecil', 2024, NULL, NULL, NULL), "
            "('A', 'Dinas Kecil', 2023, 7, 0.5, NULL)"
        )
        con.execute("CREATE TABLE marts.mart_extra (kode VARCHAR, n_rows BIGINT)")
        con.execute("INSERT INTO marts.mart_extra VALUES ('z', 3)")
        con.execute(
            "CREATE TABLE notices.blocked_quarters (source VARCHAR, quarter DATE, "
            "n_rows_read INTEGER, n_rows_quarantined INTEGER, share DOUBLE, reason VARCHAR)"
        )
        con.execute(
            "INSERT INTO notices.blocked_quarters VALUES "
            "('training', '2024-04-01', 30, 12, 0.4, '12 of 30 rows quarantined (40%)')"
        )
    return path


def test_hand_made_extract(tmp_path: Path) -> None:
    extract = _hand_made_extract(tmp_path / "planners.duckdb")
    out = write_workbook(extract, tmp_path / "out" / "k.xlsx", min_group_size=7)
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["OPD per tahun", "extra", "Keterangan"]
    ws = book["OPD per tahun"]
    labels = _labels("mart_agency_year")
    assert [c.value for c in ws[1]] == [
        labels[c] for c in ("kode_opd", "nama_opd", "tahun", "n_assessed", "share_baik", "ikm")
    ]
    assert _rows(ws) == [
        ("A", "Dinas Kecil", 2023, 7, 0.5, None),
        ("A", "Dinas Kecil", 2024, None, None, None),
        ("B", '\'=HYPERLINK("http://x")', 2024, 12, 0.25, 81.5),
    ]
    assert ws["B4"].data_type == "s"  # text, never a formula
    assert [ws.cell(2, c).number_format for c in (3, 4, 5, 6)] == ["0", "#,##0", "0.0%", "0.00"]
    extra = book["extra"]
    assert _rows(extra) == [("z", 3)] and [c.value for c in extra[1]] == ["kode", "n_rows"]
    notes = [r[0] for r in book["Keterangan"].iter_rows(values_only=True) if r[0]]
    assert any("(7 pegawai" in str(line) for line in notes)
    assert "- training 2024-Q2: 12 of 30 rows quarantined (40%)" in notes
    assert not any("Tidak ada triwulan" in str(line) for line in notes)
    assert not list(out.parent.glob(".*")), "the temporary file was left behind"


def test_missing_extract_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "published" / "planners.duckdb"
    with pytest.raises(WorkbookError, match="make run"):
        write_workbook(missing, tmp_path / "k.xlsx", 5)
    result = CliRunner().invoke(export_command, [], env={"KINERJA_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 1
    assert str(missing) in result.output and "make run" in result.output
    assert not (tmp_path / "k.xlsx").exists()


def test_command_writes_the_dated_workbook(pipeline_run, tmp_path: Path) -> None:
    settings = replace(pipeline_run.settings, reports_dir=tmp_path / "reports")
    env = {
        "KINERJA_DATA_DIR": str(settings.data_dir),
        "KINERJA_WAREHOUSE": str(settings.warehouse),
        "KINERJA_REPORTS_DIR": str(settings.reports_dir),
    }
    result = CliRunner().invoke(export_command, [], env=env)
    assert result.exit_code == 0, result.output
    path = Path(result.output.strip())
    assert (
        path
        == default_path(settings)
        == tmp_path / "reports" / (f"kinerja_{dt.date.today().isoformat()}.xlsx")
    )
    assert path.exists()
    out = tmp_path / "elsewhere" / "mine.xlsx"
    result = CliRunner().invoke(export_command, ["--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(out) and out.exists()
