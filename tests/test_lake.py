"""The lake mode (issue 16): a DuckLake on a PostgreSQL catalog of the test's own, written
by 4 parallel partition runs, must hold every table the single-file warehouse holds, row for
row; a reader during the writes sees whole partitions only; a worker killed before its
commit leaves nothing; a partition run again changes nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines.cli.lake_run import LakeRun, run_lake
from pipelines.ducklake import connect
from pipelines.lake.catalog import LocalCatalog, local_catalog
from pipelines.lake.compare import compare
from pipelines.lake.groups import pemda_codes
from pipelines.lake.ingest import Partition, load_partition
from pipelines.partitions import QUARTERS
from pipelines.rules.pseudonym import load_key
from pipelines.settings import SOURCES, Settings
from tests.conftest import materialized

pytestmark = pytest.mark.xdist_group("lake")

# In one snapshot, every (file, quarter) that raw.files lists holds exactly the rows it says
# were loaded: a partition committed in halves (raw rows without their raw.files row, or
# one source without the others) breaks it.
CONSISTENCY_SQL = " UNION ALL ".join(
    f"""SELECT '{source}' AS source, count(*) AS broken FROM (
        SELECT f.source_file, f.quarter, any_value(f.n_rows_loaded) AS listed,
               count(r.source_file) AS present
        FROM lake.raw.files f LEFT JOIN lake.raw.{source} r
          ON r.source_file = f.source_file AND r.quarter = f.quarter
        WHERE f.source = '{source}' AND f.quarter IS NOT NULL
        GROUP BY ALL HAVING listed <> present)"""
    for source in SOURCES
)


@dataclass
class Lake:
    single: Settings
    settings: Settings
    catalog: LocalCatalog
    run: LakeRun
    reads: int
    broken_reads: list[tuple]

    def compare(self):
        with connect(self.catalog.lake, self.settings.lake_data_path) as conn:
            conn.execute(f"ATTACH '{self.single.warehouse}' AS single_file (READ_ONLY)")
            return compare(conn, "lake", "single_file")

    def query(self, sql: str) -> list[tuple]:
        with connect(self.catalog.lake, self.settings.lake_data_path) as conn:
            return conn.execute(sql).fetchall()


def _reader(catalog: LocalCatalog, data: Path, stop: threading.Event, out: dict) -> None:
    """Poll the lake while partitions commit; record every inconsistent snapshot seen."""
    conn = None
    while not stop.is_set():
        try:
            conn = conn or connect(catalog.lake, data)
            rows = conn.execute(CONSISTENCY_SQL).fetchall()
        except duckdb.Error:  # tables not created yet
            time.sleep(0.05)
            continue
        out["reads"] += 1
        out["broken"] += [r for r in rows if r[1]]
        time.sleep(0.02)


# Session, not module: with xdist's loadgroup a worker may run another module's tests
# between this module's, and a module fixture would then build the lake twice.
@pytest.fixture(scope="session")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lake]:
    root = tmp_path_factory.mktemp("lake")
    with (
        pytest.MonkeyPatch.context() as env,
        materialized(root / "data", employees=120, seed=11) as single,
        local_catalog(root / "catalog") as catalog,
    ):
        # The partition runs' worker processes share this instance (the dynamic pemda keys).
        env.setenv("DAGSTER_HOME", str(root / "dagster_home"))
        settings = replace(
            single.settings,
            lake=catalog.lake,
            lake_data=root / "lake_data",
            reports_dir=root / "lake_reports",
        )
        stop, seen = threading.Event(), {"reads": 0, "broken": []}
        reader = threading.Thread(
            target=_reader, args=(catalog, settings.lake_data_path, stop, seen)
        )
        reader.start()
        try:
            outcome = run_lake(settings, root / "lake.log", workers=4, echo=lambda _: None)
        finally:
            stop.set()
            reader.join()
        yield Lake(single.settings, settings, catalog, outcome, seen["reads"], seen["broken"])


def test_four_parallel_partition_runs_build_the_same_warehouse(lake: Lake) -> None:
    assert lake.run.success, lake.run.failed
    # the 2 pemda with exports (mna, psp; the catch-all has no file) x every quarter
    assert lake.run.partitions == 2 * len(QUARTERS.get_partition_keys())
    result = lake.compare()
    assert result.differences == []
    # raw, quarantine, reference, staging, intermediate, marts, audit, analysis: all of them
    assert result.tables >= 70
    loaded = lake.query("SELECT count(*) FROM lake.raw.assessments")[0][0]
    assert loaded > 1000


def test_a_reader_during_the_writes_sees_whole_partitions_only(lake: Lake) -> None:
    assert lake.reads >= 5, "the reader must have read while partitions committed"
    assert lake.broken_reads == []


def test_the_lake_knows_the_single_file_counts(lake: Lake) -> None:
    with duckdb.connect(str(lake.single.warehouse), read_only=True) as conn:
        single = {s: conn.execute(f"SELECT count(*) FROM raw.{s}").fetchone()[0] for s in SOURCES}
    lake_counts = {s: lake.query(f"SELECT count(*) FROM lake.raw.{s}")[0][0] for s in SOURCES}
    assert lake_counts == single
    assert all(n > 0 for n in single.values())


def _partition_rows(lake: Lake, partition_files: list[str], quarter: date) -> int:
    listed = ", ".join(f"'{f}'" for f in partition_files)
    return sum(
        lake.query(
            f"SELECT count(*) FROM lake.{schema}.{source} "
            f"WHERE source_file IN ({listed}) AND quarter = DATE '{quarter}'"
        )[0][0]
        for source in SOURCES
        for schema in ("raw", "quarantine")
    )


CHILD = """
import sys, time
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from dataclasses import replace
from pipelines.lake import ingest
from pipelines.ducklake import connect
from pipelines.lake.groups import pemda_codes
from pipelines.partitions import QUARTERS
from pipelines.rules.pseudonym import load_key
from pipelines.settings import Settings

