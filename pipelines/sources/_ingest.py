"""What every source shares: read a folder of exports with lineage, turn parse failures and
pandera failure cases into quarantine rows, write one source's tables atomically, and the
Dagster multi-asset that ties these together.

Rows are tracked by ``_row`` (position in the concatenated input) from reading to the
final split, so every rejection can be traced to (source_file, source_row).

Never lose a row: a file is either read whole (each data row ends in raw.<source> or in
quarantine.<source>) or rejected whole (no row of it in either table). A rejected file keeps
its raw.files row, with zero counts and the reason in ``error``; the asset's metadata and its
``all_files_readable`` check list it by name. Any failure while reading one file, expected or
not, rejects that file only: the other files of the folder still load.
"""

import hashlib
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import NamedTuple

import dagster as dg
import duckdb
import pandera.polars as pa
import polars as pl
from dagster import AssetExecutionContext
from dagster_duckdb import DuckDBResource

from pipelines.partitions import QUARTERS, partition_window
from pipelines.partitions import label as quarter_label
from pipelines.readers import (
    EXTRA_PREFIX,
    NUMBER_CELLS,
    SOURCE_ROW,
    ExportReadError,
    iter_export,
)
from pipelines.rules import parsing
from pipelines.rules.parsing import parse_date
from pipelines.rules.pseudonym import load_key
from pipelines.settings import load_settings
from pipelines.warehouse import registered, transaction

ROW = "_row"
# Reader-level problem of one row (values beyond the header), quarantined with column '*'.
ROW_PROBLEM = "_row_problem"
# Excel's cell limit: a longer value did not come from a spreadsheet and cannot go back to one.
MAX_CELL_CHARS = 32_767
# Longer values are shortened in quarantine raw_record (the file keeps the original).
RECORD_VALUE_CHARS = 1_000
# Where a row came from, and the quarter (partition) it belongs to: see pipelines.partitions.
LINEAGE = ["source_file", "source_row", "file_sha256", "quarter"]
LINEAGE_SCHEMA = {
    "source_file": pl.String,
    "source_row": pl.Int32,
    "file_sha256": pl.String,
    "quarter": pl.Date,
}
QUARANTINE_SCHEMA = {
    **LINEAGE_SCHEMA,
    "column_name": pl.String,
    "reason": pl.String,
    "raw_record": pl.String,
}
EXPORT_SUFFIXES = {".csv", ".xlsx", ".xlsm"}
# Rows validated at a time: bounds the polars intermediates (~2 kB a row) of validation.
SLICE_ROWS = 500_000
AGENCIES_KEY = dg.AssetKey(["raw", "agencies"])

# One row per (file, quarter) loaded: which version of a file each quarter's rows came from.
# A file rejected whole, or without rows, has one row with a null quarter.
FILES_DDL = """
CREATE TABLE IF NOT EXISTS raw.files (
    source VARCHAR, source_file VARCHAR, quarter DATE, file_sha256 VARCHAR,
    n_rows_read INTEGER, n_rows_loaded INTEGER, n_rows_quarantined INTEGER, error VARCHAR
)"""
log = logging.getLogger(__name__)


class Validated(NamedTuple):
    valid: pl.DataFrame
    quarantine: pl.DataFrame


@dataclass(frozen=True)
class FileRead:
    source_file: str
    file_sha256: str
    n_rows: int
    error: str | None = None
    # Not read: unchanged since it was loaded, and none of its rows is in this run's quarters.
    skipped: bool = False


@dataclass(frozen=True)
class SourceRead:
    frame: pl.DataFrame
    files: list[FileRead] = field(default_factory=list)


# ---------------------------------------------------------------- reading


def export_files(folder: Path) -> list[Path]:
    """Export files in a folder (recursively), in a stable order."""
    if not folder.is_dir():
        return []
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in EXPORT_SUFFIXES
    )


QuarterOf = Callable[[pl.DataFrame], pl.Series]


def read_source(
    folder: Path,
    data_dir: Path,
    required: Sequence[str],
    optional: Sequence[str],
    quarter: QuarterOf | None = None,
) -> SourceRead:
    """All exports of one source, concatenated: text columns ``required + optional``,
    ``_row_problem`` and lineage. A file that cannot be read is reported in ``files`` with
    its error and contributes no row (one bad file must not hide the others)."""
    frames: list[pl.DataFrame] = []
    files: list[FileRead] = []
    for file, blocks in iter_source_files(folder, data_dir, required, optional, quarter):
        if blocks is None:
            files.append(file)
            continue
        try:
            read = list(blocks)
        except ExportReadError as error:
            files.append(replace(file, error=str(error)))
            continue
        files.append(replace(file, n_rows=sum(block.height for block in read)))
        frames.extend(read)
    frame = pl.concat(frames) if frames else empty_source_frame(required, optional)
    return SourceRead(frame, files)


def empty_source_frame(required: Sequence[str], optional: Sequence[str]) -> pl.DataFrame:
    columns = {c: pl.String for c in [*required, *optional, ROW_PROBLEM]} | LINEAGE_SCHEMA
    return pl.DataFrame(schema=columns | {NUMBER_CELLS: pl.List(pl.String)})


