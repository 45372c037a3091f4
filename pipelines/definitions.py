"""The kinerja code location: every asset, check, job and resource, assembled in one place.

One folder per layer, each with an ``assets.py``, in the order data flows:
ingest (files -> raw + quarantine) -> transform (dbt: staging -> intermediate -> marts, audit)
-> analysis (trends, fairness, findings) -> reports (HTML) -> publish (warehouse + extracts).
"""

from __future__ import annotations

import dagster as dg

from pipelines.analysis import assets as analysis
from pipelines.automation import MARTS_FRESHNESS_CHECKS, SCHEDULES, SENSORS
from pipelines.ingest import assets as ingest
from pipelines.ingest.assets import FILES_SPEC
from pipelines.lake import assets as lake
from pipelines.publish.assets import build_publish_asset
from pipelines.reports import assets as reports
from pipelines.resources import build_resources
from pipelines.settings import Settings
from pipelines.transform import assets as transform

LAYERS = (ingest, transform, analysis, reports)

materialize_all = dg.define_asset_job(
    "materialize_all",
    selection=dg.AssetSelection.all(),
    description="Ingest every export, validate it, and build all dbt models and their tests.",
)


def build_defs(settings: Settings | None = None) -> dg.Definitions:
    """Definitions bound to one set of settings (tests bind their own temp paths); by default
    the process's environment (`Settings.from_env`). KINERJA_LAKE set: the lake's."""
    settings = settings or Settings.from_env()
    if settings.lake:
        return build_lake_defs(settings)
    assets = list(dg.load_assets_from_modules(LAYERS))
    everything = [key for a in assets for key in a.keys]
    return dg.Definitions(
        assets=[*assets, FILES_SPEC, build_publish_asset(everything)],
        asset_checks=[*dg.load_asset_checks_from_modules(LAYERS), *MARTS_FRESHNESS_CHECKS],
        jobs=[materialize_all],
        sensors=SENSORS,
        schedules=SCHEDULES,
        resources=build_resources(settings),
        # DuckDB allows one writer process: run the steps in one process, one after another.
        executor=dg.in_process_executor,
    )


# The lake mode's jobs, in the order a lake run launches them (pipelines/cli/lake_run.py):
# references once, then every partition (pemda x quarter) in parallel runs, then the rest.
REFERENCE_FILES = dg.AssetSelection.assets(*ingest.reference_assets)
lake_references = dg.define_asset_job("lake_references", selection=REFERENCE_FILES)
lake_partition = dg.define_asset_job(
    "lake_partition",
    selection=dg.AssetSelection.assets(lake.lake_ingest),
    partitions_def=lake.PARTITIONS,
)
lake_finish = dg.define_asset_job(
    "lake_finish",
    selection=dg.AssetSelection.all()
    - dg.AssetSelection.assets(lake.lake_ingest)
    - REFERENCE_FILES,
)


def build_lake_defs(settings: Settings) -> dg.Definitions:
    """The same assets on the lake, but ingestion per pemda x quarter partition and no
    publishing (the lake is the shared store: readers see its committed snapshots)."""
    assets = [
        *ingest.reference_assets,
        *lake.ASSETS,
        *dg.load_assets_from_modules([transform, analysis, reports]),
    ]
    return dg.Definitions(
        assets=assets,
        asset_checks=dg.load_asset_checks_from_modules([transform, analysis, reports]),
        jobs=[lake_references, lake_partition, lake_finish],
        resources=build_resources(settings),
        # Parallel partitions are parallel runs (one process each); inside a run, one step
        # at a time, as dbt writes the lake with one thread.
        executor=dg.in_process_executor,
    )


defs = build_defs()
