"""A lake run on one machine: references, then every partition (pemda x quarter) in
``workers`` parallel Dagster runs, then dbt, the analyses and the reports in one run.

Each partition is its own Dagster run of the job ``lake_partition`` in a worker process, as
a run queue allowing N runs at once (or Dagster's k8s / celery executors, see README) would
launch them; the runs show in the UI of the DAGSTER_HOME instance.
"""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from pipelines.settings import Settings


@dataclass
class LakeRun:
    partitions: int = 0
    failed: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    partition_seconds: list[float] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return not self.failed


def _instance() -> dg.DagsterInstance:
    """DAGSTER_HOME's, which the spawned partition runs share; else one of this process."""
    from pipelines.cli.runlog import dagster_instance

    return dagster_instance() or dg.DagsterInstance.ephemeral()


_DEFS: dict[Settings, dg.Definitions] = {}


def _defs(settings: Settings) -> dg.Definitions:
    if settings not in _DEFS:
        from pipelines.definitions import build_defs

        _DEFS[settings] = build_defs(settings)
    return _DEFS[settings]


def _execute(
    settings: Settings, job: str, instance: dg.DagsterInstance, log: Path, **kwargs
) -> bool:
    """One Dagster run in this process; its events go to the log file, warnings also to
    the terminal."""
    from pipelines.cli import runlog

    result = (
        _defs(settings)
        .resolve_job_def(job)
        .with_logger_defs(runlog.LOGGERS)
        .execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config=runlog.run_config(log, level="WARNING"),
            **kwargs,
        )
    )
    for line in runlog.failure_lines(result):
        print(f"{job}: {line}")
    for event in result.get_asset_check_evaluations():
        if not event.passed:
            print(f"{event.asset_key.to_user_string()} {event.check_name}: {event.description}")
    return result.success


def run_partition(
    settings: Settings, pemda: str, quarter: str, log: Path
) -> tuple[str, bool, float]:
    """One partition's Dagster run, in a worker process (its instance is DAGSTER_HOME's)."""
    started = time.perf_counter()
    instance = _instance()
    if not instance.has_dynamic_partition("pemda", pemda):  # an ephemeral instance
        instance.add_dynamic_partitions("pemda", [pemda])
    key = dg.MultiPartitionKey({"pemda": pemda, "quarter": quarter})
    ok = _execute(settings, "lake_partition", instance, log, partition_key=key)
    return f"{pemda}|{quarter}", ok, time.perf_counter() - started


def partition_keys(settings: Settings) -> list[tuple[str, str]]:
    """Every (pemda, quarter) with work: pemdas (raw.agencies in the lake) that have export
    files now or rows in the lake from files since gone; every quarter with a partition. A
    pemda without either has nothing to load or delete."""
    from pipelines.ducklake import connect
    from pipelines.ingest.reading import export_files
    from pipelines.lake.groups import pemda_codes, pemda_keys, pemda_of
    from pipelines.partitions import QUARTERS
    from pipelines.settings import SOURCES

    assert settings.lake
    with connect(settings.lake, settings.lake_data_path) as conn:
        agencies = conn.execute("SELECT kode_opd, pemda FROM raw.agencies").pl()
        recorded = [
            r[0] for r in conn.execute("SELECT DISTINCT source_file FROM raw.files").fetchall()
        ]
    present = [
        path.relative_to(settings.data_dir).as_posix()
        for source in SOURCES
        for path in export_files(settings.source_dir(source))
    ]
    codes = pemda_codes(agencies)
    busy = {pemda_of(name, codes) for name in [*present, *recorded]}
    pemdas = [p for p in pemda_keys(agencies) if p in busy]
    return [(p, q) for p in pemdas for q in QUARTERS.get_partition_keys()]


def run_lake(settings: Settings, log: Path, workers: int = 4, echo=print) -> LakeRun:
    """References, partitions in parallel, then the rest; stops after a failed stage."""
    from pipelines.ducklake import connect
    from pipelines.lake.ingest import prepare_lake
    from pipelines.partitions import all_quarters_tags
    from pipelines.rules.pseudonym import load_key

    assert settings.lake, "KINERJA_LAKE names the lake's catalog"
    outcome = LakeRun()
    instance = _instance()
    load_key(settings.data_dir, settings.pseudonym_key)  # created once, not by N workers

    started = time.perf_counter()
    if not _execute(settings, "lake_references", instance, log):
        outcome.failed.append("lake_references")
        return outcome
    with connect(settings.lake, settings.lake_data_path) as conn:
        prepare_lake(conn)
    keys = partition_keys(settings)
    instance.add_dynamic_partitions("pemda", sorted({p for p, _ in keys}))
    outcome.seconds["references"] = time.perf_counter() - started

    started = time.perf_counter()
    outcome.partitions = len(keys)
    echo(f"lake: {len(keys)} partitions (pemda x quarter) in {workers} parallel runs")
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        jobs = [pool.submit(run_partition, settings, p, q, log) for p, q in keys]
        for job in jobs:
            key, ok, seconds = job.result()
            outcome.partition_seconds.append(seconds)
            if not ok:
                outcome.failed.append(key)
    outcome.seconds["partitions"] = time.perf_counter() - started
    if outcome.failed:
        return outcome

    started = time.perf_counter()
    if not _execute(settings, "lake_finish", instance, log, tags=all_quarters_tags()):
        outcome.failed.append("lake_finish")
    outcome.seconds["finish"] = time.perf_counter() - started
    return outcome
