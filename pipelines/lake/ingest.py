"""One lake partition, a pemda's exports for one quarter, committed as one snapshot.

A partition reads its pemda's files (exports are yearly: a quarter's rows are spread over a
file) into an in-memory DuckDB with the loader every run uses, validating only its quarter's
rows, so its rows, reasons and raw.files counts are those of the single-file warehouse. It
then replaces, in one lake transaction over every source, the rows of its quarter that came
from its pemda's files. Rows that no quarter places (an unreadable quarter, a file rejected
whole) belong to the pemda's first-quarter partition, which loads every quarter's rows to
count them as a run over every quarter does. A worker killed before COMMIT leaves nothing
visible, and running a partition again replaces what it wrote (delete + insert): no
duplicates.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from datetime import date

import duckdb

from pipelines.ducklake import ALIAS
from pipelines.ingest.context import reference_context
from pipelines.ingest.loading import LoadRun, load_source, prepare_source_tables
from pipelines.ingest.registry import DEFINITIONS
from pipelines.ingest.window import QuarterWindow
from pipelines.lake.groups import pemda_of
from pipelines.partitions import QUARTERS, key_of
from pipelines.settings import SOURCES, Settings
from pipelines.warehouse import transaction

# A commit that meets another writer's conflicting one is tried again (DuckLake retries
# non-conflicting inserts itself; two partitions deleting in one table may still conflict).
COMMIT_ATTEMPTS = 8
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Partition:
    pemda: str
    quarter: date  # first day

    def owns_unplaced(self, everything: QuarterWindow) -> bool:
        return self.quarter == everything.first

    def window(self, everything: QuarterWindow) -> QuarterWindow:
        """The quarters this partition validates: its own, or every one for the owner of
        the unplaced rows."""
        if self.owns_unplaced(everything):
            return everything
        end = QUARTERS.time_window_for_partition_key(key_of(self.quarter)).end.date()
        return replace(everything, start=self.quarter, end=end)

    def rows_sql(self, everything: QuarterWindow) -> str:
        """This partition's rows of a table with a ``quarter`` column."""
        own = f"quarter = DATE '{self.quarter}'"
        if self.owns_unplaced(everything):
            return f"({own} OR {everything.unplaced_sql()})"
        return f"({own})"


@dataclass(frozen=True)
class PartitionLoad:
    files: int
    rows: dict[str, int]  # table -> rows this partition holds now
    seconds: float


def prepare_lake(conn: duckdb.DuckDBPyConnection) -> None:
    """Every source's tables, created once before partitions run (concurrent CREATEs of one
    table would conflict); ``conn`` uses the lake."""
    for name in SOURCES:
        prepare_source_tables(conn, DEFINITIONS[name])


def load_partition(
    conn: duckdb.DuckDBPyConnection,
    settings: Settings,
    key: bytes,
    codes: dict[str, str],
    partition: Partition,
) -> PartitionLoad:
    """Load the partition into ``conn``'s in-memory catalog, then commit it to the lake
    (attached as ``lake``, not in use)."""
    started = time.perf_counter()
    conn.execute(f"USE {ALIAS}")
    known = reference_context(conn)
    conn.execute("USE memory")
    everything = QuarterWindow.everything()

    def mine(source_file: str) -> bool:
        return pemda_of(source_file, codes) == partition.pemda

    files: set[str] = set()
    for name in SOURCES:
        run = LoadRun(
            settings.data_dir,
            known,
            key,
            partition.window(everything),
            block_bytes=settings.read_block_bytes,
            include=mine,
        )
        load = load_source(conn, DEFINITIONS[name], run)
        files |= {f.source_file for f in load.files}
    # Files the lake holds rows of for this pemda, and those gone from the folder since.
    recorded = {
        row[0]
        for row in conn.execute(f"SELECT DISTINCT source_file FROM {ALIAS}.raw.files").fetchall()
    }
    files |= {f for f in recorded if mine(f)}
    rows = _commit(conn, partition, everything, sorted(files))
    return PartitionLoad(len(files), rows, time.perf_counter() - started)


def _commit(
    conn: duckdb.DuckDBPyConnection,
    partition: Partition,
    everything: QuarterWindow,
    files: list[str],
) -> dict[str, int]:
    mine = f"list_contains($files, source_file) AND {partition.rows_sql(everything)}"
    tables = [f"{schema}.{name}" for name in SOURCES for schema in ("raw", "quarantine")]
    for attempt in range(1, COMMIT_ATTEMPTS + 1):
        try:
            with transaction(conn):
                for table in [*tables, "raw.files"]:
                    conn.execute(f"DELETE FROM {ALIAS}.{table} WHERE {mine}", {"files": files})
                    conn.execute(
                        f"INSERT INTO {ALIAS}.{table} BY NAME SELECT * FROM memory.{table} "
                        f"WHERE {mine}",
                        {"files": files},
                    )
            break
        except duckdb.TransactionException as error:
            if attempt == COMMIT_ATTEMPTS:
                raise
            log.warning("partition %s: commit conflict, again (%s)", partition, error)
            time.sleep(0.2 * attempt)
    return {
        table: conn.execute(
            f"SELECT count(*) FROM {ALIAS}.{table} WHERE {mine}", {"files": files}
        ).fetchone()[0]
        for table in [*tables, "raw.files"]
    }
