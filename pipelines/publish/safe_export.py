"""CSV and XLSX files kinerja writes for people, safe to open in a spreadsheet.

Exports carry text that came from other people's files (names, indicators, survey
suggestions, quarantined raw values). A cell starting with ``=``, ``+``, ``-`` or ``@`` (or a
tab or carriage return, which some spreadsheets skip before looking for those) is run as a
formula when the file is opened: ``=HYPERLINK(...)`` links out, DDE payloads run commands.
Following OWASP's CSV-injection advice, such text cells get a leading single quote, so they
show as text. Numbers are left alone: -5 in a numeric column is a number, not a formula.
The full-width forms (U+FF1D, U+FF0B, U+FF0D, U+FF20) are treated the same, because some
spreadsheets normalise them to the ASCII characters.

The XLSX writer also turns off xlsxwriter's own conversions (text to formulas, URLs and
numbers), so a text cell is always written as a text cell.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import xlsxwriter

FORMULA_START = "=+-@\t\r\uff1d\uff0b\uff0d\uff20"
# Excel's cell limit; xlsxwriter would cut longer text silently.
XLSX_MAX_CELL_CHARS = 32_767
_TRUNCATED = "… [truncated: the CSV export holds the full text]"


def _formula_start_pattern() -> str:
    escaped = "".join("\\" + c if c in "-+" else c for c in FORMULA_START)
    return "^[" + escaped.replace("\t", "\\t").replace("\r", "\\r") + "]"


_PATTERN = _formula_start_pattern()


def neutralise_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """Text cells that a spreadsheet would run as a formula get a leading "'"; other columns
    (numbers, dates, booleans) are returned unchanged."""
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(_PATTERN))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c in text
    )


def write_csv_safe(frame: pl.DataFrame, path: Path) -> Path:
    """UTF-8 CSV with BOM (so Excel detects the encoding), formulas neutralised."""
    path.parent.mkdir(parents=True, exist_ok=True)
    neutralise_formulas(frame).write_csv(path, include_bom=True)
    return path


def write_xlsx_safe(frame: pl.DataFrame, path: Path, sheet: str = "data") -> Path:
    """One-sheet workbook: header row, then each cell typed by its column (text as text)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    safe = neutralise_formulas(frame)
    options = {"strings_to_formulas": False, "strings_to_urls": False}
    options |= {"strings_to_numbers": False, "nan_inf_to_errors": True}
    book = xlsxwriter.Workbook(str(path), options)
    try:
        worksheet = book.add_worksheet(sheet[:31])
        bold = book.add_format({"bold": True})
        date_format = book.add_format({"num_format": "yyyy-mm-dd"})
        time_format = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        for column, name in enumerate(safe.columns):
            worksheet.write_string(0, column, name, bold)
        for column, (name, dtype) in enumerate(safe.schema.items()):
            for row, value in enumerate(safe.get_column(name).to_list(), start=1):
                if value is None:
                    continue
                if dtype == pl.String:
                    if len(value) > XLSX_MAX_CELL_CHARS:
                        value = value[: XLSX_MAX_CELL_CHARS - len(_TRUNCATED)] + _TRUNCATED
                    worksheet.write_string(row, column, value)
                elif dtype == pl.Boolean:
                    worksheet.write_boolean(row, column, value)
                elif dtype.is_numeric():
                    worksheet.write_number(row, column, value)
                elif isinstance(value, dt.datetime):
                    worksheet.write_datetime(row, column, value, time_format)
                elif isinstance(value, dt.date):
                    worksheet.write_datetime(row, column, value, date_format)
                else:
                    worksheet.write_string(row, column, str(value))
        worksheet.freeze_panes(1, 0)
    finally:
        book.close()
    return path


def export_quarantine(conn, out_dir: Path) -> list[Path]:
    """Every quarantine.<source> table as ``quarantine_<source>.csv`` and ``.xlsx`` in
    ``out_dir`` (rows ordered by file, row, column), for the people who fix the exports."""
    sources = [
        row[0]
        for row in conn.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'quarantine' ORDER BY table_name"
        ).fetchall()
    ]
    written: list[Path] = []
    for source in sources:
        frame = conn.execute(
            f'SELECT * FROM quarantine."{source}" ORDER BY source_file, source_row, column_name'
        ).pl()
        written.append(write_csv_safe(frame, out_dir / f"quarantine_{source}.csv"))
        written.append(write_xlsx_safe(frame, out_dir / f"quarantine_{source}.xlsx", source))
    return written
