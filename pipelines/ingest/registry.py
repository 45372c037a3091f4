"""Every row source by name, and which quarters a file touches (for the drop-folder sensor)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pipelines.ingest import assessments, siasn, surveys, training
from pipelines.ingest.formats import iter_export
from pipelines.ingest.source import SourceDefinition
from pipelines.partitions import QUARTERS, key_of, partition_window
from pipelines.settings import SOURCES

DEFINITIONS: dict[str, SourceDefinition] = {
    module.definition.name: module.definition for module in (assessments, surveys, training, siasn)
}
assert tuple(DEFINITIONS) == SOURCES, "settings.SOURCES names the row sources, in order"


def file_quarters(source: str, path: Path) -> list[str]:
    """Partition keys of the quarters `path` has rows in, sorted. Empty when the file cannot be
    read or none of its rows falls in a partition: any run reads such a file again and
    quarantines its rows (or records why it was rejected), so any quarter will do."""
    definition = DEFINITIONS[source]
    placed = partition_window(QUARTERS)
    found: set[date] = set()
    try:
        for block in iter_export(path, definition.required, display_name=path.name):
            found.update(definition.quarter(block).drop_nulls().unique().to_list())
    except Exception:  # unreadable: ingestion records the reason, the sensor needs none
        return []
    if placed is None:
        return []
    return [key_of(q) for q in sorted(found) if placed[0] <= q < placed[1]]
