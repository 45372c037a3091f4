"""dbt models as Dagster assets; every dbt-to-Dagster mapping lives in the translator here."""

import json
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from pipelines.partitions import QUARTERS
from pipelines.resources import dbt_vars
from pipelines.settings import DBT_PROJECT_DIR, Settings

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
if not dbt_project.manifest_path.exists():
    # Scripts and tests load the code outside `dagster dev`; parse once rather than fail.
    dbt_project.preparer.prepare(dbt_project)


class KinerjaTranslator(DagsterDbtTranslator):
    """Keys are `<schema>/<table>` so the asset graph reads like the warehouse."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_resource_props["schema"]


def dbt_build_args(context: AssetExecutionContext, settings: Settings) -> list[str]:
    """`dbt build` for the run's quarters: staging models replace just that window; a run
    over every quarter (a full backfill, `make run`) rebuilds them from scratch instead.
    The warehouse and DuckDB limits travel in ``--vars`` (see resources.dbt_vars)."""
    window = context.partition_time_window
    keys = QUARTERS.get_partition_keys()
    run_keys = context.partition_keys
    variables: dict[str, str] = dbt_vars(settings)
    if keys and run_keys[0] == keys[0] and run_keys[-1] == keys[-1]:
        return ["build", "--full-refresh", "--vars", json.dumps(variables)]
    variables |= {
        "quarter_start": window.start.date().isoformat(),
        "quarter_end": window.end.date().isoformat(),
    }
    return ["build", "--vars", json.dumps(variables)]


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=KinerjaTranslator(),
    partitions_def=QUARTERS,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def kinerja_dbt_assets(
    context: AssetExecutionContext, dbt: DbtCliResource, settings: dg.ResourceParam[Settings]
) -> Iterator[Any]:
    yield from dbt.cli(dbt_build_args(context, settings), context=context).stream()
