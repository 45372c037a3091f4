"""Every row source by name, and which quarters a file touches (for the drop-folder sensor)."""

from __future__ import annotations

from pathlib import Path

from pipelines.partitions import QUARTERS, key_of, partition_window
from pipelines.readers import read_export
from pipelines.sources import assessments, surveys, training
from pipelines.sources._ingest import SourceDefinition

DEFINITIONS: dict[str, SourceDefinition] = {
    module.SOURCE: module.definition for module in (assessments, surveys, training)
}


def file_quarters(source: str, path: Path) -> list[str]:
    """Partition keys of the quarters `path` has rows in, sorted. Empty when the file cannot be
    read or none of its rows falls in a partition: any run reads such a file again and
    quarantines its rows (or records why it was rejected), so any quarter will do."""
    definition = DEFINITIONS[source]
    try:
        frame = read_export(path, definition.required, display_name=path.name)
    except Exception:  # unreadable: ingestion records the reason, the sensor needs none
        return []
    placed = partition_window(QUARTERS)
    if placed is None:
        return []
    quarters = definition.quarter(frame).drop_nulls().unique().sort()
    return [key_of(q) for q in quarters.to_list() if placed[0] <= q < placed[1]]
