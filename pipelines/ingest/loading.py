"""Loading one source into the warehouse: validated rows to ``raw.<source>``, rejected rows
to ``quarantine.<source>``, and what each file gave to ``raw.files``, for the run's quarters.

Never lose a row: a file is either read whole (each data row ends in raw.<source> or in
quarantine.<source>) or rejected whole (no row of it in either table). A rejected file keeps
its raw.files row, with zero counts and the reason in ``error``.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from pipelines.ingest.context import ReferenceContext
from pipelines.ingest.formats import ExportReadError
from pipelines.ingest.json_records import JSON_SUFFIXES
from pipelines.ingest.reading import (
    FileRead,
    empty_source_frame,
    export_files,
    iter_source_files,
    json_rows,
    source_blocks,
)
from pipelines.ingest.source import SourceDefinition
from pipelines.ingest.staging import (
    FILE_QUARTER,
    BlockStager,
    FileCounts,
    SmallFiles,
    Writer,
)
from pipelines.ingest.validation import Validated
from pipelines.ingest.window import QuarterWindow
from pipelines.warehouse import registered, transaction

# Rows validated at a time: bounds the polars intermediates (~2 kB a row) of validation.
SLICE_ROWS = 500_000
# Files up to this size are read whole and validated together with other small files.
SMALL_FILE_BYTES = 4 * 2**20

# One row per (file, quarter) loaded: which version of a file each quarter's rows came from.
# A file rejected whole, or without rows, has one row with a null quarter.
FILES_DDL = """
CREATE TABLE IF NOT EXISTS raw.files (
    source VARCHAR, source_file VARCHAR, quarter DATE, file_sha256 VARCHAR,
    n_rows_read INTEGER, n_rows_loaded INTEGER, n_rows_quarantined INTEGER, error VARCHAR
)"""
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadRun:
    """What one ingest run of a source needs besides the source itself: where the exports
    are, the agencies and pseudonym key rows are validated against, the quarters it loads,
    and the memory bounds (a block of a file, a slice of validation)."""

    data_dir: Path
    known: ReferenceContext  # context.reference_context: agencies, roster
    key: bytes
    window: QuarterWindow = field(default_factory=QuarterWindow.everything)
    slice_rows: int = SLICE_ROWS
    block_bytes: int | None = None  # formats.BLOCK_BYTES
    # Which files this run reads (by source_file); None: all. A lake partition reads its
    # pemda's files (pipelines/lake).
    include: Callable[[str], bool] | None = None

    def files(self, folder: Path) -> list[Path]:
        paths = export_files(folder)
        if self.include is None:
            return paths
        return [p for p in paths if self.include(p.relative_to(self.data_dir).as_posix())]

    def folder(self, source: str) -> Path:
        return self.data_dir / "raw" / source


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


def prepare_source_tables(conn, source: SourceDefinition) -> bool:
    """Create the source's tables (raw, quarantine, raw.files) when missing, in one
    transaction; True when tables of an older layout were dropped."""
    empty = source.validate(empty_source_frame(source.required, source.optional), set(), b"")
    with transaction(conn):
        return _prepare_tables(conn, source, empty)


def _prepare_tables(conn, source: SourceDefinition, empty: Validated) -> bool:
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
                "SELECT column_name FROM information_schema.columns WHERE table_schema = ? "
                "AND table_name = ? AND table_catalog = current_database() "
                "ORDER BY ordinal_position",
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
    conn: duckdb.DuckDBPyConnection,
    source: SourceDefinition,
    run: LoadRun,
    folder: Path | None = None,
) -> SourceLoad:
    """Load the window's quarters of one source (default: every quarter), file by file.

    Rows are validated ``slice_rows`` at a time into ``<table>__loading`` tables, committed
    as they go (DuckDB keeps what one transaction appends in memory: 17 GiB at 1M
    employees), so memory holds one block of a file (``formats.BLOCK_BYTES``) and one
    slice's validation. One short transaction then replaces what the run loaded: the
    window's rows, and the unplaced rows of every file read again or gone. A run over every
    quarter swaps the tables by renaming. Until that commit the tables are untouched, so a
    run killed while loading changes nothing. Validation is row by row, so blocks and slices
    change nothing in the result. A file that fails in a late block is taken back whole and
    recorded as rejected."""
    folder = folder or run.folder(source.name)
    empty = source.validate(
        empty_source_frame(source.required, source.optional), run.known, run.key
    )
    with transaction(conn):
        rebuilt = _prepare_tables(conn, source, empty)
    if rebuilt:
        run = replace(run, window=QuarterWindow.everything())
    staged = {t: f"{t}__loading" for t in (f"raw.{source.name}", f"quarantine.{source.name}")}
    try:
        for table, stage in staged.items():
            conn.execute(f"CREATE OR REPLACE TABLE {stage} AS SELECT * FROM {table} LIMIT 0")
        skip = _unchanged_elsewhere(conn, source.name, run.window)
        files, counts = _stage_files(conn, source, run, folder, skip, staged)
        quarantine = pl.concat([empty.quarantine, *counts.quarantines])
        files_frame = _files_table(
            source.name, files, counts.read_counts(), counts.loaded_counts(), quarantine
        )
        present = [p.relative_to(run.data_dir).as_posix() for p in run.files(folder)]
        reread = [f.source_file for f in files if not f.skipped]
        with transaction(conn):
            _replace_loaded(conn, source.name, staged, run.window, present, reread)
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
        window=run.window,
    )


def _stage_files(
    conn: duckdb.DuckDBPyConnection,
    source: SourceDefinition,
    run: LoadRun,
    folder: Path,
    skip: Callable[[str, str], bool],
    staged: dict[str, str],
) -> tuple[list[FileRead], "FileCounts"]:
    """Read and validate every file (but those ``skip`` leaves) into the staged tables.

    A file's number format is decided by its first block and checked against the rest; in
    the rare file whose later blocks change the decision, the file is taken back and staged
    again with the whole file's format (blocks must not change what a file's numbers mean).
    """
    with Writer(conn) as writer:
        files: list[FileRead] = []
        total = FileCounts()
        stage = BlockStager(conn, source, run, staged, writer)
        small = SmallFiles(stage, run.slice_rows)
        listed = run.files(folder)
        for file, blocks in iter_source_files(listed, run.data_dir, source, skip, run.block_bytes):
            if blocks is None:
                files.append(file)
                continue
            path = run.data_dir / file.source_file
            if path.stat().st_size <= SMALL_FILE_BYTES:
                try:
                    if path.suffix.lower() in JSON_SUFFIXES:
                        rows = json_rows(path, file, source)
                        files.append(replace(file, n_rows=len(rows.rows)))
                        total.merge(small.add_json(rows, files[-1]))
                        continue
                    read = list(source_blocks(path, file, source, run.block_bytes, quarters=False))
                except ExportReadError as error:
                    files.append(replace(file, error=str(error)))
                    continue
                files.append(replace(file, n_rows=sum(b.height for b in read)))
                total.merge(small.add(read))
                continue
            try:
                counts, used, seen = stage(blocks)
                if not used.equals(seen):
                    writer.take_back(conn, staged, file.source_file)
                    again = source_blocks(
                        run.data_dir / file.source_file, file, source, run.block_bytes
                    )
                    counts, _, _ = stage(again, seen)
            except ExportReadError as error:  # late in the file: take back what it gave
                writer.take_back(conn, staged, file.source_file)
                files.append(replace(file, error=str(error)))
                continue
            files.append(replace(file, n_rows=counts.n_rows))
            total.merge(counts)
        total.merge(small.flush())
        return files, total


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
