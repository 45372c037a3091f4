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

from collections.abc import Iterator, Sequence
from pathlib import Path

import fastexcel
import polars as pl

from pipelines.ingest.grids import (
    SOURCE_ROW,
    ExportReadError,
    csv_block_grids,
    read_csv_grid,
)
from pipelines.ingest.json_records import JSON_SUFFIXES, RECORD_PROBLEM, JsonRows, read_json_rows
from pipelines.rules.headers import canonical_header
from pipelines.settings import Settings

# Prefix of columns holding values to the right of the header (see _to_export_frame).
EXTRA_PREFIX = "_beyond_header_"
# xlsx only: per row, the columns whose cell is an Excel number with a fractional part. Its
# text is Excel's rendering with a decimal point, not the file's own way of writing numbers.
NUMBER_CELLS = "_number_cells"
# Excel keeps 15 significant digits: a number cell at or above 1e15 has lost digits.
_EXCEL_EXACT_LIMIT = 1e15
# A CSV larger than this is read in blocks of about this size, each cut at a line end outside
# quotes: parsing a block peaks at ~6x its size, so memory holds one block, not the file.
BLOCK_BYTES = int(Settings.read_block_mb * 2**20)


def read_export(
    path: Path, required_columns: Sequence[str] = (), display_name: str | None = None
) -> pl.DataFrame:
    """Read a .csv, .xlsx or JSON export (see json_records) into text columns plus
    ``source_row`` (Int32).

    Cells are trimmed and empty cells are null; trailing empty rows and unnamed empty
    columns are dropped. Raises ExportReadError naming the file (``display_name`` or the
    path) and, for missing columns, the missing column names.
    """
    frames = list(iter_export(path, required_columns, display_name))
    return frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal")


def iter_export(
    path: Path,
    required_columns: Sequence[str] = (),
    display_name: str | None = None,
    block_bytes: int | None = None,
) -> Iterator[pl.DataFrame]:
    """The rows of ``read_export`` in consecutive frames, one per block of a large CSV
    (blocks of ``BLOCK_BYTES`` by default; one frame for anything else). A block may lack a
    column that only other blocks have values in (values beyond the header).
    ExportReadError may come after frames were yielded: the file is then rejected whole, so
    a caller must be ready to undo what it took from it."""
    name = display_name or str(path)
    if path.suffix.lower() in JSON_SUFFIXES:
        yield _json_export(path, name, required_columns)
        return
    block_bytes = block_bytes or BLOCK_BYTES
    held: pl.DataFrame | None = None  # blank rows after the last value so far
    seen_data = False
    for grid in _grids(path, name, block_bytes):
        body, blank_tail = _split_blank_tail(_to_export_frame(grid, name, required_columns))
        if body.height:
            if held is not None and held.height:
                yield held  # blank lines between values stay rows (with their line numbers)
            yield body
            seen_data, held = True, blank_tail
        else:
            held = blank_tail if held is None else pl.concat([held, blank_tail], how="diagonal")
    if not seen_data:
        raise ExportReadError(f"{name}: has a header row but no data rows")


def _json_export(path: Path, name: str, required_columns: Sequence[str]) -> pl.DataFrame:
    """A JSON export (see json_records): one frame, checked like a table's header."""
    return json_export_rows(path, name, required_columns).frame()


def json_export_rows(path: Path, name: str, required_columns: Sequence[str]) -> JsonRows:
    """A JSON export's rows (json_records.JsonRows), checked like a table's header."""
    rows = read_json_rows(path, name)
    if not rows.rows:
        raise ExportReadError(f"{name}: has no records")
    require_columns(rows.headers, required_columns, name)
    return rows


def _grids(path: Path, name: str, block_bytes: int) -> Iterator[pl.DataFrame]:
    """Header-less text grids with ``source_row``; the first grid's row 0 is the header, and
    every later grid (a block of a large CSV) starts with a copy of it."""
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        yield _read_xlsx_grid(path, name)
    elif path.stat().st_size <= block_bytes:
        yield read_csv_grid(path.read_bytes(), name)
    else:
        with path.open("rb") as handle:
            yield from csv_block_grids(handle, name, block_bytes)


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
        detail = (str(error).strip().splitlines() or [type(error).__name__])[0]
        detail = detail.replace(str(path), name)
        raise ExportReadError(f"{name}: cannot be read as an Excel workbook ({detail})") from error
    columns = []
    marks = []  # the column's name where its cell is a number with a fractional part
    for column in text.columns:
        value = numbers[column]
        fractional = is_number[column].is_not_null() & (value != value.floor())
        marks.append(pl.when(pl.lit(fractional)).then(pl.lit(column)))
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
    return grid.with_columns(
        pl.concat_list(marks).list.drop_nulls().alias(NUMBER_CELLS)
        if marks
        else pl.lit([], dtype=pl.List(pl.String)).alias(NUMBER_CELLS),
        (1 + pl.int_range(pl.len(), dtype=pl.Int32)).alias(SOURCE_ROW),
    )


