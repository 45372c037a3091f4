"""Running kinerja unattended: a drop-folder sensor, a quarterly schedule, freshness checks.

- ``raw_files_sensor`` launches `materialize_all` over exactly the quarters a new, changed or
  deleted export touches (one run per contiguous range of quarters).
- ``quarterly_refresh`` runs `materialize_all` for the quarter that just ended, on the first
  day of the next one: rows dropped before their quarter ended load then, and the marts,
  analyses and reports gain the new quarter.
- ``MARTS_FRESHNESS_CHECKS`` fail when a quarter's marts are not built 45 days after it ends;
  ``marts_freshness_sensor`` re-evaluates them when a deadline passes.

Both launchers start STOPPED: the sensor's first tick is a full backfill, and `kinerja run`
(in-process, outside the run queue) must not race a queued run for DuckDB's single writer.
The freshness sensor only reads the instance's event log, so it starts RUNNING.
"""

from __future__ import annotations

import hashlib
import json
import time
import warnings
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg

from pipelines.ingest.reading import export_files, file_digest
from pipelines.ingest.registry import file_quarters
from pipelines.partitions import (
    QUARTERS,
    TIMEZONE,
    date_of,
    first_quarter,
    key_of,
    quarter_start,
    range_tags,
)
from pipelines.settings import SOURCES, Settings
from pipelines.transform import marts

# Seconds between ticks. A tick without changes only lists and stats the files.
SENSOR_INTERVAL_SECONDS = 30
# A file modified this recently may still be being copied in: look again next tick.
SETTLE_SECONDS = 10.0
# Hash and read files for at most this long per tick (a tick times out after 60 s,
# DAGSTER_SENSOR_GRPC_TIMEOUT_SECONDS); files left over are taken up by the next tick.
EVALUATION_BUDGET_SECONDS = 40.0

# Quarterly refresh: 06:00 WIB on the first day of a quarter, the day its predecessor became
# a partition (see pipelines.partitions).
REFRESH_CRON = "0 6 1 1,4,7,10 *"
# A quarter's marts must be built by 09:00 WIB on the 15th of the second month after it ends
# (about 45 days, time for its exports to arrive and be corrected).
FRESHNESS_DEADLINE_CRON = "0 9 15 2,5,8,11 *"
MART_KEYS = list(marts.MARTS)


# ---------------------------------------------------------------- drop-folder sensor


@dataclass(frozen=True)
class FileState:
    """What the sensor last saw of one export. ``quarters`` are the partitions its rows were in
    when recorded, ``as_of`` the newest partition then (rows of a quarter that had not ended
    were not in any partition: recorded again once the partition set grows)."""

    sha256: str
    quarters: list[str]
    size: int
    mtime_ns: int
    as_of: str | None


@dataclass(frozen=True)
class Change:
    path: str
    old_sha256: str | None
    new_sha256: str | None
    quarters: frozenset[str]


@dataclass(frozen=True)
class Cursor:
    """Persisted as JSON: ``{"generation": n, "files": {relative path: FileState}}``.

    ``generation`` counts evaluations that launched runs. It is part of every run key, so a
    file that goes A -> B -> A -> B launches again on the second A -> B, while a tick
    re-evaluated with the same cursor (daemon restart) yields the same keys: launched once."""

    generation: int
    files: dict[str, FileState]

    @classmethod
    def parse(cls, text: str | None) -> Cursor:
        if not text:
            return cls(0, {})
        data = json.loads(text)
        files = {path: FileState(**state) for path, state in data["files"].items()}
        return cls(data["generation"], files)

    def dump(self) -> str:
        files = {path: asdict(state) for path, state in sorted(self.files.items())}
        return json.dumps({"generation": self.generation, "files": files}, sort_keys=True)


