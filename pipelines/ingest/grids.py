"""CSV bytes -> header-less text grids with line numbers: encoding (UTF-8, UTF-8 with BOM,
Windows-1252), separator, binary and malformed files rejected with the line at fault, and
large files cut into blocks at line ends outside quotes (memory holds one block).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import BinaryIO

import polars as pl

SOURCE_ROW = "source_row"
_BOM = b"\xef\xbb\xbf"
_SNIFF_BYTES = 64 * 1024
# Excel's own column limit (XFD): a line with more fields is not a spreadsheet export.
_MAX_FIELDS = 16_384
# Share of control characters / undecodable bytes above which a "CSV" is binary data.
_MAX_BINARY_SHARE = 0.02
# How far back from a block's end to look for a line end outside quotes before reading on.
_CUT_SEARCH_LINES = 10_000


class ExportReadError(Exception):
    """The file cannot be read as an export (not text/xlsx, truncated, columns missing)."""


def read_csv_grid(raw: bytes, name: str) -> pl.DataFrame:
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


def csv_block_grids(handle: BinaryIO, name: str, block_bytes: int) -> Iterator[pl.DataFrame]:
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
        yield read_csv_grid(first + blocks.rest(), name)
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
