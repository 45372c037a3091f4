"""Resources shared by every asset: one DuckDB warehouse file and the dbt CLI."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource
from dagster_duckdb import DuckDBResource

from pipelines.settings import DBT_PROJECT_DIR, Settings, load_settings


def export_warehouse_env(settings: Settings) -> None:
    """dbt's profile reads the database it builds from the environment: the build copy."""
    os.environ["KINERJA_DBT_DATABASE"] = str(settings.build_warehouse)
    os.environ["KINERJA_WAREHOUSE"] = str(settings.warehouse)
    os.environ["KINERJA_DATA_DIR"] = str(settings.data_dir)


def build_resources(settings: Settings | None = None) -> dict[str, object]:
    settings = settings or load_settings()
    export_warehouse_env(settings)
    settings.build_warehouse.parent.mkdir(parents=True, exist_ok=True)
    return {
        "duckdb": DuckDBResource(database=str(settings.build_warehouse)),
        "dbt": DbtCliResource(
            project_dir=str(DBT_PROJECT_DIR),
            profiles_dir=str(DBT_PROJECT_DIR),
            # The dbt installed beside this interpreter, whether or not the venv is on PATH.
            dbt_executable=str(Path(sys.executable).parent / "dbt"),
        ),
    }
