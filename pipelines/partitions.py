"""Quarters: the unit in which exports arrive, are ingested, and are rebuilt.

A partition key is the first month of a quarter (``2024-04`` is 2024 Q2). Partitions exist
for completed quarters from KINERJA_FIRST_QUARTER (default 2023-01) on: a quarter becomes a
partition the day after it ends, which is when its exports can be complete. A row whose
quarter has no partition (before the first, or not yet ended) is quarantined with that
reason; it is read again by every run, so it loads once its quarter exists.

Inside the warehouse the quarter is a DATE, its first day: ``raw.*.quarter``,
``quarantine.*.quarter``, ``raw.files.quarter`` and the dbt vars ``quarter_start`` /
``quarter_end`` (end exclusive).
"""

from __future__ import annotations

from datetime import date, datetime

import dagster as dg

from pipelines.settings import first_quarter_key

KEY_FORMAT = "%Y-%m"
# First day of January, April, July and October: one tick per quarter.
QUARTER_CRON = "0 0 1 1,4,7,10 *"
TIMEZONE = "Asia/Jakarta"


def first_quarter() -> str:
    key = first_quarter_key()
    start = datetime.strptime(key, KEY_FORMAT)
    if start.month not in (1, 4, 7, 10):
        raise ValueError(f"KINERJA_FIRST_QUARTER={key!r} must be a quarter's first month")
    return key


def quarters_partitions() -> dg.TimeWindowPartitionsDefinition:
    return dg.TimeWindowPartitionsDefinition(
        start=first_quarter(),
        fmt=KEY_FORMAT,
        cron_schedule=QUARTER_CRON,
        timezone=TIMEZONE,
    )


QUARTERS = quarters_partitions()


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def key_of(quarter: date) -> str:
    return quarter.strftime(KEY_FORMAT)


def date_of(key: str) -> date:
    return datetime.strptime(key, KEY_FORMAT).date()


def label(quarter: date) -> str:
    """'2024-Q2': how people write quarters, used in messages."""
    return f"{quarter.year}-Q{(quarter.month - 1) // 3 + 1}"


def partition_window(
    partitions: dg.TimeWindowPartitionsDefinition = QUARTERS,
) -> tuple[date, date] | None:
    """[first day of the first partition, day after the last partition) today."""
    keys = partitions.get_partition_keys()
    if not keys:
        return None
    last = partitions.time_window_for_partition_key(keys[-1])
    return date_of(keys[0]), last.end.date()


def range_tags(first: str, last: str) -> dict[str, str]:
    """Run tags for one run over the quarters first..last (assets backfill in a single run)."""
    return {
        "dagster/asset_partition_range_start": first,
        "dagster/asset_partition_range_end": last,
    }


def all_quarters_tags(partitions: dg.TimeWindowPartitionsDefinition = QUARTERS) -> dict[str, str]:
    keys = partitions.get_partition_keys()
    return range_tags(keys[0], keys[-1])
