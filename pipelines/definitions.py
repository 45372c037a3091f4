"""The kinerja code location: every asset, check, job and resource, assembled in one place."""

from __future__ import annotations

import dagster as dg

from pipelines.analysis import fairness_assets, trend_assets
from pipelines.automation import MARTS_FRESHNESS_CHECKS, SCHEDULES, SENSORS
from pipelines.dbt import kinerja_dbt_assets
from pipelines.publish_assets import build_publish_asset
from pipelines.reports import assets as report_assets
from pipelines.resources import build_resources
from pipelines.settings import Settings, load_settings
from pipelines.sources import assessments, reference, surveys, training
from pipelines.sources._ingest import FILES_SPEC

SOURCE_MODULES = (reference, assessments, surveys, training)
ANALYSIS_MODULES = (trend_assets, fairness_assets, report_assets)

materialize_all = dg.define_asset_job(
    "materialize_all",
    selection=dg.AssetSelection.all(),
    description="Ingest every export, validate it, and build all dbt models and their tests.",
)


def build_defs(settings: Settings | None = None) -> dg.Definitions:
    """Definitions bound to one data dir and warehouse (tests bind their own temp paths)."""
    assets = [
        *(a for m in SOURCE_MODULES for a in m.assets),
        kinerja_dbt_assets,
        *(a for m in ANALYSIS_MODULES for a in m.assets),
    ]
    everything = [key for a in assets for key in a.keys]
    return dg.Definitions(
        assets=[*assets, FILES_SPEC, build_publish_asset(everything)],
        asset_checks=[c for m in (*SOURCE_MODULES, *ANALYSIS_MODULES) for c in m.asset_checks]
        + MARTS_FRESHNESS_CHECKS,
        jobs=[materialize_all],
        sensors=SENSORS,
        schedules=SCHEDULES,
        resources=build_resources(settings or load_settings()),
        # DuckDB allows one writer process: run the steps in one process, one after another.
        executor=dg.in_process_executor,
    )


defs = build_defs()
