"""Resources shared by every asset: the run's settings, one DuckDB warehouse file, the dbt CLI."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource
from dagster_duckdb import DuckDBResource

from pipelines.settings import DBT_PROJECT_DIR, Settings

# Share of the machine's RAM DuckDB may use before it spills to temp_directory. DuckDB's own
# default (80%) leaves too little for the polars frames of ingestion in the same process: at
# 1M employees one export file is ~12M rows of text (~7 GiB in polars), and 60% ran the
# machine out of memory while ingesting it.
DEFAULT_MEMORY_SHARE = 0.3


def duckdb_config(settings: Settings) -> dict[str, str]:
    """DuckDB memory_limit and threads (ingestion and dbt) and temp_directory (ingestion).

    Defaults: 30% of RAM, every core, and a folder beside the build warehouse (so spilling
    large joins never fills /tmp). dbt spills to DuckDB's default, also beside the build
    warehouse (see dbt_project/profiles.yml for why it cannot be set there)."""
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    temp_dir = settings.duckdb_temp_dir or settings.build_warehouse.parent / "duckdb_tmp"
    return {
        "memory_limit": settings.duckdb_memory_limit
        or f"{int(ram * DEFAULT_MEMORY_SHARE / 2**20)}MB",
        "threads": str(settings.duckdb_threads or os.cpu_count() or 1),
        "temp_directory": str(temp_dir),
    }


def dbt_vars(settings: Settings) -> dict[str, str]:
    """What dbt's profile (dbt_project/profiles.yml) reads: the database it builds, and the
    same DuckDB limits as ingestion. Passed with ``--vars``, so nothing writes the
    environment."""
    config = duckdb_config(settings)
    variables = {
        "kinerja_database": str(settings.build_warehouse),
        "kinerja_memory_limit": config["memory_limit"],
        "kinerja_threads": config["threads"],
    }
    if settings.lake:  # the profile's `lake` target (dbt_project/profiles.yml)
        from pipelines.ducklake import EXTENSION_DIRECTORY

        variables |= {
            "kinerja_lake": settings.lake,
            "kinerja_lake_data": str(settings.lake_data_path) + "/",
            "kinerja_extension_directory": str(EXTENSION_DIRECTORY),
        }
    return variables


def build_resources(settings: Settings) -> dict[str, object]:
    """The warehouse is the build DuckDB file, or the lake when KINERJA_LAKE is set."""
    settings.build_warehouse.parent.mkdir(parents=True, exist_ok=True)
    warehouse: DuckDBResource
    if settings.lake:
        from pipelines.ducklake import lake_resource

        warehouse = lake_resource(settings.lake, settings.lake_data_path, duckdb_config(settings))
    else:
        warehouse = DuckDBResource(
            database=str(settings.build_warehouse), connection_config=duckdb_config(settings)
        )
    return {
        "settings": settings,
        "duckdb": warehouse,
        "dbt": DbtCliResource(
            project_dir=str(DBT_PROJECT_DIR),
            profiles_dir=str(DBT_PROJECT_DIR),
            # The dbt installed beside this interpreter, whether or not the venv is on PATH.
            dbt_executable=str(Path(sys.executable).parent / "dbt"),
            target="lake" if settings.lake else None,
        ),
    }
