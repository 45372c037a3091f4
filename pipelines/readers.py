"""Any export file -> an all-text polars frame with canonical headers and row numbers.

Exports arrive as comma or semicolon CSV in UTF-8, UTF-8 with BOM or Windows-1252, or as
.xlsx. Everything is read as text so that nothing is interpreted twice: typing and
validation happen later, where a failure can be reported with its reason.

Row numbers (``source_row``) are what a person sees: the header is row 1 in Excel and
line 1 in a text editor; the first data row is 2. Blank lines inside a CSV keep their line
number (they become empty rows); a quoted value spanning several lines moves the following
rows' numbers down accordingly.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from pathlib import Path

import fastexcel
import polars as pl
from charset_normalizer import from_bytes

SOURCE_ROW = "source_row"
_BOM = b"\xef\xbb\xbf"
_SNIFF_BYTES = 64 * 1024
# Excel keeps 15 significant digits: a number cell at or above 1e15 has lost digits.
_EXCEL_EXACT_LIMIT = 1e15


class ExportReadError(Exception):
    """The file cannot be read as an export (not text/xlsx, truncated, columns missing)."""


def canonical_header(name: str | None) -> str:
    """' Kode  OPD ' -> 'kode_opd': trimmed, lower case, inner whitespace -> '_'."""
    text = (name or "").replace("\ufeff", "").strip().lower()
    return re.sub(r"\s+", "_", text)


def read_export(
    path: Path, required_columns: Sequence[str] = (), display_name: str | None = None
) -> pl.DataFrame:
    """Read a .csv or .xlsx export into text columns plus ``source_row`` (Int32).

    Cells are trimmed and empty cells are null; trailing empty rows and unnamed empty
    columns are dropped. Raises ExportReadError naming the file (``display_name`` or the
    path) and, for missing columns, the missing column names.
    """
    name = display_name or str(path)
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        grid = _read_xlsx_grid(path, name)
    else:
        grid = _read_csv_grid(path.read_bytes(), name)
    return _to_export_frame(grid, name, required_columns)


def _read_csv_grid(raw: bytes, name: str) -> pl.DataFrame:
    """Header-less text grid with a ``source_row`` column (header line = 1)."""
    if not raw.strip():
        raise ExportReadError(f"{name}: the file is empty")
    if b"\x00" in raw[:_SNIFF_BYTES]:
        raise ExportReadError(f"{name}: not a text (CSV) file")
    data = _as_utf8(raw, name)
    separator = _detect_separator(data[:_SNIFF_BYTES].decode("utf-8", errors="replace"))
    try:
        grid = pl.read_csv(
            io.BytesIO(data),
            separator=separator,
            has_header=False,
            infer_schema=False,
            truncate_ragged_lines=True,
            quote_char='"',
        )
    except pl.exceptions.PolarsError as error:
        raise ExportReadError(f"{name}: cannot be parsed as CSV ({error})") from error
    record = pl.int_range(pl.len(), dtype=pl.Int32)
    if b'"' in data:
        # A quoted value may contain line breaks: count them so row numbers match the editor.
        breaks = pl.sum_horizontal(
            pl.col(c).str.count_matches("\n").fill_null(0) for c in grid.columns
        ).cast(pl.Int32)
        line = 1 + record + breaks.cum_sum() - breaks
    else:
        line = 1 + record
    return grid.with_columns(line.alias(SOURCE_ROW))


def _as_utf8(raw: bytes, name: str) -> bytes:
    """UTF-8 bytes without BOM; Windows-1252 (or what charset-normalizer finds) re-encoded."""
    if raw.startswith(_BOM):
        return raw[len(_BOM) :]
    try:
        raw.decode("utf-8")
        return raw
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252").encode("utf-8")
    except UnicodeDecodeError:
        guess = from_bytes(raw[: 1024 * 1024]).best()
        if guess is None:
            raise ExportReadError(f"{name}: text encoding not recognised") from None
        return raw.decode(guess.encoding, errors="replace").encode("utf-8")


def _detect_separator(sample: str) -> str:
    """';' or ','. The header line decides when it is unambiguous (headers hold no decimal
    commas); otherwise csv.Sniffer looks at a sample of lines."""
    header = next((line for line in sample.splitlines() if line.strip()), "")
    semicolons, commas = header.count(";"), header.count(",")
    if semicolons and not commas:
        return ";"
    if commas and not semicolons:
        return ","
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;").delimiter
    except csv.Error:
        return ";" if semicolons > commas else ","


def _read_xlsx_grid(path: Path, name: str) -> pl.DataFrame:
    """First sheet as a header-less text grid with ``source_row`` (Excel row numbers).

    Date cells come out as 'yyyy-mm-dd hh:mm:ss'. Number cells of 1e15 and more (a NIP typed
    into a number cell) come out in scientific notation, because Excel has already rounded
    them and showing the rounded integer would pass for a real NIP.
    """
    try:
        reader = fastexcel.read_excel(path)
        text = reader.load_sheet(0, header_row=None, dtypes="string").to_polars()
        # Number cells coerce to booleans; text and date cells do not. That tells them apart.
        is_number = reader.load_sheet(
            0, header_row=None, dtypes="boolean", dtype_coercion="coerce"
        ).to_polars()
        numbers = reader.load_sheet(
            0, header_row=None, dtypes="float", dtype_coercion="coerce"
        ).to_polars()
    except Exception as error:  # fastexcel raises its own hierarchy for every failure
        raise ExportReadError(f"{name}: cannot be read as an Excel workbook ({error})") from error
    columns = []
    for column in text.columns:
        value = numbers[column]
        mangled = is_number[column].is_not_null() & (value.abs() >= _EXCEL_EXACT_LIMIT)
        if mangled.any():
            scientific = value.filter(mangled).map_elements(
                lambda number: f"{number:.15g}", return_dtype=pl.String
            )
            fixed = text[column].scatter(mangled.arg_true(), scientific)
            columns.append(fixed)
        else:
            columns.append(text[column])
    grid = pl.DataFrame(columns)
    return grid.with_columns((1 + pl.int_range(pl.len(), dtype=pl.Int32)).alias(SOURCE_ROW))


def _to_export_frame(
    grid: pl.DataFrame, name: str, required_columns: Sequence[str]
) -> pl.DataFrame:
    """Grid (header in row 0) -> trimmed text frame with canonical headers."""
    cells = [c for c in grid.columns if c != SOURCE_ROW]
    grid = grid.with_columns(
        pl.col(c).cast(pl.String).str.strip_chars().replace("", None) for c in cells
    )
    if grid.height == 0:
        raise ExportReadError(f"{name}: the file is empty")
    headers = [canonical_header(v) for v in grid.row(0)[: len(cells)]]
    body = grid.slice(1)

    keep: list[tuple[str, str]] = []
    for position, (cell, header) in enumerate(zip(cells, headers, strict=True)):
        if header:
            keep.append((cell, header))
        elif body[cell].null_count() != body.height:
            keep.append((cell, f"column_{position + 1}"))
    names = [header for _, header in keep]
    duplicates = sorted({h for h in names if names.count(h) > 1})
    if duplicates:
        raise ExportReadError(f"{name}: duplicate column(s): {', '.join(duplicates)}")
    missing = [c for c in required_columns if c not in names]
    if missing:
        raise ExportReadError(
            f"{name}: missing required column(s): {', '.join(missing)}"
            f" (found: {', '.join(names) or 'none'})"
        )

    frame = body.select([pl.col(cell).alias(header) for cell, header in keep] + [SOURCE_ROW])
    has_value = pl.any_horizontal(pl.col(header).is_not_null() for header in names)
    last = frame.select(has_value.arg_true().max()).item() if names else None
    return frame.head(0 if last is None else last + 1)
