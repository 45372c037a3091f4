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
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

import fastexcel
import polars as pl

from pipelines.settings import Settings

SOURCE_ROW = "source_row"
# Prefix of columns holding values to the right of the header (see _to_export_frame).
EXTRA_PREFIX = "_beyond_header_"
# xlsx only: per row, the columns whose cell is an Excel number with a fractional part. Its
# text is Excel's rendering with a decimal point, not the file's own way of writing numbers.
NUMBER_CELLS = "_number_cells"
_BOM = b"\xef\xbb\xbf"
_SNIFF_BYTES = 64 * 1024
# Excel keeps 15 significant digits: a number cell at or above 1e15 has lost digits.
_EXCEL_EXACT_LIMIT = 1e15
# Excel's own column limit (XFD): a line with more fields is not a spreadsheet export.
_MAX_FIELDS = 16_384
# Share of control characters / undecodable bytes above which a "CSV" is binary data.
_MAX_BINARY_SHARE = 0.02
# A CSV larger than this is read in blocks of about this size, each cut at a line end outside
# quotes: parsing a block peaks at ~6x its size, so memory holds one block, not the file.
BLOCK_BYTES = int(Settings.read_block_mb * 2**20)
# How far back from a block's end to look for a line end outside quotes before reading on.
_CUT_SEARCH_LINES = 10_000


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


def _grids(path: Path, name: str, block_bytes: int) -> Iterator[pl.DataFrame]:
    """Header-less text grids with ``source_row``; the first grid's row 0 is the header, and
    every later grid (a block of a large CSV) starts with a copy of it."""
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        yield _read_xlsx_grid(path, name)
    elif path.stat().st_size <= block_bytes:
        yield _read_csv_grid(path.read_bytes(), name)
    else:
        with path.open("rb") as handle:
            yield from _csv_block_grids(handle, name, block_bytes)


def _read_csv_grid(raw: bytes, name: str) -> pl.DataFrame:
    """Header-less text grid with a ``source_row`` column (header line = 1).

    Every line is given as many columns as the widest line, so that values beyond the
    header are kept (as columns with an empty header) instead of being cut off silently.
    """
    data = _as_utf8(raw)
    separator = _sniff(raw, data, name)
    try:
        return _polars_grid(data, separator, _max_fields(data, separator, name))
    except pl.exceptions.PolarsError:
        # Polars refuses stray quotes inside unquoted values ('5" disk'); the csv module
        # accepts them as text and, in strict mode, names the line of a real defect.
        return _csv_module_grid(data, separator, name)


def _sniff(raw: bytes, data: bytes, name: str) -> str:
    """The separator, after rejecting files that are empty or not text, judged by the start
    of ``raw`` and of ``data`` (``raw`` or its beginning as UTF-8)."""
    if not raw.strip():
        raise ExportReadError(f"{name}: the file is empty")
    if b"\x00" in raw[:_SNIFF_BYTES]:
        raise ExportReadError(
            f"{name}: not a text (CSV) file: it contains NUL bytes (binary data, or a UTF-16 "
            "'Unicode text' export; save it as CSV UTF-8 instead)"
        )
    text_sample = data[:_SNIFF_BYTES].decode("utf-8", errors="replace")
    _reject_binary(text_sample, name)
    return _detect_separator(text_sample)


def _csv_block_grids(handle: BinaryIO, name: str, block_bytes: int) -> Iterator[pl.DataFrame]:
    """A large CSV block by block, each parsed like a whole file behind a copy of the header
    line, its ``source_row`` shifted to the block's place in the file.

    Blocks are cut where the quotes seen so far are balanced, which is outside any quoted
    value in well-formed CSV. A block polars refuses goes to the csv module, as a whole file
    would; if the csv module finds the block ending inside quotes, a stray quote misled the
    cut, and the rest of the file is parsed as one, exactly as a file read whole."""
    blocks = _RecordBlocks(handle, block_bytes)
    first = blocks.first()
    header_end = _first_record_end(first)
    if header_end is None:  # no complete header line in a whole block: not cut
        yield _read_csv_grid(first + blocks.rest(), name)
        return
    separator = _sniff(first, _as_utf8(first[: header_end + _SNIFF_BYTES]), name)
    header = first[:header_end]
    header_lines = header.count(b"\n")
    for block, first_line in blocks:
        shift = 0 if first_line == 1 else first_line - 1 - header_lines
        block = block if first_line == 1 else header + block
        data = _as_utf8(block)
        width = _max_fields(data, separator, name, shift)
        try:
            yield _shifted(_polars_grid(data, separator, width), shift)
            continue
        except pl.exceptions.PolarsError:
            pass
        try:  # a wide multi-line record or a stray quote: the csv module takes the block
            yield _shifted(_csv_module_grid(data, separator, name, shift), shift)
        except ExportReadError:  # it ends inside quotes: the cut trusted a stray quote
            data = _as_utf8(block + blocks.rest())
            yield _shifted(_csv_module_grid(data, separator, name, shift), shift)
            return


