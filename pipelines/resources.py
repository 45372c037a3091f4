"""Resources shared by every asset: one DuckDB warehouse file and the dbt CLI."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource
from dagster_duckdb import DuckDBResource

from pipelines.settings import DBT_PROJECT_DIR, Settings, load_settings

# Share of the machine's RAM DuckDB may use before it spills to temp_directory. DuckDB's own
# default (80%) leaves too little for the polars frames of ingestion in the same process: at
# 1M employees one export file is ~12M rows of text (~7 GiB in polars), and 60% ran the
# machine out of memory while ingesting it.
DEFAULT_MEMORY_SHARE = 0.3


def duckdb_config(settings: Settings) -> dict[str, str]:
    """DuckDB memory_limit and threads (ingestion and dbt) and temp_directory (ingestion).

    KINERJA_DUCKDB_MEMORY_LIMIT (e.g. '4GB'; default 30% of RAM), KINERJA_DUCKDB_THREADS
    (default: every core) and KINERJA_DUCKDB_TEMP_DIR (default: beside the build warehouse,
    so spilling large joins never fills /tmp). dbt spills to DuckDB's default, also beside
    the build warehouse (see dbt_project/profiles.yml for why it cannot be set there)."""
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    default_limit = f"{int(ram * DEFAULT_MEMORY_SHARE / 2**20)}MB"
    temp_dir = settings.build_warehouse.parent / "duckdb_tmp"
    return {
        "memory_limit": os.environ.get("KINERJA_DUCKDB_MEMORY_LIMIT", default_limit),
        "threads": os.environ.get("KINERJA_DUCKDB_THREADS", str(os.cpu_count() or 1)),
        "temp_directory": os.environ.get("KINERJA_DUCKDB_TEMP_DIR", str(temp_dir)),
    }


def export_warehouse_env(settings: Settings) -> None:
    """dbt's profile reads the database it builds, and DuckDB's limits, from the environment."""
    os.environ["KINERJA_DBT_DATABASE"] = str(settings.build_warehouse)
    os.environ["KINERJA_WAREHOUSE"] = str(settings.warehouse)
    os.environ["KINERJA_DATA_DIR"] = str(settings.data_dir)
    config = duckdb_config(settings)
    os.environ["KINERJA_DUCKDB_MEMORY_LIMIT"] = config["memory_limit"]
    os.environ["KINERJA_DUCKDB_THREADS"] = config["threads"]
    os.environ["KINERJA_DUCKDB_TEMP_DIR"] = config["temp_directory"]


def build_resources(settings: Settings | None = None) -> dict[str, object]:
    settings = settings or load_settings()
    export_warehouse_env(settings)
    settings.build_warehouse.parent.mkdir(parents=True, exist_ok=True)
    return {
        "duckdb": DuckDBResource(
            database=str(settings.build_warehouse),
            connection_config=duckdb_config(settings),
        ),
        "dbt": DbtCliResource(
            project_dir=str(DBT_PROJECT_DIR),
            profiles_dir=str(DBT_PROJECT_DIR),
            # The dbt installed beside this interpreter, whether or not the venv is on PATH.
            dbt_executable=str(Path(sys.executable).parent / "dbt"),
        ),
    }
