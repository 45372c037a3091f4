"""Paths and tunables in one place, so the CLI, Dagster and tests agree on where data lives."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"

SOURCES = ("assessments", "surveys", "training")


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    warehouse: Path
    reports_dir: Path
    min_group_size: int = 5
    png_export: bool = True

    @property
    def raw_dir(self) -> Path:
        return self.data_dir / "raw"

    @property
    def reference_dir(self) -> Path:
        return self.data_dir / "reference"

    def source_dir(self, source: str) -> Path:
        return self.raw_dir / source

    @property
    def png_dir(self) -> Path | None:
        return self.reports_dir / "png" if self.png_export else None

    @property
    def build_warehouse(self) -> Path:
        """Where runs write. Readers only ever see `warehouse`, replaced whole on success."""
        return self.warehouse.parent / ".build" / self.warehouse.name

    @property
    def published_dir(self) -> Path:
        """Extracts without personal data: planners (aggregates), evaluators (pseudonymous)."""
        return self.warehouse.parent / "published"


def load_settings() -> Settings:
    """Read the KINERJA_* environment; relative paths resolve against the cwd.

    KINERJA_MIN_GROUP_SIZE is the publishable minimum: smaller groups are suppressed.
    KINERJA_REPORT_PNG=0 skips the static PNG charts (they start a browser: ~10 s a run)."""
    data_dir = Path(os.environ.get("KINERJA_DATA_DIR", "data")).resolve()
    warehouse = Path(
        os.environ.get("KINERJA_WAREHOUSE", str(data_dir / "warehouse.duckdb"))
    ).resolve()
    reports_dir = Path(os.environ.get("KINERJA_REPORTS_DIR", "reports")).resolve()
    min_group_size = int(os.environ.get("KINERJA_MIN_GROUP_SIZE", "5"))
    png_export = os.environ.get("KINERJA_REPORT_PNG", "1") != "0"
    return Settings(data_dir, warehouse, reports_dir, min_group_size, png_export)