def scan(
    data_dir: Path,
    previous: dict[str, FileState],
    keys: list[str],
    now: float,
    settle_seconds: float = SETTLE_SECONDS,
    budget_seconds: float = EVALUATION_BUDGET_SECONDS,
) -> tuple[dict[str, FileState], list[Change]]:
    """The drop folders against what was recorded: the new record and what changed.

    Content decides (sha256); size and mtime only spare re-hashing a file that was not
    touched. A file that is too fresh, cannot be opened, or is beyond the time budget keeps
    its old record (or none) and is looked at again next tick."""
    as_of = keys[-1] if keys else None
    started = time.monotonic()
    current: dict[str, FileState] = {}
    changes: list[Change] = []
    present: set[str] = set()
    for source in SOURCES:
        for path in export_files(data_dir / "raw" / source):
            relative = path.relative_to(data_dir).as_posix()
            present.add(relative)
            old = previous.get(relative)
            try:
                stat = path.stat()
            except OSError:  # vanished between listing and stat: next tick sees it gone
                if old is not None:
                    current[relative] = old
                continue
            if old is not None and (old.size, old.mtime_ns) == (stat.st_size, stat.st_mtime_ns):
                if old.as_of == as_of or time.monotonic() - started > budget_seconds:
                    current[relative] = old
                else:  # new partitions since: rows of a then-open quarter may now be placed
                    current[relative] = FileState(
                        old.sha256, file_quarters(source, path), old.size, old.mtime_ns, as_of
                    )
                continue
            age = now - stat.st_mtime_ns / 1e9
            over_budget = bool(changes) and time.monotonic() - started > budget_seconds
            if 0 <= age < settle_seconds or over_budget:
                if old is not None:
                    current[relative] = old
                continue
            try:
                digest = file_digest(path)
            except OSError:
                if old is not None:
                    current[relative] = old
                continue
            if old is not None and old.sha256 == digest:  # same bytes dropped again
                current[relative] = FileState(
                    digest, old.quarters, stat.st_size, stat.st_mtime_ns, old.as_of
                )
                continue
            quarters = file_quarters(source, path)
            current[relative] = FileState(digest, quarters, stat.st_size, stat.st_mtime_ns, as_of)
            touched = set(quarters) | (recorded_quarters(old, keys) if old else set())
            changes.append(
                Change(relative, old.sha256 if old else None, digest, frozenset(touched))
            )
    for relative, old in previous.items():
        if relative not in present:
            changes.append(Change(relative, old.sha256, None, recorded_quarters(old, keys)))
    return current, changes


def recorded_quarters(old: FileState, keys: list[str]) -> frozenset[str]:
    """Where an old version's rows may be: its recorded quarters, and every quarter that became
    a partition after it was recorded (its rows of a then-open quarter load into those). The
    record is normally brought up to date within a tick of a new partition (see scan)."""
    newer = {k for k in keys if old.as_of is None or k > old.as_of}
    return frozenset(old.quarters) | newer


def quarter_ranges(quarters: set[str], keys: list[str]) -> list[tuple[str, str]]:
    """(first, last) of each run of consecutive partition keys among ``quarters``."""
    positions = sorted(keys.index(q) for q in quarters if q in keys)
    ranges: list[tuple[str, str]] = []
    for position in positions:
        if ranges and keys.index(ranges[-1][1]) == position - 1:
            ranges[-1] = (ranges[-1][0], keys[position])
        else:
            ranges.append((keys[position], keys[position]))
    return ranges


def affected_quarters(changes: list[Change], keys: list[str]) -> set[str]:
    """Union of the changes' quarters. A change without any (unreadable file, or no row in a
    partition) needs a run all the same, to record why: any run re-reads such files, so the
    latest quarter, the cheapest, is taken."""
    quarters: set[str] = set()
    for change in changes:
        quarters |= change.quarters & set(keys) or {keys[-1]}
    return quarters


def run_requests(
    changes: list[Change], keys: list[str], generation: int, backfill: bool = False
) -> list[dg.RunRequest]:
    """One `materialize_all` run per contiguous range of affected quarters, each with a run
    key from the range, the generation and every checksum involved (see Cursor). A
    ``backfill`` (nothing recorded before) is one run from the first to the last quarter."""
    if not changes or not keys:
        return []
    involved = sorted((c.path, c.old_sha256 or "", c.new_sha256 or "") for c in changes)
    ranges = quarter_ranges(affected_quarters(changes, keys), keys)
    if backfill:
        ranges = [(ranges[0][0], ranges[-1][1])]
    requests = []
    for first, last in ranges:
        material = json.dumps([generation, first, last, involved])
        requests.append(
            dg.RunRequest(
                run_key=f"{first}..{last}:{hashlib.sha256(material.encode()).hexdigest()[:24]}",
                tags={**range_tags(first, last), "kinerja/trigger": "raw_files_sensor"},
            )
        )
    return requests


