"""Reading a folder of one source's exports: each file's rows, block by block, with lineage.

Rows keep (source_file, source_row, file_sha256) from here to the warehouse or quarantine,
and the quarter they belong to (the partition that loads them). Any failure while reading
one file, expected or not, rejects that file only: the other files of the folder still load.
"""

import hashlib
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from pipelines.ingest.formats import (
    EXTRA_PREFIX,
    NUMBER_CELLS,
    SOURCE_ROW,
    ExportReadError,
    iter_export,
    json_export_rows,
)
from pipelines.ingest.json_records import JSON_SUFFIXES, RECORD_PROBLEM, JsonRows
from pipelines.rules.parsing import parse_date

if TYPE_CHECKING:
    from pipelines.ingest.source import SourceDefinition

QuarterOf = Callable[[pl.DataFrame], pl.Series]
log = logging.getLogger(__name__)

# Reader-level problem of one row (values beyond the header), quarantined with column '*'.
ROW_PROBLEM = "_row_problem"
# Where a row came from, and the quarter (partition) it belongs to: see pipelines.partitions.
LINEAGE = ["source_file", "source_row", "file_sha256", "quarter"]
LINEAGE_SCHEMA = {
    "source_file": pl.String,
    "source_row": pl.Int32,
    "file_sha256": pl.String,
    "quarter": pl.Date,
}

EXPORT_SUFFIXES = {".csv", ".xlsx", ".xlsm", *JSON_SUFFIXES}


@dataclass(frozen=True)
class FileRead:
    source_file: str
    file_sha256: str
    n_rows: int
    error: str | None = None
    # Not read: unchanged since it was loaded, and none of its rows is in this run's quarters.
    skipped: bool = False


def export_files(folder: Path) -> list[Path]:
    """Export files in a folder (recursively), in a stable order."""
    if not folder.is_dir():
        return []
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in EXPORT_SUFFIXES
    )


def empty_source_frame(required: Sequence[str], optional: Sequence[str]) -> pl.DataFrame:
    columns = {c: pl.String for c in [*required, *optional, ROW_PROBLEM]} | LINEAGE_SCHEMA
    return pl.DataFrame(schema=columns | {NUMBER_CELLS: pl.List(pl.String)})


