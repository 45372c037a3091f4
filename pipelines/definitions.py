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
    the process's environment (`Settings.from_env`)."""
    assets = list(dg.load_assets_from_modules(LAYERS))
    everything = [key for a in assets for key in a.keys]
    return dg.Definitions(
        assets=[*assets, FILES_SPEC, build_publish_asset(everything)],
        asset_checks=[*dg.load_asset_checks_from_modules(LAYERS), *MARTS_FRESHNESS_CHECKS],
        jobs=[materialize_all],
        sensors=SENSORS,
        schedules=SCHEDULES,
        resources=build_resources(settings or Settings.from_env()),
        # DuckDB allows one writer process: run the steps in one process, one after another.
        executor=dg.in_process_executor,
    )


defs = build_defs()