@dg.sensor(
    name="raw_files_sensor",
    job_name="materialize_all",
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description=(
        "Watches data/raw/<source>/ for new, changed (by sha256) or deleted exports and runs "
        "materialize_all over the quarters they touch, one run per contiguous range. The first "
        "tick (nothing recorded) treats every file as new: one run from the first to the last "
        "quarter present."
    ),
)
def raw_files_sensor(
    context: dg.SensorEvaluationContext, settings: dg.ResourceParam[Settings]
) -> dg.SensorResult:
    """The folder watched is the runs' own: the ``settings`` resource they receive."""
    data_dir = settings.data_dir
    keys = QUARTERS.get_partition_keys()
    cursor = Cursor.parse(context.cursor)
    files, changes = scan(data_dir, cursor.files, keys, time.time())
    if changes and not keys:
        return dg.SensorResult(skip_reason="no quarter has ended since KINERJA_FIRST_QUARTER")
    requests = run_requests(changes, keys, cursor.generation, backfill=not cursor.files)
    generation = cursor.generation + 1 if requests else cursor.generation
    new_cursor = Cursor(generation, files).dump()
    if not requests:
        return dg.SensorResult(skip_reason="no export added, changed or deleted", cursor=new_cursor)
    for change in changes:
        what = "new" if change.old_sha256 is None else "changed" if change.new_sha256 else "deleted"
        context.log.info(f"{change.path} {what}: quarters {sorted(change.quarters) or 'none'}")
    return dg.SensorResult(run_requests=requests, cursor=new_cursor)


# ---------------------------------------------------------------- quarterly schedule


def ended_quarter(day: date) -> str:
    """Partition key of the quarter before the one ``day`` is in."""
    return key_of(quarter_start(quarter_start(day) - timedelta(days=1)))


@dg.schedule(
    name="quarterly_refresh",
    job_name="materialize_all",
    cron_schedule=REFRESH_CRON,
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description=(
        "On the first day of a quarter, run materialize_all for the quarter that just ended: "
        "rows waiting for it to end load, and marts, analyses and reports gain it."
    ),
)
def quarterly_refresh(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    """A whole run, not only dbt: rows dropped before their quarter ended were quarantined as
    'not ended yet' and only ingestion places them. Unchanged files are not re-read."""
    tick = context.scheduled_execution_time
    key = ended_quarter(tick.astimezone(ZoneInfo(TIMEZONE)).date())
    if date_of(key) < date_of(first_quarter()):
        return dg.SkipReason(f"quarter {key} is before KINERJA_FIRST_QUARTER")
    return dg.RunRequest(
        run_key=f"quarterly_refresh:{key}",
        tags={**range_tags(key, key), "kinerja/trigger": "quarterly_refresh"},
    )


# ---------------------------------------------------------------- freshness


def _freshness() -> tuple[list[dg.AssetChecksDefinition], dg.SensorDefinition]:
    """Partition-aware freshness checks on the marts and the sensor that re-runs them.

    Dagster marks these factories superseded by FreshnessPolicy, which is not partition-aware
    (it asks for a recent materialization of any quarter); the question here is whether the
    last ended quarter was built, so they stay, with their warning silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.SupersessionWarning)
        checks = list(
            dg.build_time_partition_freshness_checks(
                assets=MART_KEYS, deadline_cron=FRESHNESS_DEADLINE_CRON, timezone=TIMEZONE
            )
        )
        sensor = dg.build_sensor_for_freshness_checks(
            freshness_checks=checks,
            name="marts_freshness_sensor",
            minimum_interval_seconds=3600,
            default_status=dg.DefaultSensorStatus.RUNNING,
        )
    return checks, sensor


MARTS_FRESHNESS_CHECKS, marts_freshness_sensor = _freshness()

SENSORS = [raw_files_sensor, marts_freshness_sensor]
SCHEDULES = [quarterly_refresh]