def _shifted(grid: pl.DataFrame, lines: int) -> pl.DataFrame:
    return grid.with_columns(pl.col(SOURCE_ROW) + lines) if lines else grid


class _RecordBlocks:
    """Consecutive blocks of a CSV of about ``size`` bytes, each ending at a line end where
    the quotes before it are balanced, with the file line number each block starts on."""

    def __init__(self, handle: BinaryIO, size: int) -> None:
        self._handle, self._size = handle, size
        self._pending = b""
        self._line = 1
        self._first: bytes | None = None

    def first(self) -> bytes:
        """The bytes of the first block-sized read (kept for the iteration)."""
        if self._first is None:
            self._first = self._handle.read(self._size)
        return self._first

    def __iter__(self) -> Iterator[tuple[bytes, int]]:
        self._pending = self.first()
        while self._pending:
            more = self._handle.read(self._size)
            cut = _last_record_end(self._pending) if more else len(self._pending)
            if cut is None:  # no balanced line end near the end: read on
                self._pending += more
                continue
            block, self._pending = self._pending[:cut], self._pending[cut:] + more
            start = self._line
            self._line += block.count(b"\n")
            yield block, start

    def rest(self) -> bytes:
        """Everything after the last block yielded."""
        rest = self._pending + self._handle.read()
        self._pending = b""
        return rest


def _first_record_end(data: bytes) -> int | None:
    """Offset just past the first line end with balanced quotes before it (the header's end)."""
    position = data.find(b"\n")
    while position >= 0:
        if data.count(b'"', 0, position) % 2 == 0:
            return position + 1
        position = data.find(b"\n", position + 1)
    return None


def _last_record_end(data: bytes) -> int | None:
    """Offset just past the last line end with balanced quotes before it, looking back at most
    ``_CUT_SEARCH_LINES`` lines (None: read on and cut later)."""
    quotes = data.count(b'"')
    end = len(data)
    position = data.rfind(b"\n")
    for _ in range(_CUT_SEARCH_LINES):
        if position < 0:
            return None
        quotes -= data.count(b'"', position + 1, end)
        if quotes % 2 == 0:
            return position + 1
        end = position + 1
        position = data.rfind(b"\n", 0, position)
    return None


def _polars_grid(data: bytes, separator: str, width: int) -> pl.DataFrame:
    # A synthetic first line of ``width`` empty fields fixes the column count: polars takes
    # it from the first line. ``width`` counts the fields of the widest line; a record over
    # several lines can hold more, and polars then refuses the file (rather than truncate
    # it) and the csv module reads it.
    widening = (separator * (width - 1) + "\n").encode("utf-8")
    grid = pl.read_csv(
        io.BytesIO(widening + data),
        separator=separator,
        has_header=False,
        infer_schema=False,
        truncate_ragged_lines=False,
        quote_char='"',
    ).slice(1)
    record = pl.int_range(pl.len(), dtype=pl.Int32)
    # A quoted value may contain line breaks: count them so row numbers match the editor
    # (only in the columns that have any, which is usually none).
    multiline = (
        [c for c in grid.columns if grid[c].str.contains("\n", literal=True).any()]
        if b'"' in data
        else []
    )
    if multiline:
        breaks = pl.sum_horizontal(
            pl.col(c).str.count_matches("\n", literal=True).fill_null(0) for c in multiline
        ).cast(pl.Int32)
        line = 1 + record + breaks.cum_sum() - breaks
    else:
        line = 1 + record
    return grid.with_columns(line.alias(SOURCE_ROW))


def _csv_module_grid(data: bytes, separator: str, name: str, line_shift: int = 0) -> pl.DataFrame:
    """The same grid through the csv module (slower, more lenient, names the bad line);
    ``line_shift`` places a block's line numbers in its file, for the message."""
    text = data.decode("utf-8")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
    rows: list[list[str]] = []
    lines: list[int] = []
    previous_end = 0
    try:
        for row in reader:
            rows.append(row)
            lines.append(previous_end + 1)
            previous_end = reader.line_num
    except csv.Error as error:
        raise ExportReadError(
            f"{name}: cannot be parsed as CSV at line {previous_end + 1 + line_shift} ({error}; "
            'a quote (") opened and not closed?)'
        ) from None
    width = max((len(row) for row in rows), default=1)
    columns = {
        f"column_{i + 1}": [row[i] if i < len(row) else None for row in rows] for i in range(width)
    }
    grid = pl.DataFrame(columns, schema={c: pl.String for c in columns})
    return grid.with_columns(pl.Series(SOURCE_ROW, lines, dtype=pl.Int32))