def _to_export_frame(
    grid: pl.DataFrame, name: str, required_columns: Sequence[str]
) -> pl.DataFrame:
    """Grid (header in row 0) -> trimmed text frame with canonical headers; trailing blank
    rows are left for the caller (a block's blank tail may be followed by more rows).

    Values to the right of the last header cell (a row with more fields than the header)
    come out as columns ``EXTRA_PREFIX<n>`` (n = 1-based column position), so the caller can
    reject those rows instead of losing the values.
    """
    cells = [c for c in grid.columns if c not in (SOURCE_ROW, NUMBER_CELLS)]
    grid = grid.with_columns(
        pl.col(c).cast(pl.String).str.strip_chars().replace("", None) for c in cells
    )
    if grid.height == 0:
        raise ExportReadError(f"{name}: the file is empty")
    headers = [canonical_header(v) for v in grid.row(0)[: len(cells)]]
    body = grid.slice(1)
    last_header = max((i for i, h in enumerate(headers) if h), default=-1)

    keep: list[tuple[str, str]] = []
    for position, (cell, header) in enumerate(zip(cells, headers, strict=True)):
        if header:
            keep.append((cell, header))
        elif body[cell].null_count() != body.height:
            prefix = EXTRA_PREFIX if position > last_header else "column_"
            keep.append((cell, f"{prefix}{position + 1}"))
    names = [header for _, header in keep]
    _reject_duplicates(names, [cells.index(cell) for cell, _ in keep], name)
    require_columns(names, required_columns, name)

    marks = []
    if NUMBER_CELLS in grid.columns:  # grid column names -> the frame's column names
        renamed = pl.element().replace_strict(dict(keep), default=None)
        marks = [pl.col(NUMBER_CELLS).list.eval(renamed).list.drop_nulls()]
    return body.select([pl.col(cell).alias(header) for cell, header in keep] + [SOURCE_ROW] + marks)


def require_columns(names: Sequence[str], required_columns: Sequence[str], name: str) -> None:
    missing = [c for c in required_columns if c not in names]
    if missing:
        hidden = (SOURCE_ROW, RECORD_PROBLEM)
        found = [n for n in names if not n.startswith(EXTRA_PREFIX) and n not in hidden]
        shown = ", ".join(found[:40]) + (f", … ({len(found)} in all)" if len(found) > 40 else "")
        raise ExportReadError(
            f"{name}: missing required column(s): {', '.join(missing)} (found: {shown or 'none'})"
        )


def _split_blank_tail(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows up to the last one holding a value, the blank rows after it)."""
    names = [c for c in frame.columns if c not in (SOURCE_ROW, NUMBER_CELLS)]
    if not names:
        return frame.clear(), frame
    has_value = pl.any_horizontal(pl.col(c).is_not_null() for c in names)
    last = frame.select(has_value.arg_true().max()).item()
    kept = 0 if last is None else last + 1
    return frame.head(kept), frame.slice(kept)


def _reject_duplicates(names: list[str], positions: list[int], name: str) -> None:
    """Two columns with the same header: which one holds the data is unknowable."""
    seen: dict[str, list[int]] = {}
    for header, position in zip(names, positions, strict=True):
        seen.setdefault(header, []).append(position)
    duplicates = {h: p for h, p in seen.items() if len(p) > 1}
    if duplicates:
        listed = "; ".join(
            f"{h} (columns {' and '.join(_column_label(p) for p in ps)})"
            for h, ps in sorted(duplicates.items())
        )
        raise ExportReadError(f"{name}: duplicate column(s): {listed}")


def _column_label(position: int) -> str:
    """0-based position -> '3 (C)': the number a CSV reader counts, the letter Excel shows."""
    letters, n = "", position + 1
    while n:
        n, remainder = divmod(n - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return f"{position + 1} ({letters})"
