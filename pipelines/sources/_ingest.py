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
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import dagster as dg
import pandera.polars as pa
import polars as pl
from dagster import AssetExecutionContext
from dagster_duckdb import DuckDBResource

from pipelines.readers import EXTRA_PREFIX, SOURCE_ROW, ExportReadError, read_export
from pipelines.rules.pseudonym import load_key
from pipelines.settings import load_settings

ROW = "_row"
# Reader-level problem of one row (values beyond the header), quarantined with column '*'.
ROW_PROBLEM = "_row_problem"
# Excel's cell limit: a longer value did not come from a spreadsheet and cannot go back to one.
MAX_CELL_CHARS = 32_767
# Longer values are shortened in quarantine raw_record (the file keeps the original).
RECORD_VALUE_CHARS = 1_000
LINEAGE = ["source_file", "source_row", "file_sha256"]
LINEAGE_SCHEMA = {"source_file": pl.String, "source_row": pl.Int32, "file_sha256": pl.String}
QUARANTINE_SCHEMA = {
    **LINEAGE_SCHEMA,
    "column_name": pl.String,
    "reason": pl.String,
    "raw_record": pl.String,
}
EXPORT_SUFFIXES = {".csv", ".xlsx", ".xlsm"}
MAX_QUARANTINE_SHARE = 0.20
# Rows validated at a time: bounds the polars intermediates (~2 kB a row) of validation.
SLICE_ROWS = 500_000
AGENCIES_KEY = dg.AssetKey(["raw", "agencies"])

FILES_DDL = """
CREATE TABLE IF NOT EXISTS raw.files (
    source VARCHAR, source_file VARCHAR, file_sha256 VARCHAR, n_rows_read INTEGER,
    n_rows_loaded INTEGER, n_rows_quarantined INTEGER, error VARCHAR
)"""
# Warehouses created before raw.files had ``error``.
FILES_MIGRATION = "ALTER TABLE raw.files ADD COLUMN IF NOT EXISTS error VARCHAR"
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


def read_source(
    folder: Path, data_dir: Path, required: Sequence[str], optional: Sequence[str]
) -> SourceRead:
    """All exports of one source, concatenated: text columns ``required + optional``,
    ``_row_problem`` and lineage. A file that cannot be read is reported in ``files`` with
    its error and contributes no row (one bad file must not hide the others)."""
    frames: list[pl.DataFrame] = []
    files: list[FileRead] = []
    for file, frame in iter_source_files(folder, data_dir, required, optional):
        files.append(file)
        if frame is not None:
            frames.append(frame)
    frame = pl.concat(frames) if frames else empty_source_frame(required, optional)
    return SourceRead(frame, files)


def empty_source_frame(required: Sequence[str], optional: Sequence[str]) -> pl.DataFrame:
    columns = {c: pl.String for c in [*required, *optional, ROW_PROBLEM]} | LINEAGE_SCHEMA
    return pl.DataFrame(schema=columns)


def iter_source_files(
    folder: Path, data_dir: Path, required: Sequence[str], optional: Sequence[str]
) -> Iterator[tuple[FileRead, pl.DataFrame | None]]:
    """Each export of a folder in source_file order, read one at a time: its FileRead and
    its frame (None when the file is rejected whole, with the reason in FileRead.error)."""
    paths = sorted(export_files(folder), key=lambda p: p.relative_to(data_dir).as_posix())
    for path in paths:
        relative = path.relative_to(data_dir).as_posix()
        try:
            with path.open("rb") as handle:
                digest = hashlib.file_digest(handle, "sha256").hexdigest()
        except OSError as error:
            yield FileRead(relative, "", 0, f"{relative}: cannot be opened ({error})"), None
            continue
        try:
            frame = _source_frame(path, relative, digest, required, optional)
        except ExportReadError as error:
            yield FileRead(relative, digest, 0, str(error)), None
            continue
        except Exception as error:  # a reader bug on hostile bytes must not stop the folder
            log.exception("unexpected failure reading %s", relative)
            message = f"{relative}: could not be read ({type(error).__name__}: {error})"
            yield FileRead(relative, digest, 0, message), None
            continue
        yield FileRead(relative, digest, frame.height), frame