def _max_fields(data: bytes, separator: str, name: str, line_shift: int = 0) -> int:
    """Upper bound of the fields on any line (separators inside quotes count too).

    Counted by polars over the lines (no Python loop over millions of lines); the line
    number for the error message is found the slow way, only when there is an error."""
    widest = _max_separators(data, separator) + 1
    if widest > _MAX_FIELDS:
        sep = separator.encode("utf-8")
        counts = [line.count(sep) for line in data.split(b"\n")]
        line = counts.index(widest - 1) + 1 + line_shift
        raise ExportReadError(
            f"{name}: line {line} has {widest} fields separated by '{separator}', more than "
            f"the {_MAX_FIELDS} an export can have"
        )
    return widest


def _max_separators(data: bytes, separator: str) -> int:
    """Most separators on one line: each line read whole as one text cell (NUL never occurs
    in a text export, so it serves as a separator that never splits), then counted."""
    if b"\x00" not in data:
        try:
            lines = pl.read_csv(
                io.BytesIO(data),
                has_header=False,
                separator="\x00",
                quote_char=None,
                infer_schema=False,
                new_columns=["line"],
            )
            most = lines.select(pl.col("line").str.count_matches(separator, literal=True).max())
            return int(most.item() or 0)
        except pl.exceptions.PolarsError:
            pass
    sep = separator.encode("utf-8")
    return max(line.count(sep) for line in data.split(b"\n"))


def _reject_binary(sample: str, name: str) -> None:
    """Decoded text full of control characters or undecodable bytes is not an export."""
    if not sample:
        return
    odd = sum(1 for char in sample if (char < " " and char not in "\t\r\n") or char == "\ufffd")
    if odd / len(sample) > _MAX_BINARY_SHARE:
        raise ExportReadError(
            f"{name}: not a text (CSV) file: {odd} of the first {len(sample)} characters are "
            "control characters or undecodable bytes"
        )


def _as_utf8(raw: bytes) -> bytes:
    """UTF-8 bytes without BOM. A file that is not valid UTF-8 is decoded line by line:
    UTF-8 where the line is valid UTF-8, else Windows-1252, so that a file edited by two
    programs (some lines UTF-8, some Windows-1252) keeps every name intact."""
    if raw.startswith(_BOM):
        raw = raw[len(_BOM) :]
    try:
        raw.decode("utf-8")
        return raw
    except UnicodeDecodeError:
        pass
    if not _has_utf8_sequence(raw):  # nothing UTF-8 in it: plain Windows-1252, fast path
        try:
            return raw.decode("cp1252").encode("utf-8")
        except UnicodeDecodeError:
            pass
    return "\n".join(_decode_line(line) for line in raw.split(b"\n")).encode("utf-8")


def _has_utf8_sequence(raw: bytes) -> bool:
    """Whether any multi-byte UTF-8 character decodes from ``raw`` (it mixes encodings)."""
    text = raw.decode("utf-8", errors="replace")
    n_ascii = len(raw) - len(raw.translate(None, bytes(range(128))))
    return len(text) - n_ascii > text.count("\ufffd")


def _decode_line(line: bytes) -> str:
    if line.isascii():
        return line.decode("ascii")
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # Bytes undefined in Windows-1252 (0x81, 0x8d, 0x8f, 0x90, 0x9d) become U+FFFD, which
    # validation rejects as damaged text and the binary check counts.
    return line.decode("cp1252", errors="replace")


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
    missing = [c for c in required_columns if c not in names]
    if missing:
        found = [n for n in names if not n.startswith(EXTRA_PREFIX)]
        shown = ", ".join(found[:40]) + (f", … ({len(found)} in all)" if len(found) > 40 else "")
        raise ExportReadError(
            f"{name}: missing required column(s): {', '.join(missing)} (found: {shown or 'none'})"
        )

    marks = []
    if NUMBER_CELLS in grid.columns:  # grid column names -> the frame's column names
        renamed = pl.element().replace_strict(dict(keep), default=None)
        marks = [pl.col(NUMBER_CELLS).list.eval(renamed).list.drop_nulls()]
    return body.select([pl.col(cell).alias(header) for cell, header in keep] + [SOURCE_ROW] + marks)


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
