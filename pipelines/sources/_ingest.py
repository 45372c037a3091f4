"""What every source shares: read a folder of exports with lineage, turn parse failures and
pandera failure cases into quarantine rows, write one source's tables atomically, and the
Dagster multi-asset that ties these together.

Rows are tracked by ``_row`` (position in the concatenated input) from reading to the
final split, so every rejection can be traced to (source_file, source_row).
"""

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import dagster as dg
import pandera.polars as pa
import polars as pl
from dagster import AssetExecutionContext
from dagster_duckdb import DuckDBResource

from pipelines.readers import SOURCE_ROW, ExportReadError, read_export
from pipelines.rules.pseudonym import load_key
from pipelines.settings import load_settings

ROW = "_row"
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
AGENCIES_KEY = dg.AssetKey(["raw", "agencies"])

FILES_DDL = """
CREATE TABLE IF NOT EXISTS raw.files (
    source VARCHAR, source_file VARCHAR, file_sha256 VARCHAR, n_rows_read INTEGER,
    n_rows_loaded INTEGER, n_rows_quarantined INTEGER
)"""


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
    """All exports of one source, concatenated, text columns ``required + optional`` plus
    lineage. A file that cannot be read is reported in ``files`` with its error (one bad
    file must not hide the others)."""
    frames: list[pl.DataFrame] = []
    files: list[FileRead] = []
    for path in export_files(folder):
        relative = path.relative_to(data_dir).as_posix()
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        try:
            frame = read_export(path, required, display_name=relative)
        except ExportReadError as error:
            files.append(FileRead(relative, digest, 0, str(error)))
            continue
        frame = frame.with_columns(
            pl.lit(None, dtype=pl.String).alias(c) for c in optional if c not in frame.columns
        ).select(
            *required,
            *optional,
            pl.lit(relative).alias("source_file"),
            pl.col(SOURCE_ROW).cast(pl.Int32),
            pl.lit(digest).alias("file_sha256"),
        )
        frames.append(frame)
        files.append(FileRead(relative, digest, frame.height))
    columns = {c: pl.String for c in [*required, *optional]} | LINEAGE_SCHEMA
    frame = pl.concat(frames) if frames else pl.DataFrame(schema=columns)
    return SourceRead(frame, files)


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
    required column. Schema failures on a column that already failed to parse are dropped
    (the parse reason says more than "required but empty").
    """
    empty_rows = frame.filter(
        pl.all_horizontal(pl.col(c).is_null() for c in record_columns)
    ).select(
        ROW,
        pl.lit("*").alias("column_name"),
        pl.lit("row is empty").alias("reason"),
    )
    schema_failures = failures_from_schema(typed, schema).join(
        parse_failures, on=[ROW, "column_name"], how="anti"
    )
    failures = pl.concat(
        [
            parse_failures.join(empty_rows, on=ROW, how="anti"),
            schema_failures.join(empty_rows, on=ROW, how="anti"),
            empty_rows,
        ]
    ).unique(maintain_order=True)
    rejected = failures.get_column(ROW).unique()
    records = frame.filter(pl.col(ROW).is_in(rejected.implode())).select(
        ROW, *LINEAGE, pl.struct(record_columns).struct.json_encode().alias("raw_record")
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
    """One raw.files row per file: rows read, loaded and quarantined (distinct rows)."""
    loaded = result.valid.group_by("source_file").agg(n_rows_loaded=pl.len())
    quarantined = (
        result.quarantine.select("source_file", "source_row")
        .unique()
        .group_by("source_file")
        .agg(n_rows_quarantined=pl.len())
    )
    listed = pl.DataFrame(
        {
            "source_file": [f.source_file for f in files],
            "file_sha256": [f.file_sha256 for f in files],
            "n_rows_read": [f.n_rows for f in files],
        },
        schema={"source_file": pl.String, "file_sha256": pl.String, "n_rows_read": pl.Int32},
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
        conn.execute("INSERT INTO raw.files SELECT * FROM incoming_files")
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise
    finally:
        for view in ("incoming_valid", "incoming_quarantine", "incoming_files"):
            conn.unregister(view)


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
            description="Every export file could be read (unreadable files are skipped).",
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
        read = read_source(
            settings.source_dir(source.name), settings.data_dir, source.required, source.optional
        )
        for file in read.files:
            if file.error:
                context.log.warning(file.error)
        key = load_key(settings.data_dir)
        with duckdb.get_connection() as conn:
            known = known_agency_codes(conn)
            result = source.validate(read.frame, known, key)
            files = file_results(source.name, read.files, result)
            write_source_tables(conn, source.name, result.valid, result.quarantine, files)
        counts = accounting(read.frame, result)
        unreadable = [f"{f.source_file}: {f.error}" for f in read.files if f.error]
        common = {
            "rows_read": counts["rows_read"],
            "rows_loaded": counts["rows_loaded"],
            "rows_quarantined": counts["rows_quarantined"],
            "files": len(read.files),
            "unreadable_files": dg.MetadataValue.md("\n".join(f"- {u}" for u in unreadable))
            if unreadable
            else "none",
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
                "reasons": dg.MetadataValue.md(reasons_markdown(result.quarantine)),
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
            passed=not unreadable,
            metadata={"unreadable_files": len(unreadable)},
        )

    return _ingest