def file_digest(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def iter_source_files(
    paths: list[Path],
    data_dir: Path,
    source: "SourceDefinition",
    skip: Callable[[str, str], bool] | None = None,
    block_bytes: int | None = None,
) -> Iterator[tuple[FileRead, Iterator[pl.DataFrame] | None]]:
    """Each export of ``paths`` (`export_files` of a folder, or a selection of them) in
    source_file order: its FileRead (``n_rows`` still 0) and its rows in blocks (see
    ``formats.iter_export``), or None when the file is rejected
    before reading (the reason in FileRead.error) or ``skip(source_file, sha256)`` says it
    need not be read. The blocks may end in ExportReadError: the file is then rejected."""
    for path in sorted(paths, key=lambda p: p.relative_to(data_dir).as_posix()):
        relative = path.relative_to(data_dir).as_posix()
        try:
            digest = file_digest(path)
        except OSError as error:
            yield FileRead(relative, "", 0, f"{relative}: cannot be opened ({error})"), None
            continue
        if skip is not None and skip(relative, digest):
            yield FileRead(relative, digest, 0, skipped=True), None
            continue
        file = FileRead(relative, digest, 0)
        yield file, source_blocks(path, file, source, block_bytes)


def source_blocks(
    path: Path,
    file: FileRead,
    source: "SourceDefinition",
    block_bytes: int | None = None,
    quarters: bool = True,
) -> Iterator[pl.DataFrame]:
    """One file's rows, block by block, as text columns, ``_row_problem`` and lineage (with
    the row's quarter, or a null one for the caller to fill with ``with_quarters`` when
    ``quarters`` is false). Any failure becomes an ExportReadError naming the file: a reader
    bug on hostile bytes must reject that file, not stop the folder."""
    relative = file.source_file
    with _rejecting(relative):
        for frame in iter_export(path, source.required, relative, block_bytes):
            yield _with_lineage(frame, file, source, quarters)


@contextmanager
def _rejecting(relative: str) -> Iterator[None]:
    """Any failure reading a file becomes an ExportReadError naming it."""
    try:
        yield
    except ExportReadError:
        raise
    except Exception as error:
        log.exception("unexpected failure reading %s", relative)
        message = f"{relative}: could not be read ({type(error).__name__}: {error})"
        raise ExportReadError(message) from error


def json_rows(path: Path, file: FileRead, source: "SourceDefinition") -> JsonRows:
    """A small JSON export's rows as Python rows, to be framed with other files' rows by
    ``json_rows_frame`` (failures as in ``source_blocks``)."""
    with _rejecting(file.source_file):
        return json_export_rows(path, file.source_file, source.required)


def json_rows_frame(
    rows: JsonRows, files: list[FileRead], source: "SourceDefinition"
) -> pl.DataFrame:
    """The rows of several small JSON files (``files``, in the order their rows were added)
    as ``source_blocks`` gives them, without quarters (``with_quarters`` adds them)."""
    names: list[str] = []
    digests: list[str] = []
    for file, count in zip(files, rows.counts, strict=True):
        names += [file.source_file] * count
        digests += [file.file_sha256] * count
    frame = rows.frame(source_file=names, file_sha256=digests)
    return _with_lineage(frame, None, source, quarters=False)


def with_quarters(frame: pl.DataFrame, source: "SourceDefinition") -> pl.DataFrame:
    """The quarter of every row (rows of several small files are placed in one pass)."""
    return frame.with_columns(pl.lit(source.quarter(frame), dtype=pl.Date).alias("quarter"))


def _with_lineage(
    frame: pl.DataFrame, file: FileRead | None, source: "SourceDefinition", quarters: bool
) -> pl.DataFrame:
    """Lineage of one file's rows (``file``), or of rows that carry their own source_file
    and file_sha256 columns (several small files, ``file`` None)."""
    required, optional = source.required, source.optional
    extras = [c for c in frame.columns if c.startswith(EXTRA_PREFIX)]
    frame = frame.with_columns(
        pl.lit(None, dtype=pl.String).alias(c) for c in optional if c not in frame.columns
    )
    quarter = source.quarter(frame) if quarters else None
    number_cells = pl.col(NUMBER_CELLS) if NUMBER_CELLS in frame.columns else pl.lit(None)
    problem = _beyond_header(extras)
    if RECORD_PROBLEM in frame.columns:  # JSON: a record that is not one row of columns
        problem = pl.coalesce(pl.col(RECORD_PROBLEM), problem)
    return frame.select(
        *required,
        *optional,
        problem.alias(ROW_PROBLEM),
        (pl.lit(file.source_file) if file else pl.col("source_file")).alias("source_file"),
        pl.col(SOURCE_ROW).cast(pl.Int32),
        (pl.lit(file.file_sha256) if file else pl.col("file_sha256")).alias("file_sha256"),
        pl.lit(quarter, dtype=pl.Date).alias("quarter"),
        number_cells.cast(pl.List(pl.String)).alias(NUMBER_CELLS),
    )


def quarter_of_date(column: str) -> QuarterOf:
    """A source whose rows are dated by one date column: the quarter of that date."""

    def quarter(frame: pl.DataFrame) -> pl.Series:
        day = parse_date(pl.col(column), column).value
        return quarter_of_columns(frame, [column], day.dt.year(), day.dt.quarter())

    return quarter


def quarter_of_columns(
    frame: pl.DataFrame, columns: list[str], year: pl.Expr, number: pl.Expr
) -> pl.Series:
    """First day of the quarter given by a year and a quarter number (1..4) computed from
    text ``columns``, evaluated once per distinct combination; null where either is null
    or the year is implausible (validation says why)."""
    distinct = frame.select(columns).unique()
    computed = distinct.with_columns(
        pl.when(year.is_between(1900, 2200) & number.is_between(1, 4))
        .then(pl.date(year.clip(1900, 2200), (number.clip(1, 4) - 1) * 3 + 1, 1))
        .alias("quarter")
    )
    return (
        frame.select(columns)
        .join(computed, on=columns, how="left", nulls_equal=True, maintain_order="left")
        .get_column("quarter")
    )


def _beyond_header(extras: list[str]) -> pl.Expr:
    """Reason for a row with values right of the header (an unquoted separator inside a
    value shifts the row: its columns can no longer be trusted), else null."""
    if not extras:
        return pl.lit(None, dtype=pl.String)
    values = pl.concat_list(pl.col(c) for c in extras).list.drop_nulls()
    count = values.list.len()
    first = values.list.first().str.slice(0, 100)
    return pl.when(count > 0).then(
        pl.lit("row has ")
        + count.cast(pl.String)
        + pl.lit(" value(s) to the right of the last header column (first: '")
        + first
        + pl.lit("'): a separator inside an unquoted value probably shifted the row")
    )


# ---------------------------------------------------------------- validating
