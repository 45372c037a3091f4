"""The publish layer's Dagster asset, the last step of every run: publish the build
warehouse and its two extracts (see extracts.py for what each holds and hides).

(No `from __future__ import annotations` here: Dagster reads the `context` annotation.)
"""

import dagster as dg
from dagster import AssetExecutionContext

from pipelines.publish.extracts import EVALUATORS, PLANNERS, publish_extract, publish_warehouse
from pipelines.settings import Settings

PUBLISHED_WAREHOUSE = dg.AssetKey(["published", "warehouse"])


def build_publish_asset(upstream: list[dg.AssetKey]) -> dg.AssetsDefinition:
    """One asset downstream of everything else, so it runs only when the whole run succeeded."""

    @dg.asset(
        key=PUBLISHED_WAREHOUSE,
        deps=upstream,
        group_name="published",
        kinds={"duckdb"},
        description="Atomically replace the published warehouse with the build copy, and "
        "write planners.duckdb (aggregates) and evaluators.duckdb (pseudonymous detail).",
    )
    def published_warehouse(
        context: AssetExecutionContext, settings: dg.ResourceParam[Settings]
    ) -> dg.MaterializeResult:
        build = settings.build_warehouse
        planners = publish_extract(
            build,
            settings.published_dir / "planners.duckdb",
            PLANNERS,
            min_group_size=settings.min_group_size,
        )
        evaluators = publish_extract(
            build,
            settings.published_dir / "evaluators.duckdb",
            EVALUATORS,
            min_group_size=settings.min_group_size,
        )
        publish_warehouse(build, settings.warehouse)
        context.log.info(f"published {settings.warehouse} and extracts in {settings.published_dir}")
        return dg.MaterializeResult(
            metadata={
                "warehouse": dg.MetadataValue.path(str(settings.warehouse)),
                "planners_tables": len(planners),
                "evaluators_tables": len(evaluators),
            }
        )

    return published_warehouse