data_dir, lake, lake_data, quarter = sys.argv[1:5]
settings = replace(Settings.from_env(), data_dir=Path(data_dir), lake=lake)

@contextmanager
def never_commits(conn):
    conn.execute("BEGIN TRANSACTION")
    yield
    print("every statement done, COMMIT next", flush=True)
    time.sleep(600)

ingest.transaction = never_commits
conn = connect(lake, Path(lake_data))
codes = pemda_codes(conn.execute("SELECT kode_opd, pemda FROM raw.agencies").pl())
partition = ingest.Partition("mna", date.fromisoformat(quarter))
ingest.load_partition(conn, settings, load_key(settings.data_dir), codes, partition)
"""


def test_a_worker_killed_before_its_commit_leaves_nothing_and_a_rerun_mends(
    lake: Lake,
) -> None:
    quarter = date(2024, 4, 1)
    files = [
        r[0] for r in lake.query("SELECT DISTINCT source_file FROM lake.raw.files") if "mna" in r[0]
    ]
    before = _partition_rows(lake, files, quarter)
    assert before > 0
    # Take the partition out (as if it never ran), then a worker loads it and is killed
    # with SIGKILL after every DELETE and INSERT, before COMMIT.
    with connect(lake.catalog.lake, lake.settings.lake_data_path) as conn:
        conn.execute("BEGIN")
        for source in SOURCES:
            for schema in ("raw", "quarantine"):
                conn.execute(
                    f"DELETE FROM {schema}.{source} WHERE quarter = DATE '{quarter}' "
                    "AND list_contains(?, source_file)",
                    [files],
                )
        conn.execute("COMMIT")
    assert _partition_rows(lake, files, quarter) == 0
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CHILD,
            str(lake.settings.data_dir),
            lake.catalog.lake,
            str(lake.settings.lake_data_path),
            quarter.isoformat(),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().startswith("every statement done")
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        child.kill()
    assert child.returncode == -signal.SIGKILL
    assert _partition_rows(lake, files, quarter) == 0, "a killed worker's rows are visible"
    # The rerun commits the partition whole: the lake is again the single-file warehouse.
    with connect(lake.catalog.lake, lake.settings.lake_data_path) as conn:
        conn.execute("USE memory")
        codes = pemda_codes(conn.execute("SELECT kode_opd, pemda FROM lake.raw.agencies").pl())
        load_partition(
            conn, lake.settings, load_key(lake.settings.data_dir), codes, Partition("mna", quarter)
        )
    assert _partition_rows(lake, files, quarter) == before
    assert lake.compare().differences == []


def test_running_partitions_again_changes_nothing(lake: Lake) -> None:
    """Idempotent: the first quarter's partition (which also owns the unplaced rows), a
    late one, and the catch-all pemda, run again, leave every table as it was."""
    key = load_key(lake.settings.data_dir)
    with connect(lake.catalog.lake, lake.settings.lake_data_path) as conn:
        codes = pemda_codes(conn.execute("SELECT kode_opd, pemda FROM raw.agencies").pl())
    for pemda, quarter in (("psp", date(2023, 1, 1)), ("mna", date(2025, 10, 1))):
        with connect(lake.catalog.lake, lake.settings.lake_data_path) as conn:
            loaded = load_partition(conn, lake.settings, key, codes, Partition(pemda, quarter))
        assert loaded.rows["raw.assessments"] > 0
    assert lake.compare().differences == []
    snapshots = lake.query("SELECT count(*) FROM lake.snapshots()")[0][0]
    assert snapshots > lake.run.partitions  # every partition committed its own snapshot
