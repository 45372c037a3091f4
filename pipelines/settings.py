"""Every setting of a run in one object, and the one place that reads the environment.

`Settings.from_env()` is called once, where a process starts (the `kinerja` command, the
Dagster code location, a benchmark); the object then reaches the code explicitly: Dagster
assets receive it as the ``settings`` resource (see `pipelines.resources`), dbt through
``--vars`` (see `pipelines.transform.assets`). Nothing writes the environment.

KINERJA_* variables, all optional:

| variable | field | default |
|---|---|---|
| KINERJA_DATA_DIR | data_dir (raw exports, reference files) | ./data |
| KINERJA_WAREHOUSE | warehouse (the published DuckDB file) | <data_dir>/warehouse.duckdb |
| KINERJA_REPORTS_DIR | reports_dir (HTML reports, PNG charts) | ./reports |
| KINERJA_MIN_GROUP_SIZE | min_group_size: smaller groups are suppressed | 5 |
| KINERJA_REPORT_PNG | png_export; 0 skips static PNGs (they start a browser, ~10 s) | 1 |
| KINERJA_MAX_QUARANTINE_SHARE | max_quarantine_share: above it a quarter is blocked | 0.2 |
| KINERJA_QUARANTINE_MIN_ROWS | quarantine_min_rows: the share rule applies from here | 20 |
| KINERJA_READ_BLOCK_MB | read_block_mb: a large CSV is read in blocks of this size | 128 |
| KINERJA_DUCKDB_MEMORY_LIMIT | duckdb_memory_limit, e.g. '4GB' | 30% of RAM |
| KINERJA_DUCKDB_THREADS | duckdb_threads | every core |
| KINERJA_DUCKDB_TEMP_DIR | duckdb_temp_dir: where large joins spill | beside the build warehouse |
| KINERJA_PSEUDONYM_KEY | pseudonym_key (else <data_dir>/.pseudonym_key) | — |
| KINERJA_FIRST_QUARTER | the first partition (read at import: partitions are static) | 2023-01 |
| KINERJA_LAKE | lake: a DuckLake catalog, `postgres:dbname=… host=…`; runs write it | — |
| KINERJA_LAKE_DATA | lake_data: the folder of the lake's Parquet files | <data_dir>/lake/data |

Relative paths resolve against the current directory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"

# The kinds of exports (SIASN: BKN's performance records), in the order they are ingested
# and reported.
SOURCES = ("assessments", "surveys", "training", "siasn")
DEFAULT_FIRST_QUARTER = "2023-01"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    warehouse: Path
    reports_dir: Path
    min_group_size: int = 5
    png_export: bool = True
    max_quarantine_share: float = 0.2
    quarantine_min_rows: int = 20
    read_block_mb: float = 128
    duckdb_memory_limit: str | None = None
    duckdb_threads: int | None = None
    duckdb_temp_dir: Path | None = None
    pseudonym_key: str | None = field(default=None, repr=False)
    lake: str | None = None
    lake_data: Path | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.max_quarantine_share <= 1 or self.quarantine_min_rows < 1:
            raise ValueError(
                f"KINERJA_MAX_QUARANTINE_SHARE={self.max_quarantine_share} must be in 0..1 "
                f"and KINERJA_QUARANTINE_MIN_ROWS={self.quarantine_min_rows} at least 1"
            )
        if self.min_group_size < 1:
            raise ValueError(f"KINERJA_MIN_GROUP_SIZE={self.min_group_size} must be at least 1")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from KINERJA_* variables (the table in this module's docstring)."""
        env = os.environ if environ is None else environ

        def given(name: str) -> str | None:
            return env.get(f"KINERJA_{name}", "").strip() or None

        data_dir = Path(given("DATA_DIR") or "data").resolve()
        tunables = {
            "min_group_size": (given("MIN_GROUP_SIZE"), int),
            "max_quarantine_share": (given("MAX_QUARANTINE_SHARE"), float),
            "quarantine_min_rows": (given("QUARANTINE_MIN_ROWS"), int),
            "read_block_mb": (given("READ_BLOCK_MB"), float),
            "duckdb_memory_limit": (given("DUCKDB_MEMORY_LIMIT"), str),
            "duckdb_threads": (given("DUCKDB_THREADS"), int),
            "duckdb_temp_dir": (given("DUCKDB_TEMP_DIR"), lambda v: Path(v).resolve()),
            "pseudonym_key": (given("PSEUDONYM_KEY"), str),
            "lake": (given("LAKE"), str),
            "lake_data": (given("LAKE_DATA"), lambda v: Path(v).resolve()),
        }
        return cls(
            data_dir=data_dir,
            warehouse=Path(given("WAREHOUSE") or data_dir / "warehouse.duckdb").resolve(),
            reports_dir=Path(given("REPORTS_DIR") or "reports").resolve(),
            png_export=given("REPORT_PNG") != "0",
            **{name: kind(value) for name, (value, kind) in tunables.items() if value is not None},
        )

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

    @property
    def lake_data_path(self) -> Path:
        """The lake's data files (KINERJA_LAKE_DATA, default <data_dir>/lake/data)."""
        return self.lake_data or self.data_dir / "lake" / "data"

    @property
    def lake_catalog_dir(self) -> Path:
        """Where `kinerja lake` keeps its own PostgreSQL catalog when KINERJA_LAKE is unset."""
        return self.data_dir / "lake" / "catalog"

    @property
    def read_block_bytes(self) -> int:
        return int(self.read_block_mb * 2**20)


def first_quarter_key() -> str:
    """KINERJA_FIRST_QUARTER: the first quarter with a partition (its first month, YYYY-MM).
    Read at import, because Dagster's partitions are fixed when the code location loads."""
    return os.environ.get("KINERJA_FIRST_QUARTER", DEFAULT_FIRST_QUARTER)


def dagster_home() -> Path | None:
    """Dagster's own DAGSTER_HOME, where run logs and the instance live (None: unset)."""
    home = os.environ.get("DAGSTER_HOME")
    return Path(home) if home else None