def _source_frame(
    path: Path, relative: str, digest: str, required: Sequence[str], optional: Sequence[str]
) -> pl.DataFrame:
    """One file as text columns, ``_row_problem`` and lineage."""
    frame = read_export(path, required, display_name=relative)
    extras = [c for c in frame.columns if c.startswith(EXTRA_PREFIX)]
    return frame.with_columns(
        pl.lit(None, dtype=pl.String).alias(c) for c in optional if c not in frame.columns
    ).select(
        *required,
        *optional,
        _beyond_header(extras).alias(ROW_PROBLEM),
        pl.lit(relative).alias("source_file"),
        pl.col(SOURCE_ROW).cast(pl.Int32),
        pl.lit(digest).alias("file_sha256"),
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


def per_distinct(frame: pl.DataFrame, column: str, outputs: dict[str, pl.Expr]) -> pl.DataFrame:
    """Evaluate expressions of one column on its distinct values, then map them back to every
    row (same order, same length as ``frame``).

    Exports repeat the same values millions of times (years, periods, targets, NIPs on every
    indicator row); parsing each distinct value once keeps the regex-heavy parsers cheap.
    """
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


def accounting(frame: pl.DataFrame, result: Validated) -> dict[str, int]:
    rejected = result.quarantine.select(pl.struct("source_file", "source_row").n_unique())
    return {
        "rows_read": frame.height,
        "rows_loaded": result.valid.height,
        "rows_quarantined": rejected.item() if result.quarantine.height else 0,
        "quarantine_records": result.quarantine.height,
    }


def file_results(source: str, files: list[FileRead], result: Validated) -> pl.DataFrame:
    """One raw.files row per file: rows read, loaded and quarantined (distinct rows), and
    ``error`` (null for a file that was read; the reason for a file rejected whole)."""
    loaded = result.valid.group_by("source_file").agg(n_rows_loaded=pl.len())
    return _files_table(source, files, loaded, result.quarantine)


def _files_table(
    source: str, files: list[FileRead], loaded: pl.DataFrame, quarantine: pl.DataFrame
) -> pl.DataFrame:
    quarantined = (
        quarantine.select("source_file", "source_row")
        .unique()
        .group_by("source_file")
        .agg(n_rows_quarantined=pl.len())
    )
    listed = pl.DataFrame(
        {
            "source_file": [f.source_file for f in files],
            "file_sha256": [f.file_sha256 for f in files],
            "n_rows_read": [f.n_rows for f in files],
            "error": [f.error for f in files],
        },
        schema={
            "source_file": pl.String,
            "file_sha256": pl.String,
            "n_rows_read": pl.Int32,
            "error": pl.String,
        },
    )
    return (
        listed.join(loaded, on="source_file", how="left")
        .join(quarantined, on="source_file", how="left")
        .select(
            pl.lit(source).alias("source"),
            "source_file",
            "file_sha256",
            "n_rows_read",
            pl.col("n_rows_loaded").fill_null(0).cast(pl.Int32),
            pl.col("n_rows_quarantined").fill_null(0).cast(pl.Int32),
            "error",
        )
        .sort("source_file")
    )


def write_source_tables(
    conn, source: str, valid: pl.DataFrame, quarantine: pl.DataFrame, files: pl.DataFrame
) -> None:
    """Replace raw.<source>, quarantine.<source> and the source's raw.files rows at once."""
    conn.execute("CREATE SCHEMA IF NOT EXISTS raw")
    conn.execute("CREATE SCHEMA IF NOT EXISTS quarantine")
    conn.execute(FILES_DDL)
    conn.execute(FILES_MIGRATION)
    conn.register("incoming_valid", valid.to_arrow())
    conn.register("incoming_quarantine", quarantine.to_arrow())
    conn.register("incoming_files", files.to_arrow())
    try:
        conn.execute("BEGIN TRANSACTION")
        conn.execute(f"CREATE OR REPLACE TABLE raw.{source} AS SELECT * FROM incoming_valid")
        conn.execute(
            f"CREATE OR REPLACE TABLE quarantine.{source} AS SELECT * FROM incoming_quarantine"
        )
        conn.execute("DELETE FROM raw.files WHERE source = ?", [source])
        conn.execute("INSERT INTO raw.files BY NAME SELECT * FROM incoming_files")
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise
    finally:
        for view in ("incoming_valid", "incoming_quarantine", "incoming_files"):
            conn.unregister(view)


@dataclass
class SourceLoad:
    """What load_source wrote: per-file reads, counts, and the (small) quarantine frame."""

    files: list[FileRead]
    rows_read: int
    rows_loaded: int
    quarantine: pl.DataFrame
    files_frame: pl.DataFrame


def load_source(
    conn,
    source: "SourceDefinition",
    folder: Path,
    data_dir: Path,
    known: set[str],
    key: bytes,
    slice_rows: int = SLICE_ROWS,
) -> SourceLoad:
    """Read, validate and write one source file by file, ``slice_rows`` rows at a time, in
    one transaction: memory holds one file's text and one slice's validation, not the whole
    source. Validation is row by row (every rule looks at one row), so slicing changes
    nothing in the result; files go in source_file order and each slice comes out sorted,
    so the tables are in the same order as when validated whole."""
    conn.execute("CREATE SCHEMA IF NOT EXISTS raw")
    conn.execute("CREATE SCHEMA IF NOT EXISTS quarantine")
    conn.execute(FILES_DDL)
    conn.execute(FILES_MIGRATION)
    files: list[FileRead] = []
    quarantines: list[pl.DataFrame] = []
    loaded: dict[str, int] = {}
    started = False

    def append(result: Validated) -> None:
        nonlocal started
        verb = "INSERT INTO {table} SELECT * FROM {view}"
        if not started:
            verb = "CREATE OR REPLACE TABLE {table} AS SELECT * FROM {view}"
            started = True
        for table, frame in (
            (f"raw.{source.name}", result.valid),
            (f"quarantine.{source.name}", result.quarantine),
        ):
            conn.register("incoming_slice", frame.to_arrow())
            try:
                conn.execute(verb.format(table=table, view="incoming_slice"))
            finally:
                conn.unregister("incoming_slice")

    conn.execute("BEGIN TRANSACTION")
    try:
        for file, frame in iter_source_files(folder, data_dir, source.required, source.optional):
            files.append(file)
            if frame is None:
                continue
            for offset in range(0, frame.height, slice_rows):
                result = source.validate(frame.slice(offset, slice_rows), known, key)
                append(result)
                quarantines.append(result.quarantine)
                loaded[file.source_file] = loaded.get(file.source_file, 0) + result.valid.height
            del frame
        if not started:  # no row at all: empty tables with the right columns
            empty = source.validate(
                empty_source_frame(source.required, source.optional), known, key
            )
            append(empty)
            quarantines.append(empty.quarantine)
        quarantine = pl.concat(quarantines)
        files_frame = _files_frame(source.name, files, loaded, quarantine)
        conn.register("incoming_files", files_frame.to_arrow())
        conn.execute("DELETE FROM raw.files WHERE source = ?", [source.name])
        conn.execute("INSERT INTO raw.files BY NAME SELECT * FROM incoming_files")
        conn.unregister("incoming_files")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return SourceLoad(
        files=files,
        rows_read=sum(f.n_rows for f in files),
        rows_loaded=sum(loaded.values()),
        quarantine=quarantine,
        files_frame=files_frame,
    )


def _files_frame(
    source: str, files: list[FileRead], loaded: dict[str, int], quarantine: pl.DataFrame
) -> pl.DataFrame:
    """raw.files rows from per-file counts (same columns and order as file_results)."""
    counts = pl.DataFrame(
        {"source_file": list(loaded), "n_rows_loaded": list(loaded.values())},
        schema={"source_file": pl.String, "n_rows_loaded": pl.UInt32},
    )
    return _files_table(source, files, counts, quarantine)


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
    validate: Callable[[pl.DataFrame, set[str], bytes], Validated]
    description: str


def build_source_assets(source: SourceDefinition) -> dg.AssetsDefinition:
    """``raw/<source>`` + ``quarantine/<source>`` as one multi-asset with its two checks."""
    raw_key = dg.AssetKey(["raw", source.name])
    quarantine_key = dg.AssetKey(["quarantine", source.name])
    checks = [
        dg.AssetCheckSpec(
            "rows_accounted_for",
            asset=raw_key,
            description="Rows read = rows loaded + distinct rows quarantined.",
        ),
        dg.AssetCheckSpec(
            "quarantine_share_at_most_20pct",
            asset=raw_key,
            description="At most 20% of the rows read were quarantined (warning).",
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
                    "with file, row number, column, reason and the original values."
                ),
            ),
        ],
        check_specs=checks,
    )
    def _ingest(context: AssetExecutionContext, duckdb: DuckDBResource):
        settings = load_settings()
        key = load_key(settings.data_dir)
        with duckdb.get_connection() as conn:
            known = known_agency_codes(conn)
            load = load_source(
                conn, source, settings.source_dir(source.name), settings.data_dir, known, key
            )
        for file in load.files:
            if file.error:
                context.log.warning(file.error)
        quarantine = load.quarantine
        rejected_rows = quarantine.select(pl.struct("source_file", "source_row").n_unique())
        counts = {
            "rows_read": load.rows_read,
            "rows_loaded": load.rows_loaded,
            "rows_quarantined": rejected_rows.item() if quarantine.height else 0,
            "quarantine_records": quarantine.height,
        }
        rejected = [f for f in load.files if f.error]
        rejected_md = dg.MetadataValue.md(
            "\n".join(f"- `{f.source_file}`: {f.error}" for f in rejected) if rejected else "none"
        )
        common = {
            "rows_read": counts["rows_read"],
            "rows_loaded": counts["rows_loaded"],
            "rows_quarantined": counts["rows_quarantined"],
            "files": len(load.files),
            "files_rejected": len(rejected),
            "rejected_files": rejected_md,
        }
        yield dg.MaterializeResult(
            asset_key=raw_key,
            metadata={**common, "dagster/row_count": counts["rows_loaded"]},
        )
        yield dg.MaterializeResult(
            asset_key=quarantine_key,
            metadata={
                **common,
                "dagster/row_count": counts["quarantine_records"],
                "reasons": dg.MetadataValue.md(reasons_markdown(quarantine)),
            },
        )
        accounted = counts["rows_loaded"] + counts["rows_quarantined"]
        yield dg.AssetCheckResult(
            asset_key=raw_key,
            check_name="rows_accounted_for",
            passed=accounted == counts["rows_read"],
            metadata={"rows_read": counts["rows_read"], "loaded_plus_rejected": accounted},
        )
        share = counts["rows_quarantined"] / counts["rows_read"] if counts["rows_read"] else 0.0
        yield dg.AssetCheckResult(
            asset_key=raw_key,
            check_name="quarantine_share_at_most_20pct",
            passed=share <= MAX_QUARANTINE_SHARE,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"quarantine_share": round(share, 4)},
        )
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
