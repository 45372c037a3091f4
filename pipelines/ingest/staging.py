"""Validating one source's rows into the staged tables (``raw.<source>__loading`` and
``quarantine.<source>__loading``) and counting them, for ``loading.load_source``: a file's
blocks one slice at a time, small files together, and the DuckDB writes in the background.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import duckdb
import polars as pl

from pipelines.ingest.json_records import JsonRows
from pipelines.ingest.reading import FileRead, empty_source_frame, json_rows_frame, with_quarters
from pipelines.ingest.source import SourceDefinition
from pipelines.ingest.validation import Validated, merge_number_formats, number_formats
from pipelines.warehouse import registered

if TYPE_CHECKING:
    from pipelines.ingest.loading import LoadRun

# Rows are counted per file and quarter (raw.files has one row per file and quarter).
FILE_QUARTER = ["source_file", "quarter"]


@dataclass
class SmallFiles:
    """Whole small files (read before any of them is validated), placed in quarters and
    validated together once they hold ``slice_rows`` rows: a SIASN folder has one file per
    employee, and doing that per file cost ~40 ms of fixed work each (>8 min for 6,786
    files at 100k employees)."""

    stage: BlockStager
    slice_rows: int
    frames: list[pl.DataFrame] = field(default_factory=list)
    # JSON files stay Python rows until the flush: one frame for all of them
    json: JsonRows = field(default_factory=JsonRows.empty)
    json_files: list[FileRead] = field(default_factory=list)
    rows: int = 0

    def add(self, blocks: list[pl.DataFrame]) -> FileCounts:
        self.frames.extend(blocks)
        self.rows += sum(b.height for b in blocks)
        return self.flush() if self.rows >= self.slice_rows else FileCounts()

    def add_json(self, rows: JsonRows, file: FileRead) -> FileCounts:
        self.json.extend(rows)
        self.json_files.append(file)
        self.rows += len(rows.rows)
        return self.flush() if self.rows >= self.slice_rows else FileCounts()

    def flush(self) -> FileCounts:
        if self.json_files:
            self.frames.append(json_rows_frame(self.json, self.json_files, self.stage.source))
            self.json, self.json_files = JsonRows.empty(), []
        if not self.frames:
            return FileCounts()
        frames, self.frames, self.rows = self.frames, [], 0
        frame = with_quarters(pl.concat(frames, how="vertical_relaxed"), self.stage.source)
        return self.stage.whole_files(frame)


class Writer:
    """Appends validated frames to the staged tables on a second connection, in the
    background: DuckDB writes (without the GIL) while polars reads and validates the next
    slice. Writing took over half of ingestion at 1M employees, with the reader idle. At
    most one write is pending (memory holds one slice more); ``wait`` before anything else
    touches the staged tables."""

    def __init__(self, conn: duckdb.DuckDBPyConnection) -> None:
        self._cursor = conn.cursor()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kinerja-writer")
        self._pending: Future[None] | None = None

    def append(self, frames: list[tuple[str, pl.DataFrame]]) -> None:
        self.wait()
        self._pending = self._pool.submit(self._write, frames)

    def _write(self, frames: list[tuple[str, pl.DataFrame]]) -> None:
        for table, frame in frames:
            with registered(self._cursor, frame) as view:
                self._cursor.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {view}")

    def wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def take_back(
        self, conn: duckdb.DuckDBPyConnection, staged: dict[str, str], source_file: str
    ) -> None:
        """Remove what a file put in the staged tables (it is rejected or staged again),
        after its pending write: a delete before it would leave the file's last slice."""
        self.wait()
        for stage in staged.values():
            conn.execute(f"DELETE FROM {stage} WHERE source_file = ?", [source_file])

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.wait()
        finally:
            self._pool.shutdown()
            self._cursor.close()


@dataclass
class BlockStager:
    """Validates one file's blocks into the staged tables."""

    conn: duckdb.DuckDBPyConnection
    source: SourceDefinition
    run: LoadRun
    staged: dict[str, str]
    writer: Writer

    def __call__(
        self, blocks: Iterator[pl.DataFrame], formats: pl.DataFrame | None = None
    ) -> tuple[FileCounts, pl.DataFrame, pl.DataFrame]:
        """Counts, the number format used (``formats``, else the first block's) and the one
        the whole file's numbers give. The format comes from all rows of a block, not only
        the window's: a quarter's run reads a file as a run over every quarter does."""
        counts = FileCounts()
        used, seen = formats, None
        for block in blocks:
            found = number_formats(block, self.source.numbers)
            seen = found if seen is None else merge_number_formats(seen, found)
            used = found if used is None else used
            self._validate(block, used, counts)
            del block
        empty = number_formats(empty_source_frame([], []), [])
        return counts, used if used is not None else empty, seen if seen is not None else empty

    def whole_files(self, frame: pl.DataFrame) -> FileCounts:
        """Rows of several whole files at once: each file's number format from all its rows
        (number_formats decides per source_file), so nothing is staged again."""
        counts = FileCounts()
        self._validate(frame, number_formats(frame, self.source.numbers), counts)
        return counts

    def _validate(self, block: pl.DataFrame, formats: pl.DataFrame, counts: FileCounts) -> None:
        raw_stage, quarantine_stage = self.staged.values()
        counts.n_rows += block.height
        block = self.run.window.select_rows(block)
        counts.read.append(block.group_by(FILE_QUARTER).agg(n_rows_read=pl.len()))
        slice_rows = self.run.slice_rows
        for offset in range(0, block.height, slice_rows):
            part = block.slice(offset, slice_rows)
            result = self.source.validate(part, self.run.known, self.run.key, formats)
            self.writer.append([(raw_stage, result.valid), (quarantine_stage, result.quarantine)])
            counts.add(result)


@dataclass
class FileCounts:
    """Counts of one file (kept aside until the whole file has been read), or of a run."""

    n_rows: int = 0
    read: list[pl.DataFrame] = field(default_factory=list)
    loaded: list[pl.DataFrame] = field(default_factory=list)
    quarantines: list[pl.DataFrame] = field(default_factory=list)

    def add(self, result: Validated) -> None:
        self.loaded.append(result.valid.group_by(FILE_QUARTER).agg(n_rows_loaded=pl.len()))
        self.quarantines.append(result.quarantine)

    def merge(self, other: FileCounts) -> None:
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