def file_digest(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def iter_source_files(
    folder: Path,
    data_dir: Path,
    required: Sequence[str],
    optional: Sequence[str],
    quarter: QuarterOf | None = None,
    skip: Callable[[str, str], bool] | None = None,
) -> Iterator[tuple[FileRead, Iterator[pl.DataFrame] | None]]:
    """Each export of a folder in source_file order: its FileRead (``n_rows`` still 0) and
    its rows in blocks (see ``readers.iter_export``), or None when the file is rejected
    before reading (the reason in FileRead.error) or ``skip(source_file, sha256)`` says it
    need not be read. The blocks may end in ExportReadError: the file is then rejected."""
    paths = sorted(export_files(folder), key=lambda p: p.relative_to(data_dir).as_posix())
    for path in paths:
        relative = path.relative_to(data_dir).as_posix()
        try:
            digest = file_digest(path)
        except OSError as error:
            yield FileRead(relative, "", 0, f"{relative}: cannot be opened ({error})"), None
            continue
        if skip is not None and skip(relative, digest):
            yield FileRead(relative, digest, 0, skipped=True), None
            continue
        blocks = _source_blocks(path, relative, digest, required, optional, quarter)
        yield FileRead(relative, digest, 0), blocks


def _source_blocks(
    path: Path,
    relative: str,
    digest: str,
    required: Sequence[str],
    optional: Sequence[str],
    quarter: QuarterOf | None,
) -> Iterator[pl.DataFrame]:
    """One file's rows, block by block, as text columns, ``_row_problem`` and lineage (with
    the row's quarter). Any failure becomes an ExportReadError naming the file: a reader bug
    on hostile bytes must reject that file, not stop the folder."""
    try:
        for frame in iter_export(path, required, display_name=relative):
            yield _with_lineage(frame, relative, digest, required, optional, quarter)
    except ExportReadError:
        raise
    except Exception as error:
        log.exception("unexpected failure reading %s", relative)
        message = f"{relative}: could not be read ({type(error).__name__}: {error})"
        raise ExportReadError(message) from error


def _with_lineage(
    frame: pl.DataFrame,
    relative: str,
    digest: str,
    required: Sequence[str],
    optional: Sequence[str],
    quarter: QuarterOf | None,
) -> pl.DataFrame:
    extras = [c for c in frame.columns if c.startswith(EXTRA_PREFIX)]
    frame = frame.with_columns(
        pl.lit(None, dtype=pl.String).alias(c) for c in optional if c not in frame.columns
    )
    quarters = quarter(frame) if quarter else pl.repeat(None, frame.height, dtype=pl.Date)
    number_cells = pl.col(NUMBER_CELLS) if NUMBER_CELLS in frame.columns else pl.lit(None)
    return frame.select(
        *required,
        *optional,
        _beyond_header(extras).alias(ROW_PROBLEM),
        pl.lit(relative).alias("source_file"),
        pl.col(SOURCE_ROW).cast(pl.Int32),
        pl.lit(digest).alias("file_sha256"),
        pl.lit(quarters, dtype=pl.Date).alias("quarter"),
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


def per_distinct(
    frame: pl.DataFrame,
    column: str,
    outputs: dict[str, pl.Expr],
    formats: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Evaluate expressions of one column on its distinct values, then map them back to every
    row (same order, same length as ``frame``).

    Exports repeat the same values millions of times (years, periods, targets, NIPs on every
    indicator row); parsing each distinct value once keeps the regex-heavy parsers cheap.
    With ``formats`` (see ``number_formats``) the outputs may read ``parsing.IN_FILE``: the
    same text means different numbers in different files, so the key is (file, value).
    """
    if formats is not None:
        return _per_distinct_in_file(frame, column, outputs, formats)
    key = "__distinct_value"
    distinct = frame.select(pl.col(column).unique())
    computed = distinct.select(
        pl.col(column).alias(key), *[expr.alias(name) for name, expr in outputs.items()]
    )
    return (
        frame.select(pl.col(column).alias(key))
        .join(computed, on=key, how="left", nulls_equal=True, maintain_order="left")
        .drop(key)
    )


FORMAT_COLUMNS = [parsing.DECIMAL, parsing.COMMA_EXAMPLE, parsing.POINT_EXAMPLE]
_EXCEL_NUMBER = "__excel_number"


def _excel_number(frame: pl.DataFrame, column: str) -> pl.Expr | None:
    """Is the cell an Excel number cell (xlsx)? None when the frame has none at all."""
    if NUMBER_CELLS not in frame.columns or frame.get_column(NUMBER_CELLS).null_count() == (
        frame.height
    ):
        return None
    return pl.col(NUMBER_CELLS).list.contains(column).fill_null(False)


def _per_distinct_in_file(
    frame: pl.DataFrame, column: str, outputs: dict[str, pl.Expr], formats: pl.DataFrame
) -> pl.DataFrame:
    """per_distinct keyed by (file, value, Excel number cell or not), with each file's
    number format as columns. An Excel number cell is Excel's own decimal-point rendering,
    whatever the file's text cells do. One file (a block of ``load_source``): no file key."""
    keys = {column: pl.col(column)}
    several_files = frame.get_column("source_file").n_unique() > 1
    if several_files:
        keys["source_file"] = pl.col("source_file")
    excel = _excel_number(frame, column)
    if excel is not None:
        keys[_EXCEL_NUMBER] = excel
    rows = frame.select(*[expr.alias(name) for name, expr in keys.items()])
    distinct = rows.unique()
    if several_files:
        distinct = distinct.join(formats, on="source_file", how="left")
    else:
        file = frame.get_column("source_file").first() if frame.height else None
        found = formats.filter(pl.col("source_file").eq_missing(file))
        distinct = distinct.with_columns(
            pl.lit(found.get_column(c).first() if found.height else None, dtype=pl.String).alias(c)
            for c in FORMAT_COLUMNS
        )
    if excel is not None:
        distinct = distinct.with_columns(
            pl.when(pl.col(_EXCEL_NUMBER))
            .then(pl.lit(parsing.DECIMAL_POINT))
            .otherwise(pl.col(parsing.DECIMAL))
            .alias(parsing.DECIMAL)
        )
    computed = distinct.select(*keys, *[expr.alias(name) for name, expr in outputs.items()])
    return rows.join(
        computed, on=list(keys), how="left", nulls_equal=True, maintain_order="left"
    ).drop(list(keys))


def number_formats(frame: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """Each file's number format, decided by its own numbers (text cells of ``columns``; not
    Excel number cells): source_file, the decimal separator (null when undecided) and the
    file's first value proving each separator (by row, then column order), for reasons."""
    found = []
    # One file (a block of load_source): its distinct values, without hashing the file name.
    one_file = frame.get_column("source_file").n_unique() <= 1
    by = [] if one_file else ["source_file"]
    file = [pl.col("source_file").first()] if one_file else []
    for position, column in enumerate(c for c in columns if c in frame.columns):
        excel = _excel_number(frame, column)
        cells = frame if excel is None else frame.filter(~excel)
        found.append(
            cells.group_by(*by, pl.col(column).alias("value"))
            .agg(pl.col("source_row").min(), *file)
            .filter(pl.col("value").str.contains(r"[.,]"))
            .with_columns(
                parsing.number_evidence(pl.col("value")).alias("evidence"),
                pl.lit(position).alias("position"),
            )
            .drop_nulls("evidence")
        )
    schema = {"source_file": pl.String, "value": pl.String, "source_row": pl.Int32}
    schema |= {"evidence": pl.String, "position": pl.Int32}
    found = [f.select(list(schema)).cast(schema) for f in found]
    evidence = pl.concat([pl.DataFrame(schema=schema), *found])
    evidence = evidence.sort("source_file", "source_row", "position")
    value, kind = pl.col("value"), pl.col("evidence")
    examples = evidence.group_by("source_file").agg(
        value.filter(kind == parsing.DECIMAL_COMMA).first().alias(parsing.COMMA_EXAMPLE),
        value.filter(kind == parsing.DECIMAL_POINT).first().alias(parsing.POINT_EXAMPLE),
    )
    files = frame.select(pl.col("source_file").unique(maintain_order=True))
    return _decided(files.join(examples, on="source_file", how="left"))


def merge_number_formats(first: pl.DataFrame, later: pl.DataFrame) -> pl.DataFrame:
    """The formats of a file's earlier blocks and a later block: first example of each kind."""
    merged = (
        pl.concat([first, later])
        .group_by("source_file", maintain_order=True)
        .agg(pl.col(parsing.COMMA_EXAMPLE, parsing.POINT_EXAMPLE).drop_nulls().first())
    )
    return _decided(merged)


def _decided(examples: pl.DataFrame) -> pl.DataFrame:
    comma, point = pl.col(parsing.COMMA_EXAMPLE), pl.col(parsing.POINT_EXAMPLE)
    return examples.select(
        "source_file",
        parsing.decide_decimal(comma, point).alias(parsing.DECIMAL),
        comma.cast(pl.String),
        point.cast(pl.String),
    )


def failures_from_reasons(reasons: pl.DataFrame) -> pl.DataFrame:
    """(_row, column_name, reason) for every non-null cell of ``reasons`` (_row + one reason
    column per input column)."""
    if reasons.width == 1:
        return pl.DataFrame(schema={ROW: pl.UInt32, "column_name": pl.String, "reason": pl.String})
    # Almost every row has no reason at all: unpivot only the rows that have one.
    columns = [c for c in reasons.columns if c != ROW]
    reasons = reasons.filter(pl.any_horizontal(pl.col(c).is_not_null() for c in columns))
    return (
        reasons.unpivot(index=ROW, variable_name="column_name", value_name="reason")
        .filter(pl.col("reason").is_not_null())
        .select(ROW, "column_name", pl.col("reason").cast(pl.String))
    )


def failures_from_schema(typed: pl.DataFrame, schema: pa.DataFrameSchema) -> pl.DataFrame:
    """Run pandera lazily and turn its failure cases into (_row, column_name, reason).

    Checks carry their readable wording in ``error=``; pandera reports that text in the
    ``check`` column, so the reason is "<column> '<value>' <wording>". A null in a
    non-nullable column becomes "<column> is required but empty".
    """
    empty = pl.DataFrame(schema={ROW: pl.UInt32, "column_name": pl.String, "reason": pl.String})
    try:
        schema.validate(typed, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
    else:
        return empty
    unlocated = cases.filter(pl.col("index").is_null())
    if unlocated.height:  # schema-level problem (missing column, wrong dtype): a code bug
        raise ValueError(f"schema {schema.name} failed as a whole:\n{unlocated}")
    rows = typed.get_column(ROW).gather(cases.get_column("index"))
    reason = (
        pl.when(pl.col("check") == "not_nullable")
        .then(pl.col("column") + " is required but empty")
        .otherwise(pl.col("column") + " '" + pl.col("failure_case") + "' " + pl.col("check"))
    )
    return cases.select(
        rows.alias(ROW), pl.col("column").alias("column_name"), reason.alias("reason")
    )


def split_valid(
    frame: pl.DataFrame,
    typed: pl.DataFrame,
    parse_failures: pl.DataFrame,
    schema: pa.DataFrameSchema,
    record_columns: Sequence[str],
    output_columns: Sequence[str],
) -> Validated:
    """Combine parse failures and schema failures; rejected rows leave ``valid``.

    ``frame`` is the text input with ``_row`` and lineage; ``typed`` the parsed frame with
    ``_row``. A fully empty row is reported once, as column '*', instead of once per
    required column; so is a row with values beyond the header (``_row_problem``). Every
    text cell is also checked for length and damaged text (``_cell_reason``). Schema
    failures on a column that already failed to parse are dropped (the parse reason says
    more than "required but empty").
    """
    if ROW_PROBLEM not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(ROW_PROBLEM))
    row_failures = frame.filter(pl.col(ROW_PROBLEM).is_not_null()).select(
        ROW, pl.lit("*").alias("column_name"), pl.col(ROW_PROBLEM).alias("reason")
    )
    empty_rows = frame.filter(
        pl.all_horizontal(pl.col(c).is_null() for c in record_columns)
        & pl.col(ROW_PROBLEM).is_null()
    ).select(
        ROW,
        pl.lit("*").alias("column_name"),
        pl.lit("row is empty").alias("reason"),
    )
    cell_failures = failures_from_reasons(
        frame.select(ROW, *[_cell_reason(c).alias(c) for c in record_columns])
    )
    parse_failures = parse_failures.join(cell_failures, on=[ROW, "column_name"], how="anti")
    schema_failures = (
        failures_from_schema(typed, schema)
        .join(parse_failures, on=[ROW, "column_name"], how="anti")
        .join(cell_failures, on=[ROW, "column_name"], how="anti")
    )
    # A shifted row's column failures are noise caused by the shift: its '*' reason says it.
    column_failures = pl.concat(
        [
            cell_failures,
            parse_failures.join(empty_rows, on=ROW, how="anti"),
            schema_failures.join(empty_rows, on=ROW, how="anti"),
        ]
    ).join(row_failures, on=ROW, how="anti")
    failures = pl.concat([row_failures, column_failures, empty_rows]).unique(maintain_order=True)
    rejected = failures.get_column(ROW).unique()
    records = frame.filter(pl.col(ROW).is_in(rejected.implode())).select(
        ROW,
        *LINEAGE,
        pl.struct(_record_value(c) for c in record_columns)
        .struct.json_encode()
        .alias("raw_record"),
    )
    quarantine = (
        failures.join(records, on=ROW, how="left")
        .sort(["source_file", "source_row", "column_name", "reason"])
        .select(list(QUARANTINE_SCHEMA))
        .cast(QUARANTINE_SCHEMA)
    )
    valid = (
        typed.filter(~pl.col(ROW).is_in(rejected.implode()))
        .sort(["source_file", "source_row"])
        .select(*output_columns, *LINEAGE)
    )
    return Validated(valid, quarantine)


def _cell_reason(column: str) -> pl.Expr:
    """Problems of a text cell whatever its column: too long for any spreadsheet, or text
    that was damaged in decoding (U+FFFD stands where bytes could not be read)."""
    cell = pl.col(column)
    length = cell.str.len_chars()
    return (
        pl.when(length > MAX_CELL_CHARS)
        .then(
            pl.lit(f"{column} is ")
            + length.cast(pl.String)
            + pl.lit(f" characters long, more than the {MAX_CELL_CHARS} a spreadsheet cell holds")
        )
        .when(cell.str.contains("\ufffd", literal=True))
        .then(
            pl.lit(f"{column} '")
            + cell.str.slice(0, 200)
            + pl.lit(
                "' contains undecodable bytes (shown as \ufffd): neither UTF-8 nor Windows-1252"
            )
        )
    )


def _record_value(column: str) -> pl.Expr:
    """The original text for raw_record, shortened (with its length) when it is huge."""
    cell = pl.col(column)
    length = cell.str.len_chars()
    return (
        pl.when(length > RECORD_VALUE_CHARS)
        .then(
            cell.str.slice(0, RECORD_VALUE_CHARS)
            + pl.lit("… [")
            + length.cast(pl.String)
            + pl.lit(" characters in all]")
        )
        .otherwise(cell)
        .alias(column)
    )


def with_row_ids(frame: pl.DataFrame) -> pl.DataFrame:
    """Input frame with a ``_row`` id that survives filtering."""
    return frame.with_row_index(ROW)


# ---------------------------------------------------------------- accounting & writing

FILE_QUARTER = ["source_file", "quarter"]
FILES_SCHEMA = {
    "source": pl.String,
    "source_file": pl.String,
    "quarter": pl.Date,
    "file_sha256": pl.String,
    "n_rows_read": pl.Int32,
    "n_rows_loaded": pl.Int32,
    "n_rows_quarantined": pl.Int32,
    "error": pl.String,
}


def file_results(source: str, read: SourceRead, result: Validated) -> pl.DataFrame:
    """raw.files rows for a source read whole: rows read, loaded and quarantined (distinct
    rows) per (file, quarter), and ``error`` (the reason for a file rejected whole)."""
    return _files_table(
        source,
        read.files,
        read.frame.group_by(FILE_QUARTER).agg(n_rows_read=pl.len()),
        result.valid.group_by(FILE_QUARTER).agg(n_rows_loaded=pl.len()),
        result.quarantine,
    )


def _files_table(
    source: str,
    files: list[FileRead],
    read_counts: pl.DataFrame,
    loaded: pl.DataFrame,
    quarantine: pl.DataFrame,
) -> pl.DataFrame:
    """One row per (file, quarter) with rows; a file without rows (rejected whole, or empty)
    gets one row with a null quarter, so every file read is listed."""
    quarantined = (
        quarantine.select("source_file", "source_row", "quarter")
        .unique()
        .group_by(FILE_QUARTER)
        .agg(n_rows_quarantined=pl.len())
    )
    # A file read in several blocks and validated in several slices reports its rows once
    # per block and slice: add them up.
    read_counts = read_counts.group_by(FILE_QUARTER).agg(pl.col("n_rows_read").sum())
    loaded = loaded.group_by(FILE_QUARTER).agg(pl.col("n_rows_loaded").sum())
    counted = read_counts.join(loaded, on=FILE_QUARTER, how="left", nulls_equal=True).join(
        quarantined, on=FILE_QUARTER, how="left", nulls_equal=True
    )
    listed = pl.DataFrame(
        {
            "source_file": [f.source_file for f in files if not f.skipped],
            "file_sha256": [f.file_sha256 for f in files if not f.skipped],
            "error": [f.error for f in files if not f.skipped],
        },
        schema={"source_file": pl.String, "file_sha256": pl.String, "error": pl.String},
    )
    return (
        listed.join(counted, on="source_file", how="left")
        .with_columns(pl.lit(source).alias("source"), pl.col("^n_rows_.*$").fill_null(0))
        .select(list(FILES_SCHEMA))
        .cast(FILES_SCHEMA)
        .sort(FILE_QUARTER, nulls_last=True)
    )


@dataclass(frozen=True)
class QuarterWindow:
    """The quarters a run loads, ``[start, end)``, inside the quarters that have partitions
    ``[first, last_end)``. Rows outside the partitions are 'unplaced': quarantined (with
    the reason) by every run, so they load as soon as their quarter becomes a partition."""

    start: date
    end: date
    first: date
    last_end: date

    @classmethod
    def everything(cls) -> "QuarterWindow":
        first, last_end = partition_window() or (date(1900, 1, 1), date(1900, 1, 1))
        return cls(first, last_end, first, last_end)

    @property
    def is_everything(self) -> bool:
        return (self.start, self.end) == (self.first, self.last_end)

    def window_sql(self) -> str:
        """Rows of this run's quarters: replaced whichever file they came from."""
        return f"(quarter >= DATE '{self.start}' AND quarter < DATE '{self.end}')"

    def unplaced_sql(self) -> str:
        """Rows in no partition: replaced file by file, when their file is read again."""
        return (
            f"(quarter IS NULL OR quarter < DATE '{self.first}' "
            f"OR quarter >= DATE '{self.last_end}')"
        )

    def label(self) -> str:
        return f"{quarter_label(self.start)}..{quarter_label(self.end - timedelta(days=1))}"

    def placed(self, quarter: date | None) -> bool:
        return quarter is not None and self.first <= quarter < self.last_end

    def needs(self, quarter: date | None) -> bool:
        """Must a file with rows in this quarter be read? Rows of the window, and rows of a
        real quarter outside the partitions (it may have become one since); not rows whose
        quarter cannot be read (same file, same result)."""
        if quarter is None:
            return False
        return not self.placed(quarter) or self.start <= quarter < self.end

    def select_rows(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The rows of a file this run loads; an unplaced row gets its '*' reason."""
        quarter = pl.col("quarter")
        placed = quarter.is_not_null() & (quarter >= self.first) & (quarter < self.last_end)
        in_window = placed & (quarter >= self.start) & (quarter < self.end)
        unplaced_reason = (
            pl.lit("the row's quarter ")
            + quarter.dt.year().cast(pl.String)
            + pl.lit("-Q")
            + quarter.dt.quarter().cast(pl.String)
            + pl.lit(
                f" is outside the warehouse's quarters {quarter_label(self.first)}.."
                f"{quarter_label(self.last_end - timedelta(days=1))}: set KINERJA_FIRST_QUARTER "
                "earlier to load older history; a quarter that has not ended yet loads once "
                "it has"
            )
        )
        keep = frame.select((in_window | ~placed).alias("keep")).get_column("keep")
        if not keep.all():  # a run over every quarter keeps all: no copy of a huge file
            frame = frame.filter(keep)
        return frame.with_columns(
            pl.when(quarter.is_not_null() & ~placed & pl.col(ROW_PROBLEM).is_null())
            .then(unplaced_reason)
            .otherwise(pl.col(ROW_PROBLEM))
            .alias(ROW_PROBLEM)
        )


@dataclass
class SourceLoad:
    """What load_source wrote: per-file reads, counts, and the (small) quarantine frame."""

    files: list[FileRead]
    rows_read: int
    rows_loaded: int
    quarantine: pl.DataFrame
    files_frame: pl.DataFrame
    window: QuarterWindow

    def quarter_shares(self) -> pl.DataFrame:
        """Rows read and quarantined per quarter of this run's window (placed quarters)."""
        placed = [self.window.placed(q) for q in self.files_frame.get_column("quarter")]
        return (
            self.files_frame.filter(pl.Series(placed, dtype=pl.Boolean))
            .group_by("quarter")
            .agg(pl.col("n_rows_read").sum(), pl.col("n_rows_quarantined").sum())
            .with_columns(
                share=pl.col("n_rows_quarantined") / pl.col("n_rows_read").clip(lower_bound=1)
            )
            .sort("quarter")
        )


def _prepare_tables(conn, source: "SourceDefinition", empty: Validated) -> bool:
    """Create the source's tables when missing. Tables of an older layout are dropped (with
    the source's raw.files rows); returns True then, as every quarter must load again."""
    conn.execute("CREATE SCHEMA IF NOT EXISTS raw")
    conn.execute("CREATE SCHEMA IF NOT EXISTS quarantine")
    rebuilt = False
    expected = {
        "raw.files": list(FILES_SCHEMA),
        f"raw.{source.name}": empty.valid.columns,
        f"quarantine.{source.name}": empty.quarantine.columns,
    }
    for table, columns in expected.items():
        schema, name = table.split(".")
        existing = [
            row[0]
            for row in conn.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                [schema, name],
            ).fetchall()
        ]
        if existing and existing != columns:
            log.warning("%s has an older layout: dropped, every quarter loads again", table)
            conn.execute(f"DROP TABLE {table}")
            rebuilt = True
    conn.execute(FILES_DDL)
    for table, frame in (
        (f"raw.{source.name}", empty.valid),
        (f"quarantine.{source.name}", empty.quarantine),
    ):
        with registered(conn, frame) as view:
            conn.execute(f"CREATE TABLE IF NOT EXISTS {table} AS SELECT * FROM {view}")
    if rebuilt:
        conn.execute("DELETE FROM raw.files WHERE source = ?", [source.name])
        conn.execute(f"DELETE FROM raw.{source.name}")
        conn.execute(f"DELETE FROM quarantine.{source.name}")
    return rebuilt


def _unchanged_elsewhere(conn, source: str, window: QuarterWindow) -> Callable[[str, str], bool]:
    """skip(source_file, sha256): the file was loaded before with this content and reading it
    again would change nothing in the window. A run over every quarter reads every file (a
    new kinerja version may read a file differently: that is how to apply it)."""
    recorded: dict[str, list[tuple[str, date | None]]] = {}
    for name, digest, quarter in conn.execute(
        "SELECT source_file, file_sha256, quarter FROM raw.files WHERE source = ?", [source]
    ).fetchall():
        recorded.setdefault(name, []).append((digest, quarter))

    def skip(name: str, digest: str) -> bool:
        rows = recorded.get(name)
        if window.is_everything or not rows:
            return False
        return all(d == digest and not window.needs(q) for d, q in rows)

    return skip


def load_source(
    conn,
    source: "SourceDefinition",
    folder: Path,
    data_dir: Path,
    known: set[str],
    key: bytes,
    window: QuarterWindow | None = None,
    slice_rows: int = SLICE_ROWS,
) -> SourceLoad:
    """Load the window's quarters of one source (default: every quarter), file by file.

    Rows are validated ``slice_rows`` at a time into ``<table>__loading`` tables, committed
    as they go (DuckDB keeps what one transaction appends in memory: 17 GiB at 1M
    employees), so memory holds one block of a file (``readers.BLOCK_BYTES``) and one
    slice's validation. One short transaction then replaces what the run loaded: the
    window's rows, and the unplaced rows of every file read again or gone. A run over every
    quarter swaps the tables by renaming. Until that commit the tables are untouched, so a
    run killed while loading changes nothing. Validation is row by row, so blocks and slices
    change nothing in the result. A file that fails in a late block is taken back whole and
    recorded as rejected."""
    window = window or QuarterWindow.everything()
    empty = source.validate(empty_source_frame(source.required, source.optional), known, key)
    with transaction(conn):
        rebuilt = _prepare_tables(conn, source, empty)
    if rebuilt:
        window = QuarterWindow.everything()
    staged = {t: f"{t}__loading" for t in (f"raw.{source.name}", f"quarantine.{source.name}")}
    try:
        for table, stage in staged.items():
            conn.execute(f"CREATE OR REPLACE TABLE {stage} AS SELECT * FROM {table} LIMIT 0")
        skip = _unchanged_elsewhere(conn, source.name, window)
        files, counts = _stage_files(
            conn, source, folder, data_dir, known, key, window, skip, slice_rows, staged
        )
        quarantine = pl.concat([empty.quarantine, *counts.quarantines])
        files_frame = _files_table(
            source.name, files, counts.read_counts(), counts.loaded_counts(), quarantine
        )
        present = [p.relative_to(data_dir).as_posix() for p in export_files(folder)]
        reread = [f.source_file for f in files if not f.skipped]
        with transaction(conn):
            _replace_loaded(conn, source.name, staged, window, present, reread)
            with registered(conn, files_frame) as view:
                conn.execute(f"INSERT INTO raw.files BY NAME SELECT * FROM {view}")
    finally:
        for stage in staged.values():
            conn.execute(f"DROP TABLE IF EXISTS {stage}")
    return SourceLoad(
        files=files,
        rows_read=int(files_frame.get_column("n_rows_read").sum()),
        rows_loaded=int(files_frame.get_column("n_rows_loaded").sum()),
        quarantine=quarantine,
        files_frame=files_frame,
        window=window,
    )


def _stage_files(
    conn,
    source: "SourceDefinition",
    folder: Path,
    data_dir: Path,
    known: set[str],
    key: bytes,
    window: QuarterWindow,
    skip: Callable[[str, str], bool],
    slice_rows: int,
    staged: dict[str, str],
) -> tuple[list[FileRead], "_FileCounts"]:
    """Read and validate every file (but those ``skip`` leaves) into the staged tables.

    A file's number format is decided by its first block and checked against the rest; in
    the rare file whose later blocks change the decision, the file is taken back and staged
    again with the whole file's format (blocks must not change what a file's numbers mean).
    """
    files: list[FileRead] = []
    total = _FileCounts()
    for file, blocks in iter_source_files(
        folder, data_dir, source.required, source.optional, source.quarter, skip
    ):
        if blocks is None:
            files.append(file)
            continue
        stage = _BlockStager(conn, source, known, key, window, slice_rows, staged)
        try:
            counts, used, seen = stage(blocks)
            if not used.equals(seen):
                _take_back(conn, staged, file.source_file)
                again = _source_blocks(
                    data_dir / file.source_file,
                    file.source_file,
                    file.file_sha256,
                    source.required,
                    source.optional,
                    source.quarter,
                )
                counts, _, _ = stage(again, seen)
        except ExportReadError as error:  # late in the file: take back what it gave
            _take_back(conn, staged, file.source_file)
            files.append(replace(file, error=str(error)))
            continue
        files.append(replace(file, n_rows=counts.n_rows))
        total.merge(counts)
    return files, total


def _take_back(conn: duckdb.DuckDBPyConnection, staged: dict[str, str], source_file: str) -> None:
    """Remove what a file put in the staged tables (it is rejected or staged again)."""
    for stage in staged.values():
        conn.execute(f"DELETE FROM {stage} WHERE source_file = ?", [source_file])


@dataclass
class _BlockStager:
    """Validates one file's blocks into the staged tables."""

    conn: duckdb.DuckDBPyConnection
    source: "SourceDefinition"
    known: set[str]
    key: bytes
    window: "QuarterWindow"
    slice_rows: int
    staged: dict[str, str]

    def __call__(
        self, blocks: Iterator[pl.DataFrame], formats: pl.DataFrame | None = None
    ) -> tuple["_FileCounts", pl.DataFrame, pl.DataFrame]:
        """Counts, the number format used (``formats``, else the first block's) and the one
        the whole file's numbers give. The format comes from all rows of a block, not only
        the window's: a quarter's run reads a file as a run over every quarter does."""
        raw_stage, quarantine_stage = self.staged.values()
        counts = _FileCounts()
        used, seen = formats, None
        for block in blocks:
            counts.n_rows += block.height
            found = number_formats(block, self.source.numbers)
            seen = found if seen is None else merge_number_formats(seen, found)
            used = found if used is None else used
            block = self.window.select_rows(block)
            counts.read.append(block.group_by(FILE_QUARTER).agg(n_rows_read=pl.len()))
            for offset in range(0, block.height, self.slice_rows):
                part = block.slice(offset, self.slice_rows)
                result = self.source.validate(part, self.known, self.key, used)
                for stage, frame in (
                    (raw_stage, result.valid),
                    (quarantine_stage, result.quarantine),
                ):
                    with registered(self.conn, frame) as view:
                        self.conn.execute(f"INSERT INTO {stage} BY NAME SELECT * FROM {view}")
                counts.add(result)
            del block
        empty = number_formats(empty_source_frame([], []), [])
        return counts, used if used is not None else empty, seen if seen is not None else empty


def _replace_loaded(
    conn,
    source: str,
    staged: dict[str, str],
    window: QuarterWindow,
    present: list[str],
    reread: list[str],
) -> None:
    """Inside the caller's transaction: what the staged tables replace goes, they come in."""
    replaced = (
        f"{window.window_sql()} OR ({window.unplaced_sql()} AND "
        "(NOT list_contains($present, source_file) OR list_contains($reread, source_file)))"
    )
    names = {"present": present, "reread": reread}
    conn.execute(
        f"DELETE FROM raw.files WHERE source = $source AND ({replaced})",
        {**names, "source": source},
    )
    for table, stage in staged.items():
        if window.is_everything:  # every row is replaced: swap instead of copying
            conn.execute(f"DROP TABLE {table}")
            conn.execute(f"ALTER TABLE {stage} RENAME TO {table.split('.')[1]}")
        else:
            conn.execute(f"DELETE FROM {table} WHERE {replaced}", names)
            conn.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {stage}")


@dataclass
class _FileCounts:
    """Counts of one file (kept aside until the whole file has been read), or of a run."""

    n_rows: int = 0
    read: list[pl.DataFrame] = field(default_factory=list)
    loaded: list[pl.DataFrame] = field(default_factory=list)
    quarantines: list[pl.DataFrame] = field(default_factory=list)

    def add(self, result: Validated) -> None:
        self.loaded.append(result.valid.group_by(FILE_QUARTER).agg(n_rows_loaded=pl.len()))
        self.quarantines.append(result.quarantine)

    def merge(self, other: "_FileCounts") -> None:
        self.n_rows += other.n_rows
        self.read.extend(other.read)
        self.loaded.extend(other.loaded)
        self.quarantines.extend(other.quarantines)

    def read_counts(self) -> pl.DataFrame:
        return _counts(self.read, "n_rows_read")

    def loaded_counts(self) -> pl.DataFrame:
        return _counts(self.loaded, "n_rows_loaded")


def _counts(frames: list[pl.DataFrame], column: str) -> pl.DataFrame:
    schema = {"source_file": pl.String, "quarter": pl.Date, column: pl.UInt32}
    return pl.concat(frames) if frames else pl.DataFrame(schema=schema)


def as_code_set(codes: set[str] | pl.Series) -> set[str]:
    """Agency codes as a set, whether a caller passes a set or a column of raw.agencies."""
    return set(codes.to_list() if isinstance(codes, pl.Series) else codes)


def known_agency_codes(conn) -> set[str]:
    """kode_opd values of raw.agencies (written by the reference assets)."""
    return {row[0] for row in conn.execute("SELECT kode_opd FROM raw.agencies").fetchall()}


def reasons_markdown(quarantine: pl.DataFrame, limit: int = 25) -> str:
    """Markdown table of rejection reasons by count, values masked so that reasons group."""
    if quarantine.height == 0:
        return "No rows quarantined."
    summary = (
        quarantine.with_columns(pl.col("reason").str.replace_all(r"'[^']*'", "'…'"))
        .group_by("column_name", "reason")
        .agg(rows=pl.len())
        .sort(["rows", "column_name", "reason"], descending=[True, False, False])
    )
    lines = ["| column | reason | rows |", "|---|---|---|"]
    for column, reason, rows in summary.head(limit).iter_rows():
        lines.append(f"| {column} | {reason.replace('|', '/')} | {rows} |")
    if summary.height > limit:
        lines.append(f"| … | {summary.height - limit} more kinds | |")
    return "\n".join(lines)


# ---------------------------------------------------------------- Dagster


@dataclass(frozen=True)
class SourceDefinition:
    """How one raw source is read and validated; enough to build its Dagster assets."""

    name: str
    required: Sequence[str]
    optional: Sequence[str]
    # (text frame, known agencies, pseudonym key, number formats or None: from the frame)
    validate: Callable[..., Validated]
    description: str
    # The quarter of each row of a text frame (first day; null when unreadable).
    quarter: QuarterOf
    # Numeric columns: their text decides each file's number format (see number_formats).
    numbers: Sequence[str] = ()


FILES_SPEC = dg.AssetSpec(
    dg.AssetKey(["raw", "files"]),
    deps=[dg.AssetKey(["raw", source]) for source in ("assessments", "surveys", "training")],
    group_name="ingestion",
    kinds={"duckdb"},
    description=(
        "Rows read, loaded and quarantined per export file and quarter, with the file's "
        "sha256 and why a file was rejected whole. Written by each ingest asset in the same "
        "transaction as its tables; dbt staging reads it to leave blocked quarters out."
    ),
)


def max_quarantine_share() -> float:
    """KINERJA_MAX_QUARANTINE_SHARE (default 0.2): above it a quarter of a source is blocked
    (from KINERJA_QUARANTINE_MIN_ROWS rows on; see pipelines.blocked for the whole rule)."""
    from pipelines.blocked import BlockRule

    return BlockRule.from_env().max_share


def run_window(context: AssetExecutionContext) -> QuarterWindow:
    """The quarters of this run (a partition or a range of them)."""
    everything = QuarterWindow.everything()
    time_window = context.partition_time_window
    return QuarterWindow(
        time_window.start.date(), time_window.end.date(), everything.first, everything.last_end
    )


def build_source_assets(source: SourceDefinition) -> dg.AssetsDefinition:
    """``raw/<source>`` + ``quarantine/<source>`` as one multi-asset, partitioned by quarter,
    with its checks. A quarter whose export is broken (pipelines.blocked) is written to
    raw.blocked_quarters and dbt's staging leaves it out; its check fails at ERROR severity
    but does not block: one broken source-quarter must not hold the whole refresh hostage."""
    raw_key = dg.AssetKey(["raw", source.name])
    quarantine_key = dg.AssetKey(["quarantine", source.name])
    checks = [
        dg.AssetCheckSpec(
            "rows_accounted_for",
            asset=raw_key,
            description="Rows read = rows loaded + distinct rows quarantined.",
        ),
        dg.AssetCheckSpec(
            "quarantine_share_within_limit",
            asset=raw_key,
            description=(
                "No quarter of the run is blocked: from KINERJA_QUARANTINE_MIN_ROWS (default "
                "20) rows read on, at most KINERJA_MAX_QUARANTINE_SHARE (default 20%) of them "
                "quarantined; below that, not every row. A blocked quarter is left out of the "
                "marts (raw.blocked_quarters) and the rest of the run is published."
            ),
        ),
        dg.AssetCheckSpec(
            "all_files_readable",
            asset=raw_key,
            description=(
                "Every export file could be read. A file that cannot be read is rejected "
                "whole (raw.files.error says why) and listed here; the other files load."
            ),
        ),
    ]

    @dg.multi_asset(
        name=f"ingest_{source.name}",
        specs=[
            dg.AssetSpec(
                raw_key,
                deps=[AGENCIES_KEY],
                group_name="ingestion",
                kinds={"duckdb", "polars"},
                description=source.description,
            ),
            dg.AssetSpec(
                quarantine_key,
                deps=[AGENCIES_KEY],
                group_name="ingestion",
                kinds={"duckdb", "polars"},
                description=(
                    f"Rejected {source.name} rows: one row per (input row, failing column) "
                    "with file, row number, column, reason, quarter and the original values."
                ),
            ),
        ],
        check_specs=checks,
        partitions_def=QUARTERS,
        backfill_policy=dg.BackfillPolicy.single_run(),
    )
    def _ingest(context: AssetExecutionContext, duckdb: DuckDBResource):
        from pipelines import blocked

        settings = load_settings()
        key = load_key(settings.data_dir)
        window = run_window(context)
        rule = blocked.BlockRule.from_env()
        with duckdb.get_connection() as conn:
            known = known_agency_codes(conn)
            load = load_source(
                conn,
                source,
                settings.source_dir(source.name),
                settings.data_dir,
                known,
                key,
                window,
            )
            # Judged over every quarter of the source, so the table matches raw.files.
            blocked.refresh(conn, source.name, rule, load.window.placed)
        for file in load.files:
            if file.error:
                context.log.warning(file.error)
        quarantine = load.quarantine
        rejected_rows = load.files_frame.get_column("n_rows_quarantined").sum()
        rejected = [f for f in load.files if f.error]
        skipped = [f for f in load.files if f.skipped]
        rejected_md = dg.MetadataValue.md(
            "\n".join(f"- `{f.source_file}`: {f.error}" for f in rejected) if rejected else "none"
        )
        common = {
            "quarters": window.label(),
            "rows_read": load.rows_read,
            "rows_loaded": load.rows_loaded,
            "rows_quarantined": rejected_rows,
            "files": len(load.files),
            "files_unchanged_not_read": len(skipped),
            "files_rejected": len(rejected),
            "rejected_files": rejected_md,
        }
        yield dg.MaterializeResult(
            asset_key=raw_key,
            metadata={**common, "dagster/row_count": load.rows_loaded},
        )
        yield dg.MaterializeResult(
            asset_key=quarantine_key,
            metadata={
                **common,
                "dagster/row_count": quarantine.height,
                "reasons": dg.MetadataValue.md(reasons_markdown(quarantine)),
            },
        )
        accounted = load.rows_loaded + rejected_rows
        yield dg.AssetCheckResult(
            asset_key=raw_key,
            check_name="rows_accounted_for",
            passed=accounted == load.rows_read,
            metadata={"rows_read": load.rows_read, "loaded_plus_rejected": accounted},
        )
        yield _share_check(raw_key, source.name, load)
        yield dg.AssetCheckResult(
            asset_key=raw_key,
            check_name="all_files_readable",
            passed=not rejected,
            metadata={
                "unreadable_files": len(rejected),
                "rejected_files": rejected_md,
                "rejected_file_names": dg.MetadataValue.json([f.source_file for f in rejected]),
            },
            description=(
                f"{len(rejected)} file(s) rejected whole: "
                + ", ".join(f.source_file for f in rejected)
                if rejected
                else f"all {len(load.files)} file(s) read"
            ),
        )

    return _ingest


def _share_check(raw_key: dg.AssetKey, source: str, load: SourceLoad) -> dg.AssetCheckResult:
    """Fails (ERROR, not blocking) naming each blocked quarter of the run's window; the
    rule is pipelines.blocked's, the one raw.blocked_quarters is written with."""
    from pipelines.blocked import BlockRule

    rule = BlockRule.from_env()
    shares = rule.judge(load.quarter_shares())
    over = shares.filter(pl.col("blocked"))
    table = "\n".join(
        ["| quarter | rows read | quarantined | share | blocked |", "|---|---|---|---|---|"]
        + [
            f"| {quarter_label(q)} | {n} | {bad} | {share:.1%} | {'yes' if b else ''} |"
            for q, n, bad, share, b, _ in shares.iter_rows()
        ]
    )
    if over.height:
        worst = "; ".join(
            f"{quarter_label(q)}: {reason}" for q, reason in over.select("quarter", "reason").rows()
        )
        description = (
            f"BLOCKED: {source} {worst}. Left out of the marts (raw.blocked_quarters); the "
            f"rest of the run is published. Fix the export (quarantine.{source} says why each "
            "row was rejected) and drop it again."
        )
    else:
        description = (
            f"no quarter blocked (limit {rule.max_share:.0%} from {rule.min_rows} rows read; "
            "below that, a quarter blocks only when every row was quarantined)"
        )
    return dg.AssetCheckResult(
        asset_key=raw_key,
        check_name="quarantine_share_within_limit",
        passed=over.height == 0,
        severity=dg.AssetCheckSeverity.ERROR,
        description=description,
        metadata={
            "limit": rule.max_share,
            "min_rows": rule.min_rows,
            "max_share": float(shares.get_column("share").max() or 0.0),
            "blocked_quarters": dg.MetadataValue.json(
                [quarter_label(q) for q in over.get_column("quarter")]
            ),
            "shares": dg.MetadataValue.md(table),
        },
    )
